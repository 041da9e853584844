/* seqnn backtest: walk-forward (expanding window) evaluation of one
 * forecaster. Fold i of K tests on the rows [c_i, c_i + S) with
 * c_i = end - (K - i) S, and trains on every row before c_i (the last part of
 * it, in --split's train:validation ratio, for validation and the
 * checkpoint); test windows take their look-back from before the cut, so the
 * fold's first forecast starts at c_i. The model is refit every R folds (and
 * its scaling statistics with it); in between, the last fit forecasts the
 * new fold. Metrics per fold, mean ± sd, a table and a plot
 * (docs/forecasting.md). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "seqnn/plot.h"

typedef struct bt_cli {
    cli_train t;
    fc_opts o;
    int folds, refit;
    const char *step;
} bt_cli;

typedef struct bt_fold {
    size_t train_rows, test_windows;
    sn_fc_metrics m;
    double naive_mae, coverage, seconds;
} bt_fold;

/* --step: rows ("500") or a duration ("30d"); default a quarter of the
 * shortest series over the folds. */
static int fold_step(const fc_data *d, const bt_cli *c, size_t *step) {
    size_t shortest = (size_t)-1;
    for (int s = 0; s < d->n_series; s++) shortest = SN_MIN_SZ(shortest, d->send[s] - d->sbeg[s]);
    if (!c->step) {
        *step = shortest / 4 / (size_t)c->folds;
    } else {
        char *e;
        long v = strtol(c->step, &e, 10);
        if (e != c->step && !*e && v > 0) {
            *step = (size_t)v;
        } else {
            int64_t sec;
            long rows;
            sn_status st = sn_duration_parse(c->step, &sec);
            if (!st) st = sn_duration_to_rows(sec, d->step_s, &rows);
            if (st) return cli_fail(st, "--step");
            *step = (size_t)rows;
        }
    }
    if (*step < (size_t)d->ws.last + 1) {
        char a[32];
        fprintf(stderr,
                "seqnn backtest: a fold of %zu rows cannot hold one %s forecast (%ld rows after its origin): give a "
                "larger --step or fewer --folds\n",
                *step, sn_duration_format(d->ws.last * d->step_s, a, sizeof a), d->ws.last);
        return 1;
    }
    return 0;
}

/* Borders of fold i for every series. */
static int fold_borders(fc_data *d, const bt_cli *c, size_t step, int i) {
    sn_fc_split sp;
    sn_status st = sn_fc_split_parse(d->o.split, &sp);
    if (st) return cli_fail(st, NULL);
    double vf = sp.b / (sp.a + sp.b); /* validation share of the training rows, as --split's */
    size_t min_train = (size_t)sn_fc_layout_span(&d->lay) + 2;
    sn_ts_borders *fb = malloc((size_t)c->folds * sizeof *fb);
    if (!fb) return cli_fail(SN_ERR_NOMEM, NULL);
    for (int s = 0; s < d->n_series; s++) {
        if ((st = sn_fc_folds(d->sbeg[s], d->send[s], c->folds, step, vf, min_train, fb))) {
            free(fb);
            if (d->n_series > 1) fprintf(stderr, "seqnn backtest: series \"%s\": %s\n", d->tab.series_names[s], sn_error_last());
            else fprintf(stderr, "seqnn backtest: %s\n", sn_error_last());
            return 1;
        }
        d->b[s] = fb[i];
    }
    free(fb);
    return 0;
}

static void mean_sd(const double *v, int n, double *mean, double *sd) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(s / (n - 1)) : 0;
}

/* backtest.md / .csv, the printed table and backtest_mae.png. */
static int bt_report(const fc_data *d, const bt_cli *c, const char *name, const bt_fold *f) {
    if (!cli_is_root()) return 0; /* MPI: rank 0 writes (and prints) */
    const int K = c->folds;
    char path[4096];
    snprintf(path, sizeof path, "%s/backtest.csv", c->t.out);
    FILE *fc = fopen(path, "w");
    snprintf(path, sizeof path, "%s/backtest.md", c->t.out);
    FILE *fm = fopen(path, "w");
    if (!fc || !fm) {
        if (fc) fclose(fc);
        if (fm) fclose(fm);
        fprintf(stderr, "seqnn backtest: cannot write into %s\n", c->t.out);
        return 1;
    }
    fprintf(fc, "fold,train_rows,test_windows,test_mae,test_mse,test_rmse,test_mape,test_smape,test_mase,naive_mae,"
                "test_coverage,seconds\n");
    fprintf(fm, "Backtest of `%s` on `%s`: %d walk-forward folds, refit every %d; metrics%s\n\n", name, d->o.data, K,
            c->refit, d->standardized_metrics ? " standardized" : " in the target's units");
    fprintf(fm, "| fold | train + val rows | test windows | MAE | MSE | RMSE | MAPE %% | sMAPE %% | MASE | naive MAE | "
                "coverage | time |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    printf("\n%-6s %10s %8s %10s %10s %10s %8s %8s %10s %9s\n", "fold", "train", "windows", "MAE", "RMSE", "MASE",
           "MAPE", "sMAPE", "naive MAE", "time");
    double col[8][64];
    for (int i = 0; i < K; i++) {
        const sn_fc_metrics *m = &f[i].m;
        double v[8] = {m->mae, m->mse, m->rmse, m->mape, m->smape, m->mase, f[i].naive_mae, f[i].coverage};
        for (int j = 0; j < 8; j++) col[j][i] = v[j];
        printf("%-6d %10zu %8zu %10.4g %10.4g %10.4g %8.3g %8.3g %10.4g %8.1fs\n", i + 1, f[i].train_rows,
               f[i].test_windows, m->mae, m->rmse, m->mase, m->mape, m->smape, f[i].naive_mae, f[i].seconds);
        fprintf(fc, "%d,%zu,%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f\n", i + 1, f[i].train_rows,
                f[i].test_windows, m->mae, m->mse, m->rmse, m->mape, m->smape, m->mase, f[i].naive_mae, f[i].coverage,
                f[i].seconds);
        char cov[32] = "-";
        if (!isnan(f[i].coverage)) snprintf(cov, sizeof cov, "%.1f%%", 100 * f[i].coverage);
        fprintf(fm, "| %d | %zu | %zu | %.4g | %.4g | %.4g | %.3g | %.3g | %.3g | %.4g | %s | %.1f s |\n", i + 1,
                f[i].train_rows, f[i].test_windows, m->mae, m->mse, m->rmse, m->mape, m->smape, m->mase, f[i].naive_mae,
                cov, f[i].seconds);
    }
    double mu[8], sd[8];
    for (int j = 0; j < 8; j++) mean_sd(col[j], K, &mu[j], &sd[j]);
    printf("mean ± sd over the folds: MAE %.4g ± %.2g, RMSE %.4g ± %.2g, MASE %.4g ± %.2g, MAPE %.3g ± %.2g %%, sMAPE %.3g ± %.2g %% "
           "(naive MAE %.4g ± %.2g)\n", mu[0], sd[0], mu[2], sd[2], mu[5], sd[5], mu[3], sd[3], mu[4], sd[4], mu[6], sd[6]);
    char cov[48] = "-";
    if (!isnan(mu[7])) snprintf(cov, sizeof cov, "%.1f ± %.1f%%", 100 * mu[7], 100 * sd[7]);
    fprintf(fm, "| mean ± sd | | | %.4g ± %.2g | %.4g ± %.2g | %.4g ± %.2g | %.3g ± %.2g | %.3g ± %.2g | %.3g ± %.2g | "
                "%.4g ± %.2g | %s | |\n",
            mu[0], sd[0], mu[1], sd[1], mu[2], sd[2], mu[3], sd[3], mu[4], sd[4], mu[5], sd[5], mu[6], sd[6], cov);
    fclose(fc);
    fclose(fm);
    printf("table written to %s/backtest.md and %s/backtest.csv\n", c->t.out, c->t.out);
    if (c->t.no_plots) return 0;
    double x[64];
    float a[64], b[64];
    for (int i = 0; i < K; i++) x[i] = i + 1, a[i] = (float)col[0][i], b[i] = (float)col[6][i];
    sn_plot_series s[2] = {{name, x, a, (size_t)K, SN_PLOT_LINE_POINTS}, {"naive", x, b, (size_t)K, SN_PLOT_DASHED}};
    sn_plot_opts po;
    memset(&po, 0, sizeof po);
    char title[160];
    snprintf(title, sizeof title, "Backtest of %s: test MAE per walk-forward fold", name);
    po.title = title, po.xlabel = "fold", po.ylabel = "MAE", po.x_integer = 1;
    snprintf(path, sizeof path, "%s/backtest_mae.png", c->t.out);
    sn_status st = sn_plot_lines(path, s, 2, &po);
    if (st) cli_fail(st, "plot");
    return 0;
}

/* Fold i: borders, statistics (on a refit), windows, the model, the naive baseline. */
static int run_fold(fc_data *d, const bt_cli *c, const fc_preset *p, const char *spec, size_t step, int i,
                    bt_fold *f) {
    int refit = i % c->refit == 0;
    if (fold_borders(d, c, step, i) || (refit && fc_data_stats(d, "backtest")) ||
        fc_data_windows(d, c->t.seed, "backtest", 1))
        return 1;
    cli_train t = c->t;
    char dir[4096], prev[4096];
    snprintf(dir, sizeof dir, "%s/fold_%d", c->t.out, i + 1);
    if (cli_mkdirs(dir)) {
        fprintf(stderr, "seqnn backtest: cannot create %s\n", dir);
        return 1;
    }
    t.out = dir;
    const char *name = p ? p->name : "custom";
    int last_fit = i - i % c->refit;
    snprintf(prev, sizeof prev, "%s/fold_%d/%s.seqnn", c->t.out, last_fit + 1, name);
    int ep = c->t.epochs ? c->t.epochs : (p ? p->epochs : 10);
    fc_result r, nv;
    if (refit)
        printf("\n-- fold %d: train rows %zu..%zu, validation ..%zu, test ..%zu\n", i + 1, d->b[0].begin,
               d->b[0].train_end, d->b[0].val_end, d->b[0].end);
    else
        printf("\n-- fold %d: test rows %zu..%zu (no refit: the fit of fold %d forecasts)\n", i + 1, d->b[0].val_end,
               d->b[0].end, last_fit + 1);
    int learned = !p || p->spec;
    int rc = fc_run_model(d, p, spec, ep, &t, 1, learned && !refit ? prev : NULL, &r);
    if (!rc) rc = fc_run_model(d, fc_preset_find("naive"), NULL, 0, &t, 0, NULL, &nv);
    if (!rc) {
        /* the rows the forecasting model was fitted on: a reused fit's own (f is &folds[i]) */
        f->train_rows = refit ? d->b[0].val_end - d->b[0].begin : (f - (i - last_fit))->train_rows;
        f->test_windows = d->w[2].n;
        f->m = r.test;
        f->naive_mae = nv.test.mae;
        f->coverage = r.coverage;
        f->seconds = r.seconds;
        printf("fold %d: test MAE %.4g (naive %.4g), RMSE %.4g, MASE %.3g%s\n", i + 1, r.test.mae, nv.test.mae,
               r.test.rmse, r.test.mase, refit ? "" : ", reused");
        fc_write_model_outputs(d, &r, dir, !c->t.no_plots && i == c->folds - 1);
        fc_result_free(&nv);
    }
    fc_result_free(&r);
    return rc;
}

int cmd_backtest(int argc, char **argv) {
    bt_cli c;
    memset(&c, 0, sizeof c);
    cli_opt opts[] = {
        FC_DATA_OPTS(&c.o),
        CLI_TRAIN_MODEL(&c.t, "a forecast preset (see seqnn forecast --help), a spec, or @file"),
        CLI_INT("folds", &c.folds, 5, 1, 64, "walk-forward folds (default 5)"),
        CLI_STR("step", &c.step, NULL, "rows (or a duration, e.g. 30d) per fold (default: a quarter of the series / folds)"),
        CLI_INT("refit-every", &c.refit, 1, 1, 64, "refit the model every R folds (default 1: every fold)"),
        CLI_TRAIN_EPOCHS(&c.t, 0, "epochs per fit (default: the preset's)"),
        CLI_TRAIN_BATCH(&c.t, 256, "batch size (default 256)"),
        CLI_OPTIMIZER_OPTS,
        CLI_TRAIN_PATIENCE(&c.t),
        CLI_TRAIN_SEED(&c.t, 1, "random seed (default 1)"),
        CLI_TRAIN_OUT(&c.t, "out/backtest"),
        CLI_TRAIN_NO_PLOTS(&c.t, "skip the PNG plots"),
        CLI_TRAIN_QUIET(&c.t),
        CLI_HELP,
        CLI_END};
    int rc = cli_train_parse(argc, argv, opts, "backtest", "--data FILE --model NAME|SPEC --folds K [--step S] [--refit-every R]",
                             &c.t);
    if (rc >= 0) return rc;
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &c.t.opt)) return 2;
    if (cli_train_mkout(&c.t, "backtest")) return 1;
    cli_install_signals();
    const fc_preset *p = fc_preset_find(c.t.model);
    char *spec = NULL;
    if (!p && !(spec = cli_read_spec(c.t.model))) return 1;
    fc_data d;
    size_t step = 0;
    c.o.whole = "backtest moves the borders and refits on each fold";
    rc = fc_data_load(&d, &c.o, "backtest", 0);
    d.batch = c.t.batch;
    d.chunks = cli_fit_chunks(c.t.batch);
    if (!rc) rc = fold_step(&d, &c, &step);
    bt_fold f[64];
    memset(f, 0, sizeof f);
    if (!rc) printf("backtest: %d folds of %zu rows at the end of each series, refit every %d\n", c.folds, step, c.refit);
    for (int i = 0; i < c.folds && !rc; i++) rc = run_fold(&d, &c, p, spec, step, i, &f[i]);
    if (!rc) rc = bt_report(&d, &c, p ? p->name : "custom", f);
    fc_data_free(&d);
    free(spec);
    return rc;
}
