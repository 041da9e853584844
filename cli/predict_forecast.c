/* seqnn predict, forecasting models: scaling and windowing come from the
 * model file (forecast_meta.h). For --data it forecasts
 *   - the future: the H steps after the last row of each series, with their
 *     timestamps and intervals (conformal widths or quantile levels), written
 *     to --out as CSV and drawn after the history in <out>.png;
 *   - every earlier window one sampling period apart, scored (MAE) where the
 *     file holds the values it forecast. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "forecast.h"
#include "forecast_meta.h"
#include "predict.h"
#include "seqnn/data.h"
#include "seqnn/forecast.h"
#include "seqnn/plot.h"

/* The state of one forecasting prediction, released by pf_free. */
typedef struct pf {
    fc_meta fm;
    const char *data;
    sn_table t;
    int K, S, Q, ns;          /* targets, steps, quantile outputs, series in the file */
    int *tcol;                /* (K) */
    int *mser;                /* (ns) model series of each file series */
    int *row_series;          /* (N) file series of each row */
    long r, L;                /* sampling in rows, look-back in steps */
    size_t N, span;           /* rows; rows one look-back spans */
    float *x, *y, *yn;        /* (N,C) (N,K) (N,K) */
    double *ymean, *ystd;     /* (ns,K) per file series */
    sn_fc_layout lay;
    sn_fc_series fs;
    sn_windows w;             /* every window, series after series, the last of each at its series' end */
    double *pred;             /* (n, S, K, Q) */
} pf;

static void pf_free(pf *p) {
    sn_windows_free(&p->w);
    free(p->tcol), free(p->mser), free(p->row_series);
    free(p->x), free(p->y), free(p->yn), free(p->ymean), free(p->ystd), free(p->pred);
    sn_table_free(&p->t);
    fc_meta_free(&p->fm);
}

static size_t sbeg(const pf *p, int s) { return p->t.series_start ? p->t.series_start[s] : 0; }
static size_t send_(const pf *p, int s) { return p->t.series_start ? p->t.series_start[s + 1] : p->N; }

/* The CSV with the model's feature columns (and id column), checked against the model. */
static int pf_load(pf *p, sn_model *m, const cli_opt *opts) {
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    co.columns = (const char *const *)p->fm.features;
    co.n_columns = p->fm.n_features;
    co.id_column = p->fm.id_column;
    co.missing = cli_flag(opts, "ffill") ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    sn_status st = sn_csv_read(&p->t, p->data, &co);
    if (st) return cli_fail(st, NULL);
    if (!p->t.time) {
        fprintf(stderr, "seqnn predict: %s has no date column\n", p->data);
        return 1;
    }
    sn_time_report tr;
    if ((st = sn_table_time_report(&p->t, &tr))) return cli_fail(st, p->data);
    if ((st = sn_duration_to_rows(p->fm.sampling_s, tr.median_step, &p->r)))
        return cli_fail(st, "sampling period vs the file's step");
    p->fm.step_s = tr.median_step; /* timestamps of the future rows: this file's step */
    long H = (long)(p->fm.horizon_s / p->fm.sampling_s);
    p->L = p->fm.lookback;
    p->K = p->fm.n_targets;
    p->S = p->fm.steps_all ? (int)H : 1;
    p->Q = p->fm.n_quantiles ? p->fm.n_quantiles : 1;
    sn_fc_layout *l = &p->lay;
    l->lookback = (int)p->L, l->sampling = (int)p->r, l->n_steps = p->S;
    l->first = p->fm.steps_all ? p->r : H * p->r, l->stride = p->r;
    l->scale = (sn_fc_scale)p->fm.scale, l->channel_independent = p->fm.channel_independent, l->n_quantiles = p->Q;
    l->inputs_only = 1;
    size_t want_in = sn_fc_layout_x_numel(l, p->fm.n_features), want_out = sn_fc_layout_y_numel(l, p->K);
    if (sn_model_input_numel(m) != want_in || sn_model_output_numel(m) != want_out) {
        fprintf(stderr, "seqnn predict: the model's input / output (%zu / %zu) do not match its forecasting metadata "
                        "(%zu / %zu)\n", sn_model_input_numel(m), sn_model_output_numel(m), want_in, want_out);
        return 1;
    }
    if (p->fm.interval > 0 && p->fm.n_conformal != p->S * p->K) {
        fprintf(stderr, "seqnn predict: the model's conformal widths do not match its steps and targets\n");
        return 1;
    }
    p->N = p->t.n_rows;
    p->span = (size_t)((p->L - 1) * p->r + 1);
    return 0;
}

/* Targets, the model series of each file series, per-row scaling. */
static int pf_scale(pf *p) {
    const size_t C = (size_t)p->fm.n_features, K = (size_t)p->K, N = p->N;
    p->ns = p->t.series_start ? p->t.n_series : 1;
    p->tcol = malloc(K * sizeof *p->tcol);
    p->mser = malloc((size_t)p->ns * sizeof *p->mser);
    p->row_series = malloc(N * sizeof *p->row_series);
    p->x = malloc(N * C * sizeof *p->x);
    p->y = malloc(N * K * sizeof *p->y);
    p->yn = malloc(N * K * sizeof *p->yn);
    p->ymean = malloc((size_t)p->ns * K * sizeof *p->ymean);
    p->ystd = malloc((size_t)p->ns * K * sizeof *p->ystd);
    if (!p->tcol || !p->mser || !p->row_series || !p->x || !p->y || !p->yn || !p->ymean || !p->ystd)
        return cli_fail(SN_ERR_NOMEM, NULL);
    for (size_t k = 0; k < K; k++) {
        sn_status st = sn_table_col_index(&p->t, p->fm.targets[k], &p->tcol[k]);
        if (st) return cli_fail(st, "target");
    }
    for (int s = 0; s < p->ns; s++) {
        p->mser[s] = p->t.series_start ? fc_meta_series(&p->fm, p->t.series_names[s]) : 0;
        if (p->mser[s] < 0) {
            fprintf(stderr, "seqnn predict: series \"%s\" of %s was not in the training data (no statistics to scale it)\n",
                    p->t.series_names[s], p->data);
            return 1;
        }
        for (size_t i = sbeg(p, s); i < send_(p, s); i++) p->row_series[i] = s;
        for (size_t k = 0; k < K; k++) {
            size_t ms = (size_t)p->mser[s];
            p->ymean[(size_t)s * K + k] = p->fm.tmean ? p->fm.tmean[ms * K + k] : p->fm.mean[ms * C + (size_t)p->tcol[k]];
            p->ystd[(size_t)s * K + k] = p->fm.tstd ? p->fm.tstd[ms * K + k] : p->fm.std[ms * C + (size_t)p->tcol[k]];
        }
    }
    for (size_t i = 0; i < N; i++) {
        const size_t ms = (size_t)p->mser[p->row_series[i]];
        for (size_t c = 0; c < C; c++)
            p->x[i * C + c] = (float)((p->t.data[i * C + c] - p->fm.mean[ms * C + c]) / p->fm.std[ms * C + c]);
        for (size_t k = 0; k < K; k++) {
            double v = p->t.data[i * C + (size_t)p->tcol[k]];
            p->y[i * K + k] = (float)v;
            p->yn[i * K + k] = (float)((v - p->ymean[(size_t)p->row_series[i] * K + k]) / p->ystd[(size_t)p->row_series[i] * K + k]);
        }
    }
    sn_fc_series *fs = &p->fs;
    fs->N = N, fs->C = (int)C, fs->x = p->x, fs->K = (int)K, fs->y = p->y, fs->yn = p->yn;
    fs->series = p->ns > 1 ? p->row_series : NULL, fs->n_series = p->ns, fs->y_mean = p->ymean, fs->y_std = p->ystd;
    return 0;
}

/* Windows one sampling period apart whose look-back ends at the series'
 * last row or r, 2r, ... rows before it; predicted and un-scaled. */
static int pf_predict(pf *p, sn_model *m) {
    size_t n = 0;
    for (int s = 0; s < p->ns; s++) {
        size_t len = send_(p, s) - sbeg(p, s);
        if (len < p->span) {
            fprintf(stderr, "seqnn predict: %s%s%s has %zu rows; one window needs %zu (%ld steps every %ld rows)\n",
                    p->data, p->ns > 1 ? ", series " : "", p->ns > 1 ? p->t.series_names[s] : "", len, p->span, p->L, p->r);
            return 1;
        }
        n += (len - p->span) / (size_t)p->r + 1;
    }
    p->w.start = malloc(n * sizeof *p->w.start);
    p->pred = malloc(n * (size_t)(p->S * p->K * p->Q) * sizeof *p->pred);
    float *raw = malloc(sn_fc_layout_samples(&p->lay, p->K, n) * sn_fc_layout_y_numel(&p->lay, p->K) * sizeof *raw);
    if (!p->w.start || !p->pred || !raw) {
        free(raw);
        return cli_fail(SN_ERR_NOMEM, NULL);
    }
    size_t j = 0;
    for (int s = 0; s < p->ns; s++) {
        size_t b = sbeg(p, s), len = send_(p, s) - b;
        for (size_t first = b + (len - p->span) % (size_t)p->r; first + p->span <= b + len; first += (size_t)p->r)
            p->w.start[j++] = first;
    }
    p->w.n = n, p->w.sequence_length = (int)p->L, p->w.sampling_rate = (int)p->r, p->w.sequence_stride = (int)p->r;
    sn_dataset ds;
    sn_status st = sn_fc_dataset(&ds, &p->fs, &p->lay, &p->w);
    if (!st) st = sn_model_predict(m, &ds, 256, raw);
    if (!st) st = sn_fc_unscale(&p->fs, &p->lay, &p->w, raw, p->pred);
    sn_dataset_free(&ds);
    free(raw);
    return st ? cli_fail(st, "predict") : 0;
}

/* Point forecast (the level nearest 0.5) and interval of entry (window j, step i, target k). */
static void entry(const pf *p, size_t j, int i, int k, double *pt, double *lo, double *hi) {
    const size_t e = ((j * (size_t)p->S + (size_t)i) * (size_t)p->K + (size_t)k) * (size_t)p->Q;
    int mq = 0;
    for (int q = 1; q < p->Q; q++)
        if (fabs(p->fm.quantiles[q] - 0.5) < fabs(p->fm.quantiles[mq] - 0.5)) mq = q;
    *pt = p->pred[e + (size_t)mq];
    *lo = *hi = NAN;
    if (p->fm.interval > 0) {
        double q = p->fm.conformal[(size_t)i * (size_t)p->K + (size_t)k];
        *lo = *pt - q, *hi = *pt + q;
    } else if (p->Q > 1) {
        *lo = p->pred[e], *hi = p->pred[e + (size_t)p->Q - 1];
    }
}

/* The future rows to --out: one line per series, step; columns per target. */
static int pf_write_future(const pf *p, const char *outp) {
    FILE *f = fopen(outp, "w");
    if (!f) {
        fprintf(stderr, "seqnn predict: cannot write %s\n", outp);
        return 1;
    }
    const int has_iv = p->fm.interval > 0 || p->Q > 1;
    if (p->ns > 1) fprintf(f, "\"%s\",", p->t.series_column);
    fprintf(f, "time,step");
    for (int k = 0; k < p->K; k++) {
        fprintf(f, ",\"%s\"", p->fm.targets[k]);
        if (has_iv) fprintf(f, ",\"%s_lo\",\"%s_hi\"", p->fm.targets[k], p->fm.targets[k]);
        for (int q = 0; p->Q > 1 && q < p->Q; q++) fprintf(f, ",\"%s_q%g\"", p->fm.targets[k], p->fm.quantiles[q]);
    }
    fprintf(f, "\n");
    size_t j = 0;
    for (int s = 0; s < p->ns; s++) {
        while (j + 1 < p->w.n && p->row_series[p->w.start[j + 1]] == s) j++; /* the series' last window */
        size_t last = p->w.start[j] + p->span - 1;
        for (int i = 0; i < p->S; i++) {
            long rows = p->lay.first + (long)i * p->lay.stride;
            char tb[32];
            if (p->ns > 1) fprintf(f, "\"%s\",", p->t.series_names[s]);
            fprintf(f, "%s,%d", sn_time_format(p->t.time[last] + rows * p->fm.step_s, tb, sizeof tb), i + 1);
            for (int k = 0; k < p->K; k++) {
                double pt, lo, hi;
                entry(p, j, i, k, &pt, &lo, &hi);
                fprintf(f, ",%.6g", pt);
                if (has_iv) fprintf(f, ",%.6g,%.6g", lo, hi);
                for (int q = 0; p->Q > 1 && q < p->Q; q++)
                    fprintf(f, ",%.6g", p->pred[((j * (size_t)p->S + (size_t)i) * (size_t)p->K + (size_t)k) * (size_t)p->Q + (size_t)q]);
            }
            fprintf(f, "\n");
        }
        j++;
    }
    if (fclose(f)) {
        fprintf(stderr, "seqnn predict: cannot write %s\n", outp);
        return 1;
    }
    return 0;
}

/* <out>.png: the first series' last 10 days (at least a look-back) and its future with the band. */
static void pf_plot(const pf *p, const char *outp) {
    size_t j = 0;
    while (j + 1 < p->w.n && p->row_series[p->w.start[j + 1]] == 0) j++;
    const size_t last = p->w.start[j] + p->span - 1, per_day = p->fm.step_s > 0 ? (size_t)(86400 / p->fm.step_s) : 24;
    size_t hist = 10 * (per_day ? per_day : 1), nh = SN_MIN_SZ(last + 1 - sbeg(p, 0), hist > p->span ? hist : p->span);
    size_t n = nh + (size_t)p->S;
    double *t = malloc(n * sizeof *t);
    float *v = malloc(4 * n * sizeof *v);
    if (t && v) {
        for (size_t i = 0; i < 4 * n; i++) v[i] = NAN;
        for (size_t i = 0; i < nh; i++) {
            size_t row = last + 1 - nh + i;
            t[i] = (double)p->t.time[row], v[i] = p->y[row * (size_t)p->K];
        }
        for (int i = 0; i < p->S; i++) {
            double pt, lo, hi;
            entry(p, j, i, 0, &pt, &lo, &hi);
            t[nh + (size_t)i] = (double)(p->t.time[last] + (p->lay.first + (long)i * p->lay.stride) * p->fm.step_s);
            v[n + nh + (size_t)i] = (float)pt, v[2 * n + nh + (size_t)i] = (float)lo, v[3 * n + nh + (size_t)i] = (float)hi;
        }
        v[n + nh - 1] = v[nh - 1];
        double *bx = NULL;
        float *by = NULL;
        sn_plot_series s[3] = {{"history", t, v, n, SN_PLOT_LINE},
                               {"forecast", t, v + n, n, SN_PLOT_LINE_POINTS},
                               {NULL, NULL, NULL, 0, 0}};
        int has_iv = p->fm.interval > 0 || p->Q > 1;
        if (has_iv) s[2] = fc_band(t + nh, v + 2 * n + nh, v + 3 * n + nh, (size_t)p->S, &bx, &by);
        char path[4096], title[200];
        snprintf(path, sizeof path, "%s", outp);
        char *dot = strrchr(path, '.');
        if (dot && !strchr(dot, '/')) *dot = 0;
        strncat(path, ".png", sizeof path - strlen(path) - 1);
        sn_plot_opts po;
        memset(&po, 0, sizeof po);
        char dur[32];
        snprintf(title, sizeof title, "%s: forecast of the %d step(s) up to %s after the data%s%s", p->fm.targets[0], p->S,
                 sn_duration_format(p->fm.horizon_s, dur, sizeof dur), p->ns > 1 ? ", series " : "",
                 p->ns > 1 ? p->t.series_names[0] : "");
        po.title = title, po.ylabel = p->fm.targets[0], po.x_is_time = 1;
        sn_status st = sn_plot_lines(path, s, has_iv && s[2].n ? 3 : 2, &po);
        if (st) cli_fail(st, "plot");
        else printf("plot written to %s\n", path);
        free(bx), free(by);
    }
    free(t), free(v);
}

/* The latest forecast, and the MAE over the windows whose targets are in the file. */
static void pf_report(const pf *p) {
    double err = 0;
    size_t n_act = 0;
    for (size_t j = 0; j < p->w.n; j++) {
        int s = p->row_series[p->w.start[j]];
        size_t o = p->w.start[j] + p->span - 1;
        for (int i = 0; i < p->S; i++) {
            size_t row = o + (size_t)(p->lay.first + (long)i * p->lay.stride);
            if (row >= send_(p, s)) continue;
            for (int k = 0; k < p->K; k++) {
                double pt, lo, hi;
                entry(p, j, i, k, &pt, &lo, &hi);
                err += fabs(pt - p->y[row * (size_t)p->K + (size_t)k]);
                n_act++;
            }
        }
    }
    char a[32], b[32], c[32];
    size_t lastj = p->ns > 1 ? 0 : p->w.n - 1;
    while (p->ns > 1 && lastj + 1 < p->w.n && p->row_series[p->w.start[lastj + 1]] == 0) lastj++;
    size_t last = p->w.start[lastj] + p->span - 1;
    printf("%zu forecasts of \"%s\"%s %s ahead from %s\n", p->w.n, p->fm.targets[0], p->K > 1 ? " (and more targets)" : "",
           sn_duration_format(p->fm.horizon_s, b, sizeof b), p->data);
    printf("latest: data up to %s -> %s at %s\n", sn_time_format(p->t.time[last], a, sizeof a), p->fm.targets[0],
           sn_time_format(p->t.time[last] + p->lay.first * p->fm.step_s + (long)(p->S - 1) * p->lay.stride * p->fm.step_s,
                          c, sizeof c));
    double pt, lo, hi;
    entry(p, lastj, p->S - 1, 0, &pt, &lo, &hi);
    printf("forecast: %.2f", pt);
    if (!isnan(lo)) printf(" [%.2f, %.2f]", lo, hi);
    printf("%s\n", p->S > 1 ? " (the last of the steps; all of them with --out)" : "");
    if (n_act) printf("MAE over the %zu forecasts whose target is in the file: %.3f\n", n_act, err / (double)n_act);
}

int cli_predict_forecast(sn_model *m, const void *blob, size_t blen, const cli_opt *opts) {
    pf p;
    memset(&p, 0, sizeof p);
    char err[256];
    if (fc_meta_decode(&p.fm, blob, blen, err, sizeof err)) {
        fprintf(stderr, "seqnn predict: %s\n", err);
        return 1;
    }
    p.data = cli_get(opts, "data");
    int rc = 0;
    if (!p.data) {
        fprintf(stderr, "seqnn predict: a forecasting model needs --data CSV with the columns it was trained on\n");
        rc = 2;
    }
    if (!rc) rc = pf_load(&p, m, opts);
    if (!rc) rc = pf_scale(&p);
    if (!rc) rc = pf_predict(&p, m);
    if (!rc) pf_report(&p);
    const char *outp = cli_get(opts, "out");
    if (!rc && outp) {
        rc = pf_write_future(&p, outp);
        if (!rc) {
            printf("the %d step(s) after the last row written to %s\n", p.S, outp);
            pf_plot(&p, outp);
        }
    }
    pf_free(&p);
    return rc;
}
