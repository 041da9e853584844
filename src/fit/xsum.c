/* Exact sums of chunk gradients on a shared fixed-point grid (chunk.h).
 *
 * A float sum depends on its association: ((a+b)+c) and (a+(b+c)) differ in
 * the last bit, and the association of an all-reduce depends on the number
 * of ranks. Integers add exactly in any order. So each exponent group of
 * the gradient buffer agrees (one max over the ranks) on an exponent e with
 * |g| < 2^e for all its values, every chunk's value is rounded once to
 * q = round(g * 2^(S-e)), |q| <= 2^S, and the q are summed in int64: with
 * S = 50 - ceil(log2 K) the sum of K chunks stays within 2^50, so it also
 * converts to double exactly. The result, sum(q) * 2^(e-S), carries an
 * absolute error of at most K * 2^(e-S-1): relative to the group's largest
 * value (>= 2^(e-1)) at most K * 2^-S = 2^-(50 - 2 ceil(log2 K)), e.g. 2^-44
 * for K = 8, far below float's 2^-24; a value smaller than the group's
 * largest by a factor 2^k keeps about S - k bits (all 24 of a float while
 * k <= S - 24, 23 for K = 8). docs/distributed.md.
 * The rounding adds 1.5 * 2^52 in double (exact for |x| < 2^51: the sum
 * lands where the spacing of doubles is 1, so the addition itself rounds x
 * to the nearest integer, ties to even, as llrint would) and reads the
 * integer from the bits; the maximum works on the bits of |g|. Both loops
 * are integer or exactly rounded double operations, so this file is
 * compiled with -O3 to vectorise them: the results do not change. */
#include <math.h>
#include <string.h>

#include "fit/chunk.h"

int32_t sn_xsum_exp(const float *g, size_t n) {
    uint32_t mx = 0; /* the largest |g| as bits: the order of non-negative floats is that of their bits */
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &g[i], sizeof b);
        b &= 0x7fffffffu;
        mx = b > mx ? b : mx;
    }
    if (mx >= 0x7f800000u) return SN_XSUM_NONFINITE; /* Inf, NaN */
    if (mx == 0) return SN_XSUM_NONE;
    float f;
    memcpy(&f, &mx, sizeof f);
    int e;
    frexp((double)f, &e); /* f = m * 2^e, m in [0.5, 1): every |g| <= f < 2^e */
    return e;
}

int sn_xsum_bits(int K) {
    int lg = 0;
    while (lg < 30 && (1L << lg) < (long)K) lg++;
    return 50 - lg;
}

void sn_xsum_add(int64_t *restrict acc, const float *restrict g, size_t n, int32_t e, int S) {
    /* g * 2^(S-e) is exact in double (a power of two within range) and |.| <= 2^S <= 2^50 */
    const double s = ldexp(1.0, S - e), magic = 6755399441055744.0; /* 1.5 * 2^52 */
    int64_t mb;
    memcpy(&mb, &magic, sizeof mb);
    for (size_t i = 0; i < n; i++) {
        double x = (double)g[i] * s + magic;
        int64_t b;
        memcpy(&b, &x, sizeof b);
        acc[i] += b - mb;
    }
}

void sn_xsum_get(float *out, const int64_t *acc, size_t n, int32_t e, int S, double div) {
    if (e == SN_XSUM_NONE) {
        for (size_t i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    const double s = ldexp(1.0, e - S);
    for (size_t i = 0; i < n; i++) out[i] = (float)((double)acc[i] * s / div);
}
