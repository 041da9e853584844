/* Forecasting metadata stored inside a model file (key "forecast"), so that
 * `seqnn predict` can window and normalise new data with only the model:
 * feature names, training mean / std, target, lookback / horizon / sampling
 * as durations (re-expressed in rows of whatever step the new file has). */
#ifndef SEQNN_FORECAST_META_H
#define SEQNN_FORECAST_META_H

#include <stddef.h>
#include <stdint.h>

#define FC_META_KEY "forecast"

typedef struct fc_meta {
    int n_features;
    char **features;     /* (n_features) column names, in model input order */
    double *mean, *std;  /* (n_features) training statistics */
    char *target;        /* target column name */
    int64_t lookback_s, horizon_s, sampling_s, step_s;
    int lookback;        /* sampled steps in a window */
} fc_meta;

/* Encodes m as a text blob "seqnn-forecast 1\n" + tab-separated lines into
 * a fresh *blob of *n bytes (free it). Returns 0, or -1 when out of memory. */
int fc_meta_encode(const fc_meta *m, void **blob, size_t *n);
/* Parses and validates a blob into *m (every field owned by m: free with
 * fc_meta_free); returns 0, or -1 with a message in err (m left empty). */
int fc_meta_decode(fc_meta *m, const void *blob, size_t n, char *err, size_t errn);
/* Releases what m owns and zeroes it. */
void fc_meta_free(fc_meta *m);

#endif
