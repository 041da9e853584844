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
#include "cli_train.h"
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

/* The CSV (with the --features selection) and its time step. */
static int fc_load_table(fc_data *d, const fc_args *a, sn_time_report *tr) {
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
    if ((st = sn_table_time_report(&d->tab, tr))) return cli_fail(st, a->data);
    char sbuf[32];
    printf("data: %s: %zu rows x %d features, step %s, read in %.2f s\n", a->data, d->tab.n_rows, d->tab.n_cols,
           sn_duration_format(tr->median_step, sbuf, sizeof sbuf), sn_time_now() - t0);
    if (tr->n_irregular)
        printf("      %zu irregular steps (gaps or jitter; first at line %zu): windows are taken by row, as Keras does\n",
               tr->n_irregular, tr->first_irregular_line);
    return 0;
}

/* The seed's protocol from --lookback / --horizon / --sampling (lb, hz, sp
 * receive them in seconds); a window plus its target must fit in the
 * training half, or the split is meaningless. */
static int fc_protocol(fc_data *d, const fc_args *a, const sn_time_report *tr, int64_t *lb, int64_t *hz, int64_t *sp) {
    sn_status st;
    if ((st = sn_table_col_index(&d->tab, a->target, &d->tcol))) return cli_fail(st, "--target");
    if ((st = sn_duration_parse(a->lookback, lb))) return cli_fail(st, "--lookback");
    if ((st = sn_duration_parse(a->horizon, hz))) return cli_fail(st, "--horizon");
    if ((st = sn_duration_parse(a->sampling, sp))) return cli_fail(st, "--sampling");
    if (*sp > 0 && tr->median_step > 0 && *lb >= *sp && *hz >= 0) {
        double span_rows =
            ((double)*lb / (double)*sp - 1 + (double)*hz / (double)*sp) * ((double)*sp / (double)tr->median_step) + 1;
        double train_rows = floor(0.5 * (double)d->tab.n_rows);
        if (span_rows > train_rows) {
            fprintf(stderr,
                    "seqnn forecast: a %s look-back plus the %s horizon spans %.0f rows, more than the %.0f rows of the "
                    "training split (half of %zu): use a shorter --lookback / --horizon or a longer series\n",
                    a->lookback, a->horizon, span_rows, train_rows, d->tab.n_rows);
            return 1;
        }
    }
    st = sn_ts_protocol_from_durations(&d->p, d->tab.n_rows, tr->median_step, *lb, *hz, *sp, 0.5, 0.25);
    if (st) return cli_fail(st, NULL);
    return 0;
}

/* Normalised inputs, the raw target, the shuffled train windows, the three
 * datasets and the naive baseline. */
static int fc_datasets(fc_data *d, uint64_t seed) {
    d->C = d->tab.n_cols;
    size_t N = d->tab.n_rows;
    d->x = malloc(N * (size_t)d->C * sizeof(float));
    d->target = malloc(N * sizeof(float));
    d->mean = malloc((size_t)d->C * sizeof(double));
    d->std = malloc((size_t)d->C * sizeof(double));
    if (!d->x || !d->target || !d->mean || !d->std) return cli_fail(SN_ERR_NOMEM, "out of memory");
    sn_status st;
    if ((st = sn_table_stats(&d->tab, 0, d->p.num_train, d->mean, d->std))) return cli_fail(st, "normalisation");
    if ((st = sn_table_normalize(&d->tab, d->mean, d->std, d->x))) return cli_fail(st, "normalisation");
    if ((st = sn_table_column_f32(&d->tab, d->tcol, d->target))) return cli_fail(st, NULL);
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_windows_shuffle(&d->p.train, &r);
    if ((st = sn_ts_dataset(&d->train, d->x, N, d->C, d->target, d->p.delay, &d->p.train)) ||
        (st = sn_ts_dataset(&d->val, d->x, N, d->C, d->target, d->p.delay, &d->p.val)) ||
        (st = sn_ts_dataset(&d->test, d->x, N, d->C, d->target, d->p.delay, &d->p.test)))
        return cli_fail(st, "windows");
    if ((st = sn_ts_naive_mae(d->target, N, d->p.delay, &d->p.val, &d->naive_val)) ||
        (st = sn_ts_naive_mae(d->target, N, d->p.delay, &d->p.test, &d->naive_test)))
        return cli_fail(st, "naive baseline");
    return 0;
}

/* Metadata stored in every model file, so `seqnn predict` needs only the model. */
static void fc_fill_meta(fc_data *d, int64_t lb, int64_t hz, int64_t sp, int64_t step) {
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
    d->meta.step_s = step;
}

static int fc_prepare(fc_data *d, const fc_args *a) {
    memset(d, 0, sizeof *d);
    sn_time_report tr;
    int64_t lb, hz, sp;
    int rc = fc_load_table(d, a, &tr);
    if (!rc) rc = fc_protocol(d, a, &tr, &lb, &hz, &sp);
    if (!rc) rc = fc_datasets(d, a->seed);
    if (rc) return rc;
    char sbuf[32];
    printf("protocol: %d steps of %s in, target \"%s\" %s after the last step (delay %ld rows); "
           "windows train %zu / val %zu / test %zu\n",
           d->p.lookback, sn_duration_format(sp, sbuf, sizeof sbuf), d->tab.col_names[d->tcol], a->horizon,
           d->p.delay, d->p.train.n, d->p.val.n, d->p.test.n);
    fc_fill_meta(d, lb, hz, sp, tr.median_step);
    return 0;
}

typedef struct fc_result {
    char name[64];
    size_t params;
    double val_mae, test_mae, seconds;
    int epochs_run, best_epoch;
} fc_result;

/* Training and validation MAE, and predicted vs actual over the first 10
 * days of the test period, as PNGs in the output directory. */
static void fc_plots(const fc_data *d, sn_model *best, const cli_train *t, const char *name, const sn_history *h) {
    char path[4096], title[128];
    double *tr = cli_history_column(h, "mae"), *va = cli_history_column(h, "val_mae");
    snprintf(path, sizeof path, "%s/%s_mae.png", t->out, name);
    snprintf(title, sizeof title, "%s: training and validation MAE", name);
    sn_status st;
    if (tr && (st = sn_plot_history(path, "MAE", tr, va, h->epochs, title))) cli_fail(st, "plot");
    free(tr);
    free(va);
    size_t n = d->p.test.n < 240 * (size_t)1 ? d->p.test.n : 240;
    if (d->meta.step_s > 0) {
        size_t per_day = (size_t)(86400 / d->meta.step_s);
        n = SN_MIN_SZ(d->p.test.n, 10 * per_day);
    }
    float *pred = malloc(d->p.test.n * sizeof(float)), *act = malloc(n * sizeof(float));
    double *tm = malloc(n * sizeof(double));
    if (pred && act && tm && sn_model_predict(best, &d->test, t->batch, pred) == SN_OK) {
        for (size_t i = 0; i < n; i++) {
            size_t row = d->p.test.start[i] + (size_t)d->p.delay;
            act[i] = d->target[row];
            tm[i] = (double)d->tab.time[row];
        }
        snprintf(path, sizeof path, "%s/%s_test_forecast.png", t->out, name);
        snprintf(title, sizeof title, "%s: forecast vs actual, first 10 days of the test period", name);
        if ((st = sn_plot_forecast(path, tm, act, pred, n, title, d->meta.target))) cli_fail(st, "plot");
    }
    free(pred);
    free(act);
    free(tm);
}

/* Trains one model (spec NULL: the naive baseline) for `epochs` and
 * evaluates its best-on-validation checkpoint, as the seed does. */
static int run_model(fc_data *d, const char *name, const char *spec, int epochs, const cli_train *t0, fc_result *res) {
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s", name);
    if (!spec) {
        res->val_mae = d->naive_val;
        res->test_mae = d->naive_test;
        printf("\n== naive: val MAE %.2f, test MAE %.2f\n", d->naive_val, d->naive_test);
        return 0;
    }
    cli_train t = *t0;
    t.epochs = epochs;
    sn_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.input_rank = 2;
    mo.input_shape[0] = d->p.lookback;
    mo.input_shape[1] = d->C;
    mo.seed = t.seed;
    sn_model *m = NULL, *best = NULL;
    sn_status st = sn_model_init(&m, spec, &mo);
    if (st) return cli_fail(st, name);
    res->params = sn_model_param_count(m, NULL, NULL);
    printf("\n== %s: %s (%zu params, %d epochs)\n", name, sn_model_spec(m), res->params, epochs);
    if (!t.quiet) {
        char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
        if (s) fputs(s, stdout);
        free(s);
    }
    sn_optimizer_cfg oc = t.opt;
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
    sn_history h = {0};
    cli_fit_result fr = {0};
    int rc = cli_fit_best(m, &t, name, &d->train, &d->val, &d->test, "mae", 1, &best, &h, &fr);
    sn_model_free(m);
    res->seconds = fr.seconds;
    res->epochs_run = fr.epochs_run;
    if (!rc) {
        res->val_mae = fr.val;
        res->test_mae = fr.test;
        res->best_epoch = fr.best_epoch;
        printf("%s: best epoch %d, val MAE %.3f, test MAE %.3f (naive %.3f), %.1f s\n", name, res->best_epoch,
               res->val_mae, res->test_mae, d->naive_test, res->seconds);
        cli_write_history(&t, name, &h, 1);
        if (!t.no_plots) fc_plots(d, best, &t, name, &h);
    }
    sn_model_free(best);
    sn_history_free(&h);
    return rc;
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


/* The command's options; each is one line of the table in cmd_forecast. */
typedef struct fc_cli {
    cli_train t;
    fc_args a;
    int quick;
} fc_cli;

/* --all: every preset (or the --models subset); else the one preset or spec. */
static int fc_run(fc_data *d, const fc_cli *c, fc_result *res, int *nres) {
    int rc = 0;
    if (c->t.all) {
        for (int i = 0; i < N_PRESETS && !rc; i++) {
            if (c->t.models && !cli_in_list(c->t.models, g_presets[i].name)) continue;
            int ep = c->t.epochs ? c->t.epochs : (c->quick ? 2 : g_presets[i].epochs);
            rc = run_model(d, g_presets[i].name, g_presets[i].spec, ep, &c->t, &res[*nres]);
            if (!rc) (*nres)++;
        }
        return rc;
    }
    const preset *p = find_preset(c->t.model);
    char *spec = NULL;
    if (!p && !(spec = cli_read_spec(c->t.model))) return 1;
    int ep = c->t.epochs ? c->t.epochs : (p ? p->epochs : 10);
    rc = run_model(d, p ? p->name : "custom", p ? p->spec : spec, ep, &c->t, &res[*nres]);
    if (!rc) (*nres)++;
    free(spec);
    return rc;
}

int cmd_forecast(int argc, char **argv) {
    fc_cli c;
    memset(&c, 0, sizeof c);
    cli_opt opts[] = {
        CLI_STR("data", &c.a.data, DEFAULT_DATA, "CSV file (plain or .gz), default " DEFAULT_DATA),
        CLI_TRAIN_MODEL(&c.t, "preset (naive dense conv1d simple_rnn lstm lstm_dropout gru_stacked bilstm), a spec, or @file"),
        CLI_TRAIN_ALL(&c.t),
        CLI_FLAG("quick", &c.quick, "with --all: 2 epochs per model (a smoke run, not the seed's numbers)"),
        CLI_TRAIN_MODELS(&c.t, "with --all: comma-separated subset of presets"),
        CLI_TRAIN_EPOCHS(&c.t, 0, "epochs (default: the seed's, 10 or 50)"),
        CLI_TRAIN_BATCH(&c.t, 256, "batch size (default 256)"),
        CLI_STR("lookback", &c.a.lookback, "120h", "input span (default 120h)"),
        CLI_STR("horizon", &c.a.horizon, "24h", "target distance after the last input (default 24h)"),
        CLI_STR("sampling", &c.a.sampling, "1h", "sampling period (default 1h)"),
        CLI_STR("target", &c.a.target, "T (degC)", "target column (default \"T (degC)\")"),
        CLI_STR("features", &c.a.features, NULL, "comma-separated input columns (default: all numeric)"),
        CLI_FLAG("ffill", &c.a.ffill, "forward-fill missing values instead of refusing them"),
        CLI_OPTIMIZER_OPTS,
        CLI_TRAIN_PATIENCE(&c.t),
        CLI_TRAIN_SEED(&c.t, 1, "random seed (default 1)"),
        CLI_TRAIN_OUT(&c.t, "out/forecast"),
        CLI_TRAIN_RESUME(&c.t),
        CLI_TRAIN_NO_PLOTS(&c.t, "skip the PNG plots"),
        CLI_TRAIN_QUIET(&c.t),
        CLI_HELP,
        CLI_END};
    int rc = cli_train_parse(argc, argv, opts, "forecast", "[--data FILE] (--model NAME|SPEC | --all) [options]", &c.t);
    if (rc >= 0) return rc;
    if (cli_optimizer(opts, SN_OPT_RMSPROP, &c.t.opt)) return 2;
    c.a.seed = c.t.seed;
    if (cli_train_mkout(&c.t, "forecast")) return 1;
    cli_install_signals();
    fc_data d;
    if (fc_prepare(&d, &c.a)) {
        fc_free(&d);
        return 1;
    }
    if (!c.t.no_plots) plot_series(&d, c.t.out);
    fc_result res[N_PRESETS + 1];
    int nres = 0;
    rc = fc_run(&d, &c, res, &nres);
    if (!rc && nres) rc = write_table(res, nres, &d, c.t.out, c.a.data, c.t.seed);
    fc_free(&d);
    return rc;
}
