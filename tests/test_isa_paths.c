/* Vector paths (SEQNN_ISA / sn_isa_set): every layer kind, forward (training
 * and inference) and backward, and short training runs of sequence models,
 * under each path this CPU runs, compared with the SSE2 path bit for bit.
 *
 * Why bitwise: the recurrent row kernels (layers/rnn/rnn_math.h) and the
 * Conv1D direct kernels (layers/conv1d_kern.h) are the only code compiled
 * per path, and both are documented to do the same IEEE operations per
 * element in the same order on every path (no FMA contraction, no
 * reassociation); every other layer runs the same object code whatever the
 * path. The GEMMs are pinned to the portable reference loop for these
 * comparisons (SN_GEMM_PORTABLE, compiled once for the baseline): seqnn's
 * own GEMM kernel (core/gemm_kernel.c) is compiled per path, and the
 * OpenBLAS kernel set follows the path (core/blas.c); both accumulate
 * differently per path, a documented difference between paths
 * (docs/performance.md), not a layer's.
 * A difference of any size is therefore a broken claim, not rounding. */
#include <stdlib.h>
#include <string.h>

#include "layer_check.h"
#include "layers/conv1d_kern.h"
#include "layers/rnn/rnn_internal.h"
#include "seqnn.h"
#include "test.h"

typedef struct isa_case {
    const char *spec;
    int rank, d0, d1; /* input shape without the batch */
    int ids;          /* 1: SN_REP_IDS input (token ids in [0, d1)); 2: rank-1 ids for embedding / onehot */
    int masked;       /* 1: a (B,T) mask with rows of every length */
} isa_case;

/* Every kind of the registry, the recurrent cells in each kernel variant
 * (H >= 16 for the 16-wide AVX-512 product, per-gate input masks, ids
 * input, go_backwards, masks), Conv1D on both its direct and GEMM paths. */
static const isa_case g_cases[] = {
    {"dense(7, activation=tanh)", 1, 9, 0, 0, 0},
    {"dense(5, activation=softmax)", 2, 6, 4, 0, 0},
    {"flatten()", 2, 6, 4, 0, 0},
    {"activation(sigmoid)", 2, 6, 4, 0, 0},
    {"dropout(0.4)", 2, 6, 4, 0, 0},
    {"conv1d(12, 3, strides=2, padding=same, activation=relu)", 2, 30, 5, 0, 0},
    {"conv1d(8, 4, dilation_rate=2, padding=causal)", 2, 30, 6, 0, 0},
    {"conv1d(70, 3, activation=tanh)", 2, 20, 9, 0, 0},
    {"maxpooling1d(3, padding=same)", 2, 20, 5, 0, 0},
    {"globalaveragepooling1d()", 2, 20, 5, 0, 1},
    {"globalmaxpooling1d()", 2, 20, 5, 0, 0},
    {"batchnormalization()", 2, 20, 5, 0, 1},
    {"layernormalization()", 2, 20, 5, 0, 0},
    {"masking()", 2, 12, 5, 0, 0},
    {"embedding(30, 6, mask_zero=true)", 1, 12, 30, 2, 0},
    {"onehot(30)", 1, 12, 30, 2, 0},
    {"simplernn(20, return_sequences=true, recurrent_dropout=0.3)", 2, 40, 5, 0, 1},
    {"lstm(16, dropout=0.2, recurrent_dropout=0.3, return_sequences=true)", 2, 40, 5, 0, 1},
    {"lstm(16, go_backwards=true)", 2, 40, 5, 0, 0},
    {"lstm(5, dropout=0.3)", 2, 12, 30, 1, 1},
    {"gru(17, recurrent_dropout=0.25)", 2, 40, 5, 0, 1},
    {"gru(16, reset_after=false, dropout=0.2, recurrent_dropout=0.2, return_sequences=true)", 2, 40, 5, 0, 1},
    {"bidirectional(lstm(16, return_sequences=true, dropout=0.1))", 2, 40, 5, 0, 1},
    {"bidirectional(gru(6), merge_mode=mul)", 2, 12, 30, 1, 0},
};

#define ISA_B 37 /* B·T = 1480 > 1024: the recurrent GEMMs run in several step chunks */

/* The buffers of one layer run: y (training), y (inference), dx, dW. */
typedef struct isa_run {
    float *y, *yi, *dx, *g;
    size_t ny, nx, ng;
} isa_run;

static void run_free(isa_run *r) {
    free(r->y); free(r->yi); free(r->dx); free(r->g);
    memset(r, 0, sizeof *r);
}

/* Runs case c under the current path into r. Returns 0 on a setup error. */
static int run_case(const isa_case *c, isa_run *r) {
    sn_shape in;
    memset(&in, 0, sizeof in);
    in.rank = c->rank;
    in.d[0] = c->d0;
    in.d[1] = c->rank == 2 ? c->d1 : 0;
    if (c->ids == 1) in.rep = SN_REP_IDS;
    lc_layer t;
    if (lc_create(&t, c->spec, &in, ISA_B, 21) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", c->spec, sn_error_last());
        return 0;
    }
    sn_rng rng;
    sn_rng_seed(&rng, 22);
    for (size_t i = 0; i < t.L->n_params; i++) t.w[i] += (float)(0.2 * sn_rng_normal(&rng)); /* non-zero biases */
    int T = c->rank == 2 || c->ids ? c->d0 : 1;
    memset(r, 0, sizeof *r);
    r->nx = (size_t)ISA_B * sn_shape_phys(&in);
    r->ny = (size_t)ISA_B * sn_shape_phys(&t.L->out);
    r->ng = t.L->n_params;
    float *x = malloc((r->nx + 1) * sizeof(float)), *dy = malloc((r->ny + 1) * sizeof(float));
    lc_random_input(x, r->nx, &rng, c->ids ? c->d1 : 0);
    if (!strncmp(c->spec, "masking", 7))
        for (int b = 0; b < ISA_B; b++) memset(x + ((size_t)b * T + (size_t)(b % T)) * c->d1, 0, (size_t)c->d1 * 4);
    for (size_t i = 0; i < r->ny; i++) dy[i] = (float)sn_rng_normal(&rng);
    uint8_t *mask = NULL;
    if (c->masked) {
        mask = calloc((size_t)ISA_B * T, 1);
        for (int b = 0; b < ISA_B; b++)
            for (int s = 0; s < T; s++) mask[(size_t)b * T + s] = s < b % (T + 1);
    }
    r->y = calloc(r->ny + 1, sizeof(float));
    r->yi = calloc(r->ny + 1, sizeof(float));
    r->dx = calloc(r->nx + 1, sizeof(float));
    r->g = calloc(r->ng + 1, sizeof(float));
    int dense_in = in.rep == SN_REP_DENSE && !c->ids;
    lc_forward(&t, x, NULL, r->yi, mask, 0, 23, NULL);
    lc_forward(&t, x, NULL, r->y, mask, 1, 23, NULL);
    lc_backward(&t, x, NULL, r->y, dy, dense_in ? r->dx : NULL, mask);
    memcpy(r->g, t.g, r->ng * sizeof(float));
    free(x); free(dy); free(mask);
    lc_free(&t);
    return 1;
}

/* Largest |a-b| (for the message only: any difference fails). */
static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] > b[i] ? (double)a[i] - b[i] : (double)b[i] - a[i];
        if (!(d <= m)) m = d;
    }
    return m;
}

#define SAME(what, a, b, n)                                                                                    \
    CHECK_MSG(!memcmp(a, b, (n) * sizeof(float)), "%s under %s: %s differs from sse2 (max |diff| %.3g)", c->spec, \
              sn_isa_name(isa), what, max_diff(a, b, n))

TEST(isa_paths_every_layer_bit_identical) {
    sn_isa saved = sn_isa_get(), best = sn_isa_detect();
    if (best == SN_ISA_SSE2) SKIP("this CPU runs only the sse2 path: nothing to compare");
    sn_gemm_backend gb = sn_gemm_get_backend();
    sn_gemm_set_backend(SN_GEMM_PORTABLE);
    for (size_t i = 0; i < sizeof g_cases / sizeof *g_cases; i++) {
        const isa_case *c = &g_cases[i];
        isa_run ref, cur;
        CHECK_OK(sn_isa_set(SN_ISA_SSE2));
        CHECK(run_case(c, &ref));
        for (sn_isa isa = SN_ISA_AVX2; isa <= best; isa++) {
            CHECK_OK(sn_isa_set(isa));
            CHECK(run_case(c, &cur));
            CHECK(cur.ny == ref.ny && cur.nx == ref.nx && cur.ng == ref.ng);
            SAME("training output", cur.y, ref.y, ref.ny);
            SAME("inference output", cur.yi, ref.yi, ref.ny);
            SAME("input gradient", cur.dx, ref.dx, ref.nx);
            SAME("weight gradient", cur.g, ref.g, ref.ng);
            run_free(&cur);
        }
        run_free(&ref);
    }
    sn_gemm_set_backend(gb);
    CHECK_OK(sn_isa_set(saved));
}

/* A few epochs of a sequence model under one path; returns the saved model
 * file's bytes (weights and optimizer state), or NULL. */
static unsigned char *train_model(const char *spec, int ids, size_t *nbytes) {
    const int N = 96, T = 16, C = ids ? 1 : 4, V = 40;
    sn_model_opts o = {0};
    o.input_rank = ids ? 1 : 2;
    o.input_shape[0] = T;
    o.input_shape[1] = ids ? 0 : C;
    o.seed = 5;
    sn_model *m = NULL;
    if (sn_model_init(&m, spec, &o)) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        return NULL;
    }
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_ADAM);
    oc.lr = 0.01;
    float *x = malloc((size_t)N * T * C * sizeof(float)), *y = malloc((size_t)N * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, 6);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < T * C; k++) {
            float v = ids ? (float)(k % 5 == 4 ? 0 : 1 + sn_rng_below(&r, V - 1)) : (float)sn_rng_normal(&r);
            x[(size_t)i * T * C + k] = v;
            s += ids ? (v < V / 2) : v * (k % 3 - 1);
        }
        y[i] = ids ? (float)(s > T * 0.4) : (float)(0.1 * s);
    }
    sn_dataset d;
    unsigned char *bytes = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/isa_%s.seqnn", sn_test_tmpdir(), sn_isa_name(sn_isa_get()));
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 2;
    fo.batch_size = 32;
    if (sn_model_compile(m, &oc, ids ? SN_LOSS_BCE : SN_LOSS_MSE, NULL, 0) ||
        sn_dataset_from_arrays(&d, x, y, (size_t)N, (size_t)T * C, 1)) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
    } else {
        if (!sn_model_fit(m, &d, &fo, NULL) && !sn_model_save(m, path)) {
            FILE *f = fopen(path, "rb");
            if (f) {
                fseek(f, 0, SEEK_END);
                long n = ftell(f);
                fseek(f, 0, SEEK_SET);
                bytes = malloc((size_t)n + 1);
                *nbytes = fread(bytes, 1, (size_t)n, f);
                fclose(f);
            }
        } else {
            fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        }
        sn_dataset_free(&d);
    }
    remove(path);
    free(x);
    free(y);
    sn_model_free(m);
    return bytes;
}

TEST(isa_paths_training_bit_identical) {
    sn_isa saved = sn_isa_get(), best = sn_isa_detect();
    if (best == SN_ISA_SSE2) SKIP("this CPU runs only the sse2 path: nothing to compare");
    const struct { const char *spec; int ids; } models[] = {
        {"conv1d(8, 3, activation=relu), lstm(16, dropout=0.2, recurrent_dropout=0.2, return_sequences=true), "
         "gru(16), dense(1)", 0},
        {"embedding(40, 8, mask_zero=true), bidirectional(lstm(16)), dense(1, activation=sigmoid)", 1},
    };
    sn_gemm_backend gb = sn_gemm_get_backend();
    sn_gemm_set_backend(SN_GEMM_PORTABLE);
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        size_t n0 = 0, n1 = 0;
        CHECK_OK(sn_isa_set(SN_ISA_SSE2));
        unsigned char *ref = train_model(models[i].spec, models[i].ids, &n0);
        CHECK(ref && n0 > 0);
        for (sn_isa isa = SN_ISA_AVX2; isa <= best; isa++) {
            CHECK_OK(sn_isa_set(isa));
            unsigned char *cur = train_model(models[i].spec, models[i].ids, &n1);
            int same = cur && n1 == n0 && !memcmp(cur, ref, n0);
            free(cur);
            CHECK_MSG(same, "%s: the model file after training under %s differs from sse2", models[i].spec,
                      sn_isa_name(isa));
        }
        free(ref);
    }
    sn_gemm_set_backend(gb);
    CHECK_OK(sn_isa_set(saved));
}

/* sn_isa_set refuses a path the CPU lacks, and the kernel tables the layers
 * use follow the setting (the forced path is the one that runs; Conv1D runs
 * its AVX2 kernels on the AVX-512 path). */
TEST(isa_paths_dispatch_follows_the_setting) {
    sn_isa saved = sn_isa_get(), best = sn_isa_detect();
    for (sn_isa isa = SN_ISA_SSE2; isa <= SN_ISA_AVX512; isa++) {
        sn_status st = sn_isa_set(isa);
        CHECK(isa <= best ? st == SN_OK : st == SN_ERR_UNSUPPORTED);
        if (st != SN_OK) continue;
        CHECK(sn_isa_get() == isa);
        CHECK(!strcmp(sn_rnn_kernels_get()->name, sn_isa_name(isa)));
#if CONV_HAVE_DIRECT
        CHECK(!strcmp(sn_conv_kernels_get()->name, isa == SN_ISA_SSE2 ? "sse2" : "avx2"));
#endif
    }
    CHECK_OK(sn_isa_set(saved));
}
