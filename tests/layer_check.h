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

/* Random input for shape `in` (ids in [0, vocab) when in->rep == SN_REP_IDS
 * or vocab > 0). */
void lc_random_input(float *x, size_t n, sn_rng *r, int vocab);
#endif
