/* The forecasting models' pieces: the DLinear layer (decomposition against
 * hand-computed values, gradients by finite differences) and the pinball
 * loss (values by hand, gradients by finite differences, quantile levels
 * saved with the model). */
#include <stdlib.h>

#include "layer_check.h"
#include "seqnn.h"
#include "test.h"

static sn_shape shp2(int t, int c) {
    sn_shape s = {2, {t, c, 0}, SN_REP_DENSE};
    return s;
}

TEST(forecast_dlinear_decomposes_with_replicate_padding) {
    /* T 5, two channels, kernel 3 (one value of padding each side):
     *   channel 0: 1, 2, 4, 8, 16 -> trend (1+1+2)/3, (1+2+4)/3, (2+4+8)/3, (4+8+16)/3, (8+16+16)/3
     *   channel 1: 3, 3, 3, 3, 3  -> trend 3 everywhere, remainder 0 */
    lc_layer t;
    sn_shape in = shp2(5, 2);
    CHECK_OK(lc_create(&t, "dlinear(5, kernel_size=3)", &in, 1, 1));
    CHECK(t.L->out.rank == 2 && t.L->out.d[0] == 5 && t.L->out.d[1] == 2 && t.L->n_params == 2 * (25 + 5));
    const float x[10] = {1, 3, 2, 3, 4, 3, 8, 3, 16, 3};
    const double trend[5] = {4.0 / 3, 7.0 / 3, 14.0 / 3, 28.0 / 3, 40.0 / 3};
    float y[10];
    /* identity trend map, zero remainder map, zero biases: y = trend */
    memset(t.w, 0, t.L->n_params * sizeof *t.w);
    for (int i = 0; i < 5; i++) t.w[i * 5 + i] = 1;
    lc_forward(&t, x, NULL, y, NULL, 0, 1, NULL);
    /* each trend value is a mean of 3 exact floats in double, rounded once */
    for (int u = 0; u < 5; u++) {
        CHECK_CLOSE(y[u * 2], trend[u], 0, 1e-6);
        CHECK_CLOSE(y[u * 2 + 1], 3.0, 0, 1e-6);
    }
    /* identity remainder map instead: y = x - trend, and biases add */
    memset(t.w, 0, t.L->n_params * sizeof *t.w);
    for (int i = 0; i < 5; i++) t.w[30 + i * 5 + i] = 1;
    t.w[25 + 2] = 0.5f;  /* trend_bias[2] */
    t.w[55 + 2] = 0.25f; /* remainder_bias[2] */
    lc_forward(&t, x, NULL, y, NULL, 0, 1, NULL);
    for (int u = 0; u < 5; u++) {
        double want = x[u * 2] - trend[u] + (u == 2 ? 0.75 : 0);
        CHECK_CLOSE(y[u * 2], want, 1e-5, 1e-6);
        CHECK_CLOSE(y[u * 2 + 1], u == 2 ? 0.75 : 0.0, 1e-6, 0);
    }
    lc_free(&t);
    CHECK(lc_create(&t, "dlinear(4, kernel_size=4)", &in, 1, 1) != SN_OK && strstr(sn_error_last(), "odd"));
    lc_free(&t);
}

TEST(forecast_dlinear_gradients_match_finite_differences) {
    const char *specs[] = {"dlinear(3, kernel_size=3)", "dlinear(4)", "dlinear(2, kernel_size=1)"};
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        lc_layer t;
        sn_shape in = shp2(7, 2);
        CHECK_OK(lc_create(&t, specs[i], &in, 3, 5));
        float x[3 * 14];
        sn_rng r;
        sn_rng_seed(&r, 11);
        lc_random_input(x, 3 * 14, &r, 0);
        /* a linear layer: central differences are exact up to float32
         * rounding; h = 3e-3 and the 1e-2 bound of the layer tests apply */
        double e = lc_gradcheck(&t, x, NULL, 1, 3e-3);
        CHECK_MSG(e < 1e-2, "%s: worst relative error %g", specs[i], e);
        lc_free(&t);
    }
}

TEST(forecast_pinball_loss_values_and_gradients) {
    /* one row, levels 0.1, 0.5, 0.9 over columns 0, 1, 2 (and again 3, 4, 5):
     * u = y - p = 2, -2, 2, -1, 0, 1 */
    const float p[6] = {0, 2, 0, 1, 5, 0}, y[6] = {2, 0, 2, 0, 5, 1};
    const double tau[3] = {0.1, 0.5, 0.9};
    float g[6];
    double l = sn_loss_pinball(p, y, NULL, 1, 6, tau, 3, g);
    /* rho: 0.1*2, 0.5*2, 0.9*2, 0.9*1, 0, 0.9*1 -> (0.2 + 1 + 1.8 + 0.9 + 0 + 0.9) / 6 */
    CHECK_CLOSE(l, 4.8 / 6, 1e-15, 0);
    const double want[6] = {-0.1, 0.5, -0.9, 0.9, 0.0, -0.9};
    for (int j = 0; j < 6; j++) CHECK_CLOSE(g[j], want[j] / 6, 1e-7, 0);
    /* the median level is half the MAE */
    CHECK_CLOSE(sn_loss_pinball(p, y, NULL, 1, 6, NULL, 0, NULL), 0.5 * sn_loss_eval(SN_LOSS_MAE, p, y, NULL, 1, 6, NULL),
                1e-15, 0);
    CHECK(isnan(sn_loss_pinball(p, y, NULL, 1, 6, (const double[]){1.5}, 1, NULL)));
    /* finite differences away from the kinks (|u| >= 0.05): the loss is
     * piecewise linear, so central differences with h = 1e-3 < 0.05 are
     * exact up to rounding of the double sums (1e-12); the float32 gradient
     * carries 2^-24 relative error: 1e-6 */
    enum { R = 4, N = 6 };
    const float w[R] = {1, 0, 0.5f, 2};
    float pp[R * N], yy[R * N], gg[R * N];
    sn_rng r;
    sn_rng_seed(&r, 3);
    for (int i = 0; i < R * N; i++) {
        pp[i] = (float)sn_rng_normal(&r);
        yy[i] = pp[i] + (sn_rng_uniform(&r) < 0.5f ? -1.0f : 1.0f) * (0.05f + sn_rng_uniform(&r));
    }
    for (int weighted = 0; weighted < 2; weighted++) {
        const float *ww = weighted ? w : NULL;
        sn_loss_pinball(pp, yy, ww, R, N, tau, 3, gg);
        for (int i = 0; i < R * N; i++) {
            float x0 = pp[i];
            const double h = 1e-3;
            pp[i] = (float)(x0 + h);
            double xp = pp[i], lp = sn_loss_pinball(pp, yy, ww, R, N, tau, 3, NULL);
            pp[i] = (float)(x0 - h);
            double xm = pp[i], lm = sn_loss_pinball(pp, yy, ww, R, N, tau, 3, NULL);
            pp[i] = x0;
            double fd = (lp - lm) / (xp - xm);
            CHECK_MSG(fabs(fd - gg[i]) <= 1e-6 * fabs(fd) + 1e-9, "weighted %d elem %d: analytic %.9g vs fd %.9g",
                      weighted, i, gg[i], fd);
        }
    }
}

TEST(forecast_quantile_levels_are_compiled_and_saved_with_the_model) {
    sn_model_opts mo = {2, {4, 1, 0}, 0, 1};
    sn_model *m = NULL, *m2 = NULL;
    CHECK_OK(sn_model_init(&m, "flatten(), dense(6)", &mo));
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_ADAM);
    const double tau[3] = {0.1, 0.5, 0.9};
    CHECK(sn_model_set_quantiles(m, tau, 3) == SN_ERR_STATE); /* not compiled with the pinball loss */
    CHECK_OK(sn_model_compile(m, &oc, SN_LOSS_PINBALL, NULL, 0));
    CHECK(sn_model_set_quantiles(m, (const double[]){0.0}, 1) == SN_ERR_ARG);
    CHECK_OK(sn_model_set_quantiles(m, tau, 3));
    float x[8 * 4], y[8 * 6];
    sn_rng r;
    sn_rng_seed(&r, 9);
    for (int i = 0; i < 32; i++) x[i] = (float)sn_rng_normal(&r);
    for (int i = 0; i < 48; i++) y[i] = (float)sn_rng_normal(&r);
    sn_dataset ds;
    CHECK_OK(sn_dataset_from_arrays(&ds, x, y, 8, 4, 6));
    sn_logs a, b;
    CHECK_OK(sn_model_evaluate(m, &ds, 8, &a));
    char path[512];
    snprintf(path, sizeof path, "%s/pinball.seqnn", sn_test_tmpdir());
    CHECK_OK(sn_model_save(m, path));
    CHECK_OK(sn_model_load(&m2, path));
    CHECK_OK(sn_model_evaluate(m2, &ds, 8, &b));
    /* the same levels after loading: the same loss, bit for bit */
    CHECK(sn_logs_get(&a, "loss") == sn_logs_get(&b, "loss"));
    float pred[8 * 6];
    CHECK_OK(sn_model_predict(m, &ds, 8, pred));
    CHECK_CLOSE(sn_logs_get(&a, "loss"), sn_loss_pinball(pred, y, NULL, 8, 6, tau, 3, NULL), 1e-12, 1e-9);
    sn_dataset_free(&ds);
    sn_model_free(m);
    sn_model_free(m2);
}
