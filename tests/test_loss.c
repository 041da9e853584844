/* Losses and metrics: PyTorch reference values (tests/gen_train_fixtures.py),
 * finite-difference gradients, Keras clipping / masking / Mean semantics. */
#include <stdlib.h>
#include "seqnn.h"
#include "seqnn/train.h"
#include "test.h"

static const struct { const char *file; sn_loss_kind k; } loss_files[] = {
    {"loss_mse.bin", SN_LOSS_MSE},           {"loss_mae.bin", SN_LOSS_MAE},
    {"loss_bce.bin", SN_LOSS_BCE},           {"loss_bce_logits.bin", SN_LOSS_BCE_LOGITS},
    {"loss_cce.bin", SN_LOSS_CCE},           {"loss_scce.bin", SN_LOSS_SCCE},
};

/* max over i of |a-b| / max(|b|, floor) */
static double relerr(const float *a, const float *b, size_t n, double floor_) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(fabs((double)b[i]), floor_);
        if (!(d <= w)) w = d;
    }
    return w;
}

TEST(loss_matches_torch_reference) {
    for (size_t c = 0; c < sizeof loss_files / sizeof *loss_files; c++) {
        sn_fixture *f = sn_fixture_load(sn_test_path(loss_files[c].file));
        CHECK_MSG(f != NULL, "missing fixture %s (run /usr/bin/python3 tests/gen_train_fixtures.py)",
                  loss_files[c].file);
        int nd, dims[8];
        const float *p = sn_fixture_get(f, "y_pred", &nd, dims);
        const float *y = sn_fixture_get(f, "y_true", NULL, NULL);
        const float *w = sn_fixture_get(f, "weight", NULL, NULL);
        const float *l0 = sn_fixture_get(f, "loss", NULL, NULL), *g0 = sn_fixture_get(f, "grad", NULL, NULL);
        const float *l1 = sn_fixture_get(f, "loss_w", NULL, NULL), *g1 = sn_fixture_get(f, "grad_w", NULL, NULL);
        CHECK(p && y && w && l0 && g0 && l1 && g1 && nd == 2);
        size_t rows = (size_t)dims[0], n = (size_t)dims[1];
        float *g = malloc(sizeof(float) * rows * n);
        double a = sn_loss_eval(loss_files[c].k, p, y, NULL, rows, n, g);
        double b = sn_loss_eval(loss_files[c].k, p, y, w, rows, n, NULL);
        double eg0 = relerr(g, g0, rows * n, 1e-4);
        sn_loss_eval(loss_files[c].k, p, y, w, rows, n, g);
        double eg1 = relerr(g, g1, rows * n, 1e-4);
        double ref0 = l0[0], ref1 = l1[0];
        free(g);
        sn_fixture_free(f);
        CHECK_MSG(fabs(a - ref0) <= 1e-5 * fabs(ref0), "%s: loss %.9g vs torch %.9g", loss_files[c].file, a, ref0);
        CHECK_MSG(fabs(b - ref1) <= 1e-5 * fabs(ref1), "%s: weighted loss %.9g vs torch %.9g", loss_files[c].file,
                  b, ref1);
        CHECK_MSG(eg0 < 1e-5, "%s: gradient relerr %g", loss_files[c].file, eg0);
        CHECK_MSG(eg1 < 1e-5, "%s: weighted gradient relerr %g", loss_files[c].file, eg1);
    }
}

/* Inputs in each loss's smooth region: MSE/MAE differences away from 0, BCE
 * probabilities inside the clip, CCE unnormalised positive rows with soft
 * targets, SCCE class ids. */
static void make_inputs(sn_loss_kind k, sn_rng *r, float *p, float *y, size_t rows, size_t n) {
    for (size_t i = 0; i < rows * n; i++) {
        switch (k) {
        case SN_LOSS_MSE:
        case SN_LOSS_MAE:
        case SN_LOSS_PINBALL:
            p[i] = (float)sn_rng_normal(r);
            y[i] = p[i] + (sn_rng_uniform(r) < 0.5f ? -1.0f : 1.0f) * (0.05f + sn_rng_uniform(r));
            break;
        case SN_LOSS_BCE:
            p[i] = 0.05f + 0.9f * sn_rng_uniform(r);
            y[i] = (float)sn_rng_below(r, 3) * 0.5f; /* 0, 0.5, 1 */
            break;
        case SN_LOSS_BCE_LOGITS:
            p[i] = 3.0f * (float)sn_rng_normal(r);
            y[i] = sn_rng_uniform(r);
            break;
        case SN_LOSS_CCE:
        case SN_LOSS_SCCE:
            p[i] = 0.2f + sn_rng_uniform(r);
            y[i] = sn_rng_uniform(r);
            break;
        }
    }
    if (k == SN_LOSS_CCE) /* soft target rows summing to 1 */
        for (size_t i = 0; i < rows; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) s += y[i * n + j];
            for (size_t j = 0; j < n; j++) y[i * n + j] = (float)(y[i * n + j] / s);
        }
    if (k == SN_LOSS_SCCE)
        for (size_t i = 0; i < rows; i++) y[i] = (float)sn_rng_below(r, n);
}

TEST(loss_gradient_matches_finite_differences) {
    enum { R = 5, N = 3 };
    const float mask[R] = {1, 0, 1, 1, 0.5f};
    sn_rng r;
    sn_rng_seed(&r, 11);
    for (int k = SN_LOSS_MSE; k <= SN_LOSS_SCCE; k++) {
        for (int weighted = 0; weighted < 2; weighted++) {
            float p[R * N], y[R * N], g[R * N];
            make_inputs((sn_loss_kind)k, &r, p, y, R, N);
            const float *w = weighted ? mask : NULL;
            sn_loss_eval((sn_loss_kind)k, p, y, w, R, N, g);
            double gmax = 0;
            for (int i = 0; i < R * N; i++) gmax = fmax(gmax, fabs(g[i]));
            CHECK(gmax > 1e-3); /* the check below must see real gradients */
            for (int i = 0; i < R * N; i++) {
                float x0 = p[i];
                double h = 1e-4 * fmax(1.0, fabs(x0));
                p[i] = (float)(x0 + h);
                double xp = p[i], lp = sn_loss_eval((sn_loss_kind)k, p, y, w, R, N, NULL);
                p[i] = (float)(x0 - h);
                double xm = p[i], lm = sn_loss_eval((sn_loss_kind)k, p, y, w, R, N, NULL);
                p[i] = x0;
                double fd = (lp - lm) / (xp - xm);
                double err = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), 1e-3 * gmax);
                CHECK_MSG(err < 1e-4, "%s weighted=%d elem %d: analytic %.9g vs fd %.9g",
                          sn_loss_name((sn_loss_kind)k), weighted, i, g[i], fd);
                if (weighted && mask[i / N] == 0) CHECK(g[i] == 0.0f);
            }
        }
    }
}

TEST(loss_bce_clip_like_keras) {
    /* p outside [1e-7, 1-1e-7] is clipped: the loss saturates, the gradient is 0 */
    const float p[4] = {0.0f, 1.0f, 1e-9f, -0.5f}, y[4] = {1, 0, 1, 1};
    float g[4];
    double l = sn_loss_eval(SN_LOSS_BCE, p, y, NULL, 1, 4, g);
    double lo = (double)1e-7f, hi = (double)(1.0f - 1e-7f);
    double want = (-log(lo) - log(1.0 - hi) - log(lo) - log(lo)) / 4;
    CHECK_CLOSE(l, want, 0, 1e-12);
    for (int i = 0; i < 4; i++) CHECK(g[i] == 0.0f);
    /* exactly on the bound the gradient passes (tf.clip_by_value / torch.clamp) */
    const float pb[1] = {1e-7f}, yb[1] = {1};
    sn_loss_eval(SN_LOSS_BCE, pb, yb, NULL, 1, 1, g);
    CHECK_CLOSE(g[0], -1.0 / lo, 0, 1e-6);
}

TEST(loss_cce_renormalises_then_clips) {
    /* rows not summing to 1 are normalised first: p and 3p give the same loss */
    const float p1[3] = {0.2f, 0.3f, 0.5f}, p3[3] = {0.6f, 0.9f, 1.5f}, y[3] = {0, 1, 0};
    float g1[3], g3[3];
    double a = sn_loss_eval(SN_LOSS_CCE, p1, y, NULL, 1, 3, g1);
    double b = sn_loss_eval(SN_LOSS_CCE, p3, y, NULL, 1, 3, g3);
    CHECK_CLOSE(a, -log(0.3), 0, 1e-7);
    CHECK_CLOSE(b, a, 0, 1e-7);
    for (int j = 0; j < 3; j++) CHECK_CLOSE(g3[j], g1[j] / 3, 1e-9, 1e-6);
    /* a true class with probability 0 is clipped to 1e-7 and gets no gradient */
    const float pz[3] = {0.0f, 0.5f, 0.5f}, yz[3] = {1, 0, 0};
    double c = sn_loss_eval(SN_LOSS_CCE, pz, yz, NULL, 1, 3, g1);
    CHECK_CLOSE(c, -log((double)1e-7f), 0, 1e-9);
    for (int j = 0; j < 3; j++) CHECK(g1[j] == 0.0f);
    /* a true class with probability above 1-1e-7 is clipped too: no gradient */
    const float po[3] = {1.0f, 0.0f, 0.0f};
    CHECK_CLOSE(sn_loss_eval(SN_LOSS_CCE, po, yz, NULL, 1, 3, g1), -log((double)(1.0f - 1e-7f)), 0, 1e-9);
    for (int j = 0; j < 3; j++) CHECK(g1[j] == 0.0f);
    /* SCCE equals CCE with the one-hot target */
    const float cls[1] = {1};
    CHECK_CLOSE(sn_loss_eval(SN_LOSS_SCCE, p3, cls, NULL, 1, 3, g1), b, 0, 1e-12);
    for (int j = 0; j < 3; j++) CHECK_CLOSE(g1[j], g3[j], 0, 1e-6);
}

TEST(loss_edge_cases) {
    float g[4];
    /* |x|' at 0 is 0 (torch.sign) */
    const float p[2] = {1.0f, 2.0f}, y[2] = {1.0f, 1.0f};
    CHECK_CLOSE(sn_loss_eval(SN_LOSS_MAE, p, y, NULL, 1, 2, g), 0.5, 0, 1e-12);
    CHECK(g[0] == 0.0f && g[1] == 0.5f);
    /* logits form is stable at large |x| */
    const float x[2] = {100.0f, -100.0f}, t[2] = {0.0f, 0.0f};
    double l = sn_loss_eval(SN_LOSS_BCE_LOGITS, x, t, NULL, 2, 1, g);
    CHECK(isfinite(l));
    CHECK_CLOSE(l, 50.0, 0, 1e-12);
    CHECK_CLOSE(g[0], 0.5, 0, 1e-7);
    CHECK(g[1] >= 0.0f && g[1] < 1e-40f);
    /* all rows masked: 0 and no gradient (divide_no_nan) */
    const float z[2] = {0, 0};
    g[0] = g[1] = 7;
    CHECK(sn_loss_eval(SN_LOSS_MSE, p, z, z, 2, 1, g) == 0.0);
    CHECK(g[0] == 0.0f && g[1] == 0.0f);
    /* masked rows are skipped even when their values are garbage */
    const float pn[2] = {NAN, 0.5f}, yn[2] = {1, 1}, wn[2] = {0, 1};
    CHECK_CLOSE(sn_loss_eval(SN_LOSS_MSE, pn, yn, wn, 2, 1, g), 0.25, 0, 1e-12);
    CHECK(g[0] == 0.0f);
    /* SCCE: a class id out of range is reported, not read out of bounds */
    const float pr[4] = {0.5f, 0.5f, 0.5f, 0.5f}, bad[2] = {0, 2}, badm[2] = {1, 0};
    CHECK(isnan(sn_loss_eval(SN_LOSS_SCCE, pr, bad, NULL, 2, 2, g)));
    CHECK(strstr(sn_error_last(), "row 1") != NULL);
    const float frac[2] = {0.5f, 0};
    CHECK(isnan(sn_loss_eval(SN_LOSS_SCCE, pr, frac, NULL, 2, 2, NULL)));
    CHECK_CLOSE(sn_loss_eval(SN_LOSS_SCCE, pr, bad, badm, 2, 2, NULL), log(2.0), 0, 1e-12);
}

TEST(loss_and_metric_names) {
    sn_loss_kind k;
    for (int i = SN_LOSS_MSE; i <= SN_LOSS_SCCE; i++) {
        CHECK_OK(sn_loss_parse(sn_loss_name((sn_loss_kind)i), &k));
        CHECK(k == (sn_loss_kind)i);
    }
    CHECK_OK(sn_loss_parse("mse", &k));
    CHECK(k == SN_LOSS_MSE);
    CHECK_OK(sn_loss_parse("SparseCategoricalCrossentropy", &k));
    CHECK(k == SN_LOSS_SCCE);
    CHECK(sn_loss_parse("hinge", &k) == SN_ERR_PARSE);
    CHECK(strstr(sn_error_last(), "hinge") != NULL);
    sn_metric_kind m;
    for (int i = SN_METRIC_MAE; i <= SN_METRIC_SPARSE_CATEGORICAL_ACCURACY; i++) {
        CHECK_OK(sn_metric_parse(sn_metric_name((sn_metric_kind)i), &m));
        CHECK(m == (sn_metric_kind)i);
    }
    CHECK_OK(sn_metric_parse("acc", &m));
    CHECK(m == SN_METRIC_ACCURACY);
    CHECK(sn_metric_parse("auc", &m) == SN_ERR_PARSE);
    CHECK(sn_metric_higher_is_better("val_accuracy") == 1);
    CHECK(sn_metric_higher_is_better("binary_accuracy") == 1);
    CHECK(sn_metric_higher_is_better("acc") == 1);
    CHECK(sn_metric_higher_is_better("val_loss") == 0);
    CHECK(sn_metric_higher_is_better("mae") == 0);
    CHECK(sn_metric_resolve(SN_METRIC_ACCURACY, SN_LOSS_BCE, 1) == SN_METRIC_BINARY_ACCURACY);
    CHECK(sn_metric_resolve(SN_METRIC_ACCURACY, SN_LOSS_SCCE, 5) == SN_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    CHECK(sn_metric_resolve(SN_METRIC_ACCURACY, SN_LOSS_CCE, 5) == SN_METRIC_CATEGORICAL_ACCURACY);
    CHECK(sn_metric_resolve(SN_METRIC_MAE, SN_LOSS_SCCE, 5) == SN_METRIC_MAE);
}

TEST(metric_mean_is_sample_weighted_over_batches) {
    /* Keras Mean: the epoch MAE is Σ|e| / #rows, not the mean of batch means */
    sn_metric_acc a = {SN_METRIC_MAE, 0, 5, 5};
    sn_metric_reset(&a);
    CHECK(a.kind == SN_METRIC_MAE && a.total == 0 && a.count == 0);
    CHECK(sn_metric_result(&a) == 0.0);
    const float p1[6] = {1, 1, 2, 2, 3, 3}, y1[6] = {0, 0, 0, 0, 0, 0}; /* row MAE 1, 2, 3 */
    const float p2[2] = {10, 10}, y2[2] = {0, 0};                       /* row MAE 10 */
    sn_metric_update(&a, p1, y1, NULL, 3, 2);
    sn_metric_update(&a, p2, y2, NULL, 1, 2);
    CHECK_CLOSE(sn_metric_result(&a), 16.0 / 4, 0, 1e-12);
    CHECK(fabs(sn_metric_result(&a) - (2.0 + 10.0) / 2) > 1); /* not the mean of batch means */
    /* a mask (per-row weight) removes rows from both total and count */
    const float mask1[3] = {1, 0, 1};
    sn_metric_reset(&a);
    sn_metric_update(&a, p1, y1, mask1, 3, 2);
    sn_metric_update(&a, p2, y2, NULL, 1, 2);
    CHECK_CLOSE(sn_metric_result(&a), (1.0 + 3.0 + 10.0) / 3, 0, 1e-12);
    CHECK(a.count == 3);
    sn_metric_acc s = {SN_METRIC_MSE, 0, 0, 0};
    sn_metric_update(&s, p1, y1, NULL, 3, 2);
    CHECK_CLOSE(sn_metric_result(&s), 14.0 / 3, 0, 1e-12);
}

TEST(metric_binary_accuracy_threshold_is_strict) {
    sn_metric_acc a = {SN_METRIC_BINARY_ACCURACY, 0, 0, 0};
    const float p[5] = {0.5f, 0.5f, 0.50001f, 0.49f, 0.7f}, y[5] = {0, 0, 1, 0, 0};
    /* 0.5 -> 0 (right twice), 0.50001 -> 1 right, 0.49 -> 0 right, 0.7 -> 1 wrong */
    sn_metric_update(&a, p, y, NULL, 5, 1);
    CHECK_CLOSE(sn_metric_result(&a), 4.0 / 5, 0, 1e-12);
    /* logits: threshold 0, strict */
    sn_metric_acc b = {SN_METRIC_ACCURACY, 1, 0, 0};
    const float x[3] = {0.0f, 1e-6f, -2.0f}, t[3] = {1, 1, 0};
    sn_metric_update(&b, x, t, NULL, 3, 1);
    CHECK_CLOSE(sn_metric_result(&b), 2.0 / 3, 0, 1e-12);
    /* per-row mean over the last axis, rows weighted by the mask */
    sn_metric_acc c = {SN_METRIC_BINARY_ACCURACY, 0, 0, 0};
    const float p2[4] = {0.9f, 0.1f, 0.9f, 0.9f}, y2[4] = {1, 1, 0, 0}, m2[2] = {1, 0};
    sn_metric_update(&c, p2, y2, m2, 2, 2);
    CHECK_CLOSE(sn_metric_result(&c), 0.5, 0, 1e-12);
    CHECK(c.count == 1);
    /* a masked row with garbage (NaN) predictions does not poison the epoch */
    sn_metric_acc d = {SN_METRIC_MAE, 0, 0, 0};
    const float pn[2] = {NAN, 1.0f}, yn[2] = {0, 0}, mn[2] = {0, 1};
    sn_metric_update(&d, pn, yn, mn, 2, 1);
    CHECK_CLOSE(sn_metric_result(&d), 1.0, 0, 1e-12);
}

TEST(metric_categorical_accuracies) {
    /* ties: argmax takes the first maximum */
    const float p[9] = {0.2f, 0.5f, 0.3f, 0.4f, 0.4f, 0.2f, 0.1f, 0.1f, 0.8f};
    const float oh[9] = {0, 1, 0, 0, 1, 0, 0, 0, 1};
    const float ids[3] = {1, 1, 2};
    sn_metric_acc a = {SN_METRIC_CATEGORICAL_ACCURACY, 0, 0, 0};
    sn_metric_update(&a, p, oh, NULL, 3, 3);
    CHECK_CLOSE(sn_metric_result(&a), 2.0 / 3, 0, 1e-12);
    sn_metric_acc s = {SN_METRIC_SPARSE_CATEGORICAL_ACCURACY, 0, 0, 0};
    sn_metric_update(&s, p, ids, NULL, 3, 3);
    CHECK_CLOSE(sn_metric_result(&s), 2.0 / 3, 0, 1e-12);
    const float w[3] = {0, 1, 1};
    sn_metric_reset(&s);
    sn_metric_update(&s, p, ids, w, 3, 3);
    CHECK_CLOSE(sn_metric_result(&s), 0.5, 0, 1e-12);
    /* unresolved "accuracy" with n > 1 reads one-hot targets */
    sn_metric_acc u = {SN_METRIC_ACCURACY, 0, 0, 0};
    sn_metric_update(&u, p, oh, NULL, 3, 3);
    CHECK_CLOSE(sn_metric_result(&u), 2.0 / 3, 0, 1e-12);
}
