/* seqnn forecast: the seed's Jena experiment as a product. Reads a CSV of
 * measurements, applies the seed's protocol (50/25/25 split by time,
 * normalisation with the training mean / std, 120 h in, 24 h ahead, hourly
 * sampling), trains a preset or any model spec with RMSprop / MSE / MAE and a
 * best-on-validation checkpoint, and reports test MAE in the target's units.
 * `--all` runs every preset and writes the seed-style table. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "forecast_meta.h"
#include "seqnn/data.h"
#include "seqnn/plot.h"

typedef struct preset {
    const char *name;
    const char *spec; /* NULL for the naive baseline */
    int epochs;
    const char *what;
} preset;

/* The seed's models (module 7, parts I-II) in Keras spec form. */
static const preset g_presets[] = {
    {"naive", NULL, 0, "temperature in 24 h = temperature now"},
    {"dense", "flatten(), dense(16, activation=relu), dense(1)", 10, "Flatten + Dense(16)"},
    {"conv1d",
     "conv1d(8, 24, activation=relu), maxpooling1d(2), conv1d(8, 12, activation=relu), maxpooling1d(2), "
     "conv1d(8, 6, activation=relu), globalaveragepooling1d(), dense(1)",
     10, "three Conv1D + pooling"},
    {"simple_rnn", "simplernn(16), dense(1)", 10, "SimpleRNN(16)"},
    {"lstm", "lstm(16), dense(1)", 10, "LSTM(16)"},
    {"lstm_dropout", "lstm(32, recurrent_dropout=0.25), dropout(0.5), dense(1)", 50,
     "LSTM(32, recurrent_dropout=0.25) + Dropout(0.5)"},
    {"gru_stacked",
     "gru(32, recurrent_dropout=0.5, return_sequences=true), gru(32, recurrent_dropout=0.5), dropout(0.5), dense(1)", 50,
     "2 x GRU(32, recurrent_dropout=0.5) + Dropout(0.5)"},
    {"bilstm", "bidirectional(lstm(16)), dense(1)", 10, "Bidirectional(LSTM(16))"},
};
#define N_PRESETS ((int)(sizeof g_presets / sizeof *g_presets))

/* The seed's Keras test MAE where it printed one (NaN where it did not). */
static double seed_test_mae(const char *name) {
    static const struct { const char *n; double v; } t[] = {
        {"naive", 2.62}, {"dense", 2.62}, {"conv1d", 3.10}, {"lstm", 2.53}, {"lstm_dropout", 2.45}, {"gru_stacked", 2.39}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(t[i].n, name)) return t[i].v;
    return NAN;
}

static const preset *find_preset(const char *name) {
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcmp(g_presets[i].name, name)) return &g_presets[i];
    return NULL;
}

#define DEFAULT_DATA "data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz"

typedef struct fc_data {
    sn_table tab;
    sn_ts_protocol p;
    int C, tcol;
    float *x;      /* (N,C) normalised */
    float *target; /* (N) raw target column */
    double *mean, *std;
    sn_dataset train, val, test;
    double naive_val, naive_test;
    fc_meta meta;
} fc_data;

static void fc_free(fc_data *d) {
    sn_dataset_free(&d->train);
    sn_dataset_free(&d->val);
    sn_dataset_free(&d->test);
    sn_ts_protocol_free(&d->p);
    sn_table_free(&d->tab);
    free(d->x);
    free(d->target);
    free(d->mean);
    free(d->std);
    fc_meta_free(&d->meta);
}

/* Splits "a,b,c" into names (modifies s). */
static int split_names(char *s, const char **names, int max) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) names[n++] = tok;
    return n;
}

typedef struct fc_args {
    const char *data, *target, *features, *lookback, *horizon, *sampling;
    int ffill;
    uint64_t seed;
} fc_args;

static int fc_prepare(fc_data *d, const fc_args *a) {
    memset(d, 0, sizeof *d);
    sn_csv_opts co;
    memset(&co, 0, sizeof co);
    co.missing = a->ffill ? SN_MISSING_FFILL : SN_MISSING_ERROR;
    char *fbuf = NULL;
    const char *names[256];
    if (a->features) {
        fbuf = strdup(a->features);
        co.n_columns = split_names(fbuf, names, 256);
        co.columns = names;
    }
    double t0 = sn_time_now();
    sn_status st = sn_csv_read(&d->tab, a->data, &co);
    free(fbuf);
    if (st) return cli_fail(st, NULL);
    if (!d->tab.time) {
        fprintf(stderr, "seqnn forecast: %s has no date column (needed to turn --lookback/--horizon into rows)\n", a->data);
        return 1;
    }
    sn_time_report tr;
    if ((st = sn_table_time_report(&d->tab, &tr))) return cli_fail(st, a->data);
    char sbuf[32];
    printf("data: %s: %zu rows x %d features, step %s, read in %.2f s\n", a->data, d->tab.n_rows, d->tab.n_cols,
           sn_duration_format(tr.median_step, sbuf, sizeof sbuf), sn_time_now() - t0);
    if (tr.n_irregular)
        printf("      %zu irregular steps (gaps or jitter; first at line %zu): windows are taken by row, as Keras does\n",
               tr.n_irregular, tr.first_irregular_line);
    if ((st = sn_table_col_index(&d->tab, a->target, &d->tcol))) return cli_fail(st, "--target");
    int64_t lb, hz, sp;
    if ((st = sn_duration_parse(a->lookback, &lb))) return cli_fail(st, "--lookback");
    if ((st = sn_duration_parse(a->horizon, &hz))) return cli_fail(st, "--horizon");
    if ((st = sn_duration_parse(a->sampling, &sp))) return cli_fail(st, "--sampling");
    /* A window plus its target must fit in the training half, or the split is meaningless. */
    if (sp > 0 && tr.median_step > 0 && lb >= sp && hz >= 0) {
        double span_rows = ((double)lb / (double)sp - 1 + (double)hz / (double)sp) * ((double)sp / (double)tr.median_step) + 1;
        double train_rows = floor(0.5 * (double)d->tab.n_rows);
        if (span_rows > train_rows) {
            fprintf(stderr,
                    "seqnn forecast: a %s look-back plus the %s horizon spans %.0f rows, more than the %.0f rows of the "
                    "training split (half of %zu): use a shorter --lookback / --horizon or a longer series\n",
                    a->lookback, a->horizon, span_rows, train_rows, d->tab.n_rows);
            return 1;
        }
    }
    st = sn_ts_protocol_from_durations(&d->p, d->tab.n_rows, tr.median_step, lb, hz, sp, 0.5, 0.25);
    if (st) return cli_fail(st, NULL);
    d->C = d->tab.n_cols;
    size_t N = d->tab.n_rows;
    d->x = malloc(N * (size_t)d->C * sizeof(float));
    d->target = malloc(N * sizeof(float));
    d->mean = malloc((size_t)d->C * sizeof(double));
    d->std = malloc((size_t)d->C * sizeof(double));
    if (!d->x || !d->target || !d->mean || !d->std) return cli_fail(SN_ERR_NOMEM, "out of memory");
    if ((st = sn_table_stats(&d->tab, 0, d->p.num_train, d->mean, d->std))) return cli_fail(st, "normalisation");
    if ((st = sn_table_normalize(&d->tab, d->mean, d->std, d->x))) return cli_fail(st, "normalisation");
    if ((st = sn_table_column_f32(&d->tab, d->tcol, d->target))) return cli_fail(st, NULL);
    sn_rng r;
    sn_rng_seed(&r, a->seed);
    sn_windows_shuffle(&d->p.train, &r);
    if ((st = sn_ts_dataset(&d->train, d->x, N, d->C, d->target, d->p.delay, &d->p.train)) ||
        (st = sn_ts_dataset(&d->val, d->x, N, d->C, d->target, d->p.delay, &d->p.val)) ||
        (st = sn_ts_dataset(&d->test, d->x, N, d->C, d->target, d->p.delay, &d->p.test)))
        return cli_fail(st, "windows");
    if ((st = sn_ts_naive_mae(d->target, N, d->p.delay, &d->p.val, &d->naive_val)) ||
        (st = sn_ts_naive_mae(d->target, N, d->p.delay, &d->p.test, &d->naive_test)))
        return cli_fail(st, "naive baseline");
    printf("protocol: %d steps of %s in, target \"%s\" %s after the last step (delay %ld rows); "
           "windows train %zu / val %zu / test %zu\n",
           d->p.lookback, sn_duration_format(sp, sbuf, sizeof sbuf), d->tab.col_names[d->tcol], a->horizon,
           d->p.delay, d->p.train.n, d->p.val.n, d->p.test.n);
    /* Metadata stored in every model file, so `seqnn predict` needs only the model. */
    d->meta.n_features = d->C;
    d->meta.features = calloc((size_t)d->C, sizeof(char *));
    for (int c = 0; c < d->C; c++) d->meta.features[c] = strdup(d->tab.col_names[c]);
    d->meta.target = strdup(d->tab.col_names[d->tcol]);
    d->meta.mean = malloc((size_t)d->C * sizeof(double));
    d->meta.std = malloc((size_t)d->C * sizeof(double));
    memcpy(d->meta.mean, d->mean, (size_t)d->C * sizeof(double));
    memcpy(d->meta.std, d->std, (size_t)d->C * sizeof(double));
    d->meta.lookback_s = lb;
    d->meta.horizon_s = hz;
    d->meta.sampling_s = sp;
    d->meta.lookback = d->p.lookback;
    d->meta.step_s = tr.median_step;
    return 0;
}

typedef struct fc_result {
    char name[64];
    size_t params;
    double val_mae, test_mae, seconds;
    int epochs_run, best_epoch;
} fc_result;

typedef struct fc_run_opts {
    int epochs; /* 0 = preset default */
    int batch;
    uint64_t seed;
    const char *out;
    int plots, quiet;
    sn_optimizer_cfg opt;
    int patience;
    int resume;
} fc_run_opts;

static int run_model(fc_data *d, const char *name, const char *spec, int epochs, const fc_run_opts *ro, fc_result *res) {
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s", name);
    if (!spec) { /* naive */
        res->val_mae = d->naive_val;
        res->test_mae = d->naive_test;
        printf("\n== naive: val MAE %.2f, test MAE %.2f\n", d->naive_val, d->naive_test);
        return 0;
    }
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 2;
    mo.input_shape[0] = d->p.lookback;
    mo.input_shape[1] = d->C;
    mo.seed = ro->seed;
    sn_model *m = NULL;
    sn_status st = sn_model_init(&m, spec, &mo);
    if (st) return cli_fail(st, name);
    res->params = sn_model_param_count(m, NULL, NULL);
    printf("\n== %s: %s (%zu params, %d epochs)\n", name, sn_model_spec(m), res->params, epochs);
    if (!ro->quiet) {
        char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    sn_optimizer_cfg oc = ro->opt;
    sn_metric_kind mk = SN_METRIC_MAE;
    if ((st = sn_model_compile(m, &oc, SN_LOSS_MSE, &mk, 1))) {
        sn_model_free(m);
        return cli_fail(st, name);
    }
    void *blob;
    size_t blen;
    if (fc_meta_encode(&d->meta, &blob, &blen) == 0) {
        sn_model_set_meta(m, FC_META_KEY, blob, blen);
        free(blob);
    }
    char ck[4096], rs[4096];
    snprintf(ck, sizeof ck, "%s/%s.seqnn", ro->out, name);
    snprintf(rs, sizeof rs, "%s/%s.resume", ro->out, name);
    sn_fit_opts fo;
    sn_fit_opts_default(&fo);
    fo.epochs = epochs;
    fo.batch_size = ro->batch;
    fo.seed = ro->seed;
    fo.val = &d->val;
    fo.checkpoint_path = ck;
    fo.checkpoint_monitor = "val_loss";
    fo.save_best_only = 1;
    fo.early_stopping_patience = ro->patience;
    fo.resume_path = rs;
    fo.resume = ro->resume;
    fo.stop_flag = &cli_stop_flag;
    cli_progress pg;
    cli_progress_init(&pg, ro->quiet);
    fo.progress = cli_progress_cb;
    fo.user = &pg;
    sn_history h = {0};
    double t0 = sn_time_now();
    st = sn_model_fit(m, &d->train, &fo, &h);
    res->seconds = sn_time_now() - t0;
    sn_model_free(m);
    if (st) {
        sn_history_free(&h);
        if (st == SN_ERR_INTERRUPTED)
            fprintf(stderr, "seqnn: %s\nseqnn: rerun with --resume to continue from %s\n", sn_error_last(), rs);
        return cli_fail(st, name);
    }
    res->epochs_run = h.epochs;
    /* Evaluate the best-on-validation checkpoint, as the seed does. */
    sn_model *best = NULL;
    if ((st = sn_model_load(&best, ck))) {
        sn_history_free(&h);
        return cli_fail(st, "reloading the best checkpoint");
    }
    sn_logs vl, tl;
    if ((st = sn_model_evaluate(best, &d->val, ro->batch, &vl)) || (st = sn_model_evaluate(best, &d->test, ro->batch, &tl))) {
        sn_model_free(best);
        sn_history_free(&h);
        return cli_fail(st, "evaluation");
    }
    res->val_mae = sn_logs_get(&vl, "mae");
    res->test_mae = sn_logs_get(&tl, "mae");
    double bestv = INFINITY;
    for (int e = 0; e < h.epochs; e++) {
        double *tmp = malloc((size_t)h.epochs * sizeof(double));
        const double *col = sn_history_column(&h, "val_loss", tmp);
        if (col && col[e] < bestv) {
            bestv = col[e];
            res->best_epoch = e + 1;
        }
        free(tmp);
    }
    printf("%s: best epoch %d, val MAE %.3f, test MAE %.3f (naive %.3f), %.1f s\n", name, res->best_epoch, res->val_mae,
           res->test_mae, d->naive_test, res->seconds);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.history.csv", ro->out, name);
    sn_history_write_csv(&h, path);
    snprintf(path, sizeof path, "%s/%s.history.json", ro->out, name);
    sn_history_write_json(&h, path);
    if (ro->plots) {
        double *tr = malloc((size_t)h.epochs * sizeof(double)), *va = malloc((size_t)h.epochs * sizeof(double));
        const double *a = sn_history_column(&h, "mae", tr), *b = sn_history_column(&h, "val_mae", va);
        snprintf(path, sizeof path, "%s/%s_mae.png", ro->out, name);
        char title[128];
        snprintf(title, sizeof title, "%s: training and validation MAE", name);
        if (a && (st = sn_plot_history(path, "MAE", a, b, h.epochs, title))) cli_fail(st, "plot");
        free(tr);
        free(va);
        /* Predicted vs actual over the first 10 days of the test period. */
        size_t n = d->p.test.n < 240 * (size_t)1 ? d->p.test.n : 240;
        if (d->meta.step_s > 0) {
            size_t per_day = (size_t)(86400 / d->meta.step_s);
            n = SN_MIN_SZ(d->p.test.n, 10 * per_day);
        }
        float *pred = malloc(d->p.test.n * sizeof(float)), *act = malloc(n * sizeof(float));
        double *t = malloc(n * sizeof(double));
        if (pred && act && t && sn_model_predict(best, &d->test, ro->batch, pred) == SN_OK) {
            for (size_t i = 0; i < n; i++) {
                size_t row = d->p.test.start[i] + (size_t)d->p.delay;
                act[i] = d->target[row];
                t[i] = (double)d->tab.time[row];
            }
            snprintf(path, sizeof path, "%s/%s_test_forecast.png", ro->out, name);
            snprintf(title, sizeof title, "%s: forecast vs actual, first 10 days of the test period", name);
            if ((st = sn_plot_forecast(path, t, act, pred, n, title, d->meta.target))) cli_fail(st, "plot");
        }
        free(pred);
        free(act);
        free(t);
    }
    sn_model_free(best);
    sn_history_free(&h);
    return 0;
}

static void plot_series(const fc_data *d, const char *out) {
    size_t N = d->tab.n_rows;
    double *t = malloc(N * sizeof(double));
    if (!t) return;
    for (size_t i = 0; i < N; i++) t[i] = (double)d->tab.time[i];
    sn_plot_series s = {d->meta.target, t, d->target, N, SN_PLOT_LINE};
    sn_plot_opts po;
    memset(&po, 0, sizeof po);
    po.title = "Temperature over the whole series";
    po.ylabel = d->meta.target;
    po.x_is_time = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/series_all.png", out);
    sn_status st = sn_plot_lines(path, &s, 1, &po);
    if (st) cli_fail(st, "plot");
    size_t per_day = d->meta.step_s > 0 ? (size_t)(86400 / d->meta.step_s) : 24;
    s.n = SN_MIN_SZ(N, 10 * per_day);
    po.title = "Temperature in the first 10 days";
    snprintf(path, sizeof path, "%s/series_first_10_days.png", out);
    if ((st = sn_plot_lines(path, &s, 1, &po))) cli_fail(st, "plot");
    free(t);
}

static int write_table(const fc_result *r, int n, const fc_data *d, const char *out, const char *data_path,
                       uint64_t seed) {
    char pre[1024];
    snprintf(pre, sizeof pre, "Data: `%s`, %zu rows x %d features; seed %llu; windows train %zu / val %zu / test %zu",
             data_path, d->tab.n_rows, d->C, (unsigned long long)seed, d->p.train.n, d->p.val.n, d->p.test.n);
    cli_row rows[N_PRESETS + 1];
    for (int i = 0; i < n; i++)
        rows[i] = (cli_row){r[i].name, r[i].params, r[i].epochs_run, r[i].best_epoch, r[i].val_mae,
                            r[i].test_mae, seed_test_mae(r[i].name), r[i].seconds};
    return cli_write_results(out, pre, "MAE", 0, rows, n);
}

int cmd_forecast(int argc, char **argv) {
    cli_opt opts[] = {
        {"data", 1, "CSV file (plain or .gz), default " DEFAULT_DATA, NULL},
        {"model", 1, "preset (naive dense conv1d simple_rnn lstm lstm_dropout gru_stacked bilstm), a spec, or @file", NULL},
        {"all", 0, "run every preset and print the seed-style table", NULL},
        {"quick", 0, "with --all: 2 epochs per model (a smoke run, not the seed's numbers)", NULL},
        {"models", 1, "with --all: comma-separated subset of presets", NULL},
        {"epochs", 1, "epochs (default: the seed's, 10 or 50)", NULL},
        {"batch-size", 1, "batch size (default 256)", NULL},
        {"lookback", 1, "input span (default 120h)", NULL},
        {"horizon", 1, "target distance after the last input (default 24h)", NULL},
        {"sampling", 1, "sampling period (default 1h)", NULL},
        {"target", 1, "target column (default \"T (degC)\")", NULL},
        {"features", 1, "comma-separated input columns (default: all numeric)", NULL},
        {"ffill", 0, "forward-fill missing values instead of refusing them", NULL},
        CLI_OPTIMIZER_OPTS,
        {"patience", 1, "early stopping patience on val_loss (default off)", NULL},
        {"seed", 1, "random seed (default 1)", NULL},
        {"out", 1, "output directory (default out/forecast)", NULL},
        {"resume", 0, "continue an interrupted run from its .resume file", NULL},
        {"no-plots", 0, "skip the PNG plots", NULL},
        {"quiet", 0, "no per-epoch progress", NULL},
        {"help", 0, "show this help", NULL},
        {NULL, 0, NULL, NULL}};
    if (cli_parse(argc, argv, 2, opts, "forecast")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "forecast", "[--data FILE] (--model NAME|SPEC | --all) [options]");
        return 0;
    }
    int all = cli_flag(opts, "all");
    const char *model = cli_get(opts, "model");
    if (!all && !model) {
        fprintf(stderr, "seqnn forecast: give --model NAME|SPEC or --all (see seqnn forecast --help)\n");
        return 2;
    }
    long epochs, batch, seed, patience;
    sn_optimizer_cfg opt;
    if (cli_int(opts, "epochs", 0, 1, 100000, &epochs) || cli_int(opts, "batch-size", 256, 1, 1 << 20, &batch) ||
        cli_int(opts, "seed", 1, 0, 0x7fffffffL, &seed) || cli_int(opts, "patience", -1, -1, 100000, &patience) ||
        cli_optimizer(opts, SN_OPT_RMSPROP, &opt))
        return 2;
    fc_args a;
    a.data = cli_get(opts, "data") ? cli_get(opts, "data") : DEFAULT_DATA;
    a.target = cli_get(opts, "target") ? cli_get(opts, "target") : "T (degC)";
    a.features = cli_get(opts, "features");
    a.lookback = cli_get(opts, "lookback") ? cli_get(opts, "lookback") : "120h";
    a.horizon = cli_get(opts, "horizon") ? cli_get(opts, "horizon") : "24h";
    a.sampling = cli_get(opts, "sampling") ? cli_get(opts, "sampling") : "1h";
    a.ffill = cli_flag(opts, "ffill");
    a.seed = (uint64_t)seed;
    fc_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.epochs = (int)epochs;
    ro.batch = (int)batch;
    ro.seed = (uint64_t)seed;
    ro.out = cli_get(opts, "out") ? cli_get(opts, "out") : "out/forecast";
    ro.plots = !cli_flag(opts, "no-plots");
    ro.quiet = cli_flag(opts, "quiet");
    ro.opt = opt;
    ro.patience = (int)patience;
    ro.resume = cli_flag(opts, "resume");
    if (cli_mkdirs(ro.out)) {
        fprintf(stderr, "seqnn forecast: cannot create output directory '%s'\n", ro.out);
        return 1;
    }
    cli_install_signals();
    fc_data d;
    if (fc_prepare(&d, &a)) {
        fc_free(&d);
        return 1;
    }
    if (ro.plots) plot_series(&d, ro.out);
    fc_result res[N_PRESETS + 1];
    int nres = 0, rc = 0;
    if (all) {
        const char *subset = cli_get(opts, "models");
        for (int i = 0; i < N_PRESETS && !rc; i++) {
            if (subset) {
                char buf[512];
                snprintf(buf, sizeof buf, ",%s,", subset);
                char key[80];
                snprintf(key, sizeof key, ",%s,", g_presets[i].name);
                if (!strstr(buf, key)) continue;
            }
            int ep = ro.epochs ? ro.epochs : (cli_flag(opts, "quick") ? 2 : g_presets[i].epochs);
            rc = run_model(&d, g_presets[i].name, g_presets[i].spec, ep, &ro, &res[nres]);
            if (!rc) nres++;
        }
    } else {
        const preset *p = find_preset(model);
        char *spec = NULL;
        if (!p) {
            spec = cli_read_spec(model);
            if (!spec) {
                fc_free(&d);
                return 1;
            }
        }
        int ep = ro.epochs ? ro.epochs : (p ? p->epochs : 10);
        rc = run_model(&d, p ? p->name : "custom", p ? p->spec : spec, ep, &ro, &res[nres]);
        if (!rc) nres++;
        free(spec);
    }
    if (!rc && nres) rc = write_table(res, nres, &d, ro.out, a.data, ro.seed);
    fc_free(&d);
    return rc;
}
