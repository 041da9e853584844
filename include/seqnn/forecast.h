/* Forecasting a series: scaled multi-step / multi-target samples, split
 * borders and walk-forward folds, metrics, statistical baselines (naive,
 * seasonal naive, mean, drift, ETS), split-conformal intervals.
 *
 * Vocabulary (docs/forecasting.md):
 *   row        one line of the table (one time step of the file);
 *   window     L look-back steps taken every r rows, starting at row s; its
 *              last input row is the ORIGIN o = s + (L-1)·r;
 *   step i     output i = 0..S-1 of a window, the value d_i = first + i·stride
 *              rows after the origin (--steps last: S = 1, d_0 = H·r; --steps
 *              all: d_i = (i+1)·r, i.e. every sampled step 1..H);
 *   target k   one of the K predicted columns;
 *   series     with an id column, the rows of one id (contiguous, in time
 *              order); windows never cross series.
 * Predictions and truths are laid out (n_windows, S, K) row-major, quantile
 * outputs (n_windows, S, K, Q).
 *
 * Everything here is single-threaded, keeps no global state and never
 * prints; errors are sn_status with sn_error_last(). */
#ifndef SEQNN_FORECAST_H
#define SEQNN_FORECAST_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"
#include "seqnn/data.h"
#include "seqnn/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Target scaling and the samples a model trains on
 * ====================================================================== */

/* How targets are presented to a model (and predictions mapped back). */
typedef enum sn_fc_scale {
    SN_FC_SCALE_NONE = 0,     /* raw target in its own units (the seed's protocol) */
    SN_FC_SCALE_STANDARD = 1, /* (y - mean) / std with the training rows' statistics (per series) */
    SN_FC_SCALE_LAST = 2,     /* per window: (y - y[origin]) / std; inputs minus their value at the
                                 origin (NLinear, Zeng et al. 2023) */
    SN_FC_SCALE_WINDOW = 3    /* per window: instance normalisation, every input channel and the
                                 target standardised by the look-back window's own mean and
                                 sqrt(var + 1e-5) in standardised units (RevIN without the affine map,
                                 Kim et al. 2022) */
} sn_fc_scale;

/* "none" | "standard" | "last" | "window" (also "instance", "revin"). Returns 1, or 0 when unknown. */
SN_API int sn_fc_scale_parse(const char *s, sn_fc_scale *out);
/* "none", "standard", "last", "window". */
SN_API const char *sn_fc_scale_name(sn_fc_scale s);

/* The data windows read. Every pointer is borrowed (must outlive the datasets). */
typedef struct sn_fc_series {
    size_t N;              /* rows */
    int C;                 /* input channels */
    const float *x;        /* (N,C) inputs standardised with training statistics */
    int K;                 /* targets */
    const float *y;        /* (N,K) raw target values (original units) */
    const float *yn;       /* (N,K) targets standardised with y_mean / y_std of their series */
    const int *series;     /* (N) series index of each row, or NULL: one series */
    int n_series;          /* >= 1 */
    const double *y_mean;  /* (n_series, K) training mean of each target */
    const double *y_std;   /* (n_series, K) training std (> 0) */
    /* A partial read (one rank's share, docs/distributed.md): the N rows held
     * are rows rows[0..N) (ascending) of the whole series, and windows name
     * whole-series rows; a window must lie on held rows where it is read
     * (else SN_ERR_ARG naming it). NULL: the N rows are rows 0..N-1. */
    const size_t *rows;
} sn_fc_series;

/* The held row of whole-series row g and whether rows g..g+span are all
 * held: 1 with *local set, else 0. */
SN_API int sn_fc_series_local(const sn_fc_series *s, size_t g, size_t span, size_t *local);

/* What one sample holds. */
typedef struct sn_fc_layout {
    int lookback;             /* L steps in a window */
    int sampling;             /* r rows between steps */
    int n_steps;              /* S outputs per target */
    long first, stride;       /* d_i = first + i*stride rows after the origin */
    sn_fc_scale scale;
    int channel_independent;  /* 1: one sample per (window, target); input (L,1) = that target
                                 (standardised, then the per-window scaling), output (S) */
    int n_quantiles;          /* Q >= 1: each target value is repeated Q times in y (pinball loss) */
    int inputs_only;          /* 1: forecasting the future: only the look-back must lie in the series;
                                 y is not filled and sn_fc_truth refuses */
} sn_fc_layout;

/* Rows from a window's first input row to its last target row: (L-1)*r + d_{S-1}. */
SN_API long sn_fc_layout_span(const sn_fc_layout *lay);
/* Floats per sample of input: L*C, or L with channel independence. */
SN_API size_t sn_fc_layout_x_numel(const sn_fc_layout *lay, int C);
/* Floats per sample of output: S*K*Q, or S*Q with channel independence. */
SN_API size_t sn_fc_layout_y_numel(const sn_fc_layout *lay, int K);
/* Samples of a window set: n_windows, or n_windows*K with channel independence. */
SN_API size_t sn_fc_layout_samples(const sn_fc_layout *lay, int K, size_t n_windows);

/* A dataset over the windows w (whose order is copied: shuffle before):
 *   x (L, C): x[t][c] = s->x[(start + t r)][c], then the per-window scaling;
 *   y (S, K, Q): the target d_i rows after the origin in the layout's scale.
 * With channel independence sample j is window j / K, target j % K, input
 * yn of that target (L, 1), output (S, Q). Nothing is materialised. Every
 * window is checked: beyond N, or crossing a series border, gives SN_ERR_ARG
 * naming the window (with s->rows only the windows on held rows are checked
 * here; filling one that is not held is the error). Free with sn_dataset_free. */
SN_API sn_status sn_fc_dataset(sn_dataset *out, const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w);

/* Model outputs back to original units: pred (samples, y_numel) in the
 * order of sn_fc_dataset over w, out (n_windows, S, K, Q) doubles. */
SN_API sn_status sn_fc_unscale(const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w,
                               const float *pred, double *out);
/* The true values (n_windows, S, K), original units. */
SN_API sn_status sn_fc_truth(const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w, double *out);

/* ======================================================================
 * Splits and walk-forward folds
 * ====================================================================== */

/* A --split argument: "a,b[,c]". All values <= 1: fractions of each series'
 * rows (train floor(a n), validation floor(b n), test the rest when a+b+c
 * = 1 or c is absent, else floor(c n) with the last rows unused); else row
 * counts (integers). Errors (SN_ERR_PARSE / SN_ERR_ARG) name the argument. */
typedef struct sn_fc_split {
    int is_rows;
    double a, b, c;   /* c < 0: the rest */
} sn_fc_split;
SN_API sn_status sn_fc_split_parse(const char *s, sn_fc_split *out);
/* Borders of a series of rows [begin, end) under sp. SN_ERR_ARG when the
 * counts exceed the series or a split is empty. */
SN_API sn_status sn_fc_split_borders(const sn_fc_split *sp, size_t begin, size_t end, sn_ts_borders *out);

/* Walk-forward (expanding window) folds of a series [begin, end): fold i of
 * k has its test rows [c_i, c_i + step) with c_i = end - (k - i)*step, and
 * trains on [begin, c_i), the last val_frac of it for validation. SN_ERR_ARG
 * when the first fold would train on fewer than min_train rows. out (k). */
SN_API sn_status sn_fc_folds(size_t begin, size_t end, int k, size_t step, double val_frac, size_t min_train,
                             sn_ts_borders *out);

/* ======================================================================
 * Baselines
 * ====================================================================== */

/* The period of the data in rows from its time step: one day of rows for a
 * step below a day that divides it (24 hourly, 144 for 10-minute data),
 * 7 for daily, 52 for weekly data, else 1. */
SN_API long sn_fc_season_from_step(int64_t step_seconds);

typedef enum sn_fc_baseline {
    SN_FC_NAIVE = 0,          /* y[o] */
    SN_FC_SEASONAL_NAIVE = 1, /* y[o + d - m*ceil(d/m)]: the last value one season back */
    SN_FC_MEAN = 2,           /* mean of the look-back window's L values */
    SN_FC_DRIFT = 3           /* y[o] + d*(y[o] - y[s])/(o - s): the line through the window's ends */
} sn_fc_baseline;

/* Predictions (n_windows, S, K) of baseline b from the raw targets.
 * season m (rows) is used by the seasonal naive only; a window whose
 * season-back row lies before its series gives SN_ERR_ARG naming m. */
SN_API sn_status sn_fc_baseline_predict(sn_fc_baseline b, const sn_fc_series *s, const sn_fc_layout *lay,
                                        const sn_windows *w, long season, double *out);

/* ======================================================================
 * Metrics and intervals
 * ====================================================================== */

typedef struct sn_fc_metrics {
    double mae, mse, rmse;    /* over every entry */
    double mape, smape;       /* percent; MAPE skips y == 0, sMAPE skips y == pred == 0 (NaN when none) */
    double mase;              /* mean |e| / den over entries; NaN without denominators */
    size_t n;                 /* entries */
} sn_fc_metrics;

/* Metrics of pred against truth, both (n, S, K): over everything into *all
 * and, when per_step is not NULL, over targets for each step into
 * per_step (S). mase_den (n, K) scales the errors of window j, target k
 * (the in-sample seasonal-naive MAE of its series) or is NULL. */
SN_API sn_status sn_fc_metrics_eval(const double *pred, const double *truth, const double *mase_den, size_t n, int S,
                                    int K, sn_fc_metrics *all, sn_fc_metrics *per_step);

/* In-sample seasonal-naive MAE: mean |y[t] - y[t-m]| for t in [begin+m, end)
 * of column k of y (rows of K values). SN_ERR_ARG when that range is empty;
 * a zero value is returned as is (MASE is then Inf). */
SN_API sn_status sn_fc_mase_scale(const float *y, int K, int k, size_t begin, size_t end, long m, double *den);

/* Split-conformal half-widths (Vovk et al.; Lei et al. 2018): for each of
 * the m columns of the (n, m) calibration arrays, q[j] is the
 * ceil((n+1)*level)-th smallest |truth - pred| (Inf when that exceeds n).
 * With exchangeable errors pred ± q covers a new value with probability
 * >= level. SN_ERR_ARG for n == 0 or level outside (0,1). */
SN_API sn_status sn_fc_conformal(const double *pred, const double *truth, size_t n, size_t m, double level,
                                 double *q);

/* Fraction of the n entries with lo <= truth <= hi. */
SN_API double sn_fc_coverage(const double *lo, const double *hi, const double *truth, size_t n);

/* ======================================================================
 * ETS(A,A,A): additive error, trend and season (Holt-Winters state space)
 * ====================================================================== */

/* The model of Hyndman et al. (2008), as statsforecast / R forecast fit it:
 *   mu_t = l + b + s[m-1]               (one-step forecast; s[0] is the newest season state)
 *   e_t  = y_t - mu_t
 *   l'   = l + b + alpha e_t,  b' = b + beta e_t,  s' = s[m-1] + gamma e_t (becomes s[0])
 * fitted by maximum likelihood: minimise n log(sum e_t^2) (the Gaussian
 * likelihood with sigma concentrated out) over alpha, beta, gamma and the
 * initial states, with statsforecast's bounds (alpha, beta, gamma in
 * [1e-4, 0.9999], beta <= alpha0, gamma <= 1 - alpha0 for the start value
 * alpha0) by bounded Nelder-Mead (adaptive, 1,000 iterations, tolerance
 * 1e-4 on the spread of the simplex values), restarted from its best point
 * until a restart gains less than 1e-3 (statsforecast stops after the
 * first run, far from the optimum with 4 + m parameters). The initial
 * seasonal states sum to 0 (the last is minus the sum of the others). */
typedef struct sn_ets {
    int m;                /* season length in rows (1: no season) */
    double alpha, beta, gamma;
    double l0, b0;
    double *s0;           /* (m) initial season states, s0[0] the newest; owned */
    double lik;           /* n log(SSE) at the fit */
    double sigma2;        /* SSE / (n - p - 1), p = free parameters + 1 (statsforecast's sigma2) */
    int iterations;       /* Nelder-Mead iterations used, over every restart */
} sn_ets;

/* The objective n log(sum e^2) of the model at the given parameters and
 * initial states on y (n): the value statsforecast's etscalc returns for
 * ETS(A,A,A) (m = 1: ETS(A,A,N), s0 unused). */
SN_API double sn_ets_lik(const double *y, size_t n, int m, double alpha, double beta, double gamma, double l0,
                         double b0, const double *s0);

/* Fits e to y (n). Initial states as statsforecast's initstate: classical
 * additive decomposition (centred moving average of order m, 2 x m for even
 * m) for the season, then a line through the first max(10, 2m) seasonally
 * adjusted values for level and trend. Errors: SN_ERR_ARG for m < 1, m > 168,
 * fewer than 3 seasons (3m rows) or too few rows for the parameter count,
 * SN_ERR_NUMERIC for a non-finite value in y; SN_ERR_NOMEM. Free with
 * sn_ets_free. */
SN_API sn_status sn_ets_fit(sn_ets *e, const double *y, size_t n, int m);
SN_API void sn_ets_free(sn_ets *e);

/* Runs the fitted model over y (n; the fitting series followed by later
 * values) and writes, for each origin o (n_o, ascending, < n), the forecasts
 * l + d b + s[(m-1-(d-1)) mod m] made after observing y[o], for d in
 * offsets (S), into out (n_o, S) with row stride out_stride. */
SN_API sn_status sn_ets_forecast(const sn_ets *e, const double *y, size_t n, const size_t *origins, size_t n_o,
                                 const long *offsets, int S, double *out, size_t out_stride);

#ifdef __cplusplus
}
#endif
#endif
