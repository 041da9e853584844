/* Recurrent layers against PyTorch (tests/gen_rnn_fixtures.py →
 * tests/fixtures/rnn_torch.bin, computed in float64 from float32 inputs):
 * torch weights are converted with the interop functions, our layers run
 * forward and backward, and outputs, input gradients, every weight
 * gradient and final states must agree within the reference tolerance of
 * layer_check.h, γ_n·(|r| + max|r|), with n counted by rnn_roundings. Also
 * interop round trips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_check.h"
#include "layers/rnn/rnn.h"
#include "seqnn/interop.h"
#include "test.h"

/* Roundings on the longest chain to any checked value of a stack of
 * recurrent layers (layer_check.h), per layer of input width C, H units and
 * n_gates gate blocks, over T steps:
 *   forward, per step: the pre-activation sum of C + H terms plus the
 *     bias (2 roundings with GRU's recurrent bias), then at most 16
 *     elementwise roundings (sigmoid: exp ≤ 1 ulp, +1, ÷; tanh ≤ 4 ulp
 *     (rnn_math.h); the state update, 3–4 operations);
 *   backward, per step: dh_{k-1} = Σ_g dZ_g U_g^T (n_gates·H terms) and at
 *     most 16 roundings of the gate derivatives;
 * plus the longest final reduction, the weight gradient's sum over the B·T
 * rows, and 1 for the float32 storage of the reference. The two directions
 * of a Bidirectional layer run side by side: one chain, +1 for the merge.
 * Every tensor of a case is held to its case's count. */
static double rnn_roundings(const sn_layer *const *layers, int n_layers, int B, int T) {
    double n = (double)B * T + 1;
    for (int l = 0; l < n_layers; l++) {
        const sn_layer *L = layers[l];
        if (!sn_rnn_is_recurrent(L)) {
            sn_layer *fw, *bw;
            sn_bidirectional_parts(L, &fw, &bw);
            L = fw;
            n += 1;
        }
        const sn_rnn_cfg *cf = L->cfg;
        n += (double)T * (cf->C + cf->units + 2 + 16) + (double)T * (cf->n_gates * cf->units + 16);
    }
    return n;
}

static sn_fixture *g_fx;

static const sn_fixture *fx(void) {
    if (!g_fx) g_fx = sn_fixture_load(sn_test_path("rnn_torch.bin"));
    return g_fx;
}

static const float *get(const char *cs, const char *pre, const char *name) {
    char key[160];
    if (pre)
        snprintf(key, sizeof key, "%s/%s/%s", cs, pre, name);
    else
        snprintf(key, sizeof key, "%s/%s", cs, name);
    return sn_fixture_get(fx(), key, NULL, NULL);
}

/* Converts torch tensors "<cs>/<pre>/[g_]w_ih ..." into recurrent layer L's
 * layout at dst (L's block: kernel, recurrent_kernel, bias). Gradients of the
 * single Keras bias take b_ih's gradient only (= b_hh's, the bias is summed). */
static sn_status torch_into(const char *cs, const char *pre, const sn_layer *L, float *dst, int grads) {
    const sn_rnn_cfg *cf = L->cfg;
    const char *g = grads ? "g_" : "";
    char n[4][16];
    const char *base[4] = {"w_ih", "w_hh", "b_ih", "b_hh"};
    const float *p[4];
    for (int i = 0; i < 4; i++) {
        snprintf(n[i], sizeof n[i], "%s%s", g, base[i]);
        p[i] = get(cs, pre, n[i]);
        if (!p[i]) return sn_error(SN_ERR_FORMAT, "fixture %s/%s/%s missing", cs, pre, n[i]);
    }
    float *k = dst + cf->off_kernel, *r = dst + cf->off_recurrent, *b = cf->use_bias ? dst + cf->off_bias : NULL;
    switch (cf->kind) {
    case SN_RNN_SIMPLE: return sn_interop_simplernn_from_torch(k, r, b, p[0], p[1], p[2], grads ? NULL : p[3], cf->C, cf->units);
    case SN_RNN_LSTM: return sn_interop_lstm_from_torch(k, r, b, p[0], p[1], p[2], grads ? NULL : p[3], cf->C, cf->units);
    case SN_RNN_GRU: return sn_interop_gru_from_torch(k, r, b, p[0], p[1], p[2], p[3], cf->C, cf->units, cf->reset_after);
    }
    return SN_ERR_ARG;
}

/* Loads (grads=0) or converts gradients (grads=1) for a layer that is either
 * recurrent ("l<i>") or bidirectional ("l<i>" forward, "l<i>r" backward). */
static sn_status torch_layer(const char *cs, int li, const sn_layer *L, float *dst, int grads) {
    char pre[8];
    snprintf(pre, sizeof pre, "l%d", li);
    if (sn_rnn_is_recurrent(L)) return torch_into(cs, pre, L, dst, grads);
    sn_layer *fw, *bw;
    sn_bidirectional_parts(L, &fw, &bw);
    sn_status st = torch_into(cs, pre, fw, dst, grads);
    if (st) return st;
    snprintf(pre, sizeof pre, "l%dr", li);
    return torch_into(cs, pre, bw, dst + fw->n_params, grads);
}

/* Case cs, tensor `what`: a (ours) against b (torch) for n roundings. */
static int close_enough(const char *cs, const char *what, const float *a, const float *b, size_t count, double n) {
    char label[160];
    snprintf(label, sizeof label, "%s %s", cs, what);
    double q = lc_ref_ratio(label, a, b, count, n);
    if (getenv("SN_TOL_VERBOSE")) fprintf(stderr, "    %s: %.3g of the bound\n", label, q);
    return q <= 1;
}

/* Runs one fixture case through 1 or 2 layers and compares everything. */
static int run_case(const char *cs, const char *spec0, const char *spec1) {
    int dims[8], nd = 0;
    char key[128];
    snprintf(key, sizeof key, "%s/x", cs);
    const float *x = sn_fixture_get(fx(), key, &nd, dims);
    if (!x || nd != 3) {
        fprintf(stderr, "    %s: no input\n", cs);
        return 0;
    }
    int B = dims[0], T = dims[1], C = dims[2];
    const float *maskf = strncmp(cs, "mask_", 5) ? NULL : get(cs, NULL, "mask");
    uint8_t *mask = NULL;
    if (maskf) {
        mask = malloc((size_t)B * T);
        for (int i = 0; i < B * T; i++) mask[i] = maskf[i] != 0.0f;
    }
    const char *specs[2] = {spec0, spec1};
    int nl = spec1 ? 2 : 1;
    lc_layer t[2];
    sn_shape in;
    memset(&in, 0, sizeof in);
    in.rank = 2;
    in.d[0] = T;
    in.d[1] = C;
    int ok = 1;
    for (int l = 0; l < nl; l++) {
        if (lc_create(&t[l], specs[l], &in, B, 1) || torch_layer(cs, l, t[l].L, t[l].w, 0)) {
            fprintf(stderr, "    %s: %s\n", cs, sn_error_last());
            return 0;
        }
        in = t[l].L->out;
    }
    const sn_layer *built[2] = {t[0].L, nl == 2 ? t[1].L : NULL};
    double nr = rnn_roundings(built, nl, B, T);
    size_t n0 = (size_t)B * sn_shape_phys(&t[0].L->out), ny = (size_t)B * sn_shape_phys(&t[nl - 1].L->out);
    size_t nx = (size_t)B * T * C;
    float *y0 = calloc(n0, sizeof(float)), *y1 = calloc(ny, sizeof(float)), *d0 = calloc(n0, sizeof(float));
    float *dx = calloc(nx, sizeof(float));
    const uint8_t *mo = NULL;
    lc_forward(&t[0], x, NULL, y0, mask, 0, 1, &mo);
    if (nl == 2) lc_forward(&t[1], y0, NULL, y1, mo, 0, 1, NULL);
    const float *y = nl == 2 ? y1 : y0;
    const float *yref = get(cs, NULL, "y"), *dy = get(cs, NULL, "dy"), *dxref = get(cs, NULL, "dx");
    ok &= sn_fixture_numel(fx(), (snprintf(key, sizeof key, "%s/y", cs), key)) == ny;
    ok = ok && close_enough(cs, "y", y, yref, ny, nr);
    /* backward through the stack */
    if (nl == 2) {
        lc_backward(&t[1], y0, NULL, y1, dy, d0, mo);
        lc_backward(&t[0], x, NULL, y0, d0, dx, mask);
    } else {
        lc_backward(&t[0], x, NULL, y0, dy, dx, mask);
    }
    ok = ok && close_enough(cs, "dx", dx, dxref, nx, nr);
    for (int l = 0; l < nl && ok; l++) {
        float *gref = calloc(t[l].L->n_params, sizeof(float));
        if (torch_layer(cs, l, t[l].L, gref, 1)) {
            fprintf(stderr, "    %s: %s\n", cs, sn_error_last());
            ok = 0;
        } else {
            for (int k = 0; k < t[l].L->n_tensors && ok; k++) {
                const sn_tensor_info *ti = &t[l].L->tensors[k];
                ok = close_enough(cs, ti->name, t[l].g + ti->offset, gref + ti->offset, ti->numel, nr);
            }
        }
        free(gref);
    }
    /* final states of a single unmasked layer */
    if (ok && !maskf && nl == 1 && sn_rnn_is_recurrent(t[0].L)) {
        int lstm = ((sn_rnn_cfg *)t[0].L->cfg)->kind == SN_RNN_LSTM;
        const float *hn = get(cs, NULL, "h_n"), *cn = lstm ? get(cs, NULL, "c_n") : NULL;
        const float *h, *c;
        ok = hn && sn_rnn_final_states(t[0].L, t[0].cache, B, &h, &c) == SN_OK;
        int H = ((sn_rnn_cfg *)t[0].L->cfg)->units;
        ok = ok && close_enough(cs, "h_n", h, hn, (size_t)B * H, nr);
        if (ok && cn) ok = c && close_enough(cs, "c_n", c, cn, (size_t)B * H, nr);
    }
    free(y0); free(y1); free(d0); free(dx); free(mask);
    for (int l = 0; l < nl; l++) lc_free(&t[l]);
    return ok;
}

#define NEED_FIXTURE()                                                                          \
    do {                                                                                        \
        if (!fx()) SKIP("tests/fixtures/rnn_torch.bin missing (run tests/gen_rnn_fixtures.py)"); \
    } while (0)

TEST(rnn_torch_single_layers) {
    NEED_FIXTURE();
    CHECK(run_case("simple_seq", "simplernn(5, return_sequences=true)", NULL));
    CHECK(run_case("simple_last", "simplernn(5)", NULL));
    CHECK(run_case("lstm_last", "lstm(5)", NULL));
    CHECK(run_case("lstm_seq", "lstm(5, return_sequences=true)", NULL));
    CHECK(run_case("gru_seq", "gru(5, return_sequences=true)", NULL));
    CHECK(run_case("gru_last", "gru(5)", NULL));
}

TEST(rnn_torch_go_backwards) {
    NEED_FIXTURE();
    CHECK(run_case("gru_back_seq", "gru(5, go_backwards=true, return_sequences=true)", NULL));
    CHECK(run_case("lstm_back_last", "lstm(5, go_backwards=true)", NULL));
}

TEST(rnn_torch_stacked) {
    NEED_FIXTURE();
    CHECK(run_case("stack_lstm_gru", "lstm(5, return_sequences=true)", "gru(4)"));
    CHECK(run_case("stack_gru_simple", "gru(5, return_sequences=true)", "simplernn(3, return_sequences=true)"));
}

TEST(rnn_torch_bidirectional) {
    NEED_FIXTURE();
    CHECK(run_case("bi_lstm_seq", "bidirectional(lstm(5, return_sequences=true))", NULL));
    CHECK(run_case("bi_gru_last", "bidirectional(gru(5))", NULL));
}

TEST(rnn_torch_masked_variable_length) {
    NEED_FIXTURE();
    const char *side[2] = {"right", "left"};
    for (int s = 0; s < 2; s++) {
        char n[64];
#define CASE(prefix, spec)                             \
    snprintf(n, sizeof n, "%s_%s", prefix, side[s]); \
    CHECK(run_case(n, spec, NULL))
        CASE("mask_lstm_last", "lstm(5)");
        CASE("mask_lstm_seq", "lstm(5, return_sequences=true)");
        CASE("mask_gru_back_seq", "gru(5, go_backwards=true, return_sequences=true)");
        CASE("mask_simple_last", "simplernn(5)");
        CASE("mask_bi_lstm_last", "bidirectional(lstm(5))");
        CASE("mask_bi_gru_seq", "bidirectional(gru(5, return_sequences=true))");
#undef CASE
    }
}

/* to_torch ∘ from_torch is the identity on the torch side for GRU (exact
 * bias split) and on the Keras side for all kinds; reset_after=false errors. */
TEST(rnn_interop_round_trip) {
    int C = 3, H = 2;
    float wih[4 * 2 * 3], whh[4 * 2 * 2], bih[8], bhh[8], k[3 * 8], r[2 * 8], b[16];
    float wih2[24], whh2[16], bih2[8], bhh2[8], k2[24], r2[16], b2[16];
    for (int i = 0; i < 24; i++) wih[i] = (float)i;
    for (int i = 0; i < 16; i++) whh[i] = (float)(100 + i);
    for (int i = 0; i < 8; i++) {
        bih[i] = (float)(200 + i);
        bhh[i] = (float)(300 + i);
    }
    /* LSTM: same gate order, transposed; bias summed */
    CHECK_OK(sn_interop_lstm_from_torch(k, r, b, wih, whh, bih, bhh, C, H));
    CHECK(k[1 * 8 + 5] == wih[5 * 3 + 1]); /* kernel[c=1, j=5] = w_ih[j=5, c=1] */
    CHECK(r[1 * 8 + 6] == whh[6 * 2 + 1]);
    CHECK(b[3] == bih[3] + bhh[3]);
    CHECK_OK(sn_interop_lstm_to_torch(wih2, whh2, bih2, bhh2, k, r, b, C, H));
    CHECK(!memcmp(wih, wih2, sizeof wih) && !memcmp(whh, whh2, sizeof whh));
    CHECK(bih2[3] == b[3] && bhh2[3] == 0.0f);
    CHECK_OK(sn_interop_lstm_from_torch(k2, r2, b2, wih2, whh2, bih2, bhh2, C, H));
    CHECK(!memcmp(k, k2, sizeof k) && !memcmp(r, r2, sizeof r) && !memcmp(b, b2, 8 * sizeof(float)));
    /* GRU: keras z,r,h ← torch r,z,n; bias rows (input, recurrent) */
    CHECK_OK(sn_interop_gru_from_torch(k, r, b, wih, whh, bih, bhh, C, H, 1));
    CHECK(k[0 * 6 + 0] == wih[2 * 3 + 0]); /* keras z block j=0 ← torch row H+0 = 2 */
    CHECK(k[0 * 6 + 2] == wih[0]);         /* keras r block ← torch r (row 0) */
    CHECK(k[2 * 6 + 5] == wih[5 * 3 + 2]); /* h ← n */
    CHECK(b[0] == bih[2] && b[6 + 0] == bhh[2] && b[6 + 2] == bhh[0]);
    CHECK_OK(sn_interop_gru_to_torch(wih2, whh2, bih2, bhh2, k, r, b, C, H, 1));
    CHECK(!memcmp(wih, wih2, 18 * sizeof(float)) && !memcmp(whh, whh2, 12 * sizeof(float)));
    CHECK(!memcmp(bih, bih2, 6 * sizeof(float)) && !memcmp(bhh, bhh2, 6 * sizeof(float)));
    CHECK(sn_interop_gru_from_torch(k, r, b, wih, whh, bih, bhh, C, H, 0) == SN_ERR_UNSUPPORTED);
    CHECK(strstr(sn_error_last(), "reset_after") != NULL);
    CHECK(sn_interop_gru_to_torch(wih2, whh2, bih2, bhh2, k, r, b, C, H, 0) == SN_ERR_UNSUPPORTED);
    /* SimpleRNN; NULL torch biases give a zero bias */
    CHECK_OK(sn_interop_simplernn_from_torch(k, r, b, wih, whh, NULL, NULL, C, H));
    CHECK(k[2 * 2 + 1] == wih[1 * 3 + 2] && b[0] == 0.0f && b[1] == 0.0f);
    CHECK(sn_interop_simplernn_from_torch(k, r, b, NULL, whh, NULL, NULL, C, H) == SN_ERR_ARG);
    CHECK(sn_interop_lstm_to_torch(wih2, whh2, NULL, NULL, k, r, b, 0, H) == SN_ERR_ARG);
}
