/* One forecaster on the current windows (forecast.h): the presets, the
 * baselines (naive, seasonal naive, mean, drift, ETS), the training of a
 * learned model, and the metrics and intervals of its predictions. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "seqnn/plot.h"

/* The seed's models (module 7, parts I-II) in Keras spec form, then the
 * baselines and linear models of the long-horizon literature. A learned
 * preset's final dense(1) becomes dense(outputs) for --steps all, several
 * targets or quantiles; "linear" and "dlinear" are sized the same way. */
static const fc_preset g_presets[] = {
    {"naive", NULL, 0, "the value at the last input", 1},
    {"dense", "flatten(), dense(16, activation=relu), dense(1)", 10, "Flatten + Dense(16)", 1},
    {"conv1d",
     "conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), maxpooling1d(2), "
     "conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)",
     10, "three Conv1D + pooling", 1},
    {"simple_rnn", "simplernn(16), dense(1)", 10, "SimpleRNN(16)", 1},
    {"lstm", "lstm(16), dense(1)", 10, "LSTM(16)", 1},
    {"lstm_dropout", "lstm(32, recurrent_dropout=0.25), dropout(0.5), dense(1)", 50,
     "LSTM(32, recurrent_dropout=0.25) + Dropout(0.5)", 1},
    {"gru_stacked",
     "gru(32, recurrent_dropout=0.5, return_sequences=true), gru(32, recurrent_dropout=0.5), dropout(0.5), dense(1)", 50,
     "2 x GRU(32, recurrent_dropout=0.5) + Dropout(0.5)", 1},
    {"bilstm", "bidirectional(lstm(16)), dense(1)", 10, "Bidirectional(LSTM(16))", 1},
    {"seasonal_naive", NULL, 0, "the value one season before the target", 0},
    {"mean", NULL, 0, "the mean of the look-back window", 0},
    {"drift", NULL, 0, "the line through the look-back window's first and last value", 0},
    {"ets", NULL, 0, "ETS(A,A,A) by maximum likelihood, as statsforecast", 0},
    {"linear", "flatten(), dense(1)", 10, "one Dense map from the flattened look-back", 0},
    {"dlinear", "dlinear(1), flatten()", 10, "DLinear: moving-average trend + remainder, one linear map each", 0},
};
#define N_PRESETS ((int)(sizeof g_presets / sizeof *g_presets))

const fc_preset *fc_preset_find(const char *name) {
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcmp(g_presets[i].name, name)) return &g_presets[i];
    return NULL;
}

const fc_preset *fc_preset_at(int i) { return i >= 0 && i < N_PRESETS ? &g_presets[i] : NULL; }

double fc_seed_test_mae(const char *name) {
    static const struct {
        const char *n;
        double v;
    } t[] = {{"naive", 2.62}, {"dense", 2.62}, {"conv1d", 3.10}, {"lstm", 2.53}, {"lstm_dropout", 2.45}, {"gru_stacked", 2.39}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(t[i].n, name)) return t[i].v;
    return NAN;
}

int fc_seed_protocol(const fc_data *d) {
    const fc_opts *o = &d->o;
    return o->bundled && d->scale == SN_FC_SCALE_NONE && !d->steps_all && d->K == 1 && !o->split_context &&
           !o->channel_independent && !d->n_q && !strcmp(o->split, "0.5,0.25,0.25") && d->lookback_s == 120 * 3600 &&
           d->horizon_s == 24 * 3600 && d->sampling_s == 3600 && !strcmp(d->tab.col_names[d->tcol[0]], "T (degC)");
}

void fc_result_free(fc_result *r) {
    free(r->test_step);
    free(r->val_step);
    free(r->test_pred);
    free(r->test_lo);
    free(r->test_hi);
    free(r->test_truth);
    free(r->series_test);
    memset(r, 0, sizeof *r);
}

static sn_fc_baseline baseline_kind(const char *name) {
    return !strcmp(name, "seasonal_naive") ? SN_FC_SEASONAL_NAIVE
           : !strcmp(name, "mean")         ? SN_FC_MEAN
           : !strcmp(name, "drift")        ? SN_FC_DRIFT
                                           : SN_FC_NAIVE;
}

/* The windows [*j0, *j1) of split w that belong to series s (windows are
 * grouped series after series); their origins relative to row b into org. */
static void series_windows(const fc_data *d, const sn_windows *w, int s, size_t b, size_t *j0, size_t *j1, size_t *org) {
    const size_t span_in = (size_t)(d->lay.lookback - 1) * (size_t)d->lay.sampling;
    while (*j0 < w->n && fc_series_of(d, w->start[*j0]) < s) (*j0)++;
    *j1 = *j0;
    while (*j1 < w->n && fc_series_of(d, w->start[*j1]) == s) {
        org[*j1 - *j0] = w->start[*j1] + span_in - b;
        (*j1)++;
    }
}

/* ETS per series and target: fitted once on the series' training rows, run
 * through the whole series, forecasting from each validation and test
 * window's origin into out[1] / out[2] (n, S, K). */
static int ets_predict(fc_data *d, double *const out[3]) {
    const int S = d->lay.n_steps, K = d->K;
    const size_t nmax = d->w[1].n > d->w[2].n ? d->w[1].n : d->w[2].n;
    long *off = malloc((size_t)S * sizeof *off);
    size_t *org = malloc(nmax * sizeof *org);
    double *tmp = malloc(nmax * (size_t)S * sizeof *tmp), *ys = NULL;
    int rc = !off || !org || !tmp ? cli_fail(SN_ERR_NOMEM, NULL) : 0;
    for (int i = 0; i < S && !rc; i++) off[i] = d->lay.first + (long)i * d->lay.stride;
    size_t c0[3] = {0, 0, 0};
    for (int s = 0; s < d->n_series && !rc; s++) {
        size_t b = d->sbeg[s], len = d->send[s] - b, ntr = d->b[s].train_end - b;
        free(ys);
        if (!(ys = malloc(len * sizeof *ys))) rc = cli_fail(SN_ERR_NOMEM, NULL);
        size_t j0[3] = {c0[0], c0[1], c0[2]}, j1[3] = {0, 0, 0};
        for (int k = 0; k < K && !rc; k++) {
            for (size_t i = 0; i < len; i++) ys[i] = d->y[(b + i) * (size_t)K + (size_t)k];
            sn_ets e;
            sn_status st = sn_ets_fit(&e, ys, ntr, (int)d->season);
            for (int sp = 1; sp <= 2 && !st; sp++) {
                series_windows(d, &d->w[sp], s, b, &j0[sp], &j1[sp], org);
                st = sn_ets_forecast(&e, ys, len, org, j1[sp] - j0[sp], off, S, tmp, (size_t)S);
                for (size_t j = j0[sp]; !st && j < j1[sp]; j++)
                    for (int i = 0; i < S; i++)
                        out[sp][((j * (size_t)S) + (size_t)i) * (size_t)K + (size_t)k] =
                            tmp[(j - j0[sp]) * (size_t)S + (size_t)i];
            }
            sn_ets_free(&e);
            if (st) rc = cli_fail(st, d->n_series > 1 ? d->tab.series_names[s] : "ets");
        }
        c0[1] = j1[1], c0[2] = j1[2];
    }
    free(off);
    free(org);
    free(tmp);
    free(ys);
    return rc;
}

/* Validation and test predictions of a baseline into out[1] / out[2]. */
static int baseline_predict(fc_data *d, const char *name, double *const out[3]) {
    if (!strcmp(name, "ets")) return ets_predict(d, out);
    for (int sp = 1; sp <= 2; sp++) {
        sn_status st = sn_fc_baseline_predict(baseline_kind(name), &d->fs, &d->lay, &d->w[sp], d->season, out[sp]);
        if (st) return cli_fail(st, name);
    }
    return 0;
}

/* The spec of a learned preset sized to n_out outputs (n_per_channel for
 * dlinear: steps x quantiles per channel). Returns malloc'd text. */
static char *sized_spec(const fc_preset *p, size_t n_out, size_t n_per_channel) {
    char *s = malloc(strlen(p->spec) + 64);
    if (!s) return NULL;
    if (!strcmp(p->name, "dlinear")) {
        sprintf(s, "dlinear(%zu), flatten()", n_per_channel);
        return s;
    }
    strcpy(s, p->spec);
    if (n_out == 1) return s; /* the seed's text, unchanged */
    char *tail = strstr(s, "dense(1)");
    while (tail && strstr(tail + 1, "dense(1)")) tail = strstr(tail + 1, "dense(1)");
    if (tail) sprintf(tail, "dense(%zu)", n_out);
    return s;
}

/* Index of the quantile nearest 0.5 (the point forecast of a quantile model). */
static int median_index(const fc_data *d) {
    int best = 0;
    for (int q = 1; q < d->n_q; q++)
        if (fabs(d->quantiles[q] - 0.5) < fabs(d->quantiles[best] - 0.5)) best = q;
    return best;
}

/* Predictions of model m on split i into point (n,S,K) and, for quantile
 * heads, lo / hi (the lowest and highest level; may be NULL). */
static int model_predict(fc_data *d, sn_model *m, const sn_fc_layout *lay, int split, int batch, double *point,
                         double *lo, double *hi) {
    sn_dataset ds;
    const sn_windows *w = &d->w[split];
    sn_status st = sn_fc_dataset(&ds, &d->fs, lay, w);
    if (st) return cli_fail(st, "windows");
    const size_t ns = ds.n, yn = ds.y_numel, Q = (size_t)lay->n_quantiles, E = w->n * (size_t)lay->n_steps * (size_t)d->K;
    float *p = malloc(ns * yn * sizeof *p);
    double *all = malloc(E * Q * sizeof *all);
    int rc = !p || !all;
    if (!rc && (st = sn_model_predict(m, &ds, batch, p))) rc = cli_fail(st, "predict");
    if (!rc && (st = sn_fc_unscale(&d->fs, lay, w, p, all))) rc = cli_fail(st, "predict");
    const size_t mq = (size_t)(d->n_q ? median_index(d) : 0);
    for (size_t e = 0; !rc && e < E; e++) {
        point[e] = all[e * Q + mq];
        if (lo) lo[e] = all[e * Q];
        if (hi) hi[e] = all[e * Q + Q - 1];
    }
    if (!p || !all) cli_fail(SN_ERR_NOMEM, NULL);
    free(p);
    free(all);
    sn_dataset_free(&ds);
    return rc;
}

typedef struct fc_train_out {
    double *val, *test, *test_lo, *test_hi;
} fc_train_out;

/* Builds and compiles the model of preset p (or spec) for the layout. */
static int build_model(fc_data *d, const fc_preset *p, const char *spec, const sn_fc_layout *lay, const cli_train *t,
                       sn_model **out) {
    const size_t n_out = sn_fc_layout_y_numel(lay, d->K);
    char *text = p ? sized_spec(p, n_out, (size_t)lay->n_steps * (size_t)lay->n_quantiles) : NULL;
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 2;
    mo.input_shape[0] = lay->lookback;
    mo.input_shape[1] = lay->channel_independent ? 1 : d->C;
    mo.seed = t->seed;
    sn_status st = sn_model_init(out, text ? text : spec, &mo);
    free(text);
    if (st) return cli_fail(st, p ? p->name : "model");
    if (sn_model_output_numel(*out) != n_out) {
        fprintf(stderr,
                "seqnn: the model gives %zu values per sample but %d step(s) x %d target(s)%s x %d quantile(s) need "
                "%zu: end the spec with dense(%zu)\n",
                sn_model_output_numel(*out), lay->n_steps, lay->channel_independent ? 1 : d->K,
                lay->channel_independent ? " (channel-independent)" : "", lay->n_quantiles, n_out, n_out);
        return 1;
    }
    sn_optimizer_cfg oc = t->opt;
    sn_metric_kind mk = SN_METRIC_MAE;
    if ((st = sn_model_compile(*out, &oc, d->n_q ? SN_LOSS_PINBALL : SN_LOSS_MSE, &mk, 1)) ||
        (d->n_q && (st = sn_model_set_quantiles(*out, d->quantiles, d->n_q))))
        return cli_fail(st, "compile");
    return 0;
}

/* Trains preset p (or spec) with a best-on-validation checkpoint and
 * predicts validation and test. */
static int train_model(fc_data *d, const fc_preset *p, const char *spec, int epochs, const cli_train *t0, int save,
                       fc_result *r, fc_train_out *o) {
    cli_train t = *t0;
    t.epochs = epochs;
    sn_fc_layout lay = d->lay;
    if (p && !strcmp(p->name, "dlinear")) lay.channel_independent = 1; /* DLinear is channel-independent */
    lay.n_quantiles = d->n_q ? d->n_q : 1;
    sn_model *m = NULL, *best = NULL;
    if (build_model(d, p, spec, &lay, &t, &m)) {
        sn_model_free(m);
        return 1;
    }
    r->params = sn_model_param_count(m, NULL, NULL);
    printf("\n== %s: %s (%zu params, %d epochs)\n", r->name, sn_model_spec(m), r->params, epochs);
    if (!t.quiet) {
        char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    fc_meta meta;
    fc_data_meta(d, &meta);
    meta.channel_independent = lay.channel_independent;
    void *blob;
    size_t blen;
    if (save && fc_meta_encode(&meta, &blob, &blen) == 0) {
        sn_model_set_meta(m, FC_META_KEY, blob, blen);
        free(blob);
    }
    sn_dataset ds[3];
    memset(ds, 0, sizeof ds);
    sn_status st = SN_OK;
    for (int i = 0; i < 3 && !st; i++) st = sn_fc_dataset(&ds[i], &d->fs, &lay, &d->w[i]);
    sn_history h = {0};
    cli_fit_result fr = {0};
    int rc = st ? cli_fail(st, "windows") : cli_fit_best(m, &t, r->name, &ds[0], &ds[1], &ds[2], "mae", 1, &best, &h, &fr);
    sn_model_free(m);
    r->seconds = fr.seconds;
    r->epochs_run = fr.epochs_run;
    r->best_epoch = fr.best_epoch;
    const int idle = fc_rank_idle(d); /* a rank holding only its share: rank 0 predicts */
    if (!rc && !idle) rc = model_predict(d, best, &lay, 1, t.batch, o->val, NULL, NULL);
    if (!rc && !idle)
        rc = model_predict(d, best, &lay, 2, t.batch, o->test, d->n_q ? o->test_lo : NULL, d->n_q ? o->test_hi : NULL);
    if (!rc) cli_write_history(&t, r->name, &h, 1);
    if (!rc && !t.no_plots) {
        char path[4096], title[128];
        double *tr = cli_history_column(&h, "loss"), *va = cli_history_column(&h, "val_loss");
        snprintf(path, sizeof path, "%s/%s_mae.png", t.out, r->name);
        snprintf(title, sizeof title, "%s: training and validation loss (%s)", r->name, d->n_q ? "pinball" : "MSE");
        double *trm = cli_history_column(&h, "mae"), *vam = cli_history_column(&h, "val_mae");
        if (!d->n_q && trm) {
            snprintf(title, sizeof title, "%s: training and validation MAE", r->name);
            sn_plot_history(path, "MAE", trm, vam, h.epochs, title);
        } else if (tr) {
            sn_plot_history(path, "loss", tr, va, h.epochs, title);
        }
        free(tr), free(va), free(trm), free(vam);
    }
    if (!rc && save && d->o.interval > 0) {
        /* the conformal half-widths join the metadata once they are known */
        meta.interval = d->o.interval;
        meta.n_conformal = 0;
        r->learned = 2; /* re-save pending: fc_run_model adds the widths */
    }
    fc_meta_free(&meta);
    for (int i = 0; i < 3; i++) sn_dataset_free(&ds[i]);
    sn_model_free(best);
    sn_history_free(&h);
    return rc;
}

/* Original units to standardised (--metrics-scale standardized), in place. */
static void standardise_values(const fc_data *d, const sn_windows *w, double *v) {
    const size_t S = (size_t)d->lay.n_steps, K = (size_t)d->K;
    for (size_t j = 0; j < w->n; j++) {
        const size_t s = (size_t)fc_series_of(d, w->start[j]);
        for (size_t i = 0; i < S; i++)
            for (size_t k = 0; k < K; k++) {
                double *p = &v[(j * S + i) * K + k];
                *p = (*p - d->ymean[s * K + k]) / d->ystd[s * K + k];
            }
    }
}

/* MASE denominators (n, K) of a window set, in the metrics' units. */
static double *mase_dens(const fc_data *d, const sn_windows *w) {
    const size_t K = (size_t)d->K;
    double *den = malloc(w->n * K * sizeof *den);
    for (size_t j = 0; den && j < w->n; j++) {
        const size_t s = (size_t)fc_series_of(d, w->start[j]);
        for (size_t k = 0; k < K; k++)
            den[j * K + k] = d->mase_den[s * K + k] / (d->standardized_metrics ? d->ystd[s * K + k] : 1.0);
    }
    return den;
}

/* Metrics of one split (overall, per step; per series for test). */
static int split_metrics(fc_data *d, int split, double *pred, double *truth, sn_fc_metrics *all, sn_fc_metrics *step,
                         sn_fc_metrics *per_series) {
    const sn_windows *w = &d->w[split];
    const int S = d->lay.n_steps, K = d->K;
    double *den = mase_dens(d, w);
    if (!den) return cli_fail(SN_ERR_NOMEM, NULL);
    sn_status st = sn_fc_metrics_eval(pred, truth, den, w->n, S, K, all, step);
    for (size_t j0 = 0; !st && per_series && j0 < w->n;) {
        int s = fc_series_of(d, w->start[j0]);
        size_t j1 = j0;
        while (j1 < w->n && fc_series_of(d, w->start[j1]) == s) j1++;
        const size_t e = j0 * (size_t)S * (size_t)K;
        st = sn_fc_metrics_eval(pred + e, truth + e, den + j0 * (size_t)K, j1 - j0, S, K, &per_series[s], NULL);
        j0 = j1;
    }
    free(den);
    return st ? cli_fail(st, "metrics") : 0;
}

/* Split-conformal widths from the validation residuals (one per step and
 * target), the test band, and its coverage. q (S*K) is kept for the model. */
static int conformal(fc_data *d, const double *vpred, const double *vtruth, fc_result *r, double *q) {
    const size_t m = (size_t)d->lay.n_steps * (size_t)d->K, nt = d->w[2].n;
    sn_status st = sn_fc_conformal(vpred, vtruth, d->w[1].n, m, d->o.interval, q);
    if (st) return cli_fail(st, "--interval");
    r->test_lo = malloc(nt * m * sizeof *r->test_lo);
    r->test_hi = malloc(nt * m * sizeof *r->test_hi);
    if (!r->test_lo || !r->test_hi) return cli_fail(SN_ERR_NOMEM, NULL);
    for (size_t j = 0; j < nt; j++)
        for (size_t e = 0; e < m; e++) {
            r->test_lo[j * m + e] = r->test_pred[j * m + e] - q[e];
            r->test_hi[j * m + e] = r->test_pred[j * m + e] + q[e];
        }
    r->interval_kind = "conformal";
    r->level = d->o.interval;
    return 0;
}

/* Rewrites <out>/<name>.seqnn with the conformal widths in its metadata. */
static int resave_with_widths(fc_data *d, const fc_result *r, const cli_train *t, const double *q) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.seqnn", t->out, r->name);
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, path);
    fc_meta meta;
    fc_data_meta(d, &meta);
    meta.channel_independent = !strcmp(r->name, "dlinear") || d->lay.channel_independent;
    meta.interval = d->o.interval;
    meta.n_conformal = d->lay.n_steps * d->K;
    meta.conformal = malloc((size_t)meta.n_conformal * sizeof *meta.conformal);
    void *blob = NULL;
    size_t blen;
    if (!st && meta.conformal) {
        memcpy(meta.conformal, q, (size_t)meta.n_conformal * sizeof *q);
        if (fc_meta_encode(&meta, &blob, &blen) == 0) st = sn_model_set_meta(m, FC_META_KEY, blob, blen);
        if (!st && cli_is_root()) st = sn_model_save(m, path); /* MPI: rank 0 writes */
    }
    /* MPI: every rank here, so the others read the file rank 0 wrote next
     * (a fold without refit); a failure on one rank fails all */
    if (cli_comm) st = sn_comm_agree(cli_comm, st);
    free(blob);
    fc_meta_free(&meta);
    sn_model_free(m);
    return st ? cli_fail(st, path) : 0;
}

/* Predictions of the saved model at path (a fold without refit). */
static int reuse_model(fc_data *d, const fc_preset *p, const char *path, const cli_train *t, fc_train_out *o) {
    sn_model *m = NULL;
    sn_status st = sn_model_load(&m, path);
    if (st) return cli_fail(st, NULL);
    sn_fc_layout lay = d->lay;
    if (p && !strcmp(p->name, "dlinear")) lay.channel_independent = 1;
    lay.n_quantiles = d->n_q ? d->n_q : 1;
    int rc = model_predict(d, m, &lay, 1, t->batch, o->val, NULL, NULL);
    if (!rc) rc = model_predict(d, m, &lay, 2, t->batch, o->test, o->test_lo, o->test_hi);
    sn_model_free(m);
    return rc;
}

/* Point predictions and truths of val and test from the model or baseline. */
static int predictions(fc_data *d, const fc_preset *p, const char *spec, int epochs, const cli_train *t, int save,
                       const char *reuse, fc_result *r, double *vpred, double *vtruth) {
    const size_t m = (size_t)d->lay.n_steps * (size_t)d->K, nt = d->w[2].n;
    const int idle = fc_rank_idle(d);
    sn_status st = idle ? SN_OK : sn_fc_truth(&d->fs, &d->lay, &d->w[1], vtruth);
    if (!st && !idle) st = sn_fc_truth(&d->fs, &d->lay, &d->w[2], r->test_truth);
    if (st) return cli_fail(st, "windows");
    if (p && !p->spec && idle) return 0; /* rank 0 computes the baselines */
    if (p && !p->spec) {
        double t0 = sn_time_now();
        double *const outs[3] = {NULL, vpred, r->test_pred};
        int rc = baseline_predict(d, p->name, outs);
        r->seconds = sn_time_now() - t0;
        return rc;
    }
    r->learned = 1;
    fc_train_out o = {vpred, r->test_pred, NULL, NULL};
    if (d->n_q && !(d->o.interval > 0)) {
        r->test_lo = o.test_lo = calloc(nt * m, sizeof *o.test_lo);
        r->test_hi = o.test_hi = calloc(nt * m, sizeof *o.test_hi);
        if (!o.test_lo || !o.test_hi) return cli_fail(SN_ERR_NOMEM, NULL);
        r->interval_kind = "quantile";
        r->level = d->quantiles[d->n_q - 1] - d->quantiles[0];
    } else if (d->n_q) {
        double *lo = malloc(nt * m * sizeof *lo), *hi = malloc(nt * m * sizeof *hi);
        o.test_lo = lo, o.test_hi = hi;
        int rc = !lo || !hi ? cli_fail(SN_ERR_NOMEM, NULL)
                 : reuse    ? reuse_model(d, p, reuse, t, &o)
                            : train_model(d, p, spec, epochs, t, save, r, &o);
        free(lo), free(hi);
        return rc;
    }
    return reuse ? reuse_model(d, p, reuse, t, &o) : train_model(d, p, spec, epochs, t, save, r, &o);
}

int fc_run_model(fc_data *d, const fc_preset *p, const char *spec, int epochs, const cli_train *t, int save,
                 const char *reuse, fc_result *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", p ? p->name : "custom");
    r->seed_ref = p && fc_seed_protocol(d) ? fc_seed_test_mae(p->name) : NAN;
    r->coverage = r->level = NAN;
    const size_t S = (size_t)d->lay.n_steps, m = S * (size_t)d->K, nv = d->w[1].n, nt = d->w[2].n;
    double *vpred = calloc(nv * m, sizeof *vpred), *vtruth = calloc(nv * m, sizeof *vtruth), *q = NULL;
    r->test_pred = calloc(nt * m, sizeof *r->test_pred);
    r->test_truth = calloc(nt * m, sizeof *r->test_truth);
    r->test_step = calloc(S, sizeof *r->test_step);
    r->val_step = calloc(S, sizeof *r->val_step);
    r->series_test = d->n_series > 1 ? calloc((size_t)d->n_series, sizeof *r->series_test) : NULL;
    int rc = !vpred || !vtruth || !r->test_pred || !r->test_truth || !r->test_step || !r->val_step ||
                     (d->n_series > 1 && !r->series_test)
                 ? cli_fail(SN_ERR_NOMEM, NULL)
                 : predictions(d, p, spec, epochs, t, save, reuse, r, vpred, vtruth);
    int pending = r->learned == 2;
    if (!rc && fc_rank_idle(d)) { /* rank 0 evaluates; the others join the re-save (collective) */
        if (pending && save && d->o.interval > 0)
            rc = (q = calloc(m, sizeof *q)) ? resave_with_widths(d, r, t, q) : cli_fail(SN_ERR_NOMEM, NULL);
        if (r->learned == 2) r->learned = 1;
        free(q), free(vpred), free(vtruth);
        return rc;
    }
    if (!rc && d->o.interval > 0) {
        q = malloc(m * sizeof *q);
        rc = q ? conformal(d, vpred, vtruth, r, q) : cli_fail(SN_ERR_NOMEM, NULL);
        if (!rc && pending && save) rc = resave_with_widths(d, r, t, q);
    }
    if (!rc && r->test_lo) r->coverage = sn_fc_coverage(r->test_lo, r->test_hi, r->test_truth, nt * m);
    if (!rc && d->standardized_metrics) {
        standardise_values(d, &d->w[1], vpred);
        standardise_values(d, &d->w[1], vtruth);
    }
    double *tp = NULL, *tt = NULL;
    if (!rc && d->standardized_metrics) {
        tp = malloc(nt * m * sizeof *tp), tt = malloc(nt * m * sizeof *tt);
        if (!tp || !tt) rc = cli_fail(SN_ERR_NOMEM, NULL);
        else {
            memcpy(tp, r->test_pred, nt * m * sizeof *tp), memcpy(tt, r->test_truth, nt * m * sizeof *tt);
            standardise_values(d, &d->w[2], tp);
            standardise_values(d, &d->w[2], tt);
        }
    }
    if (!rc) rc = split_metrics(d, 1, vpred, vtruth, &r->val, r->val_step, NULL);
    if (!rc) rc = split_metrics(d, 2, tp ? tp : r->test_pred, tt ? tt : r->test_truth, &r->test, r->test_step, r->series_test);
    if (r->learned == 2) r->learned = 1;
    free(tp), free(tt), free(q), free(vpred), free(vtruth);
    return rc;
}
