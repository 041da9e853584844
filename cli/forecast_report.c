/* Tables and plots of the forecasting commands (forecast.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "seqnn/plot.h"

sn_plot_series fc_band(const double *x, const float *lo, const float *hi, size_t n, double **bx, float **by) {
    *bx = malloc((2 * n + 1) * sizeof **bx);
    *by = malloc((2 * n + 1) * sizeof **by);
    sn_plot_series s = {"interval", *bx, *by, 0, SN_PLOT_DASHED};
    if (!*bx || !*by) return s;
    for (size_t i = 0; i < n; i++) {
        (*bx)[i] = x[i], (*by)[i] = lo[i];
        (*bx)[n + 1 + i] = x[i], (*by)[n + 1 + i] = hi[i];
    }
    (*bx)[n] = x[n ? n - 1 : 0], (*by)[n] = NAN;
    s.n = 2 * n + 1;
    return s;
}

static const char *unit_word(const fc_data *d) { return d->standardized_metrics ? " (standardized)" : ""; }

void fc_report_line(const fc_data *d, const fc_result *r, double naive_test) {
    if (!r->learned)
        printf("\n== %s: val MAE %.2f, test MAE %.2f\n", r->name, r->val.mae, r->test.mae);
    else
        printf("%s: best epoch %d, val MAE %.3f, test MAE %.3f (naive %.3f), %.1f s\n", r->name, r->best_epoch,
               r->val.mae, r->test.mae, naive_test, r->seconds);
    printf("   test%s: MAE %.4g  MSE %.4g  RMSE %.4g  MAPE %.3g%%  sMAPE %.3g%%  MASE %.3g", unit_word(d), r->test.mae,
           r->test.mse, r->test.rmse, r->test.mape, r->test.smape, r->test.mase);
    if (d->lay.n_steps > 1)
        printf("  (step 1 MAE %.4g, step %d MAE %.4g)", r->test_step[0].mae, d->lay.n_steps,
               r->test_step[d->lay.n_steps - 1].mae);
    printf("\n");
    if (r->interval_kind)
        printf("   %s interval %.0f%%: test coverage %.1f%%\n", r->interval_kind, 100 * r->level, 100 * r->coverage);
    if (d->n_series > 1) {
        double worst = 0;
        int ws = 0;
        for (int s = 0; s < d->n_series; s++)
            if (r->series_test[s].n && r->series_test[s].mae > worst) worst = r->series_test[s].mae, ws = s;
        printf("   %d series: worst test MAE %.4g (\"%s\"); per series in %s_per_series.csv\n", d->n_series, worst,
               d->tab.series_names[ws], r->name);
    }
}

static void metric_cols(FILE *f, const char *pre) {
    static const char *m[] = {"mae", "mse", "rmse", "mape", "smape", "mase"};
    for (int i = 0; i < 6; i++) fprintf(f, ",%s_%s", pre, m[i]);
}

static void metric_vals(FILE *f, const sn_fc_metrics *x) {
    double v[] = {x->mae, x->mse, x->rmse, x->mape, x->smape, x->mase};
    for (int i = 0; i < 6; i++) {
        if (isnan(v[i])) fprintf(f, ",");
        else fprintf(f, ",%.6g", v[i]);
    }
}

int fc_write_results(const fc_data *d, const fc_result *r, int n, const char *out, uint64_t seed) {
    char *md = NULL, *csv = NULL;
    size_t mdn = 0, csvn = 0;
    FILE *fm = open_memstream(&md, &mdn), *fc = open_memstream(&csv, &csvn);
    if (!fm || !fc) {
        if (fm) fclose(fm);
        if (fc) fclose(fc);
        free(md), free(csv);
        return cli_fail(SN_ERR_NOMEM, NULL);
    }
    fprintf(fm,
            "Data: `%s`, %zu rows x %d features%s; seed %llu; windows train %zu / val %zu / test %zu; target scale %s, "
            "steps %s (%d), metrics%s\n\n",
            d->o.data, d->N, d->C, d->n_series > 1 ? " (several series)" : "", (unsigned long long)seed,
            d->w[0].n, d->w[1].n, d->w[2].n, sn_fc_scale_name(d->scale), d->steps_all ? "all" : "last",
            d->lay.n_steps, d->standardized_metrics ? " standardized" : " in the target's units");
    fprintf(fm, "| model | params | epochs (best) | val MAE | test MAE | seed's Keras test MAE | test RMSE | test MASE | "
                "test coverage | train time |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    fprintf(fc, "model,params,epochs,best_epoch");
    metric_cols(fc, "val");
    metric_cols(fc, "test");
    fprintf(fc, ",test_coverage,interval_level,seed_test_mae,train_seconds\n");
    printf("\n%-24s %10s %8s %9s %9s %12s %10s\n", "model", "params", "epochs", "val", "test", "seed (Keras)", "time");
    for (int i = 0; i < n; i++) {
        char sk[32] = "-", cov[32] = "-";
        if (!isnan(r[i].seed_ref)) snprintf(sk, sizeof sk, "%.2f", r[i].seed_ref);
        if (!isnan(r[i].coverage)) snprintf(cov, sizeof cov, "%.1f%% (%.0f%%)", 100 * r[i].coverage, 100 * r[i].level);
        printf("%-24s %10zu %4d (%2d) %8.2f  %8.2f  %12s %9.1fs\n", r[i].name, r[i].params, r[i].epochs_run,
               r[i].best_epoch, r[i].val.mae, r[i].test.mae, sk, r[i].seconds);
        fprintf(fm, "| %s | %zu | %d (%d) | %.2f | %.2f | %s | %.3g | %.3g | %s | %.1f s |\n", r[i].name, r[i].params,
                r[i].epochs_run, r[i].best_epoch, r[i].val.mae, r[i].test.mae, sk, r[i].test.rmse, r[i].test.mase, cov,
                r[i].seconds);
        fprintf(fc, "%s,%zu,%d,%d", r[i].name, r[i].params, r[i].epochs_run, r[i].best_epoch);
        metric_vals(fc, &r[i].val);
        metric_vals(fc, &r[i].test);
        if (isnan(r[i].coverage)) fprintf(fc, ",,");
        else fprintf(fc, ",%.6g,%.6g", r[i].coverage, r[i].level);
        fprintf(fc, ",%s,%.3f\n", isnan(r[i].seed_ref) ? "" : sk, r[i].seconds);
    }
    fclose(fm);
    fclose(fc);
    char path[4096];
    snprintf(path, sizeof path, "%s/results.md", out);
    sn_status st = cli_is_root() ? sn_file_write_atomic(path, md, mdn) : SN_OK; /* MPI: rank 0 writes */
    snprintf(path, sizeof path, "%s/results.csv", out);
    if (!st && cli_is_root()) st = sn_file_write_atomic(path, csv, csvn);
    free(md), free(csv);
    if (st) return cli_fail(st, NULL);
    printf("\ntable written to %s/results.md and %s/results.csv\n", out, out);
    return 0;
}

/* <name>_per_step.csv and, with several series, <name>_per_series.csv. */
static void write_tables(const fc_data *d, const fc_result *r, const char *out) {
    char path[4096], dur[32];
    snprintf(path, sizeof path, "%s/%s_per_step.csv", out, r->name);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "step,ahead");
        metric_cols(f, "val");
        metric_cols(f, "test");
        fprintf(f, "\n");
        for (int i = 0; i < d->lay.n_steps; i++) {
            long rows = d->lay.first + (long)i * d->lay.stride;
            fprintf(f, "%d,%s", i + 1, sn_duration_format((int64_t)rows * d->step_s, dur, sizeof dur));
            metric_vals(f, &r->val_step[i]);
            metric_vals(f, &r->test_step[i]);
            fprintf(f, "\n");
        }
        fclose(f);
    }
    if (d->n_series < 2) return;
    snprintf(path, sizeof path, "%s/%s_per_series.csv", out, r->name);
    if (!(f = fopen(path, "w"))) return;
    fprintf(f, "series,test_windows");
    metric_cols(f, "test");
    fprintf(f, "\n");
    for (int s = 0; s < d->n_series; s++) {
        fprintf(f, "\"%s\",%zu", d->tab.series_names[s], r->series_test[s].n / (size_t)(d->lay.n_steps * d->K));
        metric_vals(f, &r->series_test[s]);
        fprintf(f, "\n");
    }
    fclose(f);
}

/* Predicted vs actual over the first 10 days of test windows (first
 * target): the seed's plot for one step; with several steps the first,
 * middle and last step, and the interval of the last step as dashed lines. */
static void plot_test_forecast(const fc_data *d, const fc_result *r, const char *out) {
    const size_t S = (size_t)d->lay.n_steps, K = (size_t)d->K, per_day = d->step_s > 0 ? (size_t)(86400 / d->step_s) : 24;
    size_t n = SN_MIN_SZ(d->w[2].n, 10 * (per_day ? per_day : 1));
    const size_t span_in = (size_t)(d->lay.lookback - 1) * (size_t)d->lay.sampling;
    size_t steps[3] = {0, S / 2, S - 1};
    int ns = S > 2 ? 3 : (int)S;
    double *tm = malloc(3 * n * sizeof *tm), *ta = malloc(n * sizeof *ta);
    float *pv = malloc(5 * n * sizeof *pv), *act = malloc(n * sizeof *act);
    if (!tm || !pv || !act || !ta) goto done;
    for (int k = 0; k < ns; k++)
        for (size_t j = 0; j < n; j++) {
            size_t e = (j * S + steps[k]) * K;
            size_t row = fc_row(d, d->w[2].start[j] + span_in + (size_t)d->lay.first + steps[k] * (size_t)d->lay.stride);
            tm[(size_t)k * n + j] = (double)d->tab.time[row];
            pv[(size_t)k * n + j] = (float)r->test_pred[e];
            if (k == ns - 1 && r->test_lo) {
                pv[3 * n + j] = (float)r->test_lo[e];
                pv[4 * n + j] = (float)r->test_hi[e];
            }
        }
    /* the actual series over the span the predictions cover */
    for (size_t j = 0; j < n; j++) {
        size_t row = fc_row(d, d->w[2].start[j] + span_in + (size_t)d->lay.first);
        ta[j] = (double)d->tab.time[row];
        act[j] = (float)d->y[row * K];
    }
    char path[4096], title[160], lab[3][48], dur[32];
    double *bx = NULL;
    float *by = NULL;
    snprintf(path, sizeof path, "%s/%s_test_forecast.png", out, r->name);
    const char *tname = d->tab.col_names[d->tcol[0]];
    sn_status st;
    if (S == 1 && !r->test_lo) {
        snprintf(title, sizeof title, "%s: forecast vs actual, first 10 days of the test period", r->name);
        st = sn_plot_forecast(path, tm, act, pv, n, title, tname);
    } else {
        sn_plot_series sr[6];
        int m = 0;
        sr[m++] = (sn_plot_series){"Actual", ta, act, n, SN_PLOT_LINE};
        for (int k = 0; k < ns; k++) {
            long rows = d->lay.first + (long)steps[k] * d->lay.stride;
            snprintf(lab[k], sizeof lab[k], "Predicted %s ahead", sn_duration_format(rows * d->step_s, dur, sizeof dur));
            sr[m++] = (sn_plot_series){lab[k], tm + (size_t)k * n, pv + (size_t)k * n, n, SN_PLOT_LINE};
        }
        if (r->test_lo) sr[m++] = fc_band(tm + (size_t)(ns - 1) * n, pv + 3 * n, pv + 4 * n, n, &bx, &by);
        sn_plot_opts po;
        memset(&po, 0, sizeof po);
        snprintf(title, sizeof title, "%s: forecast vs actual, first 10 days of the test period", r->name);
        po.title = title;
        po.ylabel = tname;
        po.x_is_time = 1;
        st = sn_plot_lines(path, sr, m, &po);
    }
    if (st) cli_fail(st, "plot");
    free(bx), free(by);
done:
    free(tm), free(ta), free(pv), free(act);
}

/* Test MAE by horizon step, and one whole forecast after its history. */
static void plot_steps(const fc_data *d, const fc_result *r, const char *out) {
    const int S = d->lay.n_steps;
    const size_t K = (size_t)d->K, L = (size_t)d->lay.lookback, rr = (size_t)d->lay.sampling;
    char path[4096], title[160];
    float *v = malloc((size_t)S * sizeof *v);
    double *x = malloc((size_t)S * sizeof *x);
    if (v && x) {
        for (int i = 0; i < S; i++) v[i] = (float)r->test_step[i].mae, x[i] = i + 1;
        sn_plot_series s = {"test MAE", x, v, (size_t)S, SN_PLOT_LINE_POINTS};
        sn_plot_opts po;
        memset(&po, 0, sizeof po);
        snprintf(title, sizeof title, "%s: test MAE by horizon step", r->name);
        po.title = title, po.xlabel = "step (sampling periods ahead)", po.ylabel = "MAE", po.x_integer = 1;
        snprintf(path, sizeof path, "%s/%s_error_by_step.png", out, r->name);
        sn_status st = sn_plot_lines(path, &s, 1, &po);
        if (st) cli_fail(st, "plot");
    }
    free(v), free(x);
    /* the first test window: its look-back, the truth and the forecast (with its band) */
    const size_t s0 = fc_row(d, d->w[2].start[0]), n = L + (size_t)S; /* held rows from here on */
    double *t = malloc(n * sizeof *t);
    float *y = malloc(4 * n * sizeof *y);
    if (t && y) {
        for (size_t i = 0; i < 4 * n; i++) y[i] = NAN;
        for (size_t i = 0; i < L; i++) t[i] = (double)d->tab.time[s0 + i * rr], y[i] = d->y[(s0 + i * rr) * K];
        for (int i = 0; i < S; i++) {
            size_t row = s0 + (L - 1) * rr + (size_t)d->lay.first + (size_t)i * (size_t)d->lay.stride;
            t[L + (size_t)i] = (double)d->tab.time[row];
            y[L + (size_t)i] = d->y[row * K];
            y[n + L + (size_t)i] = (float)r->test_pred[(size_t)i * K];
            if (r->test_lo) y[2 * n + L + (size_t)i] = (float)r->test_lo[(size_t)i * K], y[3 * n + L + (size_t)i] = (float)r->test_hi[(size_t)i * K];
        }
        y[n + L - 1] = y[L - 1]; /* the forecast line starts at the last input */
        double *bx = NULL;
        float *by = NULL;
        sn_plot_series s[3] = {{"history and actual", t, y, n, SN_PLOT_LINE},
                               {"forecast", t, y + n, n, SN_PLOT_LINE_POINTS},
                               {NULL, NULL, NULL, 0, 0}};
        if (r->test_lo) s[2] = fc_band(t + L, y + 2 * n + L, y + 3 * n + L, (size_t)S, &bx, &by);
        sn_plot_opts po;
        memset(&po, 0, sizeof po);
        snprintf(title, sizeof title, "%s: the first test forecast after its look-back", r->name);
        po.title = title, po.ylabel = d->tab.col_names[d->tcol[0]], po.x_is_time = 1;
        snprintf(path, sizeof path, "%s/%s_test_example.png", out, r->name);
        sn_status st = sn_plot_lines(path, s, r->test_lo && s[2].n ? 3 : 2, &po);
        if (st) cli_fail(st, "plot");
        free(bx), free(by);
    }
    free(t), free(y);
}

void fc_write_model_outputs(const fc_data *d, const fc_result *r, const char *out, int plots) {
    if (!cli_is_root()) return; /* MPI: rank 0 writes */
    write_tables(d, r, out);
    if (!plots) return;
    plot_test_forecast(d, r, out);
    if (d->lay.n_steps > 1 || r->test_lo) plot_steps(d, r, out);
}

void fc_plot_series(const fc_data *d, const char *out) {
    if (!cli_is_root()) return; /* MPI: rank 0 writes */
    /* the first series' first target over the whole series: a rank holding
     * only its share reads that one column whole for the plot */
    const sn_table *tab = &d->tab;
    int col = d->tcol[0];
    sn_table one;
    memset(&one, 0, sizeof one);
    if (d->tab.row) {
        sn_csv_opts co = d->copts;
        const char *name[1] = {d->tab.col_names[d->tcol[0]]};
        co.columns = name, co.n_columns = 1;
        sn_status st = sn_csv_read(&one, d->o.data, &co);
        if (st) {
            cli_fail(st, "series plot");
            return;
        }
        tab = &one, col = 0;
    }
    const size_t b = d->sbeg[0], N = d->send[0] - b;
    double *t = malloc(N * sizeof *t);
    float *y = malloc(N * sizeof *y);
    if (!t || !y) goto done;
    for (size_t i = 0; i < N; i++)
        t[i] = (double)tab->time[b + i], y[i] = (float)tab->data[(b + i) * (size_t)tab->n_cols + (size_t)col];
    const char *tname = d->tab.col_names[d->tcol[0]];
    sn_plot_series s = {tname, t, y, N, SN_PLOT_LINE};
    sn_plot_opts po;
    memset(&po, 0, sizeof po);
    char title[160], path[4096];
    int temp = !strcmp(tname, "T (degC)");
    snprintf(title, sizeof title, "%s over the whole series", temp ? "Temperature" : tname);
    po.title = title;
    po.ylabel = tname;
    po.x_is_time = 1;
    snprintf(path, sizeof path, "%s/series_all.png", out);
    sn_status st = sn_plot_lines(path, &s, 1, &po);
    if (st) cli_fail(st, "plot");
    size_t per_day = d->step_s > 0 ? (size_t)(86400 / d->step_s) : 24;
    s.n = SN_MIN_SZ(N, 10 * (per_day ? per_day : 1));
    snprintf(title, sizeof title, "%s in the first 10 days", temp ? "Temperature" : tname);
    snprintf(path, sizeof path, "%s/series_first_10_days.png", out);
    if ((st = sn_plot_lines(path, &s, 1, &po))) cli_fail(st, "plot");
done:
    free(t), free(y);
    sn_table_free(&one);
}
