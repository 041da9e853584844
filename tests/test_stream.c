/* Streaming step API against batch predict: bit for bit with the portable
 * GEMM (same kernels, same order, and the portable GEMM computes each row
 * alone), within float32 roundings with BLAS; masking, row subsets in any
 * order, resets, refusals, bad input changing nothing.
 *
 * BLAS tolerance: BLAS may block the input-projection and Dense sums
 * differently for another row count: each such sum of K <= 12 terms of
 * magnitude <= ~2 then differs by up to 2·γ_K·Σ|terms| (tests/layer_check.h)
 * ≈ 2·12·6e-8·24 ≈ 3.5e-5 in the worst case, and the difference enters each
 * of T <= 8 contracting recurrent steps once: 8·3.5e-5 < 3e-4 bounds it. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "seqnn.h"
#include "test.h"

static sn_model *make(const char *spec, int rank, int d0, int d1, uint64_t seed) {
    sn_model_opts o = {rank, {d0, d1, 0}, 0, seed};
    sn_model *m = NULL;
    if (sn_model_init(&m, spec, &o) != SN_OK) fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
    return m;
}

/* The same model on a shorter input (a prefix of length T), same weights. */
static sn_model *prefix_model(const sn_model *m, const char *spec, int rank, int T, int C) {
    sn_model *p = make(spec, rank, T, C, 1);
    if (!p) return NULL;
    /* copy every tensor by layer and name */
    for (int i = 0; i < sn_model_n_layers(p); i++) {
        static const char *const names[] = {"kernel", "recurrent_kernel", "bias", "embeddings", "gamma", "beta",
                                            "moving_mean", "moving_variance"};
        for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
            size_t na, nb;
            float *a = sn_model_tensor((sn_model *)m, sn_model_layer_name(m, i), names[k], &na);
            float *b = sn_model_tensor(p, sn_model_layer_name(p, i), names[k], &nb);
            if (a && b && na == nb) memcpy(b, a, na * sizeof(float));
        }
    }
    return p;
}

static float *predict(sn_model *m, const float *x, int n) {
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    float *y = calloc((size_t)n * out, sizeof *y);
    sn_dataset d;
    if (!y || sn_dataset_from_arrays(&d, x, NULL, (size_t)n, in, 0) != SN_OK) return NULL;
    sn_status st = sn_model_predict(m, &d, 4, y);
    sn_dataset_free(&d);
    if (st) fprintf(stderr, "    predict: %s\n", sn_error_last());
    return st ? (free(y), NULL) : y;
}

static void fill(float *x, size_t n, int vocab, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        unsigned h = (unsigned)((i + 1) * 2654435761u) ^ (seed * 40503u);
        h ^= h >> 13;
        x[i] = vocab ? (float)(h % (unsigned)vocab) : (float)((h % 2001) / 1000.0 - 1.0);
    }
}

/* Streams N sequences (x: (N,T,C) or (N,T) ids) through one stream with N
 * rows, all rows per step, and compares every step's output with predict:
 * on the prefix (rs_out = 0: the output after t+1 steps) or the step's
 * slice of the full output (rs_out = 1). tol 0 = memcmp. */
static int stream_vs_batch(const char *spec, int ids, int T, int C, int vocab, int rs_out, double tol) {
    enum { N = 4 };
    int rank = ids ? 1 : 2;
    sn_model *m = make(spec, rank, T, C, 7);
    if (!m) return 0;
    size_t step_in = ids ? 1 : (size_t)C, in = (size_t)T * step_in;
    float *x = calloc(N * in, sizeof *x);
    fill(x, N * in, vocab, 3);
    if (ids) { /* padding: row 0 trailing zeros, row 1 leading, row 2 one in the middle */
        for (int t = T / 2; t < T; t++) x[t] = 0;
        x[in + 0] = x[in + 1] = 0;
        x[2 * in + T / 2] = 0;
    } else { /* all-zero (masked, with a masking() layer) steps in the same places */
        for (int t = T / 2; t < T; t++) memset(x + t * C, 0, (size_t)C * sizeof(float));
        memset(x + in, 0, 2 * (size_t)C * sizeof(float));
        memset(x + 2 * in + (T / 2) * C, 0, (size_t)C * sizeof(float));
    }
    sn_stream *s = NULL;
    int ok = sn_stream_init(&s, m, N) == SN_OK;
    if (!ok) fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
    size_t out = ok ? sn_stream_output_numel(s) : 0;
    float *xs = calloc(N * step_in, sizeof *xs), *ys = calloc(N * (out + 1), sizeof *ys);
    float *full = rs_out && ok ? predict(m, x, N) : NULL;
    double worst = 0;
    for (int t = 0; ok && t < T; t++) {
        for (int r = 0; r < N; r++) memcpy(xs + r * step_in, x + r * in + t * step_in, step_in * sizeof(float));
        ok = sn_stream_step(s, NULL, N, xs, ys) == SN_OK;
        float *ref = NULL, *pre = NULL;
        sn_model *p = NULL;
        if (rs_out) {
            ref = full;
        } else {
            p = prefix_model(m, spec, rank, t + 1, C);
            float *xp = calloc(N * (size_t)(t + 1) * step_in, sizeof *xp);
            for (int r = 0; r < N; r++) memcpy(xp + r * (t + 1) * step_in, x + r * in, (t + 1) * step_in * sizeof(float));
            pre = p ? predict(p, xp, N) : NULL;
            free(xp);
            ref = pre;
        }
        ok = ok && ref;
        for (int r = 0; ok && r < N; r++) {
            const float *want = rs_out ? ref + (size_t)r * T * out + (size_t)t * out : ref + (size_t)r * out;
            for (size_t k = 0; k < out; k++) {
                double d = fabs((double)ys[r * out + k] - want[k]);
                worst = fmax(worst, d);
                if (tol == 0 ? memcmp(&ys[r * out + k], &want[k], sizeof(float)) != 0 : d > tol) {
                    fprintf(stderr, "    %s: row %d step %d output %zu: stream %.9g, batch %.9g\n", spec, r, t, k,
                            ys[r * out + k], want[k]);
                    ok = 0;
                    break;
                }
            }
        }
        free(pre);
        sn_model_free(p);
    }
    if (getenv("SN_STREAM_VERBOSE")) fprintf(stderr, "    %s: worst %.3g\n", spec, worst);
    free(full), free(xs), free(ys), free(x);
    sn_stream_free(s);
    sn_model_free(m);
    return ok;
}

static const struct { const char *spec; int ids, T, C, vocab, rs; } g_models[] = {
    {"lstm(8), dense(2)", 0, 7, 3, 0, 0},
    {"masking(), gru(6, return_sequences=true), simplernn(4, activation=relu), dense(1)", 0, 8, 3, 0, 0},
    {"masking(), lstm(5, return_sequences=true), layernormalization(), dense(3, activation=softmax)", 0, 6, 4, 0, 1},
    {"gru(5, reset_after=false, return_sequences=true), batchnormalization(), dropout(0.3), dense(2)", 0, 6, 3, 0, 1},
    {"embedding(20, 6, mask_zero=true), lstm(7, return_sequences=true), gru(4), dense(1, activation=sigmoid)", 1, 8, 0, 20, 0},
    {"onehot(12), gru(5), activation(tanh), dense(2)", 1, 6, 0, 12, 0},
    {"lstm(4, activation=softsign, recurrent_activation=hard_sigmoid_keras2), dense(1)", 0, 5, 2, 0, 0},
};

TEST(stream_equals_batch_portable) {
    sn_gemm_backend b = sn_gemm_get_backend();
    sn_gemm_set_backend(SN_GEMM_PORTABLE);
    int ok = 1;
    for (size_t i = 0; i < sizeof g_models / sizeof *g_models; i++)
        ok &= stream_vs_batch(g_models[i].spec, g_models[i].ids, g_models[i].T, g_models[i].C, g_models[i].vocab,
                              g_models[i].rs, 0);
    sn_gemm_set_backend(b);
    CHECK(ok);
}

TEST(stream_equals_batch_blas) {
    int ok = 1;
    for (size_t i = 0; i < sizeof g_models / sizeof *g_models; i++)
        ok &= stream_vs_batch(g_models[i].spec, g_models[i].ids, g_models[i].T, g_models[i].C, g_models[i].vocab,
                              g_models[i].rs, 3e-4);
    CHECK(ok);
}

/* Rows stepped in subsets and in any order, a reset in the middle: each row
 * ends where a stream of its own ends. */
TEST(stream_rows_and_reset) {
    sn_gemm_backend b = sn_gemm_get_backend();
    sn_gemm_set_backend(SN_GEMM_PORTABLE);
    sn_model *m = make("masking(), lstm(6, return_sequences=true), gru(3), dense(2)", 2, 10, 3, 11);
    CHECK(m);
    enum { R = 4, T = 6, C = 3 };
    float x[R][T][C];
    fill(&x[0][0][0], R * T * C, 0, 9);
    sn_stream *s = NULL, *one = NULL;
    CHECK_OK(sn_stream_init(&s, m, R));
    CHECK_OK(sn_stream_init(&one, m, 1));
    CHECK(sn_stream_input_numel(s) == C && sn_stream_output_numel(s) == 2 && sn_stream_rows(s) == R);
    /* row 2 gets junk first, then a reset */
    float junk[C] = {5, -5, 5};
    int r2 = 2;
    CHECK_OK(sn_stream_step(s, &r2, 1, junk, NULL));
    CHECK_OK(sn_stream_reset(s, 2));
    int pos[R] = {0};
    /* schedule: rows {3,1}, {0}, {2,0,3}, {1,2} ... until each had T steps */
    static const int sched[][4] = {{3, 1, -1}, {0, -1}, {2, 0, 3, -1}, {1, 2, -1}};
    for (int round = 0; round < 10; round++) {
        const int *g = sched[round % 4];
        int rows[4], n = 0;
        float xin[4][C];
        for (int k = 0; g[k] >= 0; k++)
            if (pos[g[k]] < T) {
                rows[n] = g[k];
                memcpy(xin[n], x[g[k]][pos[g[k]]], sizeof xin[n]);
                pos[g[k]]++;
                n++;
            }
        if (n) CHECK_OK(sn_stream_step(s, rows, n, &xin[0][0], NULL));
    }
    for (int r = 0; r < R; r++)
        while (pos[r] < T) {
            CHECK_OK(sn_stream_step(s, &r, 1, x[r][pos[r]], NULL));
            pos[r]++;
        }
    /* one more (masked) step for everybody, reading the outputs */
    float zero[R][C] = {{0}}, y[R][2], y1[2];
    CHECK_OK(sn_stream_step(s, NULL, R, &zero[0][0], &y[0][0]));
    for (int r = 0; r < R; r++) {
        CHECK_OK(sn_stream_reset(one, -1));
        for (int t = 0; t < T; t++) CHECK_OK(sn_stream_step(one, NULL, 1, x[r][t], NULL));
        CHECK_OK(sn_stream_step(one, NULL, 1, zero[0], y1));
        CHECK_MSG(!memcmp(y1, y[r], sizeof y1), "row %d: %g %g vs alone %g %g", r, y[r][0], y[r][1], y1[0], y1[1]);
    }
    sn_stream_free(s);
    sn_stream_free(one);
    sn_model_free(m);
    sn_gemm_set_backend(b);
}

/* Bad calls are refused before anything changes. */
TEST(stream_bad_calls_change_nothing) {
    sn_model *m = make("embedding(9, 3), gru(4), dense(1)", 1, 5, 0, 2);
    CHECK(m);
    sn_stream *s = NULL, *t = NULL;
    CHECK_OK(sn_stream_init(&s, m, 3));
    CHECK_OK(sn_stream_init(&t, m, 3));
    float ids[3] = {1, 2, 3}, y[3], yt[3];
    CHECK_OK(sn_stream_step(s, NULL, 3, ids, NULL));
    CHECK_OK(sn_stream_step(t, NULL, 3, ids, NULL));
    int dup[2] = {1, 1}, out_of[1] = {3};
    float bad_id[3] = {1, 9, 2}, nan_in[3] = {1, NAN, 2};
    CHECK(sn_stream_step(s, dup, 2, ids, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "twice"));
    CHECK(sn_stream_step(s, out_of, 1, ids, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "row 3"));
    CHECK(sn_stream_step(s, NULL, 3, bad_id, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "row 1: token id 9"));
    CHECK(sn_stream_step(s, NULL, 3, nan_in, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "NaN"));
    CHECK(sn_stream_step(s, NULL, 4, ids, NULL) == SN_ERR_ARG);
    CHECK(sn_stream_reset(s, 7) == SN_ERR_ARG);
    CHECK_OK(sn_stream_step(s, NULL, 3, ids, y));
    CHECK_OK(sn_stream_step(t, NULL, 3, ids, yt));
    CHECK(!memcmp(y, yt, sizeof y));
    /* no allocation per step: the heap does not grow over many steps */
    struct mallinfo2 a = mallinfo2();
    for (int k = 0; k < 200; k++) CHECK_OK(sn_stream_step(s, NULL, 3, ids, y));
    struct mallinfo2 b = mallinfo2();
    CHECK(a.uordblks == b.uordblks && a.hblkhd == b.hblkhd);
    sn_stream_free(s);
    sn_stream_free(t);
    sn_model_free(m);
}

TEST(stream_refusals) {
    static const struct { const char *spec; int rank, d0, d1; const char *needle; } r[] = {
        {"bidirectional(lstm(3)), dense(1)", 2, 5, 2, "layer 'bidirectional' (Bidirectional) cannot stream"},
        {"lstm(3, go_backwards=true), dense(1)", 2, 5, 2, "go_backwards"},
        {"conv1d(2, 3), lstm(3), dense(1)", 2, 6, 2, "layer 'conv1d' (Conv1D) cannot stream"},
        {"lstm(3, return_sequences=true), flatten(), dense(1)", 2, 5, 2, "layer 'flatten' (Flatten)"},
        {"dense(3), dense(1)", 1, 4, 0, "no time axis"},
    };
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
        sn_model *m = make(r[i].spec, r[i].rank, r[i].d0, r[i].d1, 1);
        CHECK(m);
        sn_stream *s = (sn_stream *)m;
        sn_status st = sn_stream_init(&s, m, 2);
        CHECK_MSG(st == SN_ERR_UNSUPPORTED && s == NULL && strstr(sn_error_last(), r[i].needle), "%s: %s", r[i].spec,
                  sn_error_last());
        sn_model_free(m);
    }
}
