/* The Conv1D direct kernels (conv1d_kern.h) of one vector path. Not a normal
 * header: conv1d_kern_<path>.c includes it once, compiled with that path's
 * instruction set, after defining CONV_KERN_WIDE (1: the wide register
 * blocks of 8-float vectors, 0: the narrow blocks of 4-float vectors). */
#ifndef SEQNN_CONV1D_KERN_BODY_H
#define SEQNN_CONV1D_KERN_BODY_H

#include <string.h>

#include "core/internal.h"
#include "layers/conv1d_kern.h"

typedef float conv_v8 __attribute__((vector_size(32)));
/* unaligned, aliasing view for loads / stores of 8 floats */
typedef float conv_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LD8(p) (*(const conv_v8u *)(const void *)(p))
#define ST8(p, v) (*(conv_v8u *)(void *)(p) = (v))
typedef float conv_v4 __attribute__((vector_size(16)));
typedef float conv_v4u __attribute__((vector_size(16), aligned(4), may_alias));
#define LD4(p) (*(const conv_v4u *)(const void *)(p))
#define ST4(p, v) (*(conv_v4u *)(void *)(p) = (v))
#define CONV_INLINE static inline __attribute__((always_inline))

typedef int conv_v8i __attribute__((vector_size(32)));

/* relu(v) = v > 0 ? v : +0 per lane (NaN → 0), as sn_act_forward's relu,
 * without its data-dependent branch. */
#define CONV_RELU8(v, gate) ((conv_v8)((conv_v8i)(v) & ((gate) > (conv_v8){0})))

/* Writes a finished block of rows < rows, columns < cols (cols <= w):
 *   o[r·ldo + n] = act(tmp[r·w + n] + bias[n])   (accum = 0; act = relu or identity)
 *   o[r·ldo + n] = o[r·ldo + n] + tmp[r·w + n]    (accum = 1, no bias, no act) */
CONV_INLINE void conv_flush(float *restrict o, int ldo, const float *restrict tmp, int w, int rows, int cols,
                            const float *restrict bias, int accum, int relu) {
    for (int r = 0; r < rows; r++) {
        float *orow = o + (size_t)r * ldo;
        const float *t = tmp + (size_t)r * w;
        for (int n0 = 0; n0 < cols; n0 += 8) {
            conv_v8 v = LD8(t + n0);
            if (bias) v += LD8(bias + n0);
            if (relu) v = CONV_RELU8(v, v);
            if (cols - n0 >= 8) {
                if (accum) v = LD8(orow + n0) + v;
                ST8(orow + n0, v);
            } else {
                float u[8];
                memcpy(u, &v, sizeof u);
                for (int n = n0; n < cols; n++) orow[n] = accum ? orow[n] + u[n - n0] : u[n - n0];
            }
        }
    }
}

/* dz[t·ldz + n] = relu ? (y > 0 ? dy : 0) : dy for rows t < rows, n < width, and
 * zeros in columns width..ldz (the branch-free relu / linear case of
 * sn_act_backward). y, dy: (rows, width). */
static void conv_dz_relu(float *restrict dz, int ldz, const float *restrict y, const float *restrict dy, int rows,
                         int width, int relu) {
    for (int t = 0; t < rows; t++) {
        float *d = dz + (size_t)t * ldz;
        const float *yr = y + (size_t)t * width, *dyr = dy + (size_t)t * width;
        int n = 0;
        for (; n + 8 <= width; n += 8) {
            conv_v8 g = LD8(dyr + n);
            if (relu) g = CONV_RELU8(g, LD8(yr + n));
            ST8(d + n, g);
        }
        for (; n < width; n++) d[n] = relu ? (yr[n] > 0 ? dyr[n] : 0.0f) : dyr[n];
        for (; n < ldz; n++) d[n] = 0.0f;
    }
}

/* conv_kernels.direct (conv1d_kern.h), for rows i < rows and columns n < width:
 *   out[i·ldo + n] (=, or += when accum) Σ_{k<K} Σ_{c<C} in[i·rs + k·ks + c] · Wp[(k·C + c)·width8 + n]
 *   (+ bias[n]); in: rows of the sample (row i starts at i·rs). Rows past
 * `rows` in the last block re-read row rows−1 (valid memory) and are not
 * stored. */
CONV_INLINE void conv_direct_body(float *restrict out, int ldo, int width, const float *restrict in, int rs, int ks,
                                  int C, int K, const float *restrict Wp, const float *restrict bias, int accum,
                                  int relu, int rows, const int wide) {
    const int width8 = (width + 7) & ~7;
    for (int i0 = 0; i0 < rows; i0 += 8) {
        const float *p[8];
        for (int r = 0; r < 8; r++) p[r] = in + (size_t)SN_MIN(i0 + r, rows - 1) * rs;
        int n0 = 0;
        /* 4 rows × 16 columns: 6 loads per 16 vector multiply-adds */
        for (; wide && n0 + 16 <= width8; n0 += 16)
            for (int h = 0; h < 8 && i0 + h < rows; h += 4) {
                const float *q0 = p[h], *q1 = p[h + 1], *q2 = p[h + 2], *q3 = p[h + 3];
                conv_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
                for (int k = 0; k < K; k++) {
                    const float *w = Wp + (size_t)k * C * width8 + n0;
                    const size_t o = (size_t)k * ks;
                    for (int c = 0; c < C; c++) {
                        const conv_v8 wl = LD8(w + (size_t)c * width8), wh = LD8(w + (size_t)c * width8 + 8);
                        const float x0 = q0[o + c], x1 = q1[o + c], x2 = q2[o + c], x3 = q3[o + c];
                        a0 += x0 * wl, b0 += x0 * wh;
                        a1 += x1 * wl, b1 += x1 * wh;
                        a2 += x2 * wl, b2 += x2 * wh;
                        a3 += x3 * wl, b3 += x3 * wh;
                    }
                }
                float tmp[64];
                ST8(tmp, a0), ST8(tmp + 8, b0), ST8(tmp + 16, a1), ST8(tmp + 24, b1);
                ST8(tmp + 32, a2), ST8(tmp + 40, b2), ST8(tmp + 48, a3), ST8(tmp + 56, b3);
                conv_flush(out + (size_t)(i0 + h) * ldo + n0, ldo, tmp, 16, SN_MIN(4, rows - i0 - h),
                           SN_MIN(16, width - n0), bias ? bias + n0 : NULL, accum, relu);
            }
        /* 8 rows × 8 columns: 9 loads per 8 vector multiply-adds */
        for (; wide && n0 < width8; n0 += 8) {
            const float *q0 = p[0], *q1 = p[1], *q2 = p[2], *q3 = p[3], *q4 = p[4], *q5 = p[5], *q6 = p[6],
                        *q7 = p[7];
            conv_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
            for (int k = 0; k < K; k++) {
                const float *w = Wp + (size_t)k * C * width8 + n0;
                const size_t o = (size_t)k * ks;
                for (int c = 0; c < C; c++) {
                    const conv_v8 wv = LD8(w + (size_t)c * width8);
                    a0 += q0[o + c] * wv, a1 += q1[o + c] * wv;
                    a2 += q2[o + c] * wv, a3 += q3[o + c] * wv;
                    a4 += q4[o + c] * wv, a5 += q5[o + c] * wv;
                    a6 += q6[o + c] * wv, a7 += q7[o + c] * wv;
                }
            }
            float tmp[64];
            ST8(tmp, a0), ST8(tmp + 8, a1), ST8(tmp + 16, a2), ST8(tmp + 24, a3);
            ST8(tmp + 32, a4), ST8(tmp + 40, a5), ST8(tmp + 48, a6), ST8(tmp + 56, a7);
            conv_flush(out + (size_t)i0 * ldo + n0, ldo, tmp, 8, SN_MIN(8, rows - i0), SN_MIN(8, width - n0),
                       bias ? bias + n0 : NULL, accum, relu);
        }
        /* narrow (SSE2: 16 registers of 4 floats): 4 rows × 8 columns in
         * 16-byte vectors (GCC keeps 32-byte vectors it must split in memory) */
        for (; n0 < width8; n0 += 8)
            for (int h = 0; h < 8 && i0 + h < rows; h += 4) {
                const float *q0 = p[h], *q1 = p[h + 1], *q2 = p[h + 2], *q3 = p[h + 3];
                conv_v4 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
                for (int k = 0; k < K; k++) {
                    const float *w = Wp + (size_t)k * C * width8 + n0;
                    const size_t o = (size_t)k * ks;
                    for (int c = 0; c < C; c++) {
                        const conv_v4 wl = LD4(w + (size_t)c * width8), wh = LD4(w + (size_t)c * width8 + 4);
                        float x = q0[o + c];
                        a0 += x * wl, b0 += x * wh;
                        x = q1[o + c];
                        a1 += x * wl, b1 += x * wh;
                        x = q2[o + c];
                        a2 += x * wl, b2 += x * wh;
                        x = q3[o + c];
                        a3 += x * wl, b3 += x * wh;
                    }
                }
                float tmp[32];
                ST4(tmp, a0), ST4(tmp + 4, b0), ST4(tmp + 8, a1), ST4(tmp + 12, b1);
                ST4(tmp + 16, a2), ST4(tmp + 20, b2), ST4(tmp + 24, a3), ST4(tmp + 28, b3);
                conv_flush(out + (size_t)(i0 + h) * ldo + n0, ldo, tmp, 8, SN_MIN(4, rows - i0 - h),
                           SN_MIN(8, width - n0), bias ? bias + n0 : NULL, accum, relu);
            }
    }
}


/* conv_kernels.dw_block (conv1d_kern.h). The nb·T-term sums are formed in
 * float (registers), then added to the double total. Rows past kernel_rows
 * re-read row kernel_rows−1 and are not stored. */
#define DW_T_LOOP(X)                                                                                 \
    for (int b = 0; b < nb; b++)                                                                     \
        for (int t = 0; t < T; t++) {                                                                \
            const conv_v8 g = LD8(dz + (size_t)b * dzs + (size_t)t * width8 + n0);                   \
            const float *x = in + (size_t)b * ins + (size_t)t * rs;                                  \
            a0 += X(0) * g, a1 += X(1) * g, a2 += X(2) * g, a3 += X(3) * g;                          \
            a4 += X(4) * g, a5 += X(5) * g, a6 += X(6) * g, a7 += X(7) * g;                          \
        }
CONV_INLINE void conv_dw_block_body(double *restrict tot, int width8, const float *restrict in, size_t ins, int rs,
                                    int ks, int C, int kernel_rows, const float *restrict dz, size_t dzs, int T, int nb,
                                    int j0, int n0, const int wide) {
    size_t off[8];
    for (int r = 0; r < 8; r++) {
        int j = SN_MIN(j0 + r, kernel_rows - 1);
        off[r] = (size_t)(j / C) * ks + (size_t)(j % C);
    }
    float v[64];
    if (wide) {
        conv_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
        if (off[7] == off[0] + 7) { /* contiguous taps (d = 1, or a block inside one tap) */
            in += off[0];
#define DW_XC(r) x[r]
            DW_T_LOOP(DW_XC)
#undef DW_XC
        } else {
#define DW_XG(r) x[off[r]]
            DW_T_LOOP(DW_XG)
#undef DW_XG
        }
        ST8(v, a0), ST8(v + 8, a1), ST8(v + 16, a2), ST8(v + 24, a3);
        ST8(v + 32, a4), ST8(v + 40, a5), ST8(v + 48, a6), ST8(v + 56, a7);
    } else {
        /* narrow (SSE2): two halves of 4 rows, 16-byte vectors (see conv_direct) */
        for (int h = 0; h < 8; h += 4) {
            const size_t o0 = off[h], o1 = off[h + 1], o2 = off[h + 2], o3 = off[h + 3];
            conv_v4 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
            for (int b = 0; b < nb; b++)
                for (int t = 0; t < T; t++) {
                    const float *g = dz + (size_t)b * dzs + (size_t)t * width8 + n0;
                    const conv_v4 gl = LD4(g), gh = LD4(g + 4);
                    const float *x = in + (size_t)b * ins + (size_t)t * rs;
                    float e = x[o0];
                    a0 += e * gl, b0 += e * gh;
                    e = x[o1];
                    a1 += e * gl, b1 += e * gh;
                    e = x[o2];
                    a2 += e * gl, b2 += e * gh;
                    e = x[o3];
                    a3 += e * gl, b3 += e * gh;
                }
            float *vh = v + h * 8;
            ST4(vh, a0), ST4(vh + 4, b0), ST4(vh + 8, a1), ST4(vh + 12, b1);
            ST4(vh + 16, a2), ST4(vh + 20, b2), ST4(vh + 24, a3), ST4(vh + 28, b3);
        }
    }
    for (int r = 0; r < 8 && j0 + r < kernel_rows; r++) {
        double *row = tot + (size_t)(j0 + r) * width8 + n0;
        for (int n = 0; n < 8; n++) row[n] += v[r * 8 + n];
    }
}
#undef DW_T_LOOP

/* conv_kernels.db_block (conv1d_kern.h). */
static void conv_db_block(double *restrict tot, int width8, const float *restrict dz, size_t dzs, int T, int nb,
                          int n0) {
    conv_v8 a = {0};
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < T; t++) a += LD8(dz + (size_t)b * dzs + (size_t)t * width8 + n0);
    float v[8];
    ST8(v, a);
    for (int n = 0; n < 8; n++) tot[n0 + n] += v[n];
}

/* The table entries: the bodies with this path's block width. */
static void conv_direct(float *restrict out, int ldo, int width, const float *restrict in, int rs, int ks, int C, int K,
                        const float *restrict Wp, const float *restrict bias, int accum, int relu, int rows) {
    conv_direct_body(out, ldo, width, in, rs, ks, C, K, Wp, bias, accum, relu, rows, CONV_KERN_WIDE);
}

static void conv_dw_block(double *restrict tot, int width8, const float *restrict in, size_t ins, int rs, int ks, int C,
                          int kernel_rows, const float *restrict dz, size_t dzs, int T, int nb, int j0, int n0) {
    conv_dw_block_body(tot, width8, in, ins, rs, ks, C, kernel_rows, dz, dzs, T, nb, j0, n0, CONV_KERN_WIDE);
}

#define CONV_KERNEL_TABLE(path)                                                                       \
    const conv_kernels sn_conv_kernels_##path = {                                                     \
        .name = #path, .direct = conv_direct, .dw_block = conv_dw_block, .db_block = conv_db_block,   \
        .dz_relu = conv_dz_relu,                                                                      \
    }

#endif
