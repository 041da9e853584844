/* Forecasting metadata stored inside a model file (key "forecast"), so that
 * `seqnn predict` can window, scale and un-scale new data with only the
 * model: feature names and training mean / std, targets and their
 * statistics, look-back / horizon / sampling as durations (re-expressed in
 * rows of whatever step the new file has), the step mode, the target
 * scaling, channel independence, quantile levels, the conformal half-widths
 * and, for a file of several series, the id column and per-series
 * statistics.
 *
 * Format: "seqnn-forecast 1\n", then one tab-separated `key\tvalue...` line
 * per field. The seed's protocol (raw single target, --steps last, one
 * series) writes exactly the lines the first version wrote (target,
 * lookback_s, horizon_s, sampling_s, step_s, lookback, feature); everything
 * else adds lines (scale, steps, targets, target_stat, channel_independent,
 * quantiles, interval, conformal, id_column, series, series_stat), so models
 * of the seed's protocol stay byte-identical. Readers ignore keys they do
 * not know. */
#ifndef SEQNN_FORECAST_META_H
#define SEQNN_FORECAST_META_H

#include <stddef.h>
#include <stdint.h>

#define FC_META_KEY "forecast"
#define FC_META_MAX_Q 16

typedef struct fc_meta {
    int n_features;
    char **features;     /* (n_features) column names, in model input order */
    double *mean, *std;  /* (n_series, n_features) training statistics (series 0 first) */
    char *target;        /* the first target column name */
    int64_t lookback_s, horizon_s, sampling_s, step_s;
    int lookback;        /* sampled steps in a window */
    /* Additions (defaults: the seed's protocol). */
    int scale;           /* sn_fc_scale (0 none) */
    int steps_all;       /* 1: every sampled step 1..H; 0: only H */
    int n_targets;       /* K >= 1 */
    char **targets;      /* (K) */
    double *tmean, *tstd;/* (n_series, K) target statistics, NULL when scale is none and they are not stored */
    int channel_independent;
    int n_quantiles;
    double quantiles[FC_META_MAX_Q];
    double interval;     /* conformal level, 0 = none */
    int n_conformal;     /* S*K half-widths */
    double *conformal;   /* (S, K) */
    char *id_column;     /* NULL: one series */
    int n_series;        /* >= 1 */
    char **series;       /* (n_series) ids, NULL for one series */
} fc_meta;

/* Encodes m into a fresh *blob of *n bytes (free it). 0, or -1 when out of memory. */
int fc_meta_encode(const fc_meta *m, void **blob, size_t *n);
/* Parses and validates a blob into *m (every field owned by m: free with
 * fc_meta_free); returns 0, or -1 with a message naming the line in err
 * (m left empty). */
int fc_meta_decode(fc_meta *m, const void *blob, size_t n, char *err, size_t errn);
/* Releases what m owns and zeroes it. */
void fc_meta_free(fc_meta *m);
/* Index of series id `name` (0 for a one-series model), or -1. */
int fc_meta_series(const fc_meta *m, const char *name);

#endif
