/* Classical classifiers and metrics against hand-computed values: naive
 * Bayes on a three-document corpus, logistic regression on symmetric
 * problems whose optimum solves a one-variable equation, metrics on a
 * confusion matrix counted by hand, ROC-AUC on sklearn's documented
 * example; softmax + sparse categorical crossentropy (and sigmoid + BCE for
 * multi-label) gradients through a model by finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/model_impl.h"
#include "seqnn.h"
#include "seqnn/plot.h"
#include "test.h"

/* Vocabulary [UNK]=0, good=1, bad=2, movie=3:
 *   d0 "good good movie" pos, d1 "good" pos, d2 "bad movie" neg. */
static const int64_t k_rp[4] = {0, 2, 3, 5};
static const int32_t k_col[5] = {1, 3, 1, 2, 3};
static const float k_val[5] = {2, 1, 1, 1, 1};
static const int32_t k_y[3] = {1, 1, 0};

TEST(classify_nb_hand_computed) {
    sn_csr_rows x = {3, 4, k_rp, k_col, k_val};
    float W[8], b[2];
    CHECK_OK(sn_nb_fit(&x, k_y, NULL, 2, NULL, W, b));
    /* binarized, alpha 1, V 4: pos counts (0,2,0,1), N 3 -> theta (1,3,1,2)/7;
     * neg counts (0,0,1,1), N 2 -> theta (1,1,2,2)/6; priors 1/3, 2/3 */
    const double tpos[4] = {1 / 7., 3 / 7., 1 / 7., 2 / 7.}, tneg[4] = {1 / 6., 1 / 6., 2 / 6., 2 / 6.};
    for (int j = 0; j < 4; j++) {
        CHECK_CLOSE(W[j * 2 + 1], log(tpos[j]), 1e-6, 0); /* float32 of a value below 3 in magnitude */
        CHECK_CLOSE(W[j * 2 + 0], log(tneg[j]), 1e-6, 0);
    }
    CHECK_CLOSE(b[0], log(1 / 3.), 1e-6, 0);
    CHECK_CLOSE(b[1], log(2 / 3.), 1e-6, 0);
    /* counts instead of presence: pos counts (0,3,0,1), N 4 -> (1,4,1,2)/8 */
    sn_nb_opts o;
    sn_nb_opts_default(&o);
    o.binarize = 0;
    CHECK_OK(sn_nb_fit(&x, k_y, NULL, 2, &o, W, b));
    CHECK_CLOSE(W[1 * 2 + 1], log(4 / 8.), 1e-6, 0);
    /* weight 2 on d2 is d2 twice: neg counts (0,0,2,2), N 4 -> (1,1,3,3)/8, priors 2/4 */
    const float sw[3] = {1, 1, 2};
    CHECK_OK(sn_nb_fit(&x, k_y, sw, 2, NULL, W, b));
    CHECK_CLOSE(W[2 * 2 + 0], log(3 / 8.), 1e-6, 0);
    CHECK_CLOSE(b[0], log(0.5), 1e-6, 0);
    /* one-vs-rest: label "pos" against the rest is the two-class model's logit difference */
    const uint8_t Y[6] = {0, 1, 0, 1, 1, 0}; /* classes (neg, pos) as a multi-hot matrix */
    float Wo[8], bo[2];
    CHECK_OK(sn_nb_fit(&x, k_y, NULL, 2, NULL, W, b));
    CHECK_OK(sn_nb_fit_ovr(&x, Y, NULL, 2, NULL, Wo, bo));
    for (int j = 0; j < 4; j++) CHECK_CLOSE(Wo[j * 2 + 1], W[j * 2 + 1] - W[j * 2 + 0], 1e-6, 0);
    CHECK_CLOSE(bo[1], log(2.0), 1e-6, 0);
    const int32_t bad[3] = {1, 2, 0};
    CHECK(sn_nb_fit(&x, bad, NULL, 2, NULL, W, b) == SN_ERR_ARG);
}

/* Root of f on [lo, hi] by bisection (f(lo) < 0 < f(hi)), to double precision. */
static double bisect(double (*f)(double, double), double lam, double lo, double hi) {
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (f(mid, lam) < 0) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}
/* binary: J(a) = log(1 + e^-a) + λ a², J'(a) = 2λa - 1/(1 + e^a) */
static double dbin(double a, double lam) { return 2 * lam * a - 1 / (1 + exp(a)); }
/* softmax, 3 classes: J(t) = log(1 + 2 e^-3t) + 9λ t², J'/3 = 6λt - 2e^-3t/(1 + 2e^-3t) */
static double dsoft(double t, double lam) { return 6 * lam * t - 2 * exp(-3 * t) / (1 + 2 * exp(-3 * t)); }

TEST(classify_logreg_hand_computed) {
    /* two documents, "good" -> 1, "bad" -> 0: by symmetry b = 0, W = (0, a, -a) */
    const int64_t rp[3] = {0, 1, 2};
    const int32_t col[2] = {1, 2};
    const float val[2] = {1, 1}, y[2] = {1, 0};
    sn_csr_rows x = {2, 3, rp, col, val};
    sn_logreg_opts o;
    sn_logreg_opts_default(&o);
    o.kind = SN_LOGREG_SIGMOID;
    o.l2 = 0.1;
    o.tol = 1e-9;
    float W[9], b[3];
    sn_logreg_info info;
    CHECK_OK(sn_logreg_fit(&x, y, NULL, 1, &o, W, b, &info));
    double a = bisect(dbin, 0.1, 0, 10);
    /* stopped at |gradient| <= 1e-9 on a problem with curvature >= λ = 0.1:
     * the parameters are within 1e-8 of the optimum, plus float32 rounding */
    CHECK_MSG(info.converged, "%d iterations, max |g| %g", info.iterations, info.grad_max);
    CHECK_CLOSE(W[1], a, 1e-6, 1e-6);
    CHECK_CLOSE(W[2], -a, 1e-6, 1e-6);
    CHECK_CLOSE(W[0], 0, 1e-7, 0);
    CHECK_CLOSE(b[0], 0, 1e-6, 0);
    /* three documents, feature c -> class c: W[c][c] = 2t, W[c][k != c] = -t, b = 0 */
    const int64_t rp3[4] = {0, 1, 2, 3};
    const int32_t col3[3] = {0, 1, 2};
    const float val3[3] = {1, 1, 1}, y3[3] = {0, 1, 2};
    sn_csr_rows x3 = {3, 3, rp3, col3, val3};
    o.kind = SN_LOGREG_SOFTMAX;
    o.l2 = 0.05;
    CHECK_OK(sn_logreg_fit(&x3, y3, NULL, 3, &o, W, b, &info));
    double t = bisect(dsoft, 0.05, 0, 10);
    CHECK(info.converged);
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) CHECK_CLOSE(W[j * 3 + k], j == k ? 2 * t : -t, 1e-6, 1e-6);
    for (int k = 0; k < 3; k++) CHECK_CLOSE(b[k], 0, 1e-6, 0);
    /* a weight of 2 is the document twice (the objective is the same function) */
    const int64_t rpd[4] = {0, 1, 2, 3};
    const int32_t cold[3] = {1, 2, 2};
    const float vald[3] = {1, 1, 1}, yd[3] = {1, 0, 0}, swd[2] = {1, 2};
    sn_csr_rows xd = {3, 3, rpd, cold, vald}, xw = {2, 3, rp, col, val};
    float Wd[3], bd[1], Ww[3], bw[1];
    o.kind = SN_LOGREG_SIGMOID;
    CHECK_OK(sn_logreg_fit(&xd, yd, NULL, 1, &o, Wd, bd, NULL));
    CHECK_OK(sn_logreg_fit(&xw, y, swd, 1, &o, Ww, bw, NULL));
    for (int j = 0; j < 3; j++) CHECK_CLOSE(Wd[j], Ww[j], 1e-6, 1e-6);
    CHECK_CLOSE(bd[0], bw[0], 1e-6, 1e-6);
    const float ybad[2] = {1, 3};
    o.kind = SN_LOGREG_SOFTMAX;
    CHECK(sn_logreg_fit(&x, ybad, NULL, 2, &o, W, b, NULL) == SN_ERR_ARG);
}

TEST(classify_logreg_thread_count_independent) {
    /* 300 random sparse rows over 50 columns, 4 classes */
    enum { N = 300, V = 50, K = 4 };
    static int64_t rp[N + 1];
    static int32_t col[N * 5];
    static float val[N * 5], y[N];
    sn_rng r;
    sn_rng_seed(&r, 5);
    size_t q = 0;
    for (int i = 0; i < N; i++) {
        rp[i] = (int64_t)q;
        y[i] = (float)sn_rng_below(&r, K);
        for (int k = 0; k < 5; k++) {
            col[q] = (int32_t)(k * 10 + (int)sn_rng_below(&r, 10));
            val[q++] = (float)(k == 0 ? y[i] + 1 : 1);
        }
    }
    rp[N] = (int64_t)q;
    sn_csr_rows x = {N, V, rp, col, val};
    static float W1[V * K], W2[V * K];
    float b1[K], b2[K];
    int saved = sn_threads_get();
    sn_threads_set(1);
    CHECK_OK(sn_logreg_fit(&x, y, NULL, K, NULL, W1, b1, NULL));
    sn_threads_set(2);
    CHECK_OK(sn_logreg_fit(&x, y, NULL, K, NULL, W2, b2, NULL));
    sn_threads_set(saved);
    CHECK(!memcmp(W1, W2, sizeof W1) && !memcmp(b1, b2, sizeof b1));
}

TEST(classify_metrics_hand_computed) {
    const int32_t yt[7] = {0, 0, 1, 1, 2, 2, 2}, yp[7] = {0, 1, 1, 1, 2, 0, 2};
    sn_class_metrics m;
    CHECK_OK(sn_class_metrics_compute(&m, yt, yp, 7, 4, NULL)); /* class 3 never occurs */
    const int64_t conf[16] = {1, 1, 0, 0, 0, 2, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0};
    CHECK(!memcmp(m.confusion, conf, sizeof conf));
    /* TP (1,2,2), FP (1,1,0), FN (1,0,1) */
    CHECK_CLOSE(m.precision[0], 0.5, 1e-12, 0);
    CHECK_CLOSE(m.precision[1], 2 / 3., 1e-12, 0);
    CHECK_CLOSE(m.recall[2], 2 / 3., 1e-12, 0);
    CHECK_CLOSE(m.f1[0], 0.5, 1e-12, 0);
    CHECK_CLOSE(m.f1[1], 0.8, 1e-12, 0);
    CHECK_CLOSE(m.f1[2], 0.8, 1e-12, 0);
    CHECK(m.f1[3] == 0 && m.support[2] == 3 && m.support[3] == 0);
    CHECK_CLOSE(m.macro_f1, 0.7, 1e-12, 0);   /* over the 3 classes that occur */
    CHECK_CLOSE(m.weighted_f1, 5 / 7., 1e-12, 0);
    CHECK_CLOSE(m.accuracy, 5 / 7., 1e-12, 0);
    CHECK_CLOSE(m.macro_precision, (0.5 + 2 / 3. + 1) / 3, 1e-12, 0);
    CHECK(isnan(m.roc_auc));
    sn_class_metrics_free(&m);
    /* multi-label: 2 documents, 3 labels */
    const uint8_t Yt[6] = {1, 0, 1, 0, 1, 0}, Yp[6] = {1, 0, 0, 0, 1, 0};
    CHECK_OK(sn_multilabel_metrics_compute(&m, Yt, Yp, 2, 3));
    CHECK_CLOSE(m.accuracy, 0.5, 1e-12, 0);
    CHECK(m.f1[0] == 1 && m.f1[1] == 1 && m.f1[2] == 0 && m.support[2] == 1);
    CHECK(m.confusion[2 * 4 + 2] == 1 && m.confusion[2 * 4 + 0] == 1); /* label 2: one FN, one TN */
    CHECK_CLOSE(m.macro_f1, 2 / 3., 1e-12, 0);
    sn_class_metrics_free(&m);
    const int32_t out[1] = {4};
    CHECK(sn_class_metrics_compute(&m, out, out, 1, 4, NULL) == SN_ERR_ARG);
}

TEST(classify_roc_auc) {
    /* scikit-learn's roc_auc_score example: 0.75 */
    const float s[4] = {0.1f, 0.4f, 0.35f, 0.8f};
    const int32_t y[4] = {0, 0, 1, 1};
    CHECK_CLOSE(sn_roc_auc(s, y, 4), 0.75, 1e-12, 0);
    const float t[3] = {0.5f, 0.5f, 0.9f}; /* a tie between a positive and a negative counts 1/2 */
    const int32_t yt[3] = {0, 1, 1};
    CHECK_CLOSE(sn_roc_auc(t, yt, 3), 0.75, 1e-12, 0);
    CHECK(isnan(sn_roc_auc(t, (const int32_t[3]){1, 1, 1}, 3)));
    sn_class_metrics m;
    const int32_t yp[4] = {0, 1, 0, 1};
    CHECK_OK(sn_class_metrics_compute(&m, y, yp, 4, 2, s));
    CHECK_CLOSE(m.roc_auc, 0.75, 1e-12, 0);
    sn_class_metrics_free(&m);
}

/* Loss of model m on (x, y) after a forward pass, in double. */
static double model_loss(sn_model *m, const float *x, const float *y, int B, size_t C, float *grad) {
    memcpy(m->act[0], x, (size_t)B * sn_model_input_numel(m) * sizeof(float));
    sn_model_forward(m, B, NULL, 0);
    size_t rows, width;
    sn_model_loss_layout(m, B, &rows, &width);
    (void)C;
    return sn_loss_eval(m->loss, m->act[m->n_layers], y, NULL, rows, width, grad);
}

/* Parameter gradients of `spec` + `loss` by backward against central
 * differences in the parameters; returns the worst relative error. */
static double model_gradcheck(const char *spec, sn_loss_kind loss, const float *x, const float *y, int B, int C) {
    sn_model_opts mo = {.input_rank = 1, .input_shape = {C}, .seed = 3};
    sn_model *m;
    if (sn_model_init(&m, spec, &mo)) return 1e9;
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_SGD);
    if (sn_model_compile(m, &oc, loss, NULL, 0) || sn_model_plan(m, B)) return 1e9;
    float *dl = m->dbuf[m->n_layers % 2];
    model_loss(m, x, y, B, 0, dl);
    sn_model_backward(m, B, NULL, dl);
    double worst = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        float p0 = m->params[i];
        /* h = 1e-2: truncation h^2 |f'''| / 6 <= 2e-5 for the O(1) third
         * derivatives of softmax / tanh / sigmoid losses at O(1) weights,
         * rounding u |loss| / h ~ 6e-8 / 1e-2 = 6e-6 (the forward is float32) */
        double h = 1e-2;
        m->params[i] = (float)(p0 + h);
        double hp = (double)m->params[i] - p0, lp = model_loss(m, x, y, B, 0, NULL);
        m->params[i] = (float)(p0 - h);
        double hm = p0 - (double)m->params[i], lm = model_loss(m, x, y, B, 0, NULL);
        m->params[i] = p0;
        double fd = (lp - lm) / (hp + hm), g = m->grads[i];
        double err = fabs(fd - g) / fmax(fabs(fd) + fabs(g), 1e-2);
        if (err > worst) worst = err;
    }
    sn_model_free(m);
    return worst;
}

TEST(classify_softmax_scce_and_sigmoid_bce_gradients) {
    enum { B = 4, C = 3 };
    float x[B * C], ys[B] = {0, 2, 3, 1}, ym[B * 4];
    sn_rng r;
    sn_rng_seed(&r, 9);
    for (int i = 0; i < B * C; i++) x[i] = 2 * sn_rng_uniform(&r) - 1;
    for (int i = 0; i < B * 4; i++) ym[i] = (float)sn_rng_below(&r, 2);
    /* the difference quotient is good to ~3e-5 absolute (model_gradcheck);
     * over |fd| + |g| >= 3e-2 (or the 1e-2 floor, where a wrong gradient
     * shows as an O(1) error anyway) that is <= 1e-3 relative */
    double e1 = model_gradcheck("dense(4, activation=softmax)", SN_LOSS_SCCE, x, ys, B, C);
    double e2 = model_gradcheck("dense(5, activation=tanh), dense(4, activation=softmax)", SN_LOSS_SCCE, x, ys, B, C);
    double e3 = model_gradcheck("dense(4, activation=sigmoid)", SN_LOSS_BCE, x, ym, B, C);
    CHECK_MSG(e1 < 1e-3 && e2 < 1e-3 && e3 < 1e-3, "worst relative errors %g %g %g", e1, e2, e3);
}

/* A dense dataset of 4 samples (2 features) with per-sample weights. */
typedef struct wds { const float *x, *y, *w; } wds;
static sn_status wds_fill(void *ctx, const size_t *idx, int B, sn_batch *b) {
    const wds *d = ctx;
    for (int i = 0; i < B; i++) {
        memcpy(b->x + 2 * i, d->x + 2 * idx[i], 2 * sizeof(float));
        b->y[i] = d->y[idx[i]];
        if (b->sw) b->sw[i] = d->w[idx[i]];
    }
    return SN_OK;
}

TEST(classify_sample_weights_scale_the_loss_like_keras) {
    const float x[8] = {1, 0, 0, 1, 1, 1, -1, 2}, y[4] = {1, 0, 1, 0}, w[4] = {0.5f, 2, 1, 0.25f};
    wds ctx = {x, y, w};
    for (int weighted = 0; weighted < 2; weighted++) {
        sn_dataset d = {.n = 4, .x_numel = 2, .y_numel = 1, .ctx = &ctx, .fill = wds_fill, .sample_weights = weighted};
        sn_model_opts mo = {.input_rank = 1, .input_shape = {2}, .seed = 4};
        sn_model *m;
        CHECK_OK(sn_model_init(&m, "dense(1, activation=sigmoid)", &mo));
        sn_optimizer_cfg oc;
        sn_optimizer_cfg_default(&oc, SN_OPT_SGD);
        oc.lr = 1.0;
        CHECK_OK(sn_model_compile(m, &oc, SN_LOSS_BCE, NULL, 0));
        float p[4], *bias = sn_model_tensor(m, "dense", "bias", NULL);
        CHECK_OK(sn_model_predict(m, &d, 4, p));
        double b0 = bias[0], g = 0;
        /* Keras sample_weight: loss = Σ w_i ℓ_i / B, so dloss/dbias = Σ w_i (p_i - y_i) / B */
        for (int i = 0; i < 4; i++) g += (weighted ? w[i] : 1.0) * (p[i] - y[i]) / 4;
        sn_fit_opts fo;
        sn_fit_opts_default(&fo);
        fo.batch_size = 4;
        fo.shuffle = 0;
        CHECK_OK(sn_model_fit(m, &d, &fo, NULL));
        /* float32 forward and update: a few roundings of O(1) values */
        CHECK_CLOSE(bias[0], b0 - g, 1e-6, 0);
        sn_model_free(m);
    }
    /* weights need one output row per sample */
    sn_dataset d = {.n = 4, .x_numel = 2, .y_numel = 2, .ctx = &ctx, .fill = wds_fill, .sample_weights = 1};
    sn_model_opts mo = {.input_rank = 2, .input_shape = {2, 1}, .seed = 4};
    sn_model *m;
    CHECK_OK(sn_model_init(&m, "dense(1)", &mo));
    sn_optimizer_cfg oc;
    sn_optimizer_cfg_default(&oc, SN_OPT_SGD);
    CHECK_OK(sn_model_compile(m, &oc, SN_LOSS_MSE, NULL, 0));
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    CHECK(sn_model_fit(m, &d, &fo, NULL) == SN_ERR_SHAPE && strstr(sn_error_last(), "sample weights"));
    sn_model_free(m);
}

TEST(classify_confusion_plot_files) {
    const int64_t cm[9] = {10, 2, 1, 3, 12, 0, 1, 1, 9};
    const char *names[3] = {"food", "sport", "a rather long class name \xc3\xa9t\xc3\xa9"};
    char png[512], svg[512], bad[512], head[8];
    snprintf(png, sizeof png, "%s/cm.png", sn_test_tmpdir());
    snprintf(svg, sizeof svg, "%s/cm.svg", sn_test_tmpdir());
    snprintf(bad, sizeof bad, "%s/cm.jpg", sn_test_tmpdir());
    CHECK_OK(sn_plot_confusion(png, cm, 3, names, "test"));
    CHECK_OK(sn_plot_confusion(svg, cm, 3, NULL, NULL));
    FILE *f = fopen(png, "rb");
    CHECK(f && fread(head, 1, 8, f) == 8 && !memcmp(head, "\x89PNG\r\n\x1a\n", 8));
    fclose(f);
    f = fopen(svg, "rb");
    CHECK(f && fread(head, 1, 5, f) == 5 && !memcmp(head, "<?xml", 5));
    fclose(f);
    CHECK(sn_plot_confusion(bad, cm, 3, names, NULL) == SN_ERR_ARG && strstr(sn_error_last(), "cm.jpg"));
    CHECK(sn_plot_confusion(png, cm, 0, names, NULL) == SN_ERR_ARG);
}
