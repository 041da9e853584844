/* Every GEMM shape the seed's models run, timed with every kernel this
 * machine has (docs/performance.md, "GEMM kernels").
 *
 * 1. Capture: each seed model runs one training step and one inference
 *    batch through the public API while the link-time wrappers below record
 *    the products the layers ask for (sn_gemm) and the calls sn_gemm makes to
 *    BLAS (cblas_sgemm: its fixed 128-row / -column blocks).
 * 2. Measure, one thread: for each distinct product, seqnn's sn_gemm as it
 *    runs (its blocks, the OpenBLAS core seqnn selected), and the whole
 *    product as one call of each candidate: every OpenBLAS core this CPU can
 *    execute (switched with OPENBLAS_CORETYPE + gotoblas_dynamic_quit/init,
 *    the mechanism seqnn itself uses) and oneDNN's dnnl_sgemm when built with
 *    it. Candidates are timed in interleaved rounds (each sample >= 1 ms of
 *    repeated calls); a kernel's figure is its best round, so a busy moment of
 *    the shared machine costs a round, not the result.
 *
 *   build/gemm_bench [rounds] [only-case]    (make gemm-bench)
 *
 * Linked with -Wl,--wrap=sn_gemm,--wrap=cblas_sgemm,--wrap=sn_gemm_rb against
 * libseqnn.a. In the second table "seqnn" is what sn_gemm calls for that
 * block: its own kernel where sn_gemm_rb_fits, else the selected core. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seqnn.h"
#include "core/internal.h" /* sn_gemm_rb: seqnn's own kernel, timed as a candidate */
#ifdef SN_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

char *openblas_get_corename(void);
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

/* ---- capture ---- */
typedef struct shape {
    int level; /* 0: sn_gemm (what a layer asks), 1: cblas_sgemm (what BLAS gets) */
    int ta, tb, M, N, K, lda, ldb, ldc;
    char where[160]; /* cases using it */
    long calls;      /* in all captured steps */
    long case_calls[16]; /* per model (g_models index) */
    double t_sel, t_best_core; /* measured seconds per call */
    double t_pass;             /* seconds inside the model run in this pass (level 0) */
    double t_model[16];        /* per model: its best pass with seqnn's kernels */
    double t_model_blas[16];   /* per model: its best pass with every product on OpenBLAS */
} shape;

#define MAX_SHAPES 256
static shape g_sh[MAX_SHAPES];
static int g_nsh;
static const char *g_case; /* NULL: not capturing */
static int g_case_idx;
static const char *g_phase;

static int g_timed; /* 1: counted pass (calls recorded), >= 1: timed passes */
#define MODEL_PASSES 5

static shape *record(int level, int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc) {
    if (!g_case || !g_timed) return NULL;
    if (g_timed > 1) { /* later timed passes: find the shape, count nothing */
        for (int i = 0; i < g_nsh; i++) {
            shape *s = &g_sh[i];
            if (s->level == level && s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K &&
                s->lda == lda && s->ldb == ldb && s->ldc == ldc)
                return s;
        }
        return NULL;
    }
    shape *found = NULL;
    char tag[64];
    snprintf(tag, sizeof tag, "%s/%s", g_case, g_phase);
#pragma omp critical(gemm_bench_record)
    {
        int i;
        for (i = 0; i < g_nsh; i++) {
            shape *s = &g_sh[i];
            if (s->level == level && s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K &&
                s->lda == lda && s->ldb == ldb && s->ldc == ldc)
                break;
        }
        if (i == g_nsh && g_nsh < MAX_SHAPES) {
            shape z = {level, ta, tb, M, N, K, lda, ldb, ldc, "", 0, {0}, 0, 0, 0, {0}, {0}};
            g_sh[g_nsh++] = z;
        }
        if (i < g_nsh) {
            shape *s = &g_sh[i];
            found = s;
            s->calls++;
            s->case_calls[g_case_idx]++;
            if (!strstr(s->where, tag) && strlen(s->where) + strlen(tag) + 2 < sizeof s->where)
                snprintf(s->where + strlen(s->where), sizeof s->where - strlen(s->where), "%s%s",
                         s->where[0] ? " " : "", tag);
        }
    }
    return found;
}

void __real_sn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc);
void __wrap_sn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc);
void __wrap_sn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc) {
    shape *s = record(0, ta, tb, M, N, K, lda, ldb, ldc);
    double t0 = sn_time_now();
    __real_sn_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (s) {
        double dt = sn_time_now() - t0;
#pragma omp atomic
        s->t_pass += dt;
    }
}
void __real_cblas_sgemm(enum CBLAS_ORDER o, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, blasint M, blasint N,
                        blasint K, float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta,
                        float *C, blasint ldc);
void __wrap_cblas_sgemm(enum CBLAS_ORDER o, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, blasint M, blasint N,
                        blasint K, float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta,
                        float *C, blasint ldc);
void __wrap_cblas_sgemm(enum CBLAS_ORDER o, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, blasint M, blasint N,
                        blasint K, float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta,
                        float *C, blasint ldc) {
    record(1, ta == CblasTrans, tb == CblasTrans, M, N, K, lda, ldb, ldc);
    __real_cblas_sgemm(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void __real_sn_gemm_rb(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc);
void __wrap_sn_gemm_rb(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc);
void __wrap_sn_gemm_rb(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc) {
    record(1, ta, tb, M, N, K, lda, ldb, ldc);
    __real_sn_gemm_rb(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The seed's models (cli/cmd_forecast.c, cli/cmd_classify.c presets and
 * bench/bench_models.c): Jena B=256 T=120 C=14, IMDB B=32 T=600 ids. */
typedef struct mcase { const char *name, *spec; int B, T, C, vocab; sn_loss_kind loss; } mcase;
static const mcase g_models[] = {
    {"dense", "flatten(), dense(16, activation=relu), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"conv1d",
     "conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), maxpooling1d(2), "
     "conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)",
     256, 120, 14, 0, SN_LOSS_MAE},
    {"simple_rnn", "simplernn(16), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"lstm16", "lstm(16), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"lstm32", "lstm(32), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"lstm_dropout", "lstm(32, recurrent_dropout=0.25), dropout(0.5), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"gru32x2", "gru(32, return_sequences=true), gru(32), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"gru_stacked",
     "gru(32, recurrent_dropout=0.5, return_sequences=true), gru(32, recurrent_dropout=0.5), dropout(0.5), dense(1)",
     256, 120, 14, 0, SN_LOSS_MAE},
    {"bilstm16", "bidirectional(lstm(16)), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE},
    {"imdb", "embedding(20000, 256), bidirectional(lstm(32)), dropout(0.5), dense(1, activation=sigmoid)", 32, 600,
     0, 20000, SN_LOSS_BCE},
};

static int capture(const mcase *k, int idx) {
    size_t xn = (size_t)k->T * (size_t)(k->C ? k->C : 1), n = (size_t)k->B;
    float *x = malloc(n * xn * sizeof(float)), *y = malloc(n * sizeof(float)), *p = malloc(n * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, 1);
    for (size_t i = 0; i < n * xn; i++) x[i] = k->C ? (float)sn_rng_normal(&r) : (float)sn_rng_below(&r, (uint64_t)k->vocab);
    for (size_t i = 0; i < n; i++) y[i] = k->loss == SN_LOSS_MAE ? (float)sn_rng_normal(&r) : (float)sn_rng_below(&r, 2);
    sn_model_opts mo = {0};
    mo.input_rank = k->C ? 2 : 1;
    mo.input_shape[0] = k->T;
    mo.input_shape[1] = k->C;
    mo.seed = 1;
    sn_model *m = NULL;
    sn_dataset ds;
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_RMSPROP);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.batch_size = k->B;
    fo.shuffle = 0;
    int rc = 0;
    if (sn_model_init(&m, k->spec, &mo) || sn_dataset_from_arrays(&ds, x, y, n, xn, 1) ||
        sn_model_compile(m, &oc, k->loss, NULL, 0)) {
        fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
        rc = 1;
    } else {
        g_case = k->name;
        g_case_idx = idx;
        /* pass 0 warms (arena, caches, page faults); pass 1 is counted; passes
         * 1.. are timed in place, alternately with seqnn's kernels and with
         * every product on OpenBLAS, and each shape keeps its best pass per
         * backend (a busy moment of the shared machine costs a pass, not the
         * figure) */
        for (g_timed = 0; g_timed <= 2 * MODEL_PASSES && !rc; g_timed++) {
            int blas_only = g_timed >= 2 && g_timed % 2 == 0;
            sn_gemm_set_backend(blas_only ? SN_GEMM_BLAS_ONLY : SN_GEMM_BLAS);
            for (int i = 0; i < g_nsh; i++) g_sh[i].t_pass = 0;
            g_phase = "train";
            if (sn_model_fit(m, &ds, &fo, NULL)) rc = 1;
            g_phase = "infer";
            if (!rc && sn_model_predict(m, &ds, k->B, p)) rc = 1;
            for (int i = 0; g_timed && i < g_nsh; i++) {
                shape *s = &g_sh[i];
                double *best = blas_only ? &s->t_model_blas[idx] : &s->t_model[idx];
                if (s->case_calls[idx] && (*best == 0 || s->t_pass < *best)) *best = s->t_pass;
            }
        }
        sn_gemm_set_backend(SN_GEMM_BLAS);
        g_timed = 0;
        g_case = NULL;
        if (rc) fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
        sn_dataset_free(&ds);
    }
    sn_model_free(m);
    free(x);
    free(y);
    free(p);
    return rc;
}

/* ---- measure ---- */
static int switch_core(const char *core) {
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return !strcasecmp(openblas_get_corename(), core);
}

/* Candidates. cls: the instructions a kernel uses (0 SSE, 1 AVX, 2 AVX2 +
 * FMA, 3 AVX-512); -1: follows the path (seqnn, its own kernel, oneDNN
 * limited with ONEDNN_MAX_CPU_ISA). Only kernels within the active path
 * compete, so a forced path is compared with what a CPU of that class
 * would run, not with this CPU's wider kernels. */
typedef struct cand {
    const char *name;
    int cls, kind; /* kind 0 OpenBLAS core, 1 oneDNN, 2 seqnn sn_gemm, 3 seqnn's own kernel */
} cand;
static const cand g_cands[] = {
    {"seqnn", -1, 2},   {"own", -1, 3},     {"Prescott", 0, 0},   {"Sandybridge", 1, 0},
    {"Haswell", 2, 0},  {"Zen", 2, 0},      {"SkylakeX", 3, 0},   {"Cooperlake", 3, 0},
#ifdef SN_BENCH_DNNL
    {"oneDNN", -1, 1},
#endif
};
#define NCAND ((int)(sizeof g_cands / sizeof *g_cands))

static int path_class(void) {
    switch (sn_isa_get()) {
    case SN_ISA_AVX512: return 3;
    case SN_ISA_AVX2: return 2;
    default: return 0;
    }
}

static int cand_ok(const cand *c) {
    __builtin_cpu_init();
    if (c->kind == 3 && sn_isa_get() < SN_ISA_AVX2) return 0;
    if (c->cls > path_class()) return 0;
    if (!strcmp(c->name, "Cooperlake")) return __builtin_cpu_supports("avx512bf16");
    return 1;
}
static char g_selected[32]; /* the core seqnn runs */

static void run_one(const cand *c, const shape *s, const float *A, const float *B, float *C) {
    if (c->kind == 3) {
        __real_sn_gemm_rb(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, s->lda, B, s->ldb, 0.0f, C, s->ldc);
    } else if (c->kind == 2) {
        __real_sn_gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, s->lda, B, s->ldb, 0.0f, C, s->ldc);
#ifdef SN_BENCH_DNNL
    } else if (c->kind == 1) {
        dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, 1.0f, A, s->lda, B, s->ldb, 0.0f, C,
                   s->ldc);
#endif
    } else {
        __real_cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M,
                           s->N, s->K, 1.0f, A, s->lda, B, s->ldb, 0.0f, C, s->ldc);
    }
}

/* Seconds per call: repeated calls until >= 1 ms, after one warm-up call. */
static double sample(const cand *c, const shape *s, const float *A, const float *B, float *C) {
    if (c->kind == 0 && !switch_core(c->name)) return -1;
    if (c->kind == 2) switch_core(g_selected);
    run_one(c, s, A, B, C);
    long reps = 0;
    double t0 = sn_time_now(), t;
    do {
        run_one(c, s, A, B, C);
        reps++;
    } while ((t = sn_time_now() - t0) < 1e-3);
    return t / (double)reps;
}

static void measure(shape *s, int rounds, double best[NCAND]) {
    size_t na = (size_t)(s->ta ? s->K : s->M) * s->lda, nb = (size_t)(s->tb ? s->N : s->K) * s->ldb;
    size_t nc = (size_t)s->M * s->ldc;
    float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float)), *C = malloc(nc * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, 7);
    for (size_t i = 0; i < na; i++) A[i] = (float)sn_rng_normal(&r);
    for (size_t i = 0; i < nb; i++) B[i] = (float)sn_rng_normal(&r);
    for (int c = 0; c < NCAND; c++) best[c] = 0;
    for (int rd = 0; rd < rounds; rd++)
        for (int c = 0; c < NCAND; c++) {
            if (!cand_ok(&g_cands[c]) || (g_cands[c].kind == 3 && !sn_gemm_rb_fits(s->ta, s->tb, s->M, s->N, s->K, s->ldb, s->ldc)))
                continue;
            double t = sample(&g_cands[c], s, A, B, C);
            if (t > 0 && (best[c] == 0 || t < best[c])) best[c] = t;
        }
    free(A);
    free(B);
    free(C);
}

static void print_table(int level, int rounds) {
    printf("\n%s, 1 thread, GFLOP/s (best of %d rounds)\n\n", level ? "BLAS calls (the blocks sn_gemm makes)"
                                                                   : "Products the layers ask for (sn_gemm)",
           rounds);
    printf("| tA tB M x N x K | calls | used by |");
    for (int c = 0; c < NCAND; c++)
        if (cand_ok(&g_cands[c]) && !(level && g_cands[c].kind == 2)) printf(" %s |", g_cands[c].name);
    printf(" seqnn / best |\n|---|---:|---|");
    for (int c = 0; c < NCAND; c++)
        if (cand_ok(&g_cands[c]) && !(level && g_cands[c].kind == 2)) printf("---:|");
    printf("---:|\n");
    double worst = 1e9;
    for (int i = 0; i < g_nsh; i++) {
        shape *s = &g_sh[i];
        if (s->level != level) continue;
        double best[NCAND], fl = 2.0 * s->M * (double)s->N * s->K, tmin = 0, tsel = 0;
        measure(s, rounds, best);
        printf("| %c %c %d x %d x %d | %ld | %s |", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, s->calls,
               s->where);
        for (int c = 0; c < NCAND; c++) {
            if (!cand_ok(&g_cands[c]) || (level && g_cands[c].kind == 2)) continue;
            printf(" %.1f |", best[c] > 0 ? fl / best[c] * 1e-9 : 0.0);
            if (best[c] > 0 && (tmin == 0 || best[c] < tmin)) tmin = best[c];
            int own = sn_gemm_rb_fits(s->ta, s->tb, s->M, s->N, s->K, s->ldb, s->ldc);
            if ((level == 0 && g_cands[c].kind == 2) ||
                (level == 1 && (own ? g_cands[c].kind == 3 : !strcasecmp(g_cands[c].name, g_selected))))
                tsel = best[c];
        }
        double frac = tsel > 0 ? tmin / tsel : 0;
        if (frac < worst) worst = frac;
        s->t_sel = tsel;
        s->t_best_core = tmin;
        printf(" %.0f %% |\n", 100 * frac);
        fflush(stdout);
    }
    printf("\nworst seqnn / best: %.0f %%\n", 100 * worst);
}

/* Per model: time of its GEMMs per step inside the model run (cold
 * operands, as trained), and isolated (warm) at seqnn's speed and at the
 * best kernel for each product. */
static void print_cases(void) {
    printf("\nPer model, sn_gemm time per training step + inference batch, 1 thread\n\n");
    printf("| model | GEMM ms in the model: seqnn | OpenBLAS only | isolated: seqnn | best kernel per product | "
           "isolated seqnn / best | seqnn GEMM GFLOP/s in the model |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < sizeof g_models / sizeof *g_models; k++) {
        double ts = 0, tb = 0, tm = 0, tmb = 0, fl = 0;
        for (int i = 0; i < g_nsh; i++) {
            const shape *s = &g_sh[i];
            if (s->level || s->t_sel <= 0 || !s->case_calls[k]) continue;
            ts += s->case_calls[k] * s->t_sel;
            tb += s->case_calls[k] * s->t_best_core;
            tm += s->t_model[k];
            tmb += s->t_model_blas[k];
            fl += s->case_calls[k] * 2.0 * s->M * (double)s->N * s->K;
        }
        if (getenv("GEMM_BENCH_DEBUG"))
            for (int i = 0; i < g_nsh; i++) {
                const shape *s = &g_sh[i];
                if (s->level || !s->case_calls[k]) continue;
                fprintf(stderr, "%s: %c%c %dx%dx%d calls %ld/%ld model %.3f ms blas-only %.3f ms isolated %.3f ms\n",
                        g_models[k].name, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, s->case_calls[k],
                        s->calls, 1e3 * s->t_model[k], 1e3 * s->t_model_blas[k], 1e3 * s->case_calls[k] * s->t_sel);
            }
        if (ts > 0)
            printf("| %s | %.2f | %.2f | %.2f | %.2f | %.0f %% | %.0f |\n", g_models[k].name, 1e3 * tm, 1e3 * tmb,
                   1e3 * ts, 1e3 * tb, 100 * tb / ts, fl / tm * 1e-9);
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    const char *only = argc > 2 ? argv[2] : NULL;
    if (rounds < 1) rounds = 1;
    sn_threads_set(1);
    omp_set_num_threads(1);
    /* oneDNN within the path (read when it first runs) */
    const char *dnnl_isa = sn_isa_get() == SN_ISA_AVX512 ? "ALL" : sn_isa_get() == SN_ISA_AVX2 ? "AVX2" : "SSE41";
    setenv("ONEDNN_MAX_CPU_ISA", dnnl_isa, 0);
    sn_blas_info bi;
    sn_blas_info_get(&bi); /* seqnn's choice, before the bench switches anything */
    snprintf(g_selected, sizeof g_selected, "%s", bi.core);
    sn_cpu_info cpu;
    sn_cpu_info_get(&cpu);
    printf("# GEMM kernels on %s (family %d model %d), vector path %s; seqnn runs OpenBLAS %s (%s)\n",
           cpu.model_name, cpu.family, cpu.model, sn_isa_name(sn_isa_get()), bi.core, bi.reason);
    printf("# %s; oneDNN limited to ONEDNN_MAX_CPU_ISA=%s; kernels above the path are not candidates\n",
           bi.library, getenv("ONEDNN_MAX_CPU_ISA"));
    printf("# load average ");
    FILE *la = fopen("/proc/loadavg", "r");
    char lb[64] = "";
    if (la && fgets(lb, sizeof lb, la)) printf("%s", lb);
    if (la) fclose(la);
    for (size_t k = 0; k < sizeof g_models / sizeof *g_models; k++)
        if ((!only || strstr(g_models[k].name, only)) && capture(&g_models[k], (int)k)) return 1;
    print_table(0, rounds);
    print_table(1, rounds);
    print_cases();
    return 0;
}
