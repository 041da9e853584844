/* Standalone C export: the generated file compiles with
 * `cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror`, and its predict (and
 * step, where the model streams) gives libseqnn's outputs.
 *
 * Tolerance 1e-6 (absolute; outputs are O(1)): the generated code runs
 * libseqnn's formulas (the same polynomial gate activations, libm for the
 * rest) and differs only in summation order — BLAS blocks its dot products,
 * the C file sums in index order. For these sizes (dot products of <= 16
 * terms of magnitude <= 1, <= 12 steps of contracting recurrences) that is
 * a few float32 ulps of 1 (6e-8 each), well inside 1e-6.
 * --int8 is checked against libseqnn running the dequantized weights
 * (q * scale): then only the factoring (Σ x q) s vs Σ x (q s) differs, again
 * a few ulps per sum (tolerance 1e-5 for the longer int8 sums of up to 48
 * terms through 12 recurrent steps). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqnn.h"
#include "test.h"

static int have_cc(void) { return system("cc --version > /dev/null 2>&1") == 0; }

static sn_model *make(const char *spec, int rank, int d0, int d1, uint64_t seed) {
    sn_model_opts o = {rank, {d0, d1, 0}, 0, seed};
    sn_model *m = NULL;
    if (sn_model_init(&m, spec, &o) != SN_OK) fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
    return m;
}

/* Deterministic inputs; ids models get ids in [0, V) with zero padding. */
static void inputs(float *x, size_t n, size_t per, int ids, int V) {
    for (size_t i = 0; i < n * per; i++) {
        unsigned h = (unsigned)(i * 2654435761u) >> 8;
        x[i] = ids ? (float)(h % (unsigned)V) : (float)((h % 2001) / 1000.0 - 1.0);
    }
    if (ids) /* trailing padding on sample 0, leading on sample 1 */
        for (size_t t = 0; t < per; t++) {
            if (t >= per / 2) x[t] = 0;
            if (n > 1 && t < 2) x[per + t] = 0;
        }
}

/* The test driver; '@' stands for the prefix, '#' for it in upper case. */
static const char *g_driver =
    "#include <stdio.h>\n#include \"@.h\"\n"
    "int main(int argc, char **argv) {\n"
    "    static @_work w;\n    float x[#_IN], y[#_OUT];\n    int n, i, k;\n"
    "    FILE *in = fopen(argv[1], \"rb\"), *out = fopen(argv[2], \"wb\");\n"
    "    (void)argc; (void)k;\n"
    "    if (!in || !out || fread(&n, sizeof n, 1, in) != 1) return 1;\n"
    "    for (i = 0; i < n; i++) {\n"
    "        if (fread(x, sizeof x, 1, in) != 1) return 1;\n"
    "        @_predict(&w, x, y);\n        fwrite(y, sizeof y, 1, out);\n"
    "#ifdef #_STEP_IN\n"
    "        { static @_state s; @_reset(&s);\n"
    "          for (k = 0; k < #_IN / #_STEP_IN; k++) @_step(&s, x + k * #_STEP_IN, y); }\n"
    "        fwrite(y, sizeof y, 1, out);\n"
    "#endif\n"
    "    }\n    return fclose(out) != 0;\n}\n";

static void write_driver(FILE *fp, const char *name) {
    for (const char *p = g_driver; *p; p++) {
        if (*p == '@') fputs(name, fp);
        else if (*p == '#' && p[1] == '_') {
            for (const char *q = name; *q; q++) fputc(*q >= 'a' && *q <= 'z' ? *q - 32 : *q, fp);
        } else fputc(*p, fp);
    }
}

/* Exports m (prefix `name`), compiles it with a driver, runs it on x (n
 * samples) and returns the outputs: predict's, then (steppable) step's,
 * each (n, out). NULL on failure (message printed). *steps = 1 when the
 * header offered the step API. */
static float *run_c(sn_model *m, const char *name, int int8, const float *x, int n, int *steps) {
    char dir[128], path[256], cmd[1024];
    snprintf(dir, sizeof dir, "/tmp/seqnn-test-cx-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd)) return NULL;
    snprintf(path, sizeof path, "%s/%s.c", dir, name);
    sn_cexport_opts o;
    sn_cexport_opts_default(&o);
    o.int8 = int8;
    if (sn_cexport(m, path, &o) != SN_OK) {
        fprintf(stderr, "    export %s: %s\n", name, sn_error_last());
        return NULL;
    }
    snprintf(path, sizeof path, "%s/main_%s.c", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) return NULL;
    write_driver(fp, name);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "cd %s && cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror -o run_%s %s.c main_%s.c -lm 2> cc_%s.log",
             dir, name, name, name, name);
    if (system(cmd)) {
        snprintf(cmd, sizeof cmd, "head -20 %s/cc_%s.log >&2", dir, name);
        if (system(cmd)) {}
        fprintf(stderr, "    %s: the generated C did not compile cleanly\n", name);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s.h", dir, name);
    snprintf(cmd, sizeof cmd, "grep -q '_STEP_IN' %s", path);
    *steps = system(cmd) == 0;
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    snprintf(path, sizeof path, "%s/in_%s.bin", dir, name);
    fp = fopen(path, "wb");
    if (!fp) return NULL;
    fwrite(&n, sizeof n, 1, fp);
    fwrite(x, sizeof(float), in * (size_t)n, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "cd %s && ./run_%s in_%s.bin out_%s.bin", dir, name, name, name);
    if (system(cmd)) return NULL;
    snprintf(path, sizeof path, "%s/out_%s.bin", dir, name);
    fp = fopen(path, "rb");
    size_t per = (size_t)(*steps ? 2 : 1) * out;
    float *y = calloc((size_t)n * per, sizeof *y);
    size_t got = fp && y ? fread(y, sizeof(float), (size_t)n * per, fp) : 0;
    if (fp) fclose(fp);
    if (got != (size_t)n * per) {
        free(y);
        return NULL;
    }
    return y;
}

static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/seqnn-test-cx-%ld", (long)getpid());
    if (system(cmd)) {}
}

/* libseqnn's predict of x (n samples). */
static float *predict(sn_model *m, const float *x, int n) {
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    float *y = calloc((size_t)n * out, sizeof *y);
    sn_dataset d;
    if (!y || sn_dataset_from_arrays(&d, x, NULL, (size_t)n, in, 0) != SN_OK) {
        free(y);
        return NULL;
    }
    sn_status st = sn_model_predict(m, &d, 3, y);
    sn_dataset_free(&d);
    if (st) {
        free(y);
        return NULL;
    }
    return y;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++) w = fmax(w, fabs((double)a[i] - b[i]));
    return w;
}

/* The C file against libseqnn; step (if offered) against the C predict
 * bit for bit: the same cell code over the same steps. */
static int check_model(sn_model *m, const char *name, int ids, int V, int want_steps) {
    enum { N = 5 };
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    float *x = calloc(N * in, sizeof *x);
    inputs(x, N, in, ids, V);
    int steps = 0, ok = 0;
    float *ref = predict(m, x, N), *c = run_c(m, name, 0, x, N, &steps);
    if (ref && c) {
        size_t per = (steps ? 2 : 1) * out;
        double worst = 0, step_vs = 0;
        for (int i = 0; i < N; i++) {
            worst = fmax(worst, max_diff(c + i * per, ref + i * out, out));
            if (steps) step_vs = fmax(step_vs, max_diff(c + i * per + out, c + i * per, out));
        }
        ok = worst <= 1e-6 && steps == want_steps && step_vs == 0;
        if (!ok)
            fprintf(stderr, "    %s: C vs libseqnn %.3g, step vs predict %.3g, step API %d (want %d)\n", name, worst,
                    step_vs, steps, want_steps);
    }
    free(ref);
    free(c);
    free(x);
    return ok;
}

TEST(export_c_models) {
    if (!have_cc()) {
        sn_test_skip("no C compiler (cc) on PATH");
        return;
    }
    sn_model *m = make("masking(), lstm(8, return_sequences=true), gru(6), dense(3, activation=softmax)", 2, 10, 4, 3);
    CHECK(m);
    int ok = check_model(m, "rnnstack", 0, 0, 1);
    sn_model_free(m);
    CHECK(ok);
    m = make("embedding(30, 6, mask_zero=true), bidirectional(lstm(5, return_sequences=true)), "
             "bidirectional(gru(4, reset_after=false), merge_mode=ave), dense(1, activation=sigmoid)", 1, 12, 0, 4);
    CHECK(m);
    ok = check_model(m, "bilstm", 1, 30, 0);
    sn_model_free(m);
    CHECK(ok);
    m = make("conv1d(6, 3, padding=same, activation=relu), maxpooling1d(2), conv1d(4, 2, strides=2, padding=causal), "
             "batchnormalization(), layernormalization(), globalaveragepooling1d(), dense(2, activation=tanh)", 2, 12, 3, 5);
    CHECK(m);
    size_t n;
    float *mv = sn_model_tensor(m, "batch_normalization", "moving_variance", &n);
    float *mu = sn_model_tensor(m, "batch_normalization", "moving_mean", &n);
    CHECK(mv && mu);
    for (size_t i = 0; i < n; i++) mv[i] = 0.5f + 0.25f * (float)i, mu[i] = 0.1f * (float)i - 0.2f;
    ok = check_model(m, "convnet", 0, 0, 0);
    sn_model_free(m);
    CHECK(ok);
    m = make("reshape((4, 6)), bidirectional(gru(3, return_sequences=true), backward_layer=gru(3, return_sequences=true, "
             "go_backwards=true, activation=relu, reset_after=false), merge_mode=mul), flatten(), dense(2)", 1, 24, 0, 12);
    CHECK(m);
    ok = check_model(m, "reshaped", 0, 0, 0);
    sn_model_free(m);
    CHECK(ok);
    m = make("simplernn(5, return_sequences=true, go_backwards=true), flatten(), dropout(0.5), dense(2)", 2, 6, 3, 6);
    CHECK(m);
    ok = check_model(m, "backwards", 0, 0, 0);
    sn_model_free(m);
    CHECK(ok);
    m = make("lstm(6, activation=softsign, recurrent_activation=hard_sigmoid_keras2, return_sequences=true), "
             "gru(4, activation=elu, recurrent_activation=hard_sigmoid), dense(3, activation=selu), "
             "dense(2, activation=softplus)", 2, 8, 3, 10);
    CHECK(m);
    ok = check_model(m, "keras_acts", 0, 0, 1);
    sn_model_free(m);
    CHECK(ok);
    m = make("embedding(20, 4), simplernn(6, activation=relu), layernormalization(), dense(3)", 1, 7, 0, 8);
    CHECK(m);
    ok = check_model(m, "embrnn", 1, 20, 1);
    sn_model_free(m);
    CHECK(ok);
    cleanup();
}

/* --int8: per-column scales s_j = max_i |w_ij| / 127, q = round(w / s);
 * the C file must compute the model with weights q * s. */
TEST(export_c_int8) {
    if (!have_cc()) {
        sn_test_skip("no C compiler (cc) on PATH");
        return;
    }
    sn_model *m = make("embedding(25, 8, mask_zero=true), lstm(12, return_sequences=true), gru(6), dense(2)", 1, 12, 0, 9);
    CHECK(m);
    enum { N = 4 };
    size_t in = sn_model_input_numel(m), out = sn_model_output_numel(m);
    float x[N * 12];
    inputs(x, N, in, 1, 25);
    int steps = 0;
    float *c = run_c(m, "q8", 1, x, N, &steps);
    CHECK(c && steps);
    /* dequantize the matrices in libseqnn's copy the way the exporter quantizes them */
    static const char *const mats[][2] = {{"embedding", "embeddings"}, {"lstm", "kernel"}, {"lstm", "recurrent_kernel"},
                                          {"gru", "kernel"}, {"gru", "recurrent_kernel"}, {"dense", "kernel"}};
    static const int cols[] = {8, 48, 48, 18, 18, 2};
    for (int k = 0; k < 6; k++) {
        size_t n;
        float *w = sn_model_tensor(m, mats[k][0], mats[k][1], &n);
        CHECK(w);
        size_t Nc = (size_t)cols[k], R = n / Nc;
        for (size_t j = 0; j < Nc; j++) {
            float mx = 0;
            for (size_t r = 0; r < R; r++) mx = fmaxf(mx, fabsf(w[r * Nc + j]));
            float s = mx > 0 ? mx / 127.0f : 1.0f;
            for (size_t r = 0; r < R; r++) w[r * Nc + j] = (float)lrintf(w[r * Nc + j] / s) * s;
        }
    }
    float *ref = predict(m, x, N);
    CHECK(ref);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, max_diff(c + i * 2 * out, ref + i * out, out));
    CHECK_MSG(worst <= 1e-5, "int8 C vs dequantized libseqnn: %.3g", worst);
    free(c);
    free(ref);
    sn_model_free(m);
    cleanup();
}

TEST(export_c_refusals) {
    sn_model *m = make("onehot(10), lstm(3), dense(1)", 1, 5, 0, 1);
    CHECK(m);
    CHECK(sn_cexport(m, "/tmp/seqnn-never-written.c", NULL) == SN_ERR_UNSUPPORTED && strstr(sn_error_last(), "OneHot"));
    CHECK(access("/tmp/seqnn-never-written.c", F_OK) != 0 && access("/tmp/seqnn-never-written.h", F_OK) != 0);
    sn_model_free(m);
}
