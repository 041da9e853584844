/* PyTorch ↔ seqnn recurrent weight layouts: see include/seqnn/interop.h. */
#include "seqnn/interop.h"

#include <string.h>

/* Keras block kb of G gates ↔ torch block perm[kb]. */
static const int g_ident[4] = {0, 1, 2, 3};
static const int g_gru_perm[3] = {1, 0, 2}; /* keras z,r,h ← torch r,z,n */

static sn_status check(const void *a, const void *b, int C, int H, const char *fn) {
    if (!a || !b || C <= 0 || H <= 0) return sn_error(SN_ERR_ARG, "%s: NULL weight or C=%d, H=%d not positive", fn, C, H);
    return SN_OK;
}

/* keras (R, G*H) column blocks ← torch (G*H, R) row blocks, transposed and permuted. */
static void from_t(float *k, const float *t, int R, int G, int H, const int *perm) {
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++)
            for (int r = 0; r < R; r++) k[(size_t)r * G * H + g * H + j] = t[((size_t)perm[g] * H + j) * R + r];
}

static void to_t(float *t, const float *k, int R, int G, int H, const int *perm) {
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++)
            for (int r = 0; r < R; r++) t[((size_t)perm[g] * H + j) * R + r] = k[(size_t)r * G * H + g * H + j];
}

static void bias_from(float *bias, const float *b_ih, const float *b_hh, int G, int H, const int *perm) {
    for (int g = 0; g < G; g++)
        for (int j = 0; j < H; j++) {
            size_t s = (size_t)perm[g] * H + j;
            bias[g * H + j] = (b_ih ? b_ih[s] : 0.0f) + (b_hh ? b_hh[s] : 0.0f);
        }
}

static sn_status from_generic(float *kernel, float *recurrent, float *bias, const float *w_ih, const float *w_hh,
                              const float *b_ih, const float *b_hh, int C, int H, int G, const char *fn) {
    sn_status st = check(w_ih, w_hh, C, H, fn);
    if (st) return st;
    if (!kernel || !recurrent) return sn_error(SN_ERR_ARG, "%s: NULL output", fn);
    from_t(kernel, w_ih, C, G, H, g_ident);
    from_t(recurrent, w_hh, H, G, H, g_ident);
    if (bias) bias_from(bias, b_ih, b_hh, G, H, g_ident);
    return SN_OK;
}

static sn_status to_generic(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                            const float *recurrent, const float *bias, int C, int H, int G, const char *fn) {
    sn_status st = check(kernel, recurrent, C, H, fn);
    if (st) return st;
    if (!w_ih || !w_hh) return sn_error(SN_ERR_ARG, "%s: NULL output", fn);
    to_t(w_ih, kernel, C, G, H, g_ident);
    to_t(w_hh, recurrent, H, G, H, g_ident);
    size_t n = (size_t)G * H;
    if (b_ih) {
        if (bias)
            memcpy(b_ih, bias, n * sizeof(float));
        else
            memset(b_ih, 0, n * sizeof(float));
    }
    if (b_hh) memset(b_hh, 0, n * sizeof(float));
    return SN_OK;
}

sn_status sn_interop_simplernn_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                          const float *w_hh, const float *b_ih, const float *b_hh, int C, int H) {
    return from_generic(kernel, recurrent, bias, w_ih, w_hh, b_ih, b_hh, C, H, 1, "sn_interop_simplernn_from_torch");
}

sn_status sn_interop_simplernn_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                        const float *recurrent, const float *bias, int C, int H) {
    return to_generic(w_ih, w_hh, b_ih, b_hh, kernel, recurrent, bias, C, H, 1, "sn_interop_simplernn_to_torch");
}

sn_status sn_interop_lstm_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                     const float *w_hh, const float *b_ih, const float *b_hh, int C, int H) {
    return from_generic(kernel, recurrent, bias, w_ih, w_hh, b_ih, b_hh, C, H, 4, "sn_interop_lstm_from_torch");
}

sn_status sn_interop_lstm_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                   const float *recurrent, const float *bias, int C, int H) {
    return to_generic(w_ih, w_hh, b_ih, b_hh, kernel, recurrent, bias, C, H, 4, "sn_interop_lstm_to_torch");
}

sn_status sn_interop_gru_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                    const float *w_hh, const float *b_ih, const float *b_hh, int C, int H,
                                    int reset_after) {
    const char *fn = "sn_interop_gru_from_torch";
    if (!reset_after)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: GRU reset_after=false has no PyTorch equivalent", fn);
    sn_status st = check(w_ih, w_hh, C, H, fn);
    if (st) return st;
    if (!kernel || !recurrent) return sn_error(SN_ERR_ARG, "%s: NULL output", fn);
    from_t(kernel, w_ih, C, 3, H, g_gru_perm);
    from_t(recurrent, w_hh, H, 3, H, g_gru_perm);
    if (bias) {
        bias_from(bias, b_ih, NULL, 3, H, g_gru_perm);
        bias_from(bias + 3 * H, NULL, b_hh, 3, H, g_gru_perm);
    }
    return SN_OK;
}

sn_status sn_interop_gru_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                  const float *recurrent, const float *bias, int C, int H, int reset_after) {
    const char *fn = "sn_interop_gru_to_torch";
    if (!reset_after)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: GRU reset_after=false has no PyTorch equivalent", fn);
    sn_status st = check(kernel, recurrent, C, H, fn);
    if (st) return st;
    if (!w_ih || !w_hh) return sn_error(SN_ERR_ARG, "%s: NULL output", fn);
    to_t(w_ih, kernel, C, 3, H, g_gru_perm);
    to_t(w_hh, recurrent, H, 3, H, g_gru_perm);
    for (int g = 0; g < 3; g++)
        for (int j = 0; j < H; j++) {
            size_t d = (size_t)g_gru_perm[g] * H + j;
            if (b_ih) b_ih[d] = bias ? bias[g * H + j] : 0.0f;
            if (b_hh) b_hh[d] = bias ? bias[3 * H + g * H + j] : 0.0f;
        }
    return SN_OK;
}
