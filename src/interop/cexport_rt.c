/* The runtime pieces a generated C file may contain (cexport.c emits the
 * ones its model uses). They mirror libseqnn's inference arithmetic: the
 * recurrent gates use src/layers/rnn's polynomial exp / sigmoid / tanh, the
 * other layers libm's (as sn_act_forward); sums run in index order from the
 * value libseqnn starts them at (x·W from zero then + bias; the recurrent
 * product added onto x·W + b). With SNX_Q8 the weight matrices are int8 with
 * one scale per output column: z_j = (Σ_i x_i q_ij) · s_j. */
#include "interop/cexport_internal.h"

const char *const snx_rt_head =
    "#if SNX_Q8\n"
    "typedef signed char snx_w;\n"
    "#else\n"
    "typedef float snx_w;\n"
    "#endif\n"
    "typedef struct snx_rnn {\n"
    "    int kind, C, H, act, ract, reset_after;\n"
    "    const snx_w *W, *U;\n"
    "    const float *SW, *SU, *b, *bh;\n"
    "} snx_rnn;\n";

/* exp with Cephes range reduction and a degree-6 polynomial (rnn's fast_expf). */
const char *const snx_rt_fast =
    "static float snx_expf(float x) {\n"
    "    float n, r, p, e;\n"
    "    union { int i; float f; } u;\n"
    "    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;\n"
    "    n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;\n"
    "    r = x - n * 0.693359375f;\n"
    "    r = r - n * -2.12194440e-4f;\n"
    "    p = 1.9875691500e-4f;\n"
    "    p = p * r + 1.3981999507e-3f;\n"
    "    p = p * r + 8.3334519073e-3f;\n"
    "    p = p * r + 4.1665795894e-2f;\n"
    "    p = p * r + 1.6666665459e-1f;\n"
    "    p = p * r + 5.0000001201e-1f;\n"
    "    e = p * r * r + r + 1.0f;\n"
    "    u.i = ((int)n + 127) << 23;\n"
    "    return e * u.f;\n"
    "}\n"
    "static float snx_sigm(float x) { return 1.0f / (1.0f + snx_expf(-x)); }\n"
    "static float snx_tanh(float x) {\n"
    "    float ax = x < 0 ? -x : x, x2 = x * x, p, small, big;\n"
    "    p = 21844.0f / 6081075.0f;\n"
    "    p = p * x2 - 1382.0f / 155925.0f;\n"
    "    p = p * x2 + 62.0f / 2835.0f;\n"
    "    p = p * x2 - 17.0f / 315.0f;\n"
    "    p = p * x2 + 2.0f / 15.0f;\n"
    "    p = p * x2 - 1.0f / 3.0f;\n"
    "    small = x + x * x2 * p;\n"
    "    big = 1.0f - 2.0f / (snx_expf(2.0f * (ax > 20.0f ? 20.0f : ax)) + 1.0f);\n"
    "    big = x < 0 ? -big : big;\n"
    "    return ax < 0.25f ? small : big;\n"
    "}\n"
    /* the recurrent activations (act1 of rnn_math.h) */
    "static float snx_ract(int a, float x) {\n"
    "    switch (a) {\n"
    "    case SNX_TANH: return snx_tanh(x);\n"
    "    case SNX_SIGMOID: return snx_sigm(x);\n"
    "    case SNX_RELU: return x > 0 ? x : 0.0f;\n"
    "    default: return snx_elem(a, x);\n"
    "    }\n"
    "}\n";

/* The rarer Keras activations (sn_act_elem of layers/layer.h). */
const char *const snx_rt_elem =
    "static float snx_elem(int a, float x) {\n"
    "    float v;\n"
    "    switch (a) {\n"
    "    case SNX_HARD_SIGMOID:\n"
    "        v = x + 3.0f;\n"
    "        v = v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;\n"
    "        return v / 6.0f;\n"
    "    case SNX_HARD_SIGMOID_KERAS2:\n"
    "        v = 0.2f * x + 0.5f;\n"
    "        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;\n"
    "    case SNX_SOFTSIGN: return x / (1.0f + fabsf(x));\n"
    "    case SNX_SOFTPLUS: return (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));\n"
    "    case SNX_ELU: return x > 0.0f ? x : expm1f(x);\n"
    "    case SNX_SELU: return x > 0.0f ? 1.05070098735548049341933f * x\n"
    "                                  : 1.05070098735548049341933f * (1.67326324235437728481704f * expm1f(x));\n"
    "    default: return x;\n"
    "    }\n"
    "}\n";

/* The layer activations (sn_act_forward): libm tanh / exp. */
const char *const snx_rt_act =
    "static float snx_sigmoidf(float x) {\n"
    "    float e;\n"
    "    if (x >= 0) return 1.0f / (1.0f + expf(-x));\n"
    "    e = expf(x);\n"
    "    return e / (1.0f + e);\n"
    "}\n"
    "static void snx_act(int a, float *y, int rows, int n) {\n"
    "    int i, r, j;\n"
    "    switch (a) {\n"
    "    case SNX_RELU: for (i = 0; i < rows * n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f; return;\n"
    "    case SNX_TANH: for (i = 0; i < rows * n; i++) y[i] = tanhf(y[i]); return;\n"
    "    case SNX_SIGMOID: for (i = 0; i < rows * n; i++) y[i] = snx_sigmoidf(y[i]); return;\n"
    "    case SNX_SOFTMAX:\n"
    "        for (r = 0; r < rows; r++) {\n"
    "            float *v = y + r * n, mx = v[0];\n"
    "            double s = 0;\n"
    "            for (j = 1; j < n; j++) mx = v[j] > mx ? v[j] : mx;\n"
    "            for (j = 0; j < n; j++) {\n"
    "                v[j] = expf(v[j] - mx);\n"
    "                s += v[j];\n"
    "            }\n"
    "            for (j = 0; j < n; j++) v[j] = (float)(v[j] / s);\n"
    "        }\n"
    "        return;\n"
    "    case SNX_LINEAR: return;\n"
    "    default: for (i = 0; i < rows * n; i++) y[i] = snx_elem(a, y[i]); return;\n"
    "    }\n"
    "}\n";

/* z (N) = x (R) · W (R, N) from zero, per output column in index order. */
const char *const snx_rt_mv =
    "static void snx_mv0(float *z, const float *x, const snx_w *W, const float *S, int R, int N) {\n"
    "    int i, j;\n"
    "    for (j = 0; j < N; j++) {\n"
    "        float acc = 0.0f;\n"
    "        for (i = 0; i < R; i++) acc += x[i] * (float)W[i * N + j];\n"
    "#if SNX_Q8\n"
    "        acc *= S[j];\n"
    "#else\n"
    "        (void)S;\n"
    "#endif\n"
    "        z[j] = acc;\n"
    "    }\n"
    "}\n";

/* z[j] += Σ_i x_i W[i*ld + j] for j < N (a column block of a wider matrix). */
const char *const snx_rt_mvadd =
    "static void snx_mvadd(float *z, const float *x, const snx_w *W, const float *S, int R, int N, int ld) {\n"
    "    int i, j;\n"
    "    for (j = 0; j < N; j++) {\n"
    "#if SNX_Q8\n"
    "        float acc = 0.0f;\n"
    "        for (i = 0; i < R; i++) acc += x[i] * (float)W[i * ld + j];\n"
    "        z[j] += acc * S[j];\n"
    "#else\n"
    "        float acc = z[j];\n"
    "        (void)S;\n"
    "        for (i = 0; i < R; i++) acc += x[i] * W[i * ld + j];\n"
    "        z[j] = acc;\n"
    "#endif\n"
    "    }\n"
    "}\n";

const char *const snx_rt_dense =
    "static void snx_dense(float *y, const float *x, int rows, int cin, int n, const snx_w *W, const float *S,\n"
    "                      const float *b, int act) {\n"
    "    int r, j;\n"
    "    for (r = 0; r < rows; r++) {\n"
    "        snx_mv0(y + r * n, x + r * cin, W, S, cin, n);\n"
    "        if (b)\n"
    "            for (j = 0; j < n; j++) y[r * n + j] += b[j];\n"
    "    }\n"
    "    snx_act(act, y, rows, n);\n"
    "}\n";

/* One recurrent step of one sample: a = x W + b (+ h U ...), the gates, the
 * new state hn (and cn). z: (4H) scratch, q: (4H) scratch. */
const char *const snx_rt_cell =
    "static void snx_cell(const snx_rnn *p, const float *x, const float *hp, const float *cp, float *hn, float *cn,\n"
    "                     float *a, float *R) {\n"
    "    int H = p->H, G = p->kind == 1 ? 4 : p->kind == 2 ? 3 : 1, nH = G * H, i;\n"
    "    snx_mv0(a, x, p->W, p->SW, p->C, nH);\n"
    "    if (p->b)\n"
    "        for (i = 0; i < nH; i++) a[i] += p->b[i];\n"
    "    if (p->kind == 0) {\n"
    "        snx_mvadd(a, hp, p->U, p->SU, H, H, H);\n"
    "        for (i = 0; i < H; i++) hn[i] = snx_ract(p->act, a[i]);\n"
    "    } else if (p->kind == 1) {\n"
    "        snx_mvadd(a, hp, p->U, p->SU, H, nH, nH);\n"
    "        for (i = 0; i < H; i++) {\n"
    "            float ig = snx_ract(p->ract, a[i]), fg = snx_ract(p->ract, a[H + i]);\n"
    "            float gg = snx_ract(p->act, a[2 * H + i]), og = snx_ract(p->ract, a[3 * H + i]);\n"
    "            float cv = fg * cp[i] + ig * gg;\n"
    "            cn[i] = cv;\n"
    "            hn[i] = og * snx_ract(p->act, cv);\n"
    "        }\n"
    "    } else if (p->reset_after) {\n"
    "        for (i = 0; i < nH; i++) R[i] = p->bh ? p->bh[i] : 0.0f;\n"
    "        snx_mvadd(R, hp, p->U, p->SU, H, nH, nH);\n"
    "        for (i = 0; i < 2 * H; i++) a[i] = snx_ract(p->ract, a[i] + R[i]);\n"
    "        for (i = 0; i < H; i++) a[2 * H + i] = snx_ract(p->act, a[2 * H + i] + a[H + i] * R[2 * H + i]);\n"
    "        for (i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];\n"
    "    } else {\n"
    "        snx_mvadd(a, hp, p->U, p->SU, H, 2 * H, nH);\n"
    "        for (i = 0; i < 2 * H; i++) a[i] = snx_ract(p->ract, a[i]);\n"
    "        for (i = 0; i < H; i++) R[i] = a[H + i] * hp[i];\n"
    "#if SNX_Q8\n"
    "        snx_mvadd(a + 2 * H, R, p->U + 2 * H, p->SU + 2 * H, H, H, nH);\n"
    "#else\n"
    "        snx_mvadd(a + 2 * H, R, p->U + 2 * H, p->SU, H, H, nH);\n"
    "#endif\n"
    "        for (i = 0; i < H; i++) a[2 * H + i] = snx_ract(p->act, a[2 * H + i]);\n"
    "        for (i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];\n"
    "    }\n"
    "}\n";

/* A whole sequence (Keras semantics: masked steps carry the states; their
 * output is the carried h, or 0 with zero_output_for_mask). x: (T,C); y:
 * (T,H) in processing order with return_sequences, else (H). s: 8H floats. */
const char *const snx_rt_rnn =
    "static void snx_rnn_seq(const snx_rnn *p, int T, int go_back, int ret_seq, int zofm, const float *x,\n"
    "                        const unsigned char *mask, float *y, float *s) {\n"
    "    int H = p->H, k, i;\n"
    "    float *h = s, *c = s + H, *hn = s + 2 * H, *cn = s + 3 * H, *a = s + 4 * H, *R = s + 8 * H;\n"
    "    for (i = 0; i < 2 * H; i++) s[i] = 0.0f;\n"
    "    for (k = 0; k < T; k++) {\n"
    "        int t = go_back ? T - 1 - k : k;\n"
    "        if (!mask || mask[t]) {\n"
    "            snx_cell(p, x + t * p->C, h, c, hn, cn, a, R);\n"
    "            for (i = 0; i < H; i++) h[i] = hn[i];\n"
    "            if (p->kind == 1)\n"
    "                for (i = 0; i < H; i++) c[i] = cn[i];\n"
    "            if (ret_seq)\n"
    "                for (i = 0; i < H; i++) y[k * H + i] = h[i];\n"
    "        } else if (ret_seq) {\n"
    "            for (i = 0; i < H; i++) y[k * H + i] = zofm ? 0.0f : h[i];\n"
    "        }\n"
    "    }\n"
    "    if (!ret_seq)\n"
    "        for (i = 0; i < H; i++) y[i] = h[i];\n"
    "}\n";

const char *const snx_rt_conv =
    "static void snx_conv1d(float *y, const float *x, int L, int C, int F, int K, int st, int dil, int pad_l, int lout,\n"
    "                       const snx_w *W, const float *S, const float *b, int act) {\n"
    "    int t, k, c, f;\n"
    "    for (t = 0; t < lout; t++) {\n"
    "        float *yt = y + t * F;\n"
    "        for (f = 0; f < F; f++) {\n"
    "            float acc = 0.0f;\n"
    "            for (k = 0; k < K; k++) {\n"
    "                int p = t * st + k * dil - pad_l;\n"
    "                if (p < 0 || p >= L) continue;\n"
    "                for (c = 0; c < C; c++) acc += x[p * C + c] * (float)W[(k * C + c) * F + f];\n"
    "            }\n"
    "#if SNX_Q8\n"
    "            acc *= S[f];\n"
    "#else\n"
    "            (void)S;\n"
    "#endif\n"
    "            yt[f] = acc + (b ? b[f] : 0.0f);\n"
    "        }\n"
    "    }\n"
    "    snx_act(act, y, lout, F);\n"
    "}\n";

const char *const snx_rt_pool =
    "static void snx_maxpool(float *y, const float *x, int L, int C, int P, int S, int pad_l, int lout) {\n"
    "    int t, i, c;\n"
    "    for (t = 0; t < lout; t++) {\n"
    "        int lo = t * S - pad_l, hi = lo + P;\n"
    "        if (lo < 0) lo = 0;\n"
    "        if (hi > L) hi = L;\n"
    "        for (c = 0; c < C; c++) y[t * C + c] = x[lo * C + c];\n"
    "        for (i = lo + 1; i < hi; i++)\n"
    "            for (c = 0; c < C; c++)\n"
    "                if (x[i * C + c] > y[t * C + c]) y[t * C + c] = x[i * C + c];\n"
    "    }\n"
    "}\n";

const char *const snx_rt_gap =
    "static void snx_gap(float *y, const float *x, int T, int C, const unsigned char *m) {\n"
    "    int t, c, cnt = 0;\n"
    "    double acc[SNX_MAXC];\n"
    "    for (c = 0; c < C; c++) acc[c] = 0;\n"
    "    for (t = 0; t < T; t++) {\n"
    "        if (m && !m[t]) continue;\n"
    "        cnt++;\n"
    "        for (c = 0; c < C; c++) acc[c] += x[t * C + c];\n"
    "    }\n"
    "    for (c = 0; c < C; c++) y[c] = cnt ? (float)(acc[c] / cnt) : 0.0f;\n"
    "}\n";

const char *const snx_rt_gmp =
    "static void snx_gmp(float *y, const float *x, int T, int C) {\n"
    "    int t, c;\n"
    "    for (c = 0; c < C; c++) y[c] = x[c];\n"
    "    for (t = 1; t < T; t++)\n"
    "        for (c = 0; c < C; c++)\n"
    "            if (x[t * C + c] > y[c]) y[c] = x[t * C + c];\n"
    "}\n";

/* BatchNormalization (inference, moving statistics) and LayerNormalization. */
const char *const snx_rt_norm =
    "static void snx_bn(float *y, const float *x, int rows, int C, const float *g, const float *b, const float *mu,\n"
    "                   const float *inv) {\n"
    "    int r, c;\n"
    "    for (r = 0; r < rows; r++)\n"
    "        for (c = 0; c < C; c++) {\n"
    "            float v = (x[r * C + c] - mu[c]) * inv[c];\n"
    "            if (g) v *= g[c];\n"
    "            if (b) v += b[c];\n"
    "            y[r * C + c] = v;\n"
    "        }\n"
    "}\n";

const char *const snx_rt_ln =
    "static void snx_ln(float *y, const float *x, int rows, int C, const float *g, const float *b, double eps) {\n"
    "    int r, c;\n"
    "    for (r = 0; r < rows; r++) {\n"
    "        const float *xr = x + r * C;\n"
    "        double s = 0, q = 0, m;\n"
    "        float iv, mf;\n"
    "        for (c = 0; c < C; c++) s += xr[c];\n"
    "        m = s / C;\n"
    "        for (c = 0; c < C; c++) q += (xr[c] - m) * (xr[c] - m);\n"
    "        iv = (float)(1.0 / sqrt(q / C + eps));\n"
    "        mf = (float)m;\n"
    "        for (c = 0; c < C; c++) {\n"
    "            float v = (xr[c] - mf) * iv;\n"
    "            if (g) v *= g[c];\n"
    "            if (b) v += b[c];\n"
    "            y[r * C + c] = v;\n"
    "        }\n"
    "    }\n"
    "}\n";

/* Embedding rows (ids arrive as floats), with mask_zero's mask. */
const char *const snx_rt_embed =
    "static void snx_embedding(float *y, const float *ids, int T, int V, int D, const snx_w *E, const float *S,\n"
    "                          unsigned char *mask) {\n"
    "    int t, j;\n"
    "    for (t = 0; t < T; t++) {\n"
    "        long id = (long)(ids[t] + 0.5f);\n"
    "        if (id < 0 || id >= V) id = 0;\n"
    "        for (j = 0; j < D; j++)\n"
    "#if SNX_Q8\n"
    "            y[t * D + j] = (float)E[id * D + j] * S[j];\n"
    "#else\n"
    "            y[t * D + j] = E[id * D + j];\n"
    "#endif\n"
    "        if (mask) mask[t] = id != 0;\n"
    "    }\n"
    "    (void)S;\n"
    "}\n";

const char *const snx_rt_masking =
    "static void snx_masking(float *y, const float *x, int T, int C, float v, unsigned char *mask) {\n"
    "    int t, c;\n"
    "    for (t = 0; t < T; t++) {\n"
    "        int any = 0;\n"
    "        for (c = 0; c < C; c++) any |= x[t * C + c] != v;\n"
    "        mask[t] = (unsigned char)any;\n"
    "        for (c = 0; c < C; c++) y[t * C + c] = any ? x[t * C + c] : 0.0f;\n"
    "    }\n"
    "}\n";

/* Bidirectional merge: yf (Tout,H) forward, yb (Tout,H) backward in
 * processing order (flipped back when Tout > 1). */
const char *const snx_rt_bidi =
    "static void snx_merge(float *y, const float *yf, const float *yb, int Tout, int H, int mode) {\n"
    "    int t, i;\n"
    "    for (t = 0; t < Tout; t++) {\n"
    "        const float *f = yf + t * H, *b = yb + (Tout - 1 - t) * H;\n"
    "        for (i = 0; i < H; i++) {\n"
    "            float u = f[i], v = b[i];\n"
    "            if (mode == 0) {\n"
    "                y[t * 2 * H + i] = u;\n"
    "                y[t * 2 * H + H + i] = v;\n"
    "            } else {\n"
    "                y[t * H + i] = mode == 1 ? u + v : mode == 2 ? u * v : (u + v) * 0.5f;\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n";
