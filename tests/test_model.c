/* Model-level behaviour: spec errors, summary counts, fit / evaluate /
 * predict, callbacks, save / load, resume, determinism across threads. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "model/model_file.h" /* sn_file_crc32 */
#include "seqnn.h"
#include "test.h"

static sn_model *make(const char *spec, int rank, int d0, int d1, uint64_t seed) {
    sn_model_opts o = {0};
    o.input_rank = rank;
    o.input_shape[0] = d0;
    o.input_shape[1] = d1;
    o.seed = seed;
    sn_model *m = NULL;
    sn_status st = sn_model_init(&m, spec, &o);
    if (st) fprintf(stderr, "    model `%s`: %s\n", spec, sn_error_last());
    return m;
}

TEST(seed_dense_model_has_26913_params) {
    sn_model *m = make("flatten(), dense(16, activation=relu), dense(1)", 2, 120, 14, 1);
    CHECK(m);
    size_t tr, nt;
    CHECK(sn_model_param_count(m, &tr, &nt) == 26913);
    CHECK(tr == 26913 && nt == 0);
    char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
    CHECK(s);
    CHECK(strstr(s, "dense (Dense)") && strstr(s, "26,896") && strstr(s, "dense_1 (Dense)"));
    CHECK(strstr(s, "Total params: 26,913 (105.13 KB)"));
    CHECK(strstr(s, "(None, 1680)"));
    free(s);
    s = sn_model_summary(m, SN_SUMMARY_KERAS2);
    CHECK(strstr(s, "input_1 (InputLayer)        [(None, 120, 14)]") && strstr(s, "26896") &&
          strstr(s, "Total params: 26,913"));
    free(s);
    sn_model_free(m);
}

TEST(seed_conv1d_model_has_3873_params) {
    sn_model *m = make("conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), "
                       "maxpooling1d(2), conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)",
                       2, 120, 14, 1);
    CHECK(m);
    CHECK(sn_model_param_count(m, NULL, NULL) == 3873);
    char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
    CHECK(strstr(s, "conv1d (Conv1D)") && strstr(s, "(None, 97, 8)") && strstr(s, "2,696"));
    CHECK(strstr(s, "max_pooling1d_1 (MaxPooling1D)") || strstr(s, "max_pooling1d_1 (MaxPooling1D"));
    CHECK(strstr(s, "(None, 13, 8)") && strstr(s, "global_average_pooling1d"));
    free(s);
    sn_model_free(m);
}

TEST(spec_errors_quote_the_offending_text) {
    sn_model_opts o = {0};
    o.input_rank = 2;
    o.input_shape[0] = 120;
    o.input_shape[1] = 14;
    sn_model *m = NULL;
    CHECK(sn_model_init(&m, "dense(16), frobnicate(3)", &o) == SN_ERR_PARSE && !m);
    CHECK(strstr(sn_error_last(), "unknown layer 'frobnicate'") && strstr(sn_error_last(), "frobnicate(3)"));
    CHECK(sn_model_init(&m, "dense(16, colour=red)", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "unknown argument 'colour'") && strstr(sn_error_last(), "dense(16, colour=red)"));
    CHECK(sn_model_init(&m, "dense(16, activation=relu", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "missing ')'") || strstr(sn_error_last(), "expected"));
    CHECK(sn_model_init(&m, "dense(16) dense(1)", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "expected ','"));
    CHECK(sn_model_init(&m, "   ", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "empty"));
    CHECK(sn_model_init(&m, "dense(activation=relu, 16)", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "positional argument after keyword"));
    CHECK(sn_model_init(&m, "dense(16, units=4)", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "both by position and by keyword"));
    CHECK(sn_model_init(&m, "dense(1.5)", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "integer"));
    /* fuzz regression: a 60-character layer name overflowed the name buffer */
    CHECK(sn_model_init(&m, "batchnormaliZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZzatio16()", &o) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "name too long"));
    o.input_rank = 0;
    CHECK(sn_model_init(&m, "dense(1)", &o) == SN_ERR_SHAPE);
}

/* y = 2*x0 - 3*x1 + 0.5 (+ small noise): a dense(1) model must learn it. */
typedef struct lin_data {
    float *x, *y;
    size_t n;
    sn_dataset ds;
} lin_data;

static void lin_make(lin_data *d, size_t n, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    d->n = n;
    d->x = malloc(n * 2 * sizeof(float));
    d->y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        d->x[2 * i] = (float)sn_rng_normal(&r);
        d->x[2 * i + 1] = (float)sn_rng_normal(&r);
        d->y[i] = 2 * d->x[2 * i] - 3 * d->x[2 * i + 1] + 0.5f + 0.01f * (float)sn_rng_normal(&r);
    }
    sn_dataset_from_arrays(&d->ds, d->x, d->y, n, 2, 1);
}

static void lin_free(lin_data *d) {
    sn_dataset_free(&d->ds);
    free(d->x);
    free(d->y);
}

static sn_model *compiled(const char *spec, uint64_t seed, sn_opt_kind k, double lr) {
    sn_model *m = make(spec, 1, 2, 0, seed);
    if (!m) return NULL;
    sn_optimizer_cfg c;
    sn_optimizer_cfg_default(&c, k);
    c.lr = lr;
    sn_metric_kind mk = SN_METRIC_MAE;
    if (sn_model_compile(m, &c, SN_LOSS_MSE, &mk, 1)) {
        sn_model_free(m);
        return NULL;
    }
    return m;
}

TEST(fit_learns_a_linear_map_and_evaluate_agrees) {
    lin_data tr, va;
    lin_make(&tr, 512, 1);
    lin_make(&va, 128, 2);
    sn_model *m = compiled("dense(1)", 3, SN_OPT_ADAM, 0.05);
    CHECK(m);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 40;
    fo.batch_size = 32;
    fo.val = &va.ds;
    sn_history h = {0};
    CHECK_OK(sn_model_fit(m, &tr.ds, &fo, &h));
    CHECK(h.epochs == 40 && h.n_keys == 4);
    double first = h.val[0], last = h.val[(size_t)39 * SN_LOGS_MAX];
    CHECK_MSG(last < first * 0.01, "loss %g -> %g", first, last);
    sn_logs ev;
    CHECK_OK(sn_model_evaluate(m, &va.ds, 50, &ev));
    CHECK_CLOSE(sn_logs_get(&ev, "loss"), h.val[(size_t)39 * SN_LOGS_MAX + 2], 1e-6, 1e-4);
    CHECK(sn_logs_get(&ev, "mae") < 0.05);
    size_t n;
    float *k = sn_model_tensor(m, "dense", "kernel", &n);
    CHECK(k && n == 2);
    CHECK_CLOSE(k[0], 2.0, 0.05, 0);
    CHECK_CLOSE(k[1], -3.0, 0.05, 0);
    /* Predict matches y within the noise. */
    float *p = malloc(va.n * sizeof(float));
    CHECK_OK(sn_model_predict(m, &va.ds, 7, p));
    double err = 0;
    for (size_t i = 0; i < va.n; i++) err += fabs(p[i] - va.y[i]);
    CHECK(err / va.n < 0.05);
    free(p);
    sn_history_free(&h);
    sn_model_free(m);
    lin_free(&tr);
    lin_free(&va);
}

TEST(save_load_gives_bit_identical_predictions) {
    lin_data d;
    lin_make(&d, 64, 5);
    sn_model *m = make("dense(8, activation=tanh), dropout(0.3), dense(1)", 1, 2, 0, 11);
    CHECK(m);
    sn_optimizer_cfg c;
    sn_optimizer_cfg_default(&c, SN_OPT_RMSPROP);
    CHECK_OK(sn_model_compile(m, &c, SN_LOSS_MSE, NULL, 0));
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 2;
    CHECK_OK(sn_model_fit(m, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_set_meta(m, "note", "hello", 5));
    char path[512];
    snprintf(path, sizeof path, "%s/m.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    sn_model *m2 = NULL;
    CHECK_OK(sn_model_load(&m2, path));
    CHECK(!strcmp(sn_model_spec(m), sn_model_spec(m2)));
    float *p1 = malloc(64 * sizeof(float)), *p2 = malloc(64 * sizeof(float));
    CHECK_OK(sn_model_predict(m, &d.ds, 16, p1));
    CHECK_OK(sn_model_predict(m2, &d.ds, 16, p2));
    CHECK(memcmp(p1, p2, 64 * sizeof(float)) == 0);
    size_t n;
    const char *meta = sn_model_get_meta(m2, "note", &n);
    CHECK(meta && n == 5 && !memcmp(meta, "hello", 5));
    /* Training continues identically from the loaded optimizer state. */
    CHECK_OK(sn_model_fit(m, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_fit(m2, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_predict(m, &d.ds, 16, p1));
    CHECK_OK(sn_model_predict(m2, &d.ds, 16, p2));
    CHECK(memcmp(p1, p2, 64 * sizeof(float)) == 0);
    free(p1);
    free(p2);
    sn_model_free(m);
    sn_model_free(m2);
    lin_free(&d);
}

static int write_bytes(const char *path, const void *d, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t w = fwrite(d, 1, n, fp);
    fclose(fp);
    return w == n ? 0 : -1;
}

TEST(corrupt_model_files_are_rejected_with_a_reason) {
    sn_model *m = make("dense(4), dense(1)", 1, 3, 0, 1);
    CHECK(m);
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/ok.seqnn", sn_test_tmpdir());
    snprintf(bad, sizeof bad, "%s/bad.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    FILE *fp = fopen(path, "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    CHECK(n > 100 && n < sizeof buf);
    sn_model *x = NULL;
    /* flipped byte in a payload → CRC */
    unsigned char c[4096];
    memcpy(c, buf, n);
    c[n - 10] ^= 0x55;
    CHECK(write_bytes(bad, c, n) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT && !x);
    CHECK(strstr(sn_error_last(), "bad.seqnn") && strstr(sn_error_last(), "CRC"));
    /* truncated */
    CHECK(write_bytes(bad, buf, n / 2) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT);
    CHECK(strstr(sn_error_last(), "claims") || strstr(sn_error_last(), "truncated"));
    /* wrong magic */
    memcpy(c, buf, n);
    c[0] = 'X';
    CHECK(write_bytes(bad, c, n) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT && strstr(sn_error_last(), "magic"));
    /* future version */
    memcpy(c, buf, n);
    c[8] = 99;
    CHECK(write_bytes(bad, c, n) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT && strstr(sn_error_last(), "version 99"));
    /* a section claiming 2^40 bytes must not allocate */
    memcpy(c, buf, n);
    uint64_t huge = (uint64_t)1 << 40;
    memcpy(c + 20, &huge, 8);
    CHECK(write_bytes(bad, c, n) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT && strstr(sn_error_last(), "claims"));
    /* empty file, missing file */
    CHECK(write_bytes(bad, "", 0) == 0);
    CHECK(sn_model_load(&x, bad) == SN_ERR_FORMAT);
    CHECK(sn_model_load(&x, "/nonexistent/model.seqnn") == SN_ERR_IO);
    /* the good file still loads after all that */
    CHECK_OK(sn_model_load(&x, path));
    sn_model_free(x);
    sn_model_free(m);
}

TEST(checkpoint_saves_only_improvements_and_early_stopping_restores_best) {
    lin_data tr, va;
    lin_make(&tr, 256, 7);
    lin_make(&va, 64, 8);
    sn_model *m = compiled("dense(1)", 4, SN_OPT_SGD, 0.05);
    CHECK(m);
    char ck[512];
    snprintf(ck, sizeof ck, "%s/best.seqnn", sn_test_tmpdir());
    unlink(ck);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 15;
    fo.val = &va.ds;
    fo.checkpoint_path = ck;
    fo.save_best_only = 1;
    fo.early_stopping_patience = 2;
    fo.restore_best_weights = 1;
    sn_history h = {0};
    CHECK_OK(sn_model_fit(m, &tr.ds, &fo, &h));
    /* the checkpoint holds the best val_loss epoch: evaluating it reproduces that value */
    double best = 1e30;
    for (int e = 0; e < h.epochs; e++) best = fmin(best, h.val[(size_t)e * SN_LOGS_MAX + 2]);
    sn_model *b = NULL;
    CHECK_OK(sn_model_load(&b, ck));
    sn_logs ev;
    CHECK_OK(sn_model_evaluate(b, &va.ds, 32, &ev));
    CHECK_CLOSE(sn_logs_get(&ev, "loss"), best, 1e-7, 1e-4);
    /* restore_best_weights: the model ends with the best weights too */
    CHECK_OK(sn_model_evaluate(m, &va.ds, 32, &ev));
    CHECK_CLOSE(sn_logs_get(&ev, "loss"), best, 1e-7, 1e-4);
    sn_model_free(b);
    sn_history_free(&h);
    sn_model_free(m);
    lin_free(&tr);
    lin_free(&va);
}

TEST(nan_input_and_nan_loss_stop_with_epoch_and_step) {
    lin_data d;
    lin_make(&d, 64, 9);
    sn_model *m = compiled("dense(1)", 1, SN_OPT_SGD, 0.01);
    CHECK(m);
    d.x[2 * 40 + 1] = NAN;
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.shuffle = 0;
    fo.batch_size = 16;
    CHECK(sn_model_fit(m, &d.ds, &fo, NULL) == SN_ERR_NUMERIC);
    CHECK(strstr(sn_error_last(), "epoch 1 step 3"));
    d.x[2 * 40 + 1] = 0;
    /* an exploding learning rate gives an Inf/NaN loss */
    sn_model_free(m);
    m = compiled("dense(1)", 1, SN_OPT_SGD, 1e30);
    fo.epochs = 5;
    sn_status st = sn_model_fit(m, &d.ds, &fo, NULL);
    CHECK(st == SN_ERR_NUMERIC);
    CHECK(strstr(sn_error_last(), "epoch") && strstr(sn_error_last(), "step"));
    sn_model_free(m);
    lin_free(&d);
}

TEST(resume_continues_to_the_same_result) {
    lin_data d;
    lin_make(&d, 200, 12);
    char rs[512];
    snprintf(rs, sizeof rs, "%s/resume.state", sn_test_tmpdir());
    unlink(rs);
    const char *spec = "dense(6, activation=relu), dropout(0.2), dense(1)";
    /* uninterrupted 6 epochs */
    sn_model *a = compiled(spec, 21, SN_OPT_ADAM, 0.01);
    CHECK(a);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 6;
    fo.seed = 5;
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    /* 3 epochs with a resume file, then a fresh process-like model resumes to 6 */
    sn_model *b = compiled(spec, 21, SN_OPT_ADAM, 0.01);
    fo.epochs = 3;
    fo.resume_path = rs;
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    sn_model_free(b);
    sn_model *c = compiled(spec, 999, SN_OPT_ADAM, 0.01); /* different init: resume must overwrite it */
    fo.epochs = 6;
    fo.resume = 1;
    sn_history h = {0};
    CHECK_OK(sn_model_fit(c, &d.ds, &fo, &h));
    CHECK(h.epochs == 6);
    size_t n1, n2;
    float *wa = sn_model_tensor(a, "dense", "kernel", &n1), *wc = sn_model_tensor(c, "dense", "kernel", &n2);
    CHECK(n1 == n2 && memcmp(wa, wc, n1 * sizeof(float)) == 0);
    sn_history_free(&h);
    sn_model_free(a);
    sn_model_free(c);
    lin_free(&d);
}

static void train_once(int threads, sn_gemm_backend be, float *out, size_t n) {
    sn_threads_set(threads);
    sn_gemm_set_backend(be);
    lin_data d;
    lin_make(&d, 300, 3);
    sn_model *m = compiled("dense(32, activation=tanh), dense(16, activation=relu), dense(1)", 8, SN_OPT_RMSPROP, 1e-3);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 3;
    fo.batch_size = 64;
    if (m && sn_model_fit(m, &d.ds, &fo, NULL) == SN_OK) {
        size_t k;
        float *w = sn_model_tensor(m, "dense", "kernel", &k);
        memcpy(out, w, n * sizeof(float));
    }
    sn_model_free(m);
    lin_free(&d);
    sn_gemm_set_backend(SN_GEMM_BLAS);
}

TEST(training_is_identical_for_1_and_2_threads_and_close_across_gemm_backends) {
    float a[64], b[64], c[64];
    int old = sn_threads_get();
    train_once(1, SN_GEMM_BLAS, a, 64);
    train_once(2, SN_GEMM_BLAS, b, 64);
    train_once(1, SN_GEMM_PORTABLE, c, 64);
    sn_threads_set(old);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(sn_test_max_relerr(c, a, 64, 1e-2) < 1e-4);
}

TEST(history_is_written_as_csv_and_json) {
    sn_history h = {0};
    lin_data d;
    lin_make(&d, 32, 1);
    sn_model *m = compiled("dense(1)", 1, SN_OPT_SGD, 0.01);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 2;
    CHECK_OK(sn_model_fit(m, &d.ds, &fo, &h));
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/h.csv", sn_test_tmpdir());
    snprintf(p2, sizeof p2, "%s/h.json", sn_test_tmpdir());
    CHECK_OK(sn_history_write_csv(&h, p1));
    CHECK_OK(sn_history_write_json(&h, p2));
    char buf[1024] = {0};
    FILE *fp = fopen(p1, "r");
    CHECK(fp && fread(buf, 1, sizeof buf - 1, fp) > 0);
    fclose(fp);
    CHECK(!strncmp(buf, "epoch,loss,mae,seconds\n1,", 25));
    memset(buf, 0, sizeof buf);
    fp = fopen(p2, "r");
    CHECK(fp && fread(buf, 1, sizeof buf - 1, fp) > 0);
    fclose(fp);
    CHECK(strstr(buf, "\"loss\": [") && strstr(buf, "\"mae\": ["));
    sn_history_free(&h);
    sn_model_free(m);
    lin_free(&d);
}

/* SIGINT / SIGTERM path: the stop flag (set here from the progress callback
 * in the middle of an epoch) finishes the step, saves the state and returns
 * SN_ERR_INTERRUPTED; resuming gives exactly the uninterrupted result. */
typedef struct stop_at {
    volatile sig_atomic_t flag;
    int epoch, step;
} stop_at;

static void stop_cb(const sn_progress *p, void *user) {
    stop_at *s = user;
    if (p->epoch == s->epoch && p->step == s->step) s->flag = 1;
}

TEST(interrupt_mid_epoch_saves_state_and_resume_matches) {
    lin_data d;
    lin_make(&d, 300, 13);
    char rs[512];
    snprintf(rs, sizeof rs, "%s/interrupt.state", sn_test_tmpdir());
    unlink(rs);
    const char *spec = "dense(6, activation=tanh), dropout(0.25), dense(1)";
    sn_model *a = compiled(spec, 5, SN_OPT_RMSPROP, 0.01);
    CHECK(a);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 4;
    fo.batch_size = 16;
    fo.seed = 9;
    sn_history ha = {0};
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, &ha));
    sn_model *b = compiled(spec, 5, SN_OPT_RMSPROP, 0.01);
    stop_at sa = {0, 3, 7};
    fo.resume_path = rs;
    fo.stop_flag = &sa.flag;
    fo.progress = stop_cb;
    fo.user = &sa;
    sn_history hb = {0};
    CHECK(sn_model_fit(b, &d.ds, &fo, &hb) == SN_ERR_INTERRUPTED);
    CHECK(strstr(sn_error_last(), "epoch 3 step 7") && strstr(sn_error_last(), "state saved"));
    sn_model_free(b);
    sn_history_free(&hb);
    sn_model *c = compiled(spec, 77, SN_OPT_RMSPROP, 0.01);
    sa.flag = 0;
    sa.epoch = -1;
    fo.resume = 1;
    CHECK_OK(sn_model_fit(c, &d.ds, &fo, &hb));
    CHECK(hb.epochs == 4);
    for (int e = 0; e < 4; e++)
        for (int k = 0; k < ha.n_keys; k++)
            CHECK_MSG(ha.val[(size_t)e * SN_LOGS_MAX + k] == hb.val[(size_t)e * SN_LOGS_MAX + k], "epoch %d %s: %.9g vs %.9g",
                      e + 1, ha.key[k], ha.val[(size_t)e * SN_LOGS_MAX + k], hb.val[(size_t)e * SN_LOGS_MAX + k]);
    size_t n1, n2;
    float *wa = sn_model_tensor(a, "dense_1", "kernel", &n1), *wc = sn_model_tensor(c, "dense_1", "kernel", &n2);
    CHECK(n1 == n2 && memcmp(wa, wc, n1 * sizeof(float)) == 0);
    sn_history_free(&ha);
    sn_history_free(&hb);
    sn_model_free(a);
    sn_model_free(c);
    lin_free(&d);
}

/* ---- Model files taken apart and put back together (docs/format.md), for
 * tests that need a file the writer would never produce. ---- */
#define MF_MAX 32
typedef struct mf_sec {
    char tag[5];
    unsigned char *p; /* payload (malloc'd) */
    size_t n;
} mf_sec;
typedef struct mf_file {
    unsigned char head[16];
    mf_sec s[MF_MAX];
    int n;
} mf_file;

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Reads a well-formed file into f (0 on success). */
static int mf_read(const char *path, mf_file *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    int bad = fread(f->head, 1, 16, fp) != 16;
    uint32_t count = bad ? 0 : le32(f->head + 12);
    for (uint32_t i = 0; i < count && !bad && i < MF_MAX; i++) {
        unsigned char h[12], crc[4];
        mf_sec *s = &f->s[f->n];
        bad = fread(h, 1, 12, fp) != 12;
        if (bad) break;
        memcpy(s->tag, h, 4);
        s->n = (size_t)le64(h + 4);
        s->p = malloc(s->n ? s->n : 1);
        bad = !s->p || fread(s->p, 1, s->n, fp) != s->n || fread(crc, 1, 4, fp) != 4;
        f->n++;
    }
    fclose(fp);
    return bad ? -1 : 0;
}

/* Writes f with fresh lengths, count and CRCs (0 on success). */
static int mf_write(const char *path, const mf_file *f) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    unsigned char head[16];
    memcpy(head, f->head, 16);
    put_le32(head + 12, (uint32_t)f->n);
    int bad = fwrite(head, 1, 16, fp) != 16;
    for (int i = 0; i < f->n && !bad; i++) {
        unsigned char h[12], crc[4];
        memcpy(h, f->s[i].tag, 4);
        put_le64(h + 4, f->s[i].n);
        put_le32(crc, (uint32_t)crc32(0L, f->s[i].p, (uInt)f->s[i].n));
        bad = fwrite(h, 1, 12, fp) != 12 || fwrite(f->s[i].p, 1, f->s[i].n, fp) != f->s[i].n ||
              fwrite(crc, 1, 4, fp) != 4;
    }
    return (fclose(fp) != 0 || bad) ? -1 : 0;
}

static mf_sec *mf_find(mf_file *f, const char *tag) {
    for (int i = 0; i < f->n; i++)
        if (!memcmp(f->s[i].tag, tag, 4)) return &f->s[i];
    return NULL;
}

static void mf_drop(mf_file *f, const char *tag) {
    for (int i = 0; i < f->n; i++)
        if (!memcmp(f->s[i].tag, tag, 4)) {
            free(f->s[i].p);
            memmove(&f->s[i], &f->s[i + 1], (size_t)(f->n - i - 1) * sizeof f->s[0]);
            f->n--;
            return;
        }
}

static void mf_free(mf_file *f) {
    for (int i = 0; i < f->n; i++) free(f->s[i].p);
    f->n = 0;
}

/* Byte spans of the records of a TENS payload: rec[i] = {offset, length}. */
static int tens_records(const mf_sec *t, size_t rec[][2], int max) {
    uint32_t nt = le32(t->p);
    size_t off = 4;
    int k = 0;
    for (uint32_t i = 0; i < nt && k < max; i++) {
        size_t a = off;
        off += 4 + le32(t->p + off);          /* layer name */
        off += 4 + le32(t->p + off);          /* tensor name */
        uint32_t rank = le32(t->p + off);
        off += 4 + 4 * (size_t)rank + 8 + 4 * (size_t)le64(t->p + off + 4 + 4 * (size_t)rank);
        rec[k][0] = a;
        rec[k][1] = off - a;
        k++;
    }
    return k;
}

/* Replaces the TENS payload by the records order[0..n) of the original. */
static void tens_rebuild(mf_sec *t, const int *order, int n) {
    size_t rec[16][2];
    tens_records(t, rec, 16);
    size_t len = 4;
    for (int i = 0; i < n; i++) len += rec[order[i]][1];
    unsigned char *p = malloc(len);
    put_le32(p, (uint32_t)n);
    size_t off = 4;
    for (int i = 0; i < n; i++) {
        memcpy(p + off, t->p + rec[order[i]][0], rec[order[i]][1]);
        off += rec[order[i]][1];
    }
    free(t->p);
    t->p = p;
    t->n = len;
}

/* Issue 9: the loader counted TENS entries instead of distinct tensors, so
 * a file holding one tensor twice and another not at all loaded with the
 * missing tensor left at zero. Each tensor must appear exactly once. */
TEST(model_file_with_a_duplicate_or_missing_tensor_is_rejected_naming_it) {
    sn_model *m = make("dense(2), dense(1)", 1, 3, 0, 1);
    CHECK(m);
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/tens.seqnn", sn_test_tmpdir());
    snprintf(bad, sizeof bad, "%s/tens_bad.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    sn_model_free(m);
    mf_file f;
    /* records: dense/kernel, dense/bias, dense_1/kernel, dense_1/bias */
    const int dup_for_missing[] = {0, 1, 2, 1}; /* the right count: dense/bias twice, dense_1/bias missing */
    const int dup_extra[] = {0, 1, 2, 3, 2};    /* all present, dense_1/kernel twice */
    const int missing[] = {0, 1, 2};            /* dense_1/bias missing */
    const int *cases[] = {dup_for_missing, dup_extra, missing};
    const int n_rec[] = {4, 5, 3};
    const char *want[] = {"tensor dense/bias appears twice", "tensor dense_1/kernel appears twice",
                          "tensor dense_1/bias is missing"};
    for (int c = 0; c < 3; c++) {
        CHECK(mf_read(path, &f) == 0);
        mf_sec *t = mf_find(&f, "TENS");
        CHECK(t);
        size_t rec[16][2];
        CHECK(tens_records(t, rec, 16) == 4);
        tens_rebuild(t, cases[c], n_rec[c]);
        CHECK(mf_write(bad, &f) == 0);
        mf_free(&f);
        sn_model *x = NULL;
        CHECK_MSG(sn_model_load(&x, bad) == SN_ERR_FORMAT && !x, "case %d loaded", c);
        CHECK_MSG(strstr(sn_error_last(), want[c]) && strstr(sn_error_last(), "tens_bad.seqnn"), "case %d: %s", c,
                  sn_error_last());
    }
    /* the rewriter itself is faithful: the records in their own order load */
    CHECK(mf_read(path, &f) == 0);
    const int same[] = {0, 1, 2, 3};
    tens_rebuild(mf_find(&f, "TENS"), same, 4);
    CHECK(mf_write(bad, &f) == 0);
    mf_free(&f);
    sn_model *x = NULL;
    CHECK_OK(sn_model_load(&x, bad));
    sn_model_free(x);
}

/* Appends a little-endian u32 / u64 / length-prefixed string to buf at *n. */
static void gb_u32(unsigned char *buf, size_t *n, uint32_t v) {
    put_le32(buf + *n, v);
    *n += 4;
}
static void gb_u64(unsigned char *buf, size_t *n, uint64_t v) {
    put_le64(buf + *n, v);
    *n += 8;
}
static void gb_str(unsigned char *buf, size_t *n, const char *s) {
    gb_u32(buf, n, (uint32_t)strlen(s));
    memcpy(buf + *n, s, strlen(s));
    *n += strlen(s);
}

/* Issue 9: the writer stored host byte order although the format says
 * little-endian. The header, ARCH and TENS of a small model are rebuilt here
 * byte by byte from docs/format.md (shifts, not memcpy of host integers) and
 * must equal the file. (On this little-endian machine host order and the
 * format agree, so this guards the layout; the byte-wise writer is what
 * keeps it on a big-endian host.) */
TEST(model_file_bytes_follow_the_documented_little_endian_layout) {
    sn_model *m = make("dense(1)", 1, 2, 0, 0x0102030405060708ULL);
    CHECK(m);
    char path[512];
    snprintf(path, sizeof path, "%s/golden.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    mf_file f;
    CHECK(mf_read(path, &f) == 0);
    CHECK(!memcmp(f.head, "SNMODEL\0\1\0\0\0", 12) && le32(f.head + 12) == (uint32_t)f.n);
    unsigned char want[256];
    size_t n = 0;
    gb_u32(want, &n, 1);               /* input rank */
    gb_u32(want, &n, 2);               /* input shape */
    gb_u32(want, &n, 0);
    gb_u32(want, &n, 0);
    gb_u32(want, &n, 0);               /* dense input */
    gb_u64(want, &n, 0x0102030405060708ULL);
    gb_u32(want, &n, 1);               /* layers */
    gb_u32(want, &n, 1);               /* trainable */
    gb_str(want, &n, sn_model_spec(m));
    mf_sec *a = mf_find(&f, "ARCH");
    CHECK(a && a->n == n && !memcmp(a->p, want, n));
    size_t nk, nb;
    const float *k = sn_model_tensor(m, "dense", "kernel", &nk), *b = sn_model_tensor(m, "dense", "bias", &nb);
    CHECK(k && b && nk == 2 && nb == 1);
    n = 0;
    gb_u32(want, &n, 2);               /* records */
    gb_str(want, &n, "dense");
    gb_str(want, &n, "kernel");
    gb_u32(want, &n, 2);
    gb_u32(want, &n, 2);
    gb_u32(want, &n, 1);
    gb_u64(want, &n, 2);
    for (int i = 0; i < 2; i++) {
        uint32_t u;
        memcpy(&u, &k[i], 4);
        gb_u32(want, &n, u);
    }
    gb_str(want, &n, "dense");
    gb_str(want, &n, "bias");
    gb_u32(want, &n, 1);
    gb_u32(want, &n, 1);
    gb_u64(want, &n, 1);
    gb_u32(want, &n, 0);               /* zero bias */
    mf_sec *t = mf_find(&f, "TENS");
    CHECK(t && t->n == n && !memcmp(t->p, want, n));
    /* the file's CRCs are zlib's CRC-32 of each payload (mf_write recomputes
     * them: the rewritten file must be byte-identical) */
    char again[512];
    snprintf(again, sizeof again, "%s/golden2.seqnn", sn_test_tmpdir());
    CHECK(mf_write(again, &f) == 0);
    mf_free(&f);
    FILE *p1 = fopen(path, "rb"), *p2 = fopen(again, "rb");
    CHECK(p1 && p2);
    int c1, c2, same = 1;
    do {
        c1 = fgetc(p1);
        c2 = fgetc(p2);
        same &= c1 == c2;
    } while (c1 != EOF && c2 != EOF);
    fclose(p1);
    fclose(p2);
    CHECK(same);
    sn_model_free(m);
}

/* A file whose version word reads byte-swapped was written in big-endian
 * host order by a build that stored host order: refused, saying so. */
TEST(big_endian_model_file_is_refused_naming_the_byte_order) {
    sn_model *m = make("dense(1)", 1, 2, 0, 1);
    CHECK(m);
    char path[512];
    snprintf(path, sizeof path, "%s/be.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    sn_model_free(m);
    mf_file f;
    CHECK(mf_read(path, &f) == 0);
    memcpy(f.head + 8, "\0\0\0\1", 4); /* version 1 stored big-endian */
    CHECK(mf_write(path, &f) == 0);
    mf_free(&f);
    sn_model *x = NULL;
    CHECK(sn_model_load(&x, path) == SN_ERR_FORMAT && !x);
    CHECK_MSG(strstr(sn_error_last(), "be.seqnn") && strstr(sn_error_last(), "big-endian"), "%s", sn_error_last());
}

/* Issue 9: section CRCs were computed over (uInt)len, the length cut to 32
 * bits: a section of 4 GiB + 16 bytes was checked over its first 16 bytes.
 * The checksum of 2^32 + 16 zero bytes (pages of an untouched read-only
 * mapping: no memory is committed) must be the CRC of the whole run, which
 * the reference builds without long calls: crc32_combine doubles a block of
 * zeros 28 times from 16 bytes (16 * 2^28 = 2^32), then appends 16 more. */
TEST(section_crc_covers_lengths_beyond_4_gib) {
    if (sizeof(size_t) < 8) SKIP("needs a 64-bit size_t");
    const size_t n = ((size_t)1 << 32) + 16;
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) SKIP("cannot map 4 GiB of address space");
    unsigned char z[16] = {0};
    uLong c16 = crc32(0L, z, 16), c = c16;
    z_off_t len = 16;
    for (int i = 0; i < 28; i++) {
        c = crc32_combine(c, c, len);
        len *= 2;
    }
    uLong want = crc32_combine(c, c16, 16);
    uint32_t got = sn_file_crc32(p, n);
    munmap(p, n);
    CHECK_MSG(got == (uint32_t)want, "crc %08x, want %08x", got, (unsigned)want);
    CHECK(got != (uint32_t)c16); /* what a 32-bit length would give */
}

/* Issue 9: a layer given `seed=` draws its dropout masks from its own
 * stream, which the model and resume files did not save: a loaded or
 * resumed model restarted the stream at its seed, so the continuation
 * differed from an uninterrupted run. */
static const char *g_seeded = "dense(8, activation=tanh), dropout(0.5, seed=3), dense(1)";

static int same_weights(sn_model *a, sn_model *b) {
    const char *names[][2] = {{"dense", "kernel"}, {"dense", "bias"}, {"dense_1", "kernel"}, {"dense_1", "bias"}};
    for (int i = 0; i < 4; i++) {
        size_t n1, n2;
        const float *wa = sn_model_tensor(a, names[i][0], names[i][1], &n1);
        const float *wb = sn_model_tensor(b, names[i][0], names[i][1], &n2);
        if (!wa || !wb || n1 != n2 || memcmp(wa, wb, n1 * sizeof(float))) return 0;
    }
    return 1;
}

TEST(seeded_dropout_resume_continues_its_stream_bit_for_bit) {
    lin_data d;
    lin_make(&d, 96, 31);
    char rs[512];
    snprintf(rs, sizeof rs, "%s/seeded.state", sn_test_tmpdir());
    unlink(rs);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.batch_size = 16;
    fo.seed = 4;
    /* two epochs in one go */
    sn_model *a = compiled(g_seeded, 17, SN_OPT_ADAM, 0.01);
    CHECK(a);
    fo.epochs = 2;
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    /* one epoch with a resume file, then a new model resumes to two */
    sn_model *b = compiled(g_seeded, 17, SN_OPT_ADAM, 0.01);
    fo.epochs = 1;
    fo.resume_path = rs;
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    sn_model_free(b);
    sn_model *c = compiled(g_seeded, 17, SN_OPT_ADAM, 0.01);
    fo.epochs = 2;
    fo.resume = 1;
    CHECK_OK(sn_model_fit(c, &d.ds, &fo, NULL));
    CHECK(same_weights(a, c));
    /* the masks really come from the layer's stream: another seed differs */
    sn_model *e = NULL;
    sn_model_opts mo = {1, {2, 0, 0}, 0, 17};
    CHECK_OK(sn_model_init(&e, "dense(8, activation=tanh), dropout(0.5, seed=4), dense(1)", &mo));
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_ADAM);
    oc.lr = 0.01;
    CHECK_OK(sn_model_compile(e, &oc, SN_LOSS_MSE, NULL, 0));
    fo.resume = 0;
    fo.resume_path = NULL;
    CHECK_OK(sn_model_fit(e, &d.ds, &fo, NULL));
    size_t n;
    CHECK(memcmp(sn_model_tensor(a, "dense", "kernel", &n), sn_model_tensor(e, "dense", "kernel", &n),
                 16 * sizeof(float)) != 0);
    sn_model_free(a);
    sn_model_free(c);
    sn_model_free(e);
    lin_free(&d);
}

TEST(seeded_dropout_save_load_continues_its_stream_bit_for_bit) {
    lin_data d;
    lin_make(&d, 96, 32);
    char path[512];
    snprintf(path, sizeof path, "%s/seeded.seqnn", sn_test_tmpdir());
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.batch_size = 16;
    /* a: one epoch, then one more in memory */
    sn_model *a = compiled(g_seeded, 5, SN_OPT_RMSPROP, 0.01);
    CHECK(a);
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_save(a, path));
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    /* b: the saved file loaded, then the same one more epoch */
    sn_model *b = NULL;
    CHECK_OK(sn_model_load(&b, path));
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    CHECK(same_weights(a, b));
    sn_model_free(a);
    sn_model_free(b);
    lin_free(&d);
}

/* A file without the LRNG section (written before it existed) loads, with
 * the layers' streams as their seed configures them: a model saved before
 * any training (streams at their seeds) continues the same with or without
 * the section. */
TEST(model_file_without_layer_streams_loads_with_streams_as_configured) {
    lin_data d;
    lin_make(&d, 64, 33);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/streams.seqnn", sn_test_tmpdir());
    snprintf(p2, sizeof p2, "%s/nostreams.seqnn", sn_test_tmpdir());
    sn_model *m = compiled(g_seeded, 9, SN_OPT_SGD, 0.05);
    CHECK(m);
    CHECK_OK(sn_model_save(m, p1));
    mf_file f;
    CHECK(mf_read(p1, &f) == 0);
    CHECK(mf_find(&f, "LRNG"));
    mf_drop(&f, "LRNG");
    CHECK(!mf_find(&f, "LRNG"));
    CHECK(mf_write(p2, &f) == 0);
    mf_free(&f);
    sn_model *a = NULL, *b = NULL;
    CHECK_OK(sn_model_load(&a, p1));
    CHECK_OK(sn_model_load(&b, p2));
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.batch_size = 16;
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_fit(m, &d.ds, &fo, NULL));
    CHECK(same_weights(a, b) && same_weights(a, m));
    /* a model without seeded layers writes no LRNG section at all */
    sn_model *u = compiled("dense(2), dropout(0.5), dense(1)", 9, SN_OPT_SGD, 0.05);
    CHECK(u);
    CHECK_OK(sn_model_save(u, p1));
    CHECK(mf_read(p1, &f) == 0);
    CHECK(!mf_find(&f, "LRNG"));
    mf_free(&f);
    sn_model_free(u);
    sn_model_free(a);
    sn_model_free(b);
    sn_model_free(m);
    lin_free(&d);
}

/* model.h (issue 9): an sn_model must not be shared between threads, but
 * distinct models may run in distinct threads at once. Two threads each
 * train their own model on their own data; each result must equal the same
 * training run alone, bit for bit. */
typedef struct train_job {
    uint64_t seed;
    float w[16];
    sn_status st;
} train_job;

static void *train_job_run(void *arg) {
    train_job *j = arg;
    lin_data d;
    lin_make(&d, 128, j->seed);
    sn_model *m = compiled("dense(8, activation=tanh), dropout(0.25), dense(1)", j->seed, SN_OPT_ADAM, 0.01);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 3;
    fo.batch_size = 16;
    j->st = m ? sn_model_fit(m, &d.ds, &fo, NULL) : SN_ERR_NOMEM;
    size_t n;
    const float *w = m ? sn_model_tensor(m, "dense", "kernel", &n) : NULL;
    if (w) memcpy(j->w, w, sizeof j->w);
    sn_model_free(m);
    lin_free(&d);
    return NULL;
}

TEST(distinct_models_train_in_parallel_threads_as_they_do_alone) {
    train_job alone[2] = {{41, {0}, 0}, {42, {0}, 0}}, par[2] = {{41, {0}, 0}, {42, {0}, 0}};
    for (int i = 0; i < 2; i++) train_job_run(&alone[i]);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, train_job_run, &par[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        CHECK(alone[i].st == SN_OK && par[i].st == SN_OK);
        CHECK_MSG(!memcmp(alone[i].w, par[i].w, sizeof par[i].w), "model %d differs when trained beside another", i);
    }
    CHECK(memcmp(alone[0].w, alone[1].w, sizeof alone[0].w) != 0);
}

/* A compile that fails (here: a negative learning rate) leaves the model
 * as it was: compiled with its previous optimizer, loss and metrics, so the
 * next fit trains exactly as if the bad call had not happened. (It used to
 * free the optimizer first and leave the model marked compiled with none.) */
TEST(failed_recompile_keeps_the_previous_compile) {
    lin_data d;
    lin_make(&d, 64, 51);
    sn_model *a = compiled("dense(1)", 3, SN_OPT_ADAM, 0.01), *b = compiled("dense(1)", 3, SN_OPT_ADAM, 0.01);
    CHECK(a && b);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    sn_optimizer_cfg bad;
    sn_optimizer_cfg_default(&bad, SN_OPT_SGD);
    bad.lr = -1;
    sn_metric_kind mk = SN_METRIC_MSE;
    CHECK(sn_model_compile(b, &bad, SN_LOSS_MAE, &mk, 1) != SN_OK);
    CHECK_OK(sn_model_fit(a, &d.ds, &fo, NULL));
    CHECK_OK(sn_model_fit(b, &d.ds, &fo, NULL));
    size_t n;
    CHECK(!memcmp(sn_model_tensor(a, "dense", "kernel", &n), sn_model_tensor(b, "dense", "kernel", &n),
                  2 * sizeof(float)));
    sn_logs la, lb;
    CHECK_OK(sn_model_evaluate(a, &d.ds, 32, &la));
    CHECK_OK(sn_model_evaluate(b, &d.ds, 32, &lb));
    CHECK(la.n == lb.n && !strcmp(lb.key[1], "mae") && la.val[0] == lb.val[0]);
    sn_model_free(a);
    sn_model_free(b);
    lin_free(&d);
}

/* Denormals (issue 9): predict, evaluate and fit compute with denormals
 * flushed and hand the caller back its own mode, also inside the progress
 * callback. dense(1) with kernel 1e-20 and zero bias on input 1e-20: the
 * output 1e-40 is below FLT_MIN (a denormal result): 0 when flushed, kept
 * otherwise. */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
static void csr_cb(const sn_progress *p, void *user) {
    (void)p;
    *(unsigned *)user |= _mm_getcsr() & 0x8040u;
}

TEST(predict_and_fit_flush_denormals_and_restore_the_callers_mode) {
    int old = sn_denormals_get();
    unsigned csr0 = _mm_getcsr();
    _mm_setcsr(csr0 & ~0x8040u); /* caller: IEEE denormals */
    float x[4] = {1e-20f, 1e-20f, 1e-20f, 1e-20f}, y[2] = {0, 0}, out[2][2];
    sn_dataset ds;
    sn_dataset_from_arrays(&ds, x, y, 2, 2, 1);
    sn_model *m = compiled("dense(1)", 1, SN_OPT_SGD, 1e-3);
    CHECK(m);
    size_t n;
    float *k = sn_model_tensor(m, "dense", "kernel", &n);
    k[0] = 1e-20f;
    k[1] = 0.0f;
    sn_logs ev[2];
    for (int flush = 0; flush < 2; flush++) {
        sn_denormals_set(flush);
        CHECK_OK(sn_model_predict(m, &ds, 2, out[flush]));
        CHECK((_mm_getcsr() & 0x8040u) == 0);
        CHECK_OK(sn_model_evaluate(m, &ds, 2, &ev[flush]));
        CHECK((_mm_getcsr() & 0x8040u) == 0);
    }
    sn_denormals_set(1);
    unsigned seen = 0;
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = 2;
    fo.batch_size = 1;
    fo.progress = csr_cb;
    fo.user = &seen;
    CHECK_OK(sn_model_fit(m, &ds, &fo, NULL));
    unsigned after = _mm_getcsr() & 0x8040u;
    _mm_setcsr(csr0);
    sn_denormals_set(old);
    sn_model_free(m);
    sn_dataset_free(&ds);
    CHECK_MSG(out[0][0] > 0 && out[0][0] < 1.1755e-38f, "without flushing: %g", out[0][0]);
    CHECK_MSG(out[1][0] == 0.0f, "with flushing: %g", out[1][0]);
    /* mae metric of (1e-40 − 0) and of 0: 1e-40 as a double, or exactly 0 */
    CHECK(sn_logs_get(&ev[0], "mae") > 0 && sn_logs_get(&ev[1], "mae") == 0);
    CHECK_MSG(seen == 0, "progress callback ran with MXCSR flush bits %#x", seen);
    CHECK(after == 0);
}
#endif
