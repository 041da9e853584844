/* Test helpers for single layers: build from spec text, run forward /
 * backward with test-owned buffers, and finite-difference gradient checks. */
#ifndef SEQNN_LAYER_CHECK_H
#define SEQNN_LAYER_CHECK_H
#include "layers/layer.h"

typedef struct lc_layer {
    sn_spec spec;
    sn_layer *L;
    float *w, *g;          /* (n_params) */
    float *cache, *scratch;
    uint8_t *mask_buf;
    int B;
} lc_layer;

/* Parses `spec` (one layer), builds it on `in`, allocates buffers for B rows,
 * initialises weights from `seed`. Returns SN_OK or the error. */
sn_status lc_create(lc_layer *t, const char *spec, const sn_shape *in, int B, uint64_t seed);
void lc_free(lc_layer *t);
/* Forward with a fresh RNG seeded `rng_seed` (so dropout masks repeat). */
void lc_forward(lc_layer *t, const float *x, const sn_csr *xs, float *y, const uint8_t *mask, int training,
                uint64_t rng_seed, const uint8_t **mask_out);
/* Zeroes t->g and dx, then runs backward. */
void lc_backward(lc_layer *t, const float *x, const sn_csr *xs, const float *y, const float *dy, float *dx,
                 const uint8_t *mask);

/* Finite-difference check of loss = Σ y·r (r random) w.r.t. the input (dense
 * inputs only; skipped for ids / sparse) and every parameter. Central
 * differences with step h, errors |a-n| / max(|a|+|n|, 1e-2) — returns the
 * worst relative error seen (prints the worst entry). */
double lc_gradcheck(lc_layer *t, const float *x, const uint8_t *mask, int training, double h);

/* The same check with a tolerance measured instead of fixed: for every
 * checked entry it takes central differences D at h, 1.1h and 2h.
 *  - Rounding: the float32 loss carries a rounding error of some size ε at
 *    every evaluation point; it puts an error of about ε/h into D(h), and
 *    the errors at h and 1.1h are independent, so ν = max over entries of
 *    |D(h) − D(1.1h)| measures that noise: the max of ~100 such differences
 *    is about 4σ (σ√2 per difference, ~3 standard deviations for the max),
 *    while D(h)'s own error stays below ~3σ over the same entries; 2ν covers
 *    it.
 *  - Truncation: D(h) is the mean of the loss's derivative over [w−h, w+h],
 *    so it is off by at most K·h/2, K = sup |L''| there — a bound that holds
 *    for the C¹ activations with a kink in L'' (elu, selu), where the error
 *    is O(h) and not O(h²). K is estimated by the largest second difference
 *    (L(w+s) − 2L(w) + L(w−s)) / s² over s ∈ {h, 1.1h, 2h}; those are
 *    averages of L'' over the stencil, so the tolerance doubles the bound to
 *    K·h for L'' peaking between them.
 * Returns the worst |a − D(h)| / (2ν + K·h): below 1 passes. A wrong
 * derivative gives an error of the derivative's own size, which for the
 * larger entries is many times that tolerance. */
double lc_gradcheck_measured(lc_layer *t, const float *x, const uint8_t *mask, int training, double h);

/* ---- Reference tolerances: the one formula of the layer tests ----
 *
 * A float32 result whose longest dependency chain holds at most n roundings
 * (a sum of n terms, n operations in sequence, or both along the way)
 * differs from the exact value by at most
 *     γ_n · M,    γ_n = n·u / (1 − n·u),    u = 2^-24 (float32 unit roundoff),
 * where M bounds the magnitude of what was rounded: Σ|terms| for a sum
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.1,
 * the standard model fl(a op b) = (a op b)(1 + δ), |δ| ≤ u). Each test
 * states its n from the computation's structure: K-long sums count K, an
 * activation counts the ulps of its implementation, and a recurrence over T
 * steps counts every step's roundings, so n grows linearly with T (an
 * error carried from step to step is treated as not amplified: the cells'
 * gates and the test weights keep the step-to-step gain near or below 1).
 * A reference computed in float64 and stored as float32 adds one rounding;
 * comparing two float32 computations of the same value allows 2γ_n·M.
 *
 * M: where a test forms Σ|terms| itself it passes it (lc_ref_ratio_m,
 * lc_close). Against stored references it takes
 *     M_i = |r_i| + max_j |r_j|   (max over the checked tensor):
 * the terms are products of O(1) weights and activations, so the tensor's
 * largest entry sets the scale of the terms, and an entry near zero (from
 * cancellation) is held to that scale, not to its own small magnitude.
 * The bound does not depend on the machine: the tolerance is never tuned
 * to a CPU or a BLAS kernel; a CPU whose result breaks it has a real error.
 */
double lc_gamma(double n);
/* Worst |a_i − r_i| / (γ_n · M_i) over i < count, M_i = |r_i| + max_j |r_j|
 * (≤ 1 passes); prints the worst entry, labelled `what`, when it is > 1. */
double lc_ref_ratio(const char *what, const float *a, const float *r, size_t count, double n);
/* The same against a float64 reference r with the magnitudes m (M_i = m_i). */
double lc_ref_ratio_m(const char *what, const float *a, const double *r, const double *m, size_t count, double n);
/* 1 when |a − r| ≤ γ_n · m (a scalar reference). */
int lc_close(double a, double r, double n, double m);

/* Random input for shape `in` (ids in [0, vocab) when in->rep == SN_REP_IDS
 * or vocab > 0). */
void lc_random_input(float *x, size_t n, sn_rng *r, int vocab);
#endif
