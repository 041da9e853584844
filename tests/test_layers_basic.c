/* Feed-forward / convolutional / normalization layers: finite-difference
 * gradient checks for every kind and option, PyTorch reference fixtures
 * (tests/gen_basic_fixtures.py → tests/fixtures/basic_layers.bin), the
 * seed models' parameter counts, configure errors, describe round trips and
 * 1 vs 2 thread bit-identity. */
#include <stdlib.h>
#include <string.h>

#include "layer_check.h"
#include "seqnn.h"
#include "test.h"

static sn_shape shp1(int c) {
    sn_shape s = {1, {c, 0, 0}, SN_REP_DENSE};
    return s;
}
static sn_shape shp2(int t, int c) {
    sn_shape s = {2, {t, c, 0}, SN_REP_DENSE};
    return s;
}

static float *rand_floats(size_t n, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    float *x = malloc((n + 1) * sizeof(float));
    lc_random_input(x, n, &r, 0);
    return x;
}

/* Gradient checks: float32 forward, central differences. h = 3e-3 balances
 * truncation (tanh, softmax, LayerNorm curvature) against float32 rounding;
 * 1e-3 for the piecewise-linear pooling layers. A wrong gradient gives O(1). */
#define GC_TOL 1e-2

/* Gradient check of `spec` on input `in` with B rows; returns the worst
 * relative error (or 1.0 when the layer cannot be created). */
static double gc(const char *spec, sn_shape in, int B, const uint8_t *mask, int training, double h) {
    lc_layer t;
    if (lc_create(&t, spec, &in, B, 5) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        lc_free(&t);
        return 2.0;
    }
    size_t nx = (size_t)B * sn_shape_phys(&in);
    float *x = rand_floats(nx, 11);
    double e = lc_gradcheck(&t, x, mask, training, h);
    if (e > GC_TOL || getenv("SN_GC_VERBOSE")) fprintf(stderr, "    gradcheck %s: %g\n", spec, e);
    free(x);
    lc_free(&t);
    return e;
}


TEST(basic_gradcheck_dense) {
    const char *specs[] = {"dense(4)", "dense(4, activation=relu)", "dense(4, activation=tanh)",
                           "dense(4, activation=sigmoid)", "dense(4, activation=softmax)", "dense(3, use_bias=false)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        CHECK_MSG(gc(specs[i], shp1(5), 3, NULL, 1, 3e-3) < GC_TOL, "%s on (5)", specs[i]);
        CHECK_MSG(gc(specs[i], shp2(4, 5), 2, NULL, 1, 3e-3) < GC_TOL, "%s on (4,5)", specs[i]);
    }
}

TEST(basic_gradcheck_conv1d) {
    const char *specs[] = {"conv1d(3, 3)",
                           "conv1d(3, 4, padding=same)",
                           "conv1d(3, 3, padding=causal)",
                           "conv1d(2, 3, strides=2)",
                           "conv1d(2, 4, strides=2, padding=same)",
                           "conv1d(2, 3, strides=3, padding=causal)",
                           "conv1d(3, 3, dilation_rate=2)",
                           "conv1d(3, 3, dilation_rate=2, padding=same)",
                           "conv1d(3, 2, dilation_rate=3, padding=causal, activation=tanh)",
                           "conv1d(3, 3, activation=relu)",
                           "conv1d(2, 1, use_bias=false, activation=sigmoid)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        CHECK_MSG(gc(specs[i], shp2(10, 3), 2, NULL, 1, 3e-3) < GC_TOL, "%s", specs[i]);
}

TEST(basic_gradcheck_pooling) {
    const char *specs[] = {"maxpooling1d()", "maxpooling1d(3, strides=2)", "maxpooling1d(2, padding=same)",
                           "maxpooling1d(3, strides=1, padding=same)", "maxpooling1d(2, strides=None)",
                           "globalaveragepooling1d()", "globalmaxpooling1d()", "flatten()", "activation(tanh)",
                           "activation(softmax)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        CHECK_MSG(gc(specs[i], shp2(7, 3), 2, NULL, 1, 1e-3) < GC_TOL, "%s", specs[i]);
}

TEST(basic_gradcheck_masked_gap_and_bn) {
    /* row 0 partly masked, row 1 fully masked (output 0, no NaN), row 2 full */
    uint8_t mask[3 * 6] = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    CHECK(gc("globalaveragepooling1d()", shp2(6, 4), 3, mask, 1, 1e-3) < GC_TOL);
    CHECK(gc("batchnormalization()", shp2(6, 4), 3, mask, 1, 3e-3) < GC_TOL);
    CHECK(gc("layernormalization()", shp2(6, 4), 3, mask, 1, 3e-3) < GC_TOL);
    /* the fully masked row averages to exactly 0 */
    lc_layer t;
    sn_shape in = shp2(6, 4);
    CHECK_OK(lc_create(&t, "globalaveragepooling1d()", &in, 3, 1));
    float *x = rand_floats(3 * 24, 3), y[12];
    const uint8_t *mo = (const uint8_t *)1;
    lc_forward(&t, x, NULL, y, mask, 0, 1, &mo);
    CHECK(mo == NULL); /* GAP drops the mask */
    for (int c = 0; c < 4; c++) CHECK(y[4 + c] == 0.0f);
    /* the masked mean of 3 steps: 2 additions and a division in the layer and
     * in this reference (2γ_3, M = the mean of the magnitudes) */
    CHECK(lc_close(y[0], (x[0] + x[4] + x[12]) / 3, 6, (fabs(x[0]) + fabs(x[4]) + fabs(x[12])) / 3));
    free(x);
    lc_free(&t);
}

TEST(basic_gradcheck_normalization) {
    const char *specs[] = {"batchnormalization()", "batchnormalization(center=false)", "batchnormalization(scale=false)",
                           "layernormalization()", "layernormalization(epsilon=0.01, center=false)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        CHECK_MSG(gc(specs[i], shp2(3, 4), 3, NULL, 1, 3e-3) < GC_TOL, "%s training on (3,4)", specs[i]);
        CHECK_MSG(gc(specs[i], shp1(4), 5, NULL, 1, 3e-3) < GC_TOL, "%s training on (4)", specs[i]);
        CHECK_MSG(gc(specs[i], shp2(3, 4), 3, NULL, 0, 3e-3) < GC_TOL, "%s inference", specs[i]);
    }
}

TEST(basic_gradcheck_dropout) {
    CHECK(gc("dropout(0.5)", shp2(5, 4), 3, NULL, 1, 3e-3) < GC_TOL);
    CHECK(gc("dropout(0.3)", shp1(7), 4, NULL, 0, 3e-3) < GC_TOL);
}

TEST(basic_dropout_semantics) {
    sn_shape in = shp1(1000);
    lc_layer t;
    CHECK_OK(lc_create(&t, "dropout(0.25)", &in, 4, 1));
    float *x = rand_floats(4000, 8), *y = malloc(4000 * sizeof(float)), *y2 = malloc(4000 * sizeof(float));
    float *dx = malloc(4000 * sizeof(float)), *dy = rand_floats(4000, 9);
    const uint8_t mask_in[1] = {1}, *mo = NULL;
    lc_forward(&t, x, NULL, y, mask_in, 1, 42, &mo);
    CHECK(mo == mask_in); /* mask passes */
    int zeros = 0;
    for (int i = 0; i < 4000; i++) {
        if (y[i] == 0.0f)
            zeros++;
        else
            CHECK(lc_close(y[i], x[i] / 0.75f, 3, fabs(x[i] / 0.75f))); /* x·(float)(1/0.75) vs x/0.75f */
    }
    CHECK_MSG(zeros > 900 && zeros < 1100, "zeros %d", zeros);
    lc_backward(&t, x, NULL, y, dy, dx, NULL);
    for (int i = 0; i < 4000; i++)
        CHECK(y[i] == 0.0f ? dx[i] == 0.0f : lc_close(dx[i], dy[i] / 0.75f, 3, fabs(dy[i] / 0.75f)));
    /* same RNG seed → same mask; another seed → another mask */
    lc_forward(&t, x, NULL, y2, NULL, 1, 42, NULL);
    CHECK(memcmp(y, y2, 4000 * sizeof(float)) == 0);
    lc_forward(&t, x, NULL, y2, NULL, 1, 43, NULL);
    CHECK(memcmp(y, y2, 4000 * sizeof(float)) != 0);
    /* inference: identity, and backward passes dy */
    lc_forward(&t, x, NULL, y2, NULL, 0, 42, NULL);
    CHECK(memcmp(x, y2, 4000 * sizeof(float)) == 0);
    lc_backward(&t, x, NULL, y2, dy, dx, NULL);
    CHECK(memcmp(dx, dy, 4000 * sizeof(float)) == 0);
    lc_free(&t);
    /* rate 0: identity in training; rate 1: zeros */
    CHECK_OK(lc_create(&t, "dropout(0)", &in, 4, 1));
    lc_forward(&t, x, NULL, y2, NULL, 1, 42, NULL);
    CHECK(memcmp(x, y2, 4000 * sizeof(float)) == 0);
    lc_free(&t);
    CHECK_OK(lc_create(&t, "dropout(1)", &in, 4, 1));
    lc_forward(&t, x, NULL, y2, NULL, 1, 42, NULL);
    for (int i = 0; i < 4000; i++) CHECK(y2[i] == 0.0f);
    lc_free(&t);
    /* seed=: the layer's own stream, reproducible across layers, new mask per call */
    lc_layer a, b;
    CHECK_OK(lc_create(&a, "dropout(0.5, seed=7)", &in, 4, 1));
    CHECK_OK(lc_create(&b, "dropout(0.5, seed=7)", &in, 4, 2));
    lc_forward(&a, x, NULL, y, NULL, 1, 1, NULL);
    lc_forward(&b, x, NULL, y2, NULL, 1, 2, NULL);
    CHECK(memcmp(y, y2, 4000 * sizeof(float)) == 0);
    lc_forward(&b, x, NULL, y2, NULL, 1, 2, NULL);
    CHECK(memcmp(y, y2, 4000 * sizeof(float)) != 0);
    lc_free(&a);
    lc_free(&b);
    free(x); free(y); free(y2); free(dx); free(dy);
}

/* ---- PyTorch fixtures ---- */

static const float *fx_get(const sn_fixture *fx, const char *cs, const char *name, size_t *n) {
    char key[160];
    snprintf(key, sizeof key, "%s/%s", cs, name);
    size_t k = sn_fixture_numel(fx, key);
    if (n) *n = k;
    return k ? sn_fixture_get(fx, key, NULL, NULL) : NULL;
}

/* Roundings on the longest chain to any checked value of layer L run on B
 * rows (the reference tolerance of layer_check.h), from the sums the layer
 * forms, with `rows` the rows of its batch (B·T for sequences):
 *   dense   x·W (C terms), dz W^T (units terms), dW over the rows;
 *   conv1d  K·C-term sums forward, K·filters-term sums for dx, dW over the
 *           B·T_out output rows;
 *   batchnormalization  mean and variance over the rows (2·rows), and the
 *           same two sums again in backward;
 *   layernormalization  the same over the C features;
 *   pooling the average's sum over T (max is exact);
 * plus 16 for the elementwise operations and activations (libm's tanhf /
 * expf ≤ 2 ulp, softmax: exp, a sum of `units` terms and a division; the
 * normalization's sqrt and divisions) and 1 for the float32 reference. */
static double basic_roundings(const sn_layer *L, int B) {
    const sn_tensor_info *k = L->n_tensors ? &L->tensors[0] : NULL;
    double rows = (double)B * (L->in.rank == 2 ? L->in.d[0] : 1), n = 17;
    const char *kind = L->ops->kind;
    int C = L->in.d[L->in.rank - 1];
    if (!strcmp(kind, "dense")) n += k->dims[0] + 2.0 * k->dims[1] + rows;
    else if (!strcmp(kind, "conv1d"))
        n += (double)k->dims[0] * k->dims[1] + (double)k->dims[0] * k->dims[2] + (double)B * L->out.d[0];
    else if (!strcmp(kind, "batchnormalization")) n += 4 * rows;
    else if (!strcmp(kind, "layernormalization")) n += 4.0 * C;
    else n += L->in.rank == 2 ? L->in.d[0] : 1;
    return n;
}

/* Loads case `cs`, builds `spec` on x's shape, copies the Keras-layout
 * parameters in, runs forward (+ training) and backward, and compares y, dx,
 * every parameter gradient "d<name>" and every "<name>_after" against the
 * float64 torch values. Returns the worst ratio to the reference tolerance
 * γ_n·(|r| + max|r|) with n = basic_roundings (≤ 1 passes), or 2 when
 * something is missing. */
static double fixture_case(const sn_fixture *fx, const char *cs, const char *spec, int training) {
    char key[160];
    int nd, dims[8];
    snprintf(key, sizeof key, "%s/x", cs);
    const float *x = sn_fixture_get(fx, key, &nd, dims);
    if (!x || nd < 2 || nd > 3) {
        fprintf(stderr, "    fixture %s missing\n", key);
        return 2.0;
    }
    sn_shape in = nd == 2 ? shp1(dims[1]) : shp2(dims[1], dims[2]);
    int B = dims[0];
    lc_layer t;
    if (lc_create(&t, spec, &in, B, 1) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        lc_free(&t);
        return 2.0;
    }
    double worst = 0;
    for (int k = 0; k < t.L->n_tensors; k++) {
        size_t n;
        const float *p = fx_get(fx, cs, t.L->tensors[k].name, &n);
        if (!p || n != t.L->tensors[k].numel) {
            fprintf(stderr, "    %s: tensor %s missing or of the wrong size\n", cs, t.L->tensors[k].name);
            worst = 2.0;
            goto done;
        }
        memcpy(t.w + t.L->tensors[k].offset, p, n * sizeof(float));
    }
    size_t ny, nmask;
    const float *yref = fx_get(fx, cs, "y", &ny), *dy = fx_get(fx, cs, "dy", NULL), *dxref = fx_get(fx, cs, "dx", NULL);
    const float *mf = fx_get(fx, cs, "mask", &nmask);
    if (!yref || !dy || !dxref || ny != (size_t)B * sn_shape_phys(&t.L->out)) {
        fprintf(stderr, "    %s: y/dy/dx missing or of the wrong size\n", cs);
        worst = 2.0;
        goto done;
    }
    uint8_t mask[256];
    if (mf) {
        SN_ASSERT(nmask <= sizeof mask);
        for (size_t i = 0; i < nmask; i++) mask[i] = mf[i] != 0.0f;
    }
    size_t nx = (size_t)B * sn_shape_phys(&in);
    float *y = malloc(ny * sizeof(float)), *dx = malloc(nx * sizeof(float));
    const double nr = basic_roundings(t.L, B);
    lc_forward(&t, x, NULL, y, mf ? mask : NULL, training, 1, NULL);
    worst = fmax(worst, lc_ref_ratio("y", y, yref, ny, nr));
    lc_backward(&t, x, NULL, y, dy, dx, mf ? mask : NULL);
    worst = fmax(worst, lc_ref_ratio("dx", dx, dxref, nx, nr));
    for (int k = 0; k < t.L->n_tensors; k++) {
        const sn_tensor_info *ti = &t.L->tensors[k];
        char nm[64];
        size_t n;
        snprintf(nm, sizeof nm, "%s%s", ti->trainable ? "d" : "", ti->name);
        if (!ti->trainable) snprintf(nm, sizeof nm, "%s_after", ti->name);
        const float *ref = fx_get(fx, cs, nm, &n);
        if (!ref || n != ti->numel) {
            fprintf(stderr, "    %s: reference %s missing\n", cs, nm);
            worst = 2.0;
            continue;
        }
        const float *mine = ti->trainable ? t.g + ti->offset : t.w + ti->offset;
        worst = fmax(worst, lc_ref_ratio(nm, mine, ref, n, nr));
    }
    free(y);
    free(dx);
done:
    if (!(worst <= 1) || getenv("SN_TOL_VERBOSE"))
        fprintf(stderr, "    fixture %s (%s): worst %.3g of the bound\n", cs, spec, worst);
    lc_free(&t);
    return worst;
}

static sn_fixture *load_basic_fixture(void) { return sn_fixture_load(sn_test_path("basic_layers.bin")); }

TEST(basic_torch_dense) {
    sn_fixture *fx = load_basic_fixture();
    CHECK(fx);
    const char *acts[] = {"linear", "relu", "tanh", "sigmoid", "softmax"};
    for (int i = 0; i < 5; i++) {
        char cs[64], spec[64];
        snprintf(cs, sizeof cs, "dense_%s", acts[i]);
        snprintf(spec, sizeof spec, "dense(6, activation=%s)", acts[i]);
        double e = fixture_case(fx, cs, spec, 1);
        if (!(e <= 1)) sn_fixture_free(fx);
        CHECK_MSG(e <= 1, "%s", cs);
    }
    sn_fixture_free(fx);
}

TEST(basic_torch_conv1d) {
    sn_fixture *fx = load_basic_fixture();
    CHECK(fx);
    const char *cases[][2] = {
        {"conv_valid", "conv1d(4, 3)"},
        {"conv_same", "conv1d(4, 4, padding=same, activation=tanh)"},
        {"conv_stride2", "conv1d(4, 3, strides=2)"},
        {"conv_stride2_same", "conv1d(5, 4, strides=2, padding=same, activation=relu)"},
        {"conv_stride3_valid", "conv1d(3, 2, strides=3)"},
        {"conv_dil2", "conv1d(4, 3, dilation_rate=2)"},
        {"conv_dil2_same", "conv1d(4, 3, dilation_rate=2, padding=same, activation=sigmoid)"},
        {"conv_causal", "conv1d(4, 3, padding=causal, dilation_rate=2, activation=relu)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double e = fixture_case(fx, cases[i][0], cases[i][1], 1);
        if (!(e <= 1)) sn_fixture_free(fx);
        CHECK_MSG(e <= 1, "%s", cases[i][0]);
    }
    sn_fixture_free(fx);
}

/* Conv1D against a naive double-precision reference (direct definition, no
 * padded copy, no up-sampling), on shapes that exercise every block of the
 * register-blocked kernels (F = 5, 8, 16, 24, 64: partial, 8-wide and
 * 16-wide column blocks; row counts not multiples of 8; strides, dilation,
 * same / causal padding) and the GEMM path (F = 72). Checks y, dx, dW and
 * the bias gradient, then that a second backward accumulates (+=). */
typedef struct conv_ref_case {
    const char *spec;
    int T, C, F, K, s, d, pad; /* pad: 0 valid, 1 same, 2 causal */
    int bias, relu;
} conv_ref_case;

static int conv_ref_check(const conv_ref_case *cs, int B) {
    sn_shape in = shp2(cs->T, cs->C);
    lc_layer t;
    if (lc_create(&t, cs->spec, &in, B, 7) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", cs->spec, sn_error_last());
        lc_free(&t);
        return 0;
    }
    const int T = cs->T, C = cs->C, F = cs->F, K = cs->K, s = cs->s, d = cs->d, span = d * (K - 1) + 1;
    int lout, pl;
    if (cs->pad == 0) {
        lout = (T - span) / s + 1;
        pl = 0;
    } else {
        lout = (T + s - 1) / s;
        int P = (lout - 1) * s + span - T;
        if (P < 0) P = 0;
        pl = cs->pad == 1 ? P / 2 : span - 1;
    }
    int ok = t.L->out.d[0] == lout && t.L->out.d[1] == F;
    size_t nx = (size_t)B * T * C, ny = (size_t)B * lout * F, np = t.L->n_params;
    float *x = rand_floats(nx, 31), *dy = rand_floats(ny, 32), *y = malloc(ny * sizeof(float));
    float *dx = malloc(nx * sizeof(float)), *g1 = malloc(np * sizeof(float));
    double *dz = calloc(ny, sizeof(double)), *gw = calloc(np, sizeof(double)), *gwa = calloc(np, sizeof(double));
    double *dxr = calloc(nx, sizeof(double)), *dxa = calloc(nx, sizeof(double));
    const float *W = t.w, *bias = cs->bias ? t.w + (size_t)K * C * F : NULL;
    double worst = 0;
    /* Reference tolerance (layer_check.h) with M = Σ|terms| formed here: y
     * sums K·C products and the bias, dx K·filters products into a zero dx,
     * dW and db B·T_out products; +1 for each result's float32 rounding. */
    const double n_y = (double)K * C + 2, n_x = (double)K * F + 2, n_w = (double)B * lout + 2;
#define CR_ERR(a, r, m, n) /* ratio to γ_n · Σ|terms| */                               \
    do {                                                                               \
        double e_ = fabs((double)(a) - (r)) / (lc_gamma(n) * (m) + 1e-300);            \
        if (!(e_ <= worst)) worst = e_;                                                \
    } while (0)
    if (ok) {
        lc_forward(&t, x, NULL, y, NULL, 1, 1, NULL);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < lout; o++)
                for (int f = 0; f < F; f++) {
                    double z = bias ? bias[f] : 0, m = bias ? fabs(bias[f]) : 0;
                    for (int k = 0; k < K; k++) {
                        int i = o * s + k * d - pl;
                        if (i < 0 || i >= T) continue;
                        for (int c = 0; c < C; c++) {
                            double v = (double)x[((size_t)b * T + i) * C + c] * W[((size_t)k * C + c) * F + f];
                            z += v, m += fabs(v);
                        }
                    }
                    size_t iy = ((size_t)b * lout + o) * F + f;
                    double yr = cs->relu && z < 0 ? 0 : z;
                    CR_ERR(y[iy], yr, m, n_y);
                    /* the layer's own y decides relu's gate (a tie at 0 is rounding) */
                    dz[iy] = cs->relu && !(y[iy] > 0) ? 0 : dy[iy];
                }
        for (int b = 0; b < B; b++)
            for (int o = 0; o < lout; o++)
                for (int f = 0; f < F; f++) {
                    double g = dz[((size_t)b * lout + o) * F + f];
                    if (bias) gw[(size_t)K * C * F + f] += g, gwa[(size_t)K * C * F + f] += fabs(g);
                    for (int k = 0; k < K; k++) {
                        int i = o * s + k * d - pl;
                        if (i < 0 || i >= T) continue;
                        for (int c = 0; c < C; c++) {
                            size_t ix = ((size_t)b * T + i) * C + c, iw = ((size_t)k * C + c) * F + f;
                            gw[iw] += x[ix] * g, gwa[iw] += fabs(x[ix] * g);
                            dxr[ix] += W[iw] * g, dxa[ix] += fabs(W[iw] * g);
                        }
                    }
                }
        lc_backward(&t, x, NULL, y, dy, dx, NULL);
        for (size_t i = 0; i < np; i++) CR_ERR(t.g[i], gw[i], gwa[i], n_w);
        for (size_t i = 0; i < nx; i++) CR_ERR(dx[i], dxr[i], dxa[i], n_x);
        /* backward accumulates: a second call doubles g and dx exactly */
        memcpy(g1, t.g, np * sizeof(float));
        float *dx1 = malloc(nx * sizeof(float));
        memcpy(dx1, dx, nx * sizeof(float));
        sn_bwd bw = {0};
        bw.B = B, bw.x = x, bw.y = y, bw.dy = dy, bw.dx = dx, bw.cache = t.cache, bw.scratch = t.scratch;
        t.L->ops->backward(t.L, &bw);
        for (size_t i = 0; i < np && ok; i++) ok = t.g[i] == 2 * g1[i];
        for (size_t i = 0; i < nx && ok; i++) ok = dx[i] == 2 * dx1[i];
        if (!ok) fprintf(stderr, "    %s: a second backward does not accumulate\n", cs->spec);
        free(dx1);
    }
#undef CR_ERR
    if (!(worst <= 1) || getenv("SN_TOL_VERBOSE"))
        fprintf(stderr, "    %s on (%d,%d): worst %.3g of the bound vs the naive reference\n", cs->spec, T, C, worst);
    if (!(worst <= 1)) ok = 0;
    free(x); free(dy); free(y); free(dx); free(g1); free(dz); free(gw); free(gwa); free(dxr); free(dxa);
    lc_free(&t);
    return ok;
}

TEST(basic_conv1d_vs_naive_reference) {
    const conv_ref_case cases[] = {
        {"conv1d(8, 5, activation=relu)", 37, 6, 8, 5, 1, 1, 0, 1, 1},
        {"conv1d(8, 24, activation=relu)", 120, 14, 8, 24, 1, 1, 0, 1, 1},
        {"conv1d(24, 3, padding=same)", 37, 14, 24, 3, 1, 1, 1, 1, 0},
        {"conv1d(5, 4, strides=2, padding=causal)", 37, 3, 5, 4, 2, 1, 2, 1, 0},
        {"conv1d(16, 3, dilation_rate=3, padding=same, use_bias=false)", 30, 9, 16, 3, 1, 3, 1, 0, 0},
        {"conv1d(64, 2, dilation_rate=2, padding=causal, activation=relu)", 20, 7, 64, 2, 1, 2, 2, 1, 1},
        {"conv1d(3, 3, strides=3, padding=same)", 31, 17, 3, 3, 3, 1, 1, 1, 0},
        {"conv1d(72, 3, strides=2)", 31, 5, 72, 3, 2, 1, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) CHECK_MSG(conv_ref_check(&cases[i], 7), "%s", cases[i].spec);
}

TEST(basic_torch_pooling_and_norm) {
    sn_fixture *fx = load_basic_fixture();
    CHECK(fx);
    const char *cases[][3] = {
        {"maxpool_2", "maxpooling1d(2)", "1"},
        {"maxpool_3s2", "maxpooling1d(3, strides=2)", "1"},
        {"maxpool_same", "maxpooling1d(2, padding=same)", "1"},
        {"maxpool_3s2_same", "maxpooling1d(3, 2, same)", "1"},
        {"gap", "globalaveragepooling1d()", "1"},
        {"gap_masked", "globalaveragepooling1d()", "1"},
        {"bn_train_seq", "batchnormalization()", "1"},
        {"bn_train_vec", "batchnormalization()", "1"},
        {"bn_infer_seq", "batchnormalization()", "0"},
        {"bn_train_m09", "batchnormalization(momentum=0.9, epsilon=0.01)", "1"},
        {"ln_seq", "layernormalization()", "1"},
        {"ln_vec", "layernormalization()", "1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double e = fixture_case(fx, cases[i][0], cases[i][1], cases[i][2][0] == '1');
        if (!(e <= 1)) sn_fixture_free(fx);
        CHECK_MSG(e <= 1, "%s", cases[i][0]);
    }
    sn_fixture_free(fx);
}

/* ---- sparse input: same result as the dense equivalent ---- */
TEST(basic_dense_sparse_matches_dense) {
    const int B = 5, V = 40, H = 6;
    sn_rng r;
    sn_rng_seed(&r, 3);
    float *xd = calloc((size_t)B * V, sizeof(float));
    int64_t rp[6] = {0};
    int32_t col[B * V];
    float val[B * V];
    int nnz = 0;
    for (int b = 0; b < B; b++) {
        for (int v = 0; v < V; v++)
            if (b != 2 && sn_rng_uniform(&r) < 0.2f) { /* row 2 stays empty */
                col[nnz] = v;
                val[nnz] = (float)sn_rng_normal(&r);
                xd[b * V + v] = val[nnz];
                nnz++;
            }
        rp[b + 1] = nnz;
    }
    sn_csr xs = {B, rp, col, val};
    sn_shape ind = shp1(V), ins = shp1(V);
    ins.rep = SN_REP_SPARSE;
    lc_layer td, ts;
    CHECK_OK(lc_create(&td, "dense(6, activation=tanh)", &ind, B, 9));
    CHECK_OK(lc_create(&ts, "dense(6, activation=tanh)", &ins, B, 9));
    CHECK(td.L->n_params == ts.L->n_params && ts.L->n_params == (size_t)V * H + H);
    CHECK(memcmp(td.w, ts.w, td.L->n_params * sizeof(float)) == 0);
    float yd[B * H], ys[B * H], dx[B * V];
    float *dy = rand_floats(B * H, 4);
    lc_forward(&td, xd, NULL, yd, NULL, 1, 1, NULL);
    lc_forward(&ts, NULL, &xs, ys, NULL, 1, 1, NULL);
    /* Two float32 computations of the same value (2γ_n, layer_check.h): y
     * sums at most V products and the bias, then tanh (≤ 2 ulp); dW sums the
     * B rows of x·dz, dz from tanh' (2 roundings); +4. */
    const double n_sum = 2.0 * (V + B + 4);
    CHECK(lc_ref_ratio("sparse y", ys, yd, (size_t)B * H, n_sum) <= 1);
    lc_backward(&td, xd, NULL, yd, dy, dx, NULL);
    lc_backward(&ts, NULL, &xs, ys, dy, NULL, NULL);
    CHECK(lc_ref_ratio("sparse dW", ts.g, td.g, td.L->n_params, n_sum) <= 1);
    /* the empty row's output is act(bias) exactly */
    for (int h = 0; h < H; h++) CHECK(ys[2 * H + h] == tanhf(ts.w[V * H + h]));
    lc_free(&td);
    lc_free(&ts);
    free(xd);
    free(dy);
    /* ids input is refused at build with a message */
    lc_layer ti;
    sn_shape ids = shp2(10, 50);
    ids.rep = SN_REP_IDS;
    CHECK(lc_create(&ti, "dense(4)", &ids, 2, 1) == SN_ERR_SHAPE);
    CHECK(strstr(sn_error_last(), "id") != NULL);
    lc_free(&ti);
}

/* ---- the seed's two models: parameter counts and shapes ---- */
static sn_status build_chain(const char *spec, sn_shape in, size_t *params, size_t *nontrain, sn_shape *out,
                             char *desc, size_t nd) {
    sn_spec s;
    sn_status st = sn_spec_parse(&s, spec);
    if (st) return st;
    *params = *nontrain = 0;
    if (desc) desc[0] = 0;
    for (int i = 0; i < s.n_calls && st == SN_OK; i++) {
        sn_layer *L = sn_layer_create(s.calls[i]);
        if (!L) {
            st = SN_ERR_PARSE;
            break;
        }
        st = sn_layer_build(L, &in);
        if (st == SN_OK) {
            *params += L->n_params;
            for (int k = 0; k < L->n_tensors; k++)
                if (!L->tensors[k].trainable) *nontrain += L->tensors[k].numel;
            in = L->out;
            if (desc) {
                size_t k = strlen(desc);
                if (k) k += (size_t)snprintf(desc + k, nd - k, ", ");
                L->ops->describe(L, desc + k, nd - k);
            }
        }
        sn_layer_free(L);
    }
    sn_spec_free(&s);
    *out = in;
    return st;
}

TEST(basic_seed_model_param_counts) {
    size_t p, nt;
    sn_shape out;
    CHECK_OK(build_chain("flatten(), dense(16, activation=relu), dense(1)", shp2(120, 14), &p, &nt, &out, NULL, 0));
    CHECK_MSG(p == 26913, "got %zu", p);
    CHECK(out.rank == 1 && out.d[0] == 1);
    CHECK_OK(build_chain("flatten(), dense(16, activation=relu)", shp2(120, 14), &p, &nt, &out, NULL, 0));
    CHECK(p == 26896);
    char desc[512];
    CHECK_OK(build_chain("Conv1D(8, 24, activation='relu'), MaxPooling1D(2), conv1d(8, 12, activation=relu), "
                         "max_pooling1d(2), conv1d(8, 6, activation=relu), GlobalAveragePooling1D(), Dense(1)",
                         shp2(120, 14), &p, &nt, &out, desc, sizeof desc));
    CHECK_MSG(p == 3873, "got %zu", p);
    CHECK(nt == 0 && out.rank == 1 && out.d[0] == 1);
    CHECK_MSG(!strcmp(desc, "conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), "
                            "maxpooling1d(2), conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)"),
              "%s", desc);
    /* per-layer shapes of the conv stack: 97 → 48 → 37 → 18 → 13 */
    const int lens[] = {97, 48, 37, 18, 13};
    const char *prefix[] = {"conv1d(8, 24)", "conv1d(8, 24), maxpooling1d(2)",
                            "conv1d(8, 24), maxpooling1d(2), conv1d(8, 12)",
                            "conv1d(8, 24), maxpooling1d(2), conv1d(8, 12), maxpooling1d(2)",
                            "conv1d(8, 24), maxpooling1d(2), conv1d(8, 12), maxpooling1d(2), conv1d(8, 6)"};
    for (int i = 0; i < 5; i++) {
        CHECK_OK(build_chain(prefix[i], shp2(120, 14), &p, &nt, &out, NULL, 0));
        CHECK_MSG(out.rank == 2 && out.d[0] == lens[i] && out.d[1] == 8, "step %d: %d", i, out.d[0]);
    }
    /* BatchNorm: 4C params, 2C non-trainable */
    CHECK_OK(build_chain("batchnormalization()", shp2(120, 14), &p, &nt, &out, NULL, 0));
    CHECK(p == 56 && nt == 28);
    CHECK_OK(build_chain("layernormalization()", shp2(120, 14), &p, &nt, &out, NULL, 0));
    CHECK(p == 28 && nt == 0);
    CHECK_OK(build_chain("conv1d(8, 5, padding=same, use_bias=false)", shp2(120, 14), &p, &nt, &out, NULL, 0));
    CHECK(p == 5 * 14 * 8 && out.d[0] == 120);
    CHECK_OK(build_chain("conv1d(8, 5, strides=2, padding=causal)", shp2(121, 14), &p, &nt, &out, NULL, 0));
    CHECK(out.d[0] == 61);
}

/* ---- configure / build errors ---- */
static int create_fails(const char *spec, sn_shape in, sn_status want, const char *needle) {
    lc_layer t;
    sn_status st = lc_create(&t, spec, &in, 2, 1);
    const char *msg = sn_error_last();
    int ok = st == want && strstr(msg, needle) != NULL;
    if (!ok) fprintf(stderr, "    %s: status %d, message \"%s\"\n", spec, (int)st, msg);
    lc_free(&t);
    return ok;
}

TEST(basic_configure_errors) {
    sn_shape s2 = shp2(10, 3);
    CHECK(create_fails("dense(16, foo=1)", s2, SN_ERR_PARSE, "unknown argument 'foo' in `dense(16, foo=1)`"));
    CHECK(create_fails("dense(0)", s2, SN_ERR_PARSE, "`dense(0)`"));
    CHECK(create_fails("dense()", s2, SN_ERR_PARSE, "units"));
    CHECK(create_fails("dense(4, activation=swish)", s2, SN_ERR_PARSE, "swish"));
    CHECK(create_fails("dense(4, 5, 6, 7)", s2, SN_ERR_PARSE, "`dense(4, 5, 6, 7)`"));
    CHECK(create_fails("dropout(1.5)", s2, SN_ERR_PARSE, "`dropout(1.5)`"));
    CHECK(create_fails("dropout(-0.1)", s2, SN_ERR_PARSE, "rate"));
    CHECK(create_fails("dropout(0.5, noise_shape=(1,3))", s2, SN_ERR_PARSE, "noise_shape"));
    CHECK(create_fails("conv1d(8, 3, padding=foo)", s2, SN_ERR_PARSE, "`conv1d(8, 3, padding=foo)`"));
    CHECK(create_fails("conv1d(8)", s2, SN_ERR_PARSE, "kernel_size"));
    CHECK(create_fails("conv1d(8, 0)", s2, SN_ERR_PARSE, "kernel_size"));
    CHECK(create_fails("conv1d(8, 3, strides=2, dilation_rate=2)", s2, SN_ERR_PARSE, "dilation_rate"));
    CHECK(create_fails("conv1d(8, 3, data_format=channels_first)", s2, SN_ERR_PARSE, "channels_last"));
    CHECK(create_fails("maxpooling1d(2, padding=causal)", s2, SN_ERR_PARSE, "padding"));
    CHECK(create_fails("maxpooling1d(0)", s2, SN_ERR_PARSE, "pool_size"));
    CHECK(create_fails("batchnormalization(momentum=1.5)", s2, SN_ERR_PARSE, "momentum"));
    CHECK(create_fails("batchnormalization(axis=1)", s2, SN_ERR_PARSE, "axis"));
    CHECK(create_fails("layernormalization(epsilon=-1)", s2, SN_ERR_PARSE, "epsilon"));
    CHECK(create_fails("activation(gelu)", s2, SN_ERR_PARSE, "gelu"));
    CHECK(create_fails("flatten(3)", s2, SN_ERR_PARSE, "flatten(3)"));
    /* shape errors at build name both the layer and the shape */
    CHECK(create_fails("conv1d(8, 24)", shp2(10, 3), SN_ERR_SHAPE, "(None, 10, 3)"));
    CHECK(create_fails("conv1d(8, 3)", shp1(10), SN_ERR_SHAPE, "(None, 10)"));
    CHECK(create_fails("maxpooling1d(4)", shp2(3, 2), SN_ERR_SHAPE, "pool_size"));
    CHECK(create_fails("globalaveragepooling1d()", shp1(5), SN_ERR_SHAPE, "(None, 5)"));
}

/* ---- describe → configure reproduces the layer ---- */
TEST(basic_describe_round_trip) {
    struct { const char *spec, *canon; sn_shape in; } cases[] = {
        {"Dense(16, activation='relu')", "dense(16, activation=relu)", shp1(7)},
        {"dense(3, activation=None, use_bias=False, kernel_initializer=orthogonal, bias_initializer=zeros)",
         "dense(3, use_bias=false, kernel_initializer=orthogonal)", shp2(4, 5)},
        {"dense(2, bias_initializer=ones, kernel_initializer=he_uniform)",
         "dense(2, kernel_initializer=he_uniform, bias_initializer=ones)", shp1(5)},
        {"Conv1D(8, 24, activation='relu')", "conv1d(8, 24, activation=relu)", shp2(120, 14)},
        {"conv1d(filters=4, kernel_size=(3,), strides=2, padding='same', use_bias=false)",
         "conv1d(4, 3, strides=2, padding=same, use_bias=false)", shp2(20, 3)},
        {"conv1d(4, 3, padding=causal, dilation_rate=2, activation=tanh, kernel_initializer=he_uniform)",
         "conv1d(4, 3, padding=causal, dilation_rate=2, activation=tanh, kernel_initializer=he_uniform)", shp2(20, 3)},
        {"MaxPooling1D()", "maxpooling1d(2)", shp2(20, 3)},
        {"MaxPool1D(pool_size=3, strides=1, padding='same')", "maxpooling1d(3, strides=1, padding=same)", shp2(20, 3)},
        {"maxpooling1d(2, strides=2)", "maxpooling1d(2)", shp2(20, 3)},
        {"GlobalAvgPool1D()", "globalaveragepooling1d()", shp2(20, 3)},
        {"global_max_pooling1d()", "globalmaxpooling1d()", shp2(20, 3)},
        {"BatchNormalization()", "batchnormalization()", shp2(20, 3)},
        {"batchnormalization(momentum=0.9, epsilon=1e-5, center=false)",
         "batchnormalization(momentum=0.9, epsilon=1e-05, center=false)", shp1(6)},
        {"LayerNormalization(epsilon=1e-6, scale=False)", "layernormalization(epsilon=1e-06, scale=false)", shp2(5, 3)},
        {"layernormalization()", "layernormalization()", shp2(5, 3)},
        {"Dropout(0.1)", "dropout(0.1)", shp2(5, 3)},
        {"dropout(rate=0.25, seed=3)", "dropout(0.25, seed=3)", shp1(5)},
        {"Flatten()", "flatten()", shp2(5, 3)},
        {"Activation('softmax')", "activation(softmax)", shp2(5, 3)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lc_layer a, b;
        char da[256], db[256];
        CHECK_OK(lc_create(&a, cases[i].spec, &cases[i].in, 3, 17));
        a.L->ops->describe(a.L, da, sizeof da);
        CHECK_MSG(!strcmp(da, cases[i].canon), "%s → %s (want %s)", cases[i].spec, da, cases[i].canon);
        CHECK_OK(lc_create(&b, da, &cases[i].in, 3, 17));
        b.L->ops->describe(b.L, db, sizeof db);
        CHECK_MSG(!strcmp(da, db), "%s → %s", da, db);
        CHECK(a.L->ops == b.L->ops || !strcmp(a.L->ops->class_name, b.L->ops->class_name));
        CHECK(a.L->n_params == b.L->n_params && a.L->n_tensors == b.L->n_tensors);
        CHECK(sn_shape_numel(&a.L->out) == sn_shape_numel(&b.L->out) && a.L->out.rank == b.L->out.rank);
        CHECK(a.L->n_params == 0 || memcmp(a.w, b.w, a.L->n_params * sizeof(float)) == 0);
        /* same weights and input → same output (training mode, same RNG) */
        size_t nx = 3 * sn_shape_phys(&cases[i].in), ny = 3 * sn_shape_phys(&a.L->out);
        float *x = rand_floats(nx, 5), *ya = malloc(ny * sizeof(float)), *yb = malloc(ny * sizeof(float));
        lc_forward(&a, x, NULL, ya, NULL, 1, 3, NULL);
        lc_forward(&b, x, NULL, yb, NULL, 1, 3, NULL);
        int same = memcmp(ya, yb, ny * sizeof(float)) == 0;
        free(x); free(ya); free(yb);
        lc_free(&a);
        lc_free(&b);
        CHECK_MSG(same, "%s", cases[i].canon);
    }
}

/* ---- 1 vs 2 threads: bit-identical ----
 * The layers' own OpenMP loops must not depend on the thread count. OpenBLAS
 * 0.3.21 (pthread) itself does: the same sgemm with 1 and 2 BLAS threads
 * differs in the last bits (measured: 14,877 of 92,160 entries for
 * (2880,14)x(14,32)), because its edge micro-kernels change with the split.
 * So the check runs twice: BLAS backend with a fixed BLAS thread count and
 * L->threads 1 vs 2; portable GEMM backend with both counts 1 vs 2. */
static int threads_identical(const char *spec, sn_shape in, int B, int portable) {
    float *y[2], *dx[2], *g[2];
    size_t nx = (size_t)B * sn_shape_phys(&in), ny = 0, np = 0;
    float *x = rand_floats(nx, 21), *dy = NULL;
    int old = sn_threads_get(), ok = 1;
    sn_gemm_backend oldb = sn_gemm_get_backend();
    if (portable) sn_gemm_set_backend(SN_GEMM_PORTABLE);
    for (int k = 0; k < 2; k++) {
        lc_layer t;
        y[k] = dx[k] = g[k] = NULL;
        if (lc_create(&t, spec, &in, B, 3) != SN_OK) {
            ok = 0;
            lc_free(&t);
            continue;
        }
        ny = (size_t)B * sn_shape_phys(&t.L->out);
        np = t.L->n_params;
        if (!dy) dy = rand_floats(ny, 22);
        if (portable) sn_threads_set(k + 1);
        t.L->threads = k + 1;
        y[k] = malloc(ny * sizeof(float));
        dx[k] = malloc(nx * sizeof(float));
        g[k] = malloc((np + 1) * sizeof(float));
        lc_forward(&t, x, NULL, y[k], NULL, 1, 1, NULL);
        lc_backward(&t, x, NULL, y[k], dy, dx[k], NULL);
        memcpy(g[k], t.g, np * sizeof(float));
        lc_free(&t);
    }
    sn_threads_set(old);
    sn_gemm_set_backend(oldb);
    if (ok)
        ok = !memcmp(y[0], y[1], ny * sizeof(float)) && !memcmp(dx[0], dx[1], nx * sizeof(float)) &&
             !memcmp(g[0], g[1], np * sizeof(float));
    if (!ok) fprintf(stderr, "    %s differs between 1 and 2 threads (portable=%d)\n", spec, portable);
    for (int k = 0; k < 2; k++) {
        free(y[k]); free(dx[k]); free(g[k]);
    }
    free(x);
    free(dy);
    return ok;
}

TEST(basic_threads_bit_identical) {
    for (int portable = 0; portable < 2; portable++) {
        CHECK(threads_identical("dense(32, activation=relu)", shp2(30, 14), 96, portable));
        CHECK(threads_identical("dense(16, activation=softmax)", shp1(840), 64, portable));
        CHECK(threads_identical("conv1d(8, 24, activation=relu)", shp2(120, 14), 64, portable));
        CHECK(threads_identical("conv1d(8, 6, padding=causal, dilation_rate=2)", shp2(60, 14), 64, portable));
        CHECK(threads_identical("conv1d(8, 5, strides=2, padding=same)", shp2(61, 14), 64, portable));
        /* direct kernels (F <= 64) above their parallel threshold (4M multiply-adds), GEMM path (F = 72) */
        CHECK(threads_identical("conv1d(8, 6, padding=causal, dilation_rate=2)", shp2(60, 14), 200, portable));
        CHECK(threads_identical("conv1d(5, 4, strides=2, padding=same)", shp2(61, 14), 400, portable));
        CHECK(threads_identical("conv1d(24, 3, dilation_rate=2, padding=same)", shp2(61, 13), 160, portable));
        CHECK(threads_identical("conv1d(72, 3, strides=2)", shp2(61, 14), 64, portable));
        CHECK(threads_identical("maxpooling1d(3, strides=2)", shp2(97, 8), 96, portable));
        CHECK(threads_identical("batchnormalization()", shp2(120, 14), 96, portable));
        CHECK(threads_identical("layernormalization()", shp2(120, 14), 96, portable));
    }
}

/* BatchNorm modes: training updates the moving statistics with the biased
 * variance; inference and a frozen layer (trainable=0) use them and leave
 * them alone. */
TEST(basic_batchnorm_modes) {
    sn_shape in = shp1(2);
    lc_layer t;
    CHECK_OK(lc_create(&t, "batchnormalization(momentum=0.5)", &in, 4, 1));
    CHECK(t.L->n_tensors == 4 && !strcmp(t.L->tensors[2].name, "moving_mean") && !t.L->tensors[2].trainable &&
          !t.L->tensors[3].trainable && t.L->tensors[0].trainable);
    float x[8] = {1, 10, 2, 20, 3, 30, 6, 40}, y[8];
    float *mm = t.w + t.L->tensors[2].offset, *mv = t.w + t.L->tensors[3].offset;
    CHECK(mm[0] == 0.0f && mv[0] == 1.0f);
    lc_forward(&t, x, NULL, y, NULL, 1, 1, NULL);
    /* channel 0: μ = 3, σ² = (4+1+0+9)/4 = 3.5 → m = 1.5, v = 0.5 + 1.75.
     * Tolerance (layer_check.h): the mean sums 4 values, the variance 4
     * squares, each a division and the moving update 3 operations; y adds a
     * subtraction, the sqrt and a division: n = 16, M = the largest value
     * summed (9 for the variance's squares). */
    CHECK(lc_close(mm[0], 1.5, 16, 6));
    CHECK(lc_close(mv[0], 2.25, 16, 9));
    CHECK(lc_close(y[0], (1 - 3) / sqrt(3.5 + 1e-3), 16, 9));
    /* inference: uses the moving statistics, no update */
    lc_forward(&t, x, NULL, y, NULL, 0, 1, NULL);
    CHECK(lc_close(mm[0], 1.5, 16, 6));
    CHECK(lc_close(y[0], (1 - 1.5) / sqrt(2.25 + 1e-3), 16, 9));
    /* frozen: inference behaviour even in a training pass */
    t.L->trainable = 0;
    float y2[8];
    lc_forward(&t, x, NULL, y2, NULL, 1, 1, NULL);
    CHECK(memcmp(y, y2, sizeof y) == 0);
    CHECK(lc_close(mm[0], 1.5, 16, 6));
    lc_free(&t);
}

/* ---- out of memory in init ---- */

typedef struct oom_case {
    const char *spec;
    int rank, d0, d1;             /* input shape */
    const char *layer, *tensor;   /* the orthogonal tensor in the model */
    int cols;                     /* its column count */
} oom_case;

static const oom_case g_oom_cases[] = {
    {"dense(4, kernel_initializer=orthogonal)", 1, 6, 0, "dense", "kernel", 4},
    {"conv1d(4, 2, kernel_initializer=orthogonal)", 2, 8, 3, "conv1d", "kernel", 4},
    {"lstm(3)", 2, 5, 2, "lstm", "recurrent_kernel", 12},
    {"simplernn(3, kernel_initializer=orthogonal)", 2, 5, 2, "simple_rnn", "kernel", 3},
    {"embedding(9, 4, embeddings_initializer=orthogonal)", 1, 5, 0, "embedding", "embeddings", 4},
    {"bidirectional(gru(3))", 2, 5, 2, "bidirectional", "backward_gru/recurrent_kernel", 9},
};

/* 1 when every column of the (numel/cols, cols) tensor w has a non-zero entry. */
static int columns_filled(const float *w, size_t numel, int cols) {
    if (!w || !numel) return 0;
    for (int j = 0; j < cols; j++) {
        int nz = 0;
        for (size_t i = (size_t)j; i < numel; i += (size_t)cols) nz |= w[i] != 0.0f;
        if (!nz) return 0;
    }
    return 1;
}

/* Orthogonal init allocates work space. ops->init must report a failed
 * allocation as SN_ERR_NOMEM (it used to abort in the recurrent and
 * embedding layers and to leave the weights zero in dense and conv1d): the
 * allocations of init are made to fail from the n-th on, n = 0, 1, ...,
 * until one attempt succeeds with the tensor filled. */
TEST(basic_init_out_of_memory_is_reported) {
    for (size_t c = 0; c < sizeof g_oom_cases / sizeof *g_oom_cases; c++) {
        const oom_case *k = &g_oom_cases[c];
        sn_spec sp;
        CHECK_OK(sn_spec_parse(&sp, k->spec));
        sn_layer *L = sn_layer_create(sp.calls[0]);
        CHECK(L);
        sn_shape in = k->rank == 1 ? shp1(k->d0) : shp2(k->d0, k->d1);
        CHECK_OK(sn_layer_build(L, &in));
        float *w = calloc(L->n_params, sizeof(float)), *g = calloc(L->n_params, sizeof(float));
        L->w = w;
        L->g = g;
        if (L->ops->bind) L->ops->bind(L);
        int done = 0, failures = 0;
        for (long n = 0; n < 1000 && !done; n++) {
            sn_rng r;
            sn_rng_seed(&r, 3);
            memset(w, 0, L->n_params * sizeof(float));
            sn_alloc_fail_after(n);
            sn_status st = L->ops->init(L, &r);
            sn_alloc_fail_after(-1);
            if (st == SN_OK) {
                done = 1;
                /* the layer's first orthogonal tensor is its kernel or recurrent kernel */
                int filled = 0;
                for (int i = 0; i < L->n_tensors && !filled; i++)
                    filled = !strcmp(L->tensors[i].name, k->tensor) &&
                             columns_filled(w + L->tensors[i].offset, L->tensors[i].numel, k->cols);
                CHECK_MSG(filled, "%s: init succeeded after %d failed attempts, %s not filled", k->spec, failures,
                          k->tensor);
            } else {
                failures++;
                CHECK_MSG(st == SN_ERR_NOMEM, "%s: allocation %ld failing gives %s", k->spec, n, sn_status_str(st));
            }
        }
        CHECK_MSG(done && failures > 0, "%s: %d failures, done %d", k->spec, failures, done);
        free(w);
        free(g);
        sn_layer_free(L);
        sn_spec_free(&sp);
    }
}

/* The model passes the failure on: building a model while its allocations
 * fail from the n-th on never aborts and never returns a model whose
 * orthogonal tensors were left unfilled; every failed build returns an
 * error and no model. (Which code a failure before init reports is the
 * model's and the spec parser's business; init's is SN_ERR_NOMEM above.) */
TEST(basic_model_init_out_of_memory_is_reported) {
    for (size_t c = 0; c < sizeof g_oom_cases / sizeof *g_oom_cases; c++) {
        const oom_case *k = &g_oom_cases[c];
        sn_model_opts o = {0};
        o.input_rank = k->rank;
        o.input_shape[0] = k->d0;
        o.input_shape[1] = k->d1;
        o.seed = 3;
        int built = 0;
        for (long n = 0; n < 100000 && !built; n++) {
            sn_model *m = NULL;
            sn_alloc_fail_after(n);
            sn_status st = sn_model_init(&m, k->spec, &o);
            sn_alloc_fail_after(-1);
            if (st != SN_OK) {
                CHECK_MSG(!m, "%s: failed build %ld left a model", k->spec, n);
                continue;
            }
            built = 1;
            size_t numel = 0;
            const float *w = sn_model_tensor(m, k->layer, k->tensor, &numel);
            int filled = columns_filled(w, numel, k->cols);
            sn_model_free(m);
            CHECK_MSG(filled, "%s built with allocation %ld failing, but %s/%s is not initialised", k->spec, n,
                      k->layer, k->tensor);
        }
        CHECK_MSG(built, "%s never built", k->spec);
    }
}

/* ---- GEMMs cut into row blocks ---- */

/* Integer values in [-2, 2]: every product and sum the layers form below is
 * an integer under 2^24, exact in float whatever order the BLAS adds in, so
 * results computed in row blocks must equal the one-call results bit for
 * bit. */
static void small_ints(float *v, size_t n, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) v[i] = (float)((int)sn_rng_below(&r, 5) - 2);
}

/* y, dx and the weight gradient of spec on (T,C) with B rows, GEMM row
 * blocks limited to `limit` (0: INT_MAX); integer data. */
static void row_block_run(const char *spec, int T, int C, int B, size_t limit, float **y, float **dx, float **g,
                          size_t *ny, size_t *nx, size_t *ng) {
    sn_shape in = shp2(T, C);
    lc_layer t;
    SN_ASSERT(lc_create(&t, spec, &in, B, 1) == SN_OK);
    small_ints(t.w, t.L->n_params, 2);
    *nx = (size_t)B * T * C;
    *ny = (size_t)B * sn_shape_phys(&t.L->out);
    *ng = t.L->n_params;
    float *x = malloc(*nx * sizeof(float)), *dy = malloc(*ny * sizeof(float));
    small_ints(x, *nx, 3);
    small_ints(dy, *ny, 4);
    *y = malloc(*ny * sizeof(float));
    *dx = malloc(*nx * sizeof(float));
    *g = malloc(*ng * sizeof(float));
    sn_layer_gemm_rows_set(limit);
    lc_forward(&t, x, NULL, *y, NULL, 1, 1, NULL);
    lc_backward(&t, x, NULL, *y, dy, *dx, NULL);
    memcpy(*g, t.g, *ng * sizeof(float));
    free(x);
    free(dy);
    lc_free(&t);
}

/* sn_gemm takes int sizes, but Dense on sequences multiplies B·T rows and
 * Conv1D's GEMM path (B−1)·R + T_out virtual rows, which pass INT_MAX before
 * the model's memory guard stops them (small C). Those layers cut their
 * GEMMs into blocks of at most sn_layer_gemm_rows() rows. With the limit
 * lowered (the test hook) every block must stay within it, and the results
 * must equal those of one call. */
TEST(basic_gemm_row_blocks) {
    const struct { const char *spec; int T, C; } cases[] = {
        {"dense(5)", 7, 3},
        {"dense(4, activation=relu, use_bias=false)", 9, 2},
        {"conv1d(65, 3, strides=2, padding=same)", 9, 2},
        {"conv1d(66, 2, dilation_rate=2, activation=relu)", 8, 3},
    };
    const size_t limits[] = {1, 5, 8, 13, 41};
    const int B = 6;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        float *y0, *dx0, *g0;
        size_t ny, nx, ng;
        row_block_run(cases[c].spec, cases[c].T, cases[c].C, B, 0, &y0, &dx0, &g0, &ny, &nx, &ng);
        for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
            float *y, *dx, *g;
            size_t ny1, nx1, ng1;
            row_block_run(cases[c].spec, cases[c].T, cases[c].C, B, limits[l], &y, &dx, &g, &ny1, &nx1, &ng1);
            size_t used = sn_layer_gemm_rows_used();
            sn_layer_gemm_rows_set(0);
            int same = !memcmp(y, y0, ny * 4) && !memcmp(dx, dx0, nx * 4) && !memcmp(g, g0, ng * 4);
            free(y); free(dx); free(g);
            CHECK_MSG(used > 0 && used <= limits[l], "%s: a GEMM took %zu rows with the limit at %zu", cases[c].spec,
                      used, limits[l]);
            CHECK_MSG(same, "%s: results in blocks of %zu rows differ from one call", cases[c].spec, limits[l]);
        }
        free(y0); free(dx0); free(g0);
    }
}

/* ---- denormals flushed inside the layers' worker threads ---- */

/* The layers' OpenMP regions set the flush-to-zero mode on every thread of
 * the team (sn_fp_enter) and restore it after. Conv1D's direct kernel on 2
 * threads (enough work for a team: 64·57·16·8·32 multiply-adds > 4M) sums
 * products of 1e-20 and 1e-21, denormal in float: flushed, every output of
 * both threads' samples is 0; kept (sn_denormals_set(0)), none is. The
 * caller's mode is unchanged afterwards. */
TEST(basic_denormals_flushed_in_layer_threads) {
    const int B = 64, T = 64, C = 32;
    sn_shape in = shp2(T, C);
    lc_layer t;
    CHECK_OK(lc_create(&t, "conv1d(16, 8, use_bias=false)", &in, B, 1));
    t.L->threads = 2;
    for (size_t i = 0; i < t.L->n_params; i++) t.w[i] = 1e-21f;
    size_t nx = (size_t)B * T * C, ny = (size_t)B * sn_shape_phys(&t.L->out);
    float *x = malloc(nx * sizeof(float)), *y = malloc(ny * sizeof(float));
    for (size_t i = 0; i < nx; i++) x[i] = 1e-20f;
    int saved = sn_denormals_get();
    for (int flush = 0; flush < 2; flush++) {
        sn_denormals_set(flush);
        lc_forward(&t, x, NULL, y, NULL, 0, 1, NULL);
        size_t nonzero = 0;
        for (size_t i = 0; i < ny; i++) nonzero += y[i] != 0.0f;
        CHECK_MSG(flush ? nonzero == 0 : nonzero == ny, "flush=%d: %zu of %zu outputs non-zero", flush, nonzero, ny);
    }
    /* the calling thread's own arithmetic still keeps denormals */
    volatile float a = 1e-20f, b = 1e-21f;
    CHECK(a * b != 0.0f);
    sn_denormals_set(saved);
    free(x);
    free(y);
    lc_free(&t);
}
