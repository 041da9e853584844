/* Exact sums of chunk gradients on a shared fixed-point grid (chunk.h).
 *
 * A float sum depends on its association: ((a+b)+c) and (a+(b+c)) differ in
 * the last bit, and the association of an all-reduce depends on the number
 * of ranks. Integers add exactly in any order. So each exponent group of
 * the gradient buffer agrees (one max over the ranks) on an exponent e with
 * |g| < 2^e for all its values, every chunk's value is rounded once to
 * q = round(g * 2^(S-e)), |q| <= 2^S, and the q are summed in int64: with
 * S = 62 - ceil(log2 K) the sum of K chunks stays below 2^62. The result,
 * sum(q) * 2^(e-S), carries an absolute error of at most K * 2^(e-S-1):
 * relative to the group's largest value (>= 2^(e-1)) at most K * 2^-S, e.g.
 * 8 * 2^-59 = 2^-56 for K = 8, far below float's 2^-24; a value smaller
 * than the group's largest by a factor 2^k keeps about S - k bits (all 24
 * of a float while k <= S - 24). docs/distributed.md.
 * This file is compiled with -fno-math-errno so that llrint becomes one
 * instruction (it never sets errno; the rounding is the same). */
#include <math.h>

#include "fit/chunk.h"

int32_t sn_xsum_exp(const float *g, size_t n) {
    float mx = 0.0f;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(g[i]);
        bad |= !(a <= 3.4028235e38f); /* NaN and Inf */
        mx = a > mx ? a : mx;
    }
    if (bad) return SN_XSUM_NONFINITE;
    if (mx == 0.0f) return SN_XSUM_NONE;
    int e;
    frexp((double)mx, &e); /* mx = f * 2^e, f in [0.5, 1): mx < 2^e */
    return e;
}

int sn_xsum_bits(int K) {
    int lg = 0;
    while (lg < 30 && (1L << lg) < (long)K) lg++;
    return 62 - lg;
}

void sn_xsum_add(int64_t *acc, const float *g, size_t n, int32_t e, int S) {
    /* g * 2^(S-e) is exact in double (a power of two within range) and below 2^S. */
    const double s = ldexp(1.0, S - e);
    for (size_t i = 0; i < n; i++) acc[i] += llrint((double)g[i] * s);
}

void sn_xsum_get(float *out, const int64_t *acc, size_t n, int32_t e, int S, double div) {
    if (e == SN_XSUM_NONE) {
        for (size_t i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    const double s = ldexp(1.0, e - S);
    for (size_t i = 0; i < n; i++) out[i] = (float)((double)acc[i] * s / div);
}
