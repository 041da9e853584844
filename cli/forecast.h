/* What `seqnn forecast` and `seqnn backtest` share: the data options, the
 * loaded series with its targets, layout and split borders
 * (forecast_data.c), the run of one preset, spec or baseline on the current
 * borders (forecast_run.c), and the tables and plots (forecast_report.c).
 * Guide: docs/forecasting.md. */
#ifndef SEQNN_CLI_FORECAST_H
#define SEQNN_CLI_FORECAST_H

#include "cli.h"
#include "cli_dist.h"
#include "cli_train.h"
#include "forecast_meta.h"
#include "seqnn/data.h"
#include "seqnn/forecast.h"
#include "seqnn/plot.h"

#define FC_DEFAULT_DATA "data/jena_climate_2009_2016_PARTIAL_6cols_hourly.csv.gz"

/* The data / protocol options (one table line each, FC_DATA_OPTS). */
typedef struct fc_opts {
    const char *data, *target, *targets, *features, *lookback, *horizon, *sampling;
    const char *steps, *scale, *split, *metrics_scale, *quantiles, *id_column;
    int ffill, split_context, channel_independent, season;
    double interval;
    int bundled; /* --data not given: the bundled Jena file, the seed's protocol by default */
    const char *whole; /* set by the command: why under MPI every rank must read the whole file (its
                          models need more than their windows' rows), or NULL: each rank may read only
                          its share (forecast_shard.c) */
} fc_opts;

#define FC_DATA_OPTS(o)                                                                                         \
    CLI_STR("data", &(o)->data, NULL, "CSV file (plain or compressed), default " FC_DEFAULT_DATA),             \
        CLI_STR("lookback", &(o)->lookback, "120h", "input span (default 120h)"),                            \
        CLI_STR("horizon", &(o)->horizon, "24h", "forecast distance after the last input (default 24h)"),    \
        CLI_STR("sampling", &(o)->sampling, "1h", "sampling period (default 1h)"),                           \
        CLI_STR("steps", &(o)->steps, "last", "last: the value at the horizon (the seed) | all: every sampled step 1..H"), \
        CLI_STR("target", &(o)->target, NULL, "target column (default \"T (degC)\")"),                       \
        CLI_STR("targets", &(o)->targets, NULL, "several target columns a,b,c or all (multivariate)"),       \
        CLI_STR("features", &(o)->features, NULL, "comma-separated input columns (default: all numeric)"),  \
        CLI_STR("target-scale", &(o)->scale, NULL,                                                            \
                "none | standard | last | window (default: standard; none on the bundled data)"),              \
        CLI_STR("split", &(o)->split, "0.5,0.25,0.25", "train,val,test as fractions or row counts (default 0.5,0.25,0.25)"), \
        CLI_FLAG("split-context", &(o)->split_context,                                                        \
                 "val/test windows take their look-back from before the split border (benchmark convention)"), \
        CLI_STR("metrics-scale", &(o)->metrics_scale, "original", "original | standardized (benchmarks' MSE/MAE)"), \
        CLI_INT("season", &(o)->season, 0, 1, 100000, "season length in rows (default: one day of rows from the time step)"), \
        CLI_FLAG("channel-independent", &(o)->channel_independent,                                           \
                 "one shared model over every target as its own univariate series"),                         \
        CLI_STR("quantiles", &(o)->quantiles, NULL, "quantile heads with the pinball loss, e.g. 0.1,0.5,0.9"), \
        CLI_DOUBLE("interval", &(o)->interval, 0, 0.01, 0.999, "split-conformal interval level, e.g. 0.9"),   \
        CLI_STR("id-column", &(o)->id_column, NULL, "column of series ids: one global model over many series"), \
        CLI_FLAG("ffill", &(o)->ffill, "forward-fill missing values instead of refusing them")

/* The loaded series and the current borders. */
typedef struct fc_data {
    fc_opts o;
    sn_table tab;             /* the rows held: all, or this rank's share (tab.row); until fc_data_stats
                                 in the shared mode only the file's index (no values) */
    size_t N;                 /* rows of the whole table */
    sn_time_report tr;        /* of the whole table */
    int batch, chunks;        /* set by the command after fc_data_load: the fit's batch and chunks
                                 (chunks > 0: the training windows stay in time order, not shuffled) */
    int shard;                /* 1: this rank reads only its share (forecast_shard.c) */
    int quiet;
    sn_csv_opts copts;        /* the read's options (columns: see named_cols) */
    int named_cols;           /* --features / targets named the columns: tab.col_names */
    int C, K;                 /* input columns (the whole table), targets */
    int *tcol;                /* (K) target column indices */
    int n_series;
    size_t *sbeg, *send;      /* (n_series) rows of each series */
    int *row_series;          /* (tab.n_rows) series of each held row */
    int64_t step_s, lookback_s, horizon_s, sampling_s;
    long H;                   /* horizon in sampled steps */
    sn_fc_layout lay;
    sn_ts_window_spec ws;
    sn_fc_scale scale;
    int steps_all;            /* --steps all */
    int standardized_metrics;
    double read_seconds;
    long season;
    double quantiles[FC_META_MAX_Q];
    int n_q;
    /* Filled by fc_data_stats (training statistics) and fc_data_windows. */
    sn_ts_borders *b;         /* (n_series) current borders */
    double *xmean, *xstd;     /* (n_series, C) */
    double *ymean, *ystd;     /* (n_series, K) */
    float *x, *y, *yn;        /* (tab.n_rows, C), (.., K), (.., K): the held rows */
    double *mase_den;         /* (n_series, K) */
    sn_fc_series fs;
    sn_windows w[3];          /* train (shuffled), val, test */
    int have_split[3];
} fc_data;

/* Reads --data with the options, resolves targets, durations, the layout
 * and the season; prints the data / protocol lines (unless quiet). 0, or 1
 * after printing why (file, column, duration). Free with fc_data_free. */
int fc_data_load(fc_data *d, const fc_opts *o, const char *cmd, int quiet);
void fc_data_free(fc_data *d);
/* Borders of every series from --split. 0 or 1 (printed). */
int fc_data_split_borders(fc_data *d, const char *cmd);
/* Training statistics from the current borders' training rows, the
 * standardised arrays and the MASE scales. 0 or 1 (printed). */
int fc_data_stats(fc_data *d, const char *cmd);
/* The windows of the three splits (train shuffled with seed); a split
 * without windows is an error naming the split and the rows it needs
 * (need_val: validation too). 0 or 1. */
int fc_data_windows(fc_data *d, uint64_t seed, const char *cmd, int context);
/* Metadata of a model trained on the current statistics. */
void fc_data_meta(const fc_data *d, fc_meta *m);
/* Series index of (whole-table) row s. */
static inline int fc_series_of(const fc_data *d, size_t s) {
    int lo = 0, hi = d->n_series - 1; /* the first series ending after s */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (d->send[mid] <= s) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
/* The held row (index into tab, x, y) of whole-table row g, which must be held. */
static inline size_t fc_row(const fc_data *d, size_t g) {
    size_t l = 0;
    return sn_fc_series_local(&d->fs, g, 0, &l) ? l : 0;
}

/* 1 on a rank > 0 that holds only its share (forecast_shard.c): it trains
 * and evaluates its share with the others, but the predictions, metrics,
 * baselines and intervals after training are rank 0's alone (its results
 * are zero). */
static inline int fc_rank_idle(const fc_data *d) { return d->shard && !cli_is_root(); }

/* forecast_shard.c: under MPI with several ranks, NULL when the data can be
 * read in parts, else why not ("" without a group of several ranks). */
const char *fc_shard_refusal(const fc_opts *o);
/* This rank's rows (after the borders and the windows): the partial read
 * replacing the index in d->tab, then rank 0's line on the rows read.
 * Collective. 0 or 1 (printed). */
int fc_shard_read(fc_data *d, const char *cmd);
/* The blocked statistics' ranges (each series' training rows, into begin /
 * end) and, when shared, the owner of each block (*owner, free it) and the
 * group. 0 or 1 (printed). */
int fc_shard_stats_req(const fc_data *d, sn_stats_req *r, size_t *begin, size_t *end, int **owner);

/* The outcome of one model on the current borders. */
typedef struct fc_result {
    char name[64];
    size_t params;
    int epochs_run, best_epoch, learned;
    double seconds, seed_ref;
    sn_fc_metrics val, test;
    sn_fc_metrics *test_step; /* (S) */
    sn_fc_metrics *val_step;  /* (S) */
    double coverage, level;   /* interval coverage on test and its nominal level (NaN: none) */
    const char *interval_kind;/* "conformal" | "quantile" | NULL */
    double *test_pred;        /* (n_test, S, K) original units, for plots */
    double *test_lo, *test_hi;/* (n_test, S, K) or NULL */
    double *test_truth;       /* (n_test, S, K) */
    sn_fc_metrics *series_test; /* (n_series) per-series test metrics when n_series > 1 */
} fc_result;
void fc_result_free(fc_result *r);

/* A preset ("naive", "ets", "lstm", ...) or NULL. */
typedef struct fc_preset {
    const char *name;
    const char *spec;   /* NULL: a baseline */
    int epochs;
    const char *what;
    int seed_table;     /* one of the seed's presets (`--all`) */
} fc_preset;
const fc_preset *fc_preset_find(const char *name);
const fc_preset *fc_preset_at(int i); /* NULL past the end */
/* 1 when d runs the seed's protocol (bundled data, raw target 24 h after
 * 120 h hourly, 50/25/25): only then are the seed's numbers comparable. */
int fc_seed_protocol(const fc_data *d);
/* The seed's Keras test MAE for a preset (NaN where it printed none). */
double fc_seed_test_mae(const char *name);

/* Runs preset p (or spec text when p is NULL) on the current windows:
 * trains a learned model (best-on-validation checkpoint <out>/<name>.seqnn
 * with metadata when save is 1; with `reuse` the model file of an earlier
 * fit is used as it is instead) or computes a baseline, then the metrics,
 * intervals and per-step / per-series values into *r. 0 or 1 (printed). */
int fc_run_model(fc_data *d, const fc_preset *p, const char *spec, int epochs, const cli_train *t, int save,
                 const char *reuse, fc_result *r);

/* forecast_report.c */
/* The one-line summary printed after a model ("name: ... test MAE x (naive y)"). */
void fc_report_line(const fc_data *d, const fc_result *r, double naive_test);
/* results.md / results.csv (every metric, val_ / test_) and the seed-style table. 0 or 1. */
int fc_write_results(const fc_data *d, const fc_result *r, int n, const char *out, uint64_t seed);
/* <name>_per_step.csv and the plots of one model (forecast vs actual at
 * several steps with interval bands, error by step). */
void fc_write_model_outputs(const fc_data *d, const fc_result *r, const char *out, int plots);
/* An interval band as one plot series (so both bounds share a colour):
 * lo (n), a gap, hi (n) into fresh *bx / *by of 2n+1 values (free both).
 * Returns a series labelled "interval", or one with n == 0 when out of memory. */
sn_plot_series fc_band(const double *x, const float *lo, const float *hi, size_t n, double **bx, float **by);
/* series_all.png and series_first_10_days.png of the first target. */
void fc_plot_series(const fc_data *d, const char *out);

#endif
