/* ParallelConv1D (Kim 2014's block): gradients by finite differences, the
 * forward against separate Conv1D layers with a max over time, the spec
 * round trip through a model file. */
#include <stdlib.h>
#include <string.h>
#include "layer_check.h"
#include "seqnn.h"
#include "test.h"

static sn_shape shp2(int T, int C) { return (sn_shape){2, {T, C, 0}, SN_REP_DENSE}; }

/* Gradient check of spec on (T, C) with B rows. */
static double gc(const char *spec, int T, int C, int B) {
    lc_layer t;
    sn_shape in = shp2(T, C);
    if (lc_create(&t, spec, &in, B, 5) != SN_OK) {
        fprintf(stderr, "    %s: %s\n", spec, sn_error_last());
        lc_free(&t);
        return 2.0;
    }
    size_t nx = (size_t)B * T * C;
    float *x = malloc(nx * sizeof *x);
    sn_rng r;
    sn_rng_seed(&r, 11);
    lc_random_input(x, nx, &r, 0);
    double e = lc_gradcheck(&t, x, NULL, 1, 3e-3);
    free(x);
    lc_free(&t);
    return e;
}

TEST(classify_parallel_conv1d_gradients) {
    /* h = 3e-3 as the Conv1D checks (float32 rounding of the loss over 2h
     * stays near 1e-3 relative); the max picks one step per filter, and with
     * these inputs no runner-up lies within the 2h the difference spans, so
     * the quotient sees a smooth function. The layer tests' GC_TOL of 1e-2
     * against O(1) for a wrong gradient. */
    const char *specs[] = {"parallelconv1d(3, kernel_sizes=(2, 3))", "parallelconv1d(2, kernel_sizes=(1, 3, 5), activation=tanh)",
                           "parallelconv1d(4, kernel_sizes=(4,), use_bias=false)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) CHECK_MSG(gc(specs[i], 7, 3, 2) < 1e-2, "%s", specs[i]);
}

TEST(classify_parallel_conv1d_is_conv_then_max_over_time) {
    enum { B = 3, T = 9, C = 4, F = 5 };
    sn_model_opts mo = {.input_rank = 2, .input_shape = {T, C}, .seed = 2};
    sn_model *m, *c3, *c5;
    CHECK_OK(sn_model_init(&m, "parallelconv1d(5, kernel_sizes=(3, 5), activation=relu)", &mo));
    CHECK(sn_model_output_numel(m) == 2 * F);
    CHECK_OK(sn_model_init(&c3, "conv1d(5, 3, activation=relu)", &mo));
    CHECK_OK(sn_model_init(&c5, "conv1d(5, 5, activation=relu)", &mo));
    size_t n;
    const char *names[2][2] = {{"conv1d_3/kernel", "conv1d_3/bias"}, {"conv1d_5/kernel", "conv1d_5/bias"}};
    sn_model *sub[2] = {c3, c5};
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 2; k++) {
            float *src = sn_model_tensor(m, sn_model_layer_name(m, 0), names[j][k], &n);
            size_t n2;
            float *dst = sn_model_tensor(sub[j], sn_model_layer_name(sub[j], 0), k ? "bias" : "kernel", &n2);
            CHECK(src && dst && n == n2);
            memcpy(dst, src, n * sizeof *src);
            if (k) /* non-zero biases so that they matter */
                for (size_t i = 0; i < n; i++) src[i] = dst[i] = 0.1f * (float)i - 0.2f;
        }
    float x[B * T * C], y[B * 2 * F], y3[B * 7 * F], y5[B * 5 * F];
    sn_rng r;
    sn_rng_seed(&r, 4);
    for (int i = 0; i < B * T * C; i++) x[i] = 2 * sn_rng_uniform(&r) - 1;
    sn_dataset d;
    CHECK_OK(sn_dataset_from_arrays(&d, x, NULL, B, T * C, 0));
    CHECK_OK(sn_model_predict(m, &d, B, y));
    CHECK_OK(sn_model_predict(c3, &d, B, y3));
    CHECK_OK(sn_model_predict(c5, &d, B, y5));
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++) {
            float m3 = y3[b * 7 * F + f], m5 = y5[b * 5 * F + f];
            for (int t = 1; t < 7; t++) m3 = fmaxf(m3, y3[(b * 7 + t) * F + f]);
            for (int t = 1; t < 5; t++) m5 = fmaxf(m5, y5[(b * 5 + t) * F + f]);
            /* the same Conv1D code on the same bits: identical */
            CHECK(y[b * 2 * F + f] == m3 && y[b * 2 * F + F + f] == m5);
        }
    /* the spec and weights survive a model file */
    char path[512];
    snprintf(path, sizeof path, "%s/pconv.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    sn_model *back;
    CHECK_OK(sn_model_load(&back, path));
    CHECK(!strcmp(sn_model_spec(back), sn_model_spec(m)));
    CHECK(strstr(sn_model_spec(m), "parallelconv1d(5, kernel_sizes=(3, 5), activation=relu)"));
    float yb[B * 2 * F];
    CHECK_OK(sn_model_predict(back, &d, B, yb));
    CHECK(!memcmp(y, yb, sizeof y));
    sn_dataset_free(&d);
    sn_model_free(back);
    sn_model_free(m);
    sn_model_free(c3);
    sn_model_free(c5);
    sn_model *bad;
    CHECK(sn_model_init(&bad, "parallelconv1d(5, kernel_sizes=(3, 12))", &mo) == SN_ERR_SHAPE);
    CHECK(sn_model_init(&bad, "parallelconv1d(5, kernel_sizes=(3, 3))", &mo) == SN_ERR_PARSE);
}
