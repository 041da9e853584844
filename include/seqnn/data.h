/* Time-series data: CSV tables, Keras-identical windowing, normalization,
 * durations, the Jena split protocol and the naive baseline.
 *
 * Typical forecasting pipeline (the Jena protocol of Deep Learning with
 * Python, 2nd ed., ch. 10):
 *
 *   sn_table t;  sn_csv_read(&t, "jena.csv.gz", NULL);          // dates + numeric columns
 *   sn_time_report tr; sn_table_time_report(&t, &tr);            // tr.median_step = 600 s
 *   int64_t lb, hz, sr;  sn_duration_parse("120h", &lb); ...("24h", &hz); ...("1h", &sr);
 *   sn_ts_protocol p;  sn_ts_protocol_from_durations(&p, t.n_rows, tr.median_step, lb, hz, sr, 0.5, 0.25);
 *   double mean[C], std[C];  sn_table_stats(&t, 0, p.num_train, mean, std);
 *   float *x = malloc(N*C*4); sn_table_normalize(&t, mean, std, x);   // (N,C)
 *   float *temp = malloc(N*4); sn_table_column_f32(&t, col_T, temp);   // raw, unnormalized
 *   sn_windows_shuffle(&p.train, &rng);
 *   sn_ts_dataset(&train, x, N, C, temp, p.delay, &p.train);       // Keras train_dataset
 *   sn_ts_naive_mae(temp, N, p.delay, &p.val, &mae);                 // 2.44 on the book's data
 *
 * Everything here is single-threaded and owns no global state. */
#ifndef SEQNN_DATA_H
#define SEQNN_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/comm.h"
#include "seqnn/core.h"
#include "seqnn/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * CSV tables
 * ====================================================================== */

/* What to do with a missing value: an empty field or "NaN"/"nan" (any case).
 * Sentinels such as -9999 are ordinary numbers unless opts.sentinel is set. */
typedef enum sn_missing_policy {
    SN_MISSING_ERROR = 0, /* refuse with file:line:column (default) */
    SN_MISSING_FFILL = 1  /* repeat the previous row's value; a missing value in
                             the first data row is still an error */
} sn_missing_policy;

/* Date formats of the date column. SN_DATE_AUTO recognises the first three
 * (and plain unix seconds) from the first data row and then holds every row
 * to that format; month-first dates are accepted only when asked for. */
typedef enum sn_date_format {
    SN_DATE_AUTO = 0,
    SN_DATE_DMY = 1,  /* dd.mm.yyyy[ HH:MM[:SS]]  (Jena: "01.01.2009 00:10:00") */
    SN_DATE_ISO = 2,  /* yyyy-mm-dd[( |T)HH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]; an offset is
                         converted to UTC, fractional seconds are truncated */
    SN_DATE_UNIX = 3, /* integer seconds since 1970-01-01 00:00:00 */
    SN_DATE_MDY = 4   /* mm/dd/yyyy[ HH:MM[:SS]] (US); never auto-detected */
} sn_date_format;

/* Reader options. A zeroed struct (or NULL) means: auto delimiter, auto date
 * column, auto date format, all numeric columns, missing values refused,
 * timestamps required to increase strictly. */
typedef struct sn_csv_opts {
    char delimiter;              /* ',' ';' '\t' ...; 0 = auto among , ; and tab (header line) */
    const char *date_column;     /* NULL = auto (first header named "Date Time", "date", "time",
                                    "datetime", "date_time", "timestamp"; any case);
                                    "" = the file has no date column */
    sn_date_format date_format;  /* SN_DATE_AUTO unless set */
    const char *const *columns;  /* names of the columns to keep, in this order (matched as
                                    sn_table_col_index does); NULL = every numeric column */
    int n_columns;               /* length of columns */
    sn_missing_policy missing;   /* SN_MISSING_ERROR unless set */
    int use_sentinel;            /* 1: a value equal to `sentinel` counts as missing */
    double sentinel;             /* e.g. -9999 */
    int allow_unsorted_time;     /* 1: accept duplicate / backwards timestamps (see
                                    sn_table_time_report); default: refuse, naming the line */
    const char *id_column;       /* a column of series ids (any text, matched as sn_table_col_index
                                    does), or NULL: one series. With it the rows are regrouped
                                    series after series (first appearance order, stable) and
                                    timestamps must increase within each series. */
    /* Partial reads (a rank reading only its share, docs/distributed.md): */
    int index_only;              /* 1: the index of the file: every row's time, line and series as a
                                    full read gives them, and the n_cols / col_names a full read would
                                    keep, but no values (data == NULL; the first data row is still
                                    parsed whole to choose the columns) */
    const size_t *keep;          /* (n_keep, 2) ascending, disjoint [begin, end) ranges of table rows
                                    (the series-grouped order) to parse; every other row is skipped
                                    unparsed (its bytes scanned for the line end; with id_column its
                                    id field read). Field counts, values and dates are checked only on
                                    kept rows, the timestamp order not at all (the index read checks
                                    both on every row). Refused with SN_MISSING_FFILL. NULL: all rows */
    int n_keep;
    const size_t *keep_series_start; /* with keep and id_column: (keep_n_series + 1) series_start of
                                        the whole table (an index read of the same file) */
    int keep_n_series;
} sn_csv_opts;

/* A numeric table read from a CSV file. Every pointer is owned by the table
 * and released by sn_table_free. */
typedef struct sn_table {
    size_t n_rows;
    int n_cols;
    char **col_names;   /* (n_cols) header names, unquoted and trimmed */
    double *data;       /* (n_rows, n_cols) row-major; doubles so "%.2f" text parses exactly */
    int64_t *time;      /* (n_rows) seconds since 1970-01-01, naive (read as UTC); NULL without a date column */
    char *time_name;    /* header of the date column, NULL without one */
    size_t *line;       /* (n_rows) 1-based line number of each row in the source */
    char *path;         /* the source path as given */
    /* With sn_csv_opts.id_column (else all NULL / 0): */
    int n_series;
    char **series_names;   /* (n_series) the ids as written */
    size_t *series_start;  /* (n_series + 1) series i holds rows [series_start[i], series_start[i+1]) */
    char *series_column;   /* header of the id column */
    /* After a partial read (sn_csv_opts.keep), else NULL and n_rows: */
    size_t *row;           /* (n_rows) each row's index in the whole table, ascending; series_start
                              then counts the rows held of each series */
    size_t n_total;        /* rows of the whole table */
} sn_table;

/* Reads a CSV file into `out`. Compression is detected by magic bytes: plain,
 * gzip (zlib), and through libarchive zip (the first ".csv" entry, as in
 * Keras's jena_climate_2009_2016.csv.zip), xz, bzip2, zstd — the library's
 * one stream reader, shared with the text and word-vector loaders.
 * The file is streamed (peak memory is the table plus a 4 MiB window).
 * Line 1 is the header (fields may be "quoted"; a UTF-8 BOM is skipped; an
 * empty name becomes "column N"); with columns == NULL, a column whose first
 * value is not a number (nor missing) is skipped as text (logged at INFO);
 * blank lines are skipped; CRLF is accepted. Fields are parsed as decimal
 * numbers exactly as strtod would (a fast exact path for short decimals).
 * Errors (out is left zeroed, nothing leaks), e.g.:
 *   SN_ERR_IO      cannot open (missing file, a directory) / read
 *   SN_ERR_FORMAT  corrupt or truncated compressed data, a zip without a .csv,
 *                  "f.csv:7:21: cannot parse "1.2x" as a number in column "T (degC)""
 *                  "f.csv:9: expected 15 fields, found 14"
 *                  "f.csv:12:1: timestamp 2009-01-01 00:10:00 repeats line 11 ..."
 *                  empty file, header only, line longer than 1 MiB, unterminated quote,
 *                  missing value (with policy SN_MISSING_ERROR), unknown column name
 * Bytes that are not printable ASCII are shown as \xNN in messages.
 * `opts` may be NULL for the defaults. Free with sn_table_free. */
SN_API sn_status sn_csv_read(sn_table *out, const char *path, const sn_csv_opts *opts);
/* Whether a file is compressed, by the magic bytes every reader decodes
 * (gzip, zip, xz, bzip2, zstd): 1 compressed, 0 plain, -1 it cannot be
 * opened. head non-NULL: its first n bytes are judged instead of path's
 * (a caller that already holds them). A plain file can be read in parts. */
SN_API int sn_file_compressed(const char *path, const unsigned char *head, size_t n);

/* Releases everything the table owns and zeroes it. NULL and zeroed tables are fine. */
SN_API void sn_table_free(sn_table *t);

/* Index of a column by name into *idx. Matching, first rule that gives one
 * column wins: exact; case-insensitive; case-insensitive on the part before
 * " (" (so "T" finds "T (degC)", "p" finds "p (mbar)"). No match or an
 * ambiguous short name: SN_ERR_ARG listing the table's columns. */
SN_API sn_status sn_table_col_index(const sn_table *t, const char *name, int *idx);

/* Copies column `col` into out (n_rows) as floats. SN_ERR_ARG on a bad index. */
SN_API sn_status sn_table_column_f32(const sn_table *t, int col, float *out /* (n_rows) */);

/* Feature selection: a new table `out` with the named columns of `in`, in the
 * given order (time, lines and path are copied). Names match as
 * sn_table_col_index does. `out` must not alias `in`. */
SN_API sn_status sn_table_select(sn_table *out, const sn_table *in, const char *const *names, int n_names);

/* Regularity of the time column. Steps are time[i] - time[i-1] over all rows
 * (within each series when the table has several). */
typedef struct sn_time_report {
    size_t n_steps;              /* n_rows - 1 */
    int64_t median_step;         /* seconds (lower median); the series' nominal step */
    int64_t min_step, max_step;  /* seconds */
    size_t n_irregular;          /* steps > 0 that differ from the median (gaps, jitter) */
    size_t n_duplicate;          /* steps == 0 */
    size_t n_backwards;          /* steps < 0 */
    size_t first_irregular_line; /* source line of the row ending the first such step, 0 if none */
    size_t first_duplicate_line;
    size_t first_backwards_line;
} sn_time_report;

/* Fills `rep` for table `t`. SN_ERR_ARG if the table has no time column or
 * fewer than 2 rows. */
SN_API sn_status sn_table_time_report(const sn_table *t, sn_time_report *rep);

/* Formats seconds since the epoch as "yyyy-mm-dd HH:MM:SS" into buf (at least
 * 20 bytes; truncated otherwise). Returns buf. */
SN_API char *sn_time_format(int64_t t, char *buf, size_t n);

/* ======================================================================
 * Normalization (Keras/numpy: mean and population std over training rows)
 * ====================================================================== */

/* Per-column mean and population standard deviation (numpy .std(), ddof 0,
 * two-pass in double) over rows [row_begin, row_end). A column whose std is 0
 * (or not finite) gives SN_ERR_NUMERIC naming it; mean/std are still filled. */
SN_API sn_status sn_table_stats(const sn_table *t, size_t row_begin, size_t row_end, double *mean /* (C) */,
                         double *std /* (C) */);

/* Blocked statistics: the same numbers in one process and over any number
 * of processes that each hold part of the rows (docs/distributed.md,
 * "Reading only a rank's share"). Each range [begin[i], end[i]) of table
 * rows (e.g. a series' training rows) is cut into blocks of SN_STATS_BLOCK
 * rows from begin[i]; ranges after ranges, blocks in order, give the block
 * numbers 0 .. sn_stats_n_blocks()-1. A block's sums are sequential double
 * sums over its rows, computed by the process `owner` names; the block sums
 * are then added in block order on every process. */
#define SN_STATS_BLOCK 256
typedef struct sn_stats_req {
    int n_ranges;
    const size_t *begin, *end;  /* (n_ranges) rows of the whole table (t->row numbering) */
    const int *owner;           /* (n_blocks) rank summing each block, or NULL: rank 0 */
    const sn_comm *comm;        /* the group (its gather_f64), or NULL: this process alone */
    int n_diff;                 /* optional MASE scales: for each of n_diff columns diff_col[j], */
    const int *diff_col;        /* the mean of |y[t] - y[t-season]| over t in [begin+season, end), */
    long season;                /* y the column rounded to float (as the forecasting targets) */
} sn_stats_req;

/* Number of blocks of the ranges of r. */
SN_API size_t sn_stats_n_blocks(const sn_stats_req *r);

/* Per range i and column c: mean[i*C+c] and the population std[i*C+c]
 * (two passes: the mean, then the squared deviations from it), and with
 * n_diff the MASE scales diff[i*n_diff+j] (NaN where a range has no more
 * rows than the season). t may be a partial read: the rows of every block a
 * process owns (and, with n_diff, the `season` rows before it within its
 * range) must be among its rows. Collective over r->comm (two gathers; the
 * same r on every rank). Errors: SN_ERR_ARG (a bad range or owner, an owned
 * block's rows not held: naming them), SN_ERR_NUMERIC as sn_table_stats
 * (std 0 or not finite, naming the column; the results are still filled),
 * a failed gather. May differ from sn_table_stats in the last bits. */
SN_API sn_status sn_table_stats_blocked(const sn_table *t, const sn_stats_req *r, double *mean /* (n_ranges, C) */,
                                        double *std /* (n_ranges, C) */, double *diff /* (n_ranges, n_diff) */);

/* out[i][c] = (data[i][c] - mean[c]) / std[c] for every row, as float.
 * Refuses (SN_ERR_ARG, naming the column) a std that is <= 0 or not finite. */
SN_API sn_status sn_table_normalize(const sn_table *t, const double *mean /* (C) */, const double *std /* (C) */,
                             float *out /* (n_rows, C) */);

/* ======================================================================
 * Windows: keras.utils.timeseries_dataset_from_array
 * ====================================================================== */

/* The windows of one split. Window k starts at absolute row start[k] and uses
 * rows start[k] + t*sampling_rate, t = 0..sequence_length-1. */
typedef struct sn_windows {
    size_t n;                /* number of windows */
    size_t *start;           /* (n) absolute start rows, ascending until shuffled; owned */
    int sequence_length;     /* L */
    int sampling_rate;       /* r */
    int sequence_stride;     /* S */
    size_t start_index;      /* s0 */
    size_t end_index;        /* e actually used (n_rows when 0 was passed) */
} sn_windows;

/* Computes the window start rows exactly as timeseries_dataset_from_array
 * (keras/src/utils/timeseries_dataset_utils.py) does for
 *   data of n_rows rows, targets of n_targets rows (0 = no targets),
 *   start_index s0, end_index e (0 = none, i.e. n_rows):
 *   n = e - s0 - (L-1)*r, capped at n_targets; windows start at s0 + j*S for
 *   j*S < n, i.e. ceil(n/S) windows, all rows < e.
 * Keras's validation is reproduced: s0 < n_rows; e < n_rows when given (so
 * passing e == n_rows is an error: omit it); e > s0; 1 <= r < n_rows;
 * 1 <= S < n_rows; plus L >= 1.
 * Deliberate difference: where Keras silently returns an EMPTY dataset
 * (window span (L-1)*r+1 longer than the range), this returns SN_ERR_ARG with
 * the numbers. Also an error (Keras fails later, while iterating): a window
 * whose target index s0+j*S would be >= n_targets.
 * Free with sn_windows_free. On error *w is zeroed. */
SN_API sn_status sn_windows_init(sn_windows *w, size_t n_rows, int sequence_length, int sampling_rate,
                          int sequence_stride, size_t start_index, size_t end_index, size_t n_targets);

/* Permutes the window order once (Fisher-Yates with the given generator),
 * like Keras's shuffle=True does with its seed. Deterministic for a seed. */
SN_API void sn_windows_shuffle(sn_windows *w, sn_rng *rng);

/* Releases w->start and zeroes w. */
SN_API void sn_windows_free(sn_windows *w);

/* A dataset over the windows `w` of normalized data (N,C): sample k is window
 * w->start[k] (the order is copied at creation: shuffle before). fill writes
 *   b->x (B, L*C):  x[b][t*C + c] = data[(start + t*r)*C + c]
 *   b->y (B, 1):    targets[start + target_delay]      (when targets != NULL)
 * computing windows on demand (nothing is materialised). Jena: pass the full
 * normalized data, the raw temperature column and delay = 858, with windows
 * built over N - delay rows: that is Keras's data = raw[:-delay],
 * targets = temperature[delay:]. data and targets are borrowed and must
 * outlive the dataset. Every row a window can touch is checked here: a window
 * or target beyond N gives SN_ERR_ARG. y_numel is 1 with targets, else 0. */
SN_API sn_status sn_ts_dataset(sn_dataset *out, const float *data /* (N,C) */, size_t N, int C,
                        const float *targets /* (N) or NULL */, long target_delay, const sn_windows *w);

/* ======================================================================
 * Durations: the same command on 10-minute and hourly data
 * ====================================================================== */

/* Parses "120h", "24h", "10min", "10m", "30s", "5d", "1w" (also "2 hours",
 * "90 minutes", "1day", "3 weeks", units s sec second(s) m min minute(s)
 * h hr hour(s) d day(s) w week(s), any case) into seconds. The number is a
 * non-negative integer; a missing or unknown unit is SN_ERR_PARSE (a bare
 * number is refused: rows or seconds would be a guess). */
SN_API sn_status sn_duration_parse(const char *s, int64_t *seconds);

/* rows = seconds / step_seconds, which must divide exactly (SN_ERR_ARG
 * naming both, e.g. "1h5min is not a whole number of 10min steps"). */
SN_API sn_status sn_duration_to_rows(int64_t seconds, int64_t step_seconds, long *rows);

/* Formats seconds compactly ("5d", "1h5min", "10min", "30s") into buf. Returns buf. */
SN_API char *sn_duration_format(int64_t seconds, char *buf, size_t n);

/* ======================================================================
 * The Jena / seed protocol
 * ====================================================================== */

/* Splits and windows of the book's protocol on a series of n_rows rows:
 *   num_train = floor(train_frac*N), num_val = floor(val_frac*N), test = rest;
 *   delay = sampling*(lookback + horizon - 1): the target is `horizon`
 *   sampled steps after the last input row;
 *   windows over data = rows[0, N-delay) with targets = target[delay:]:
 *     train: [0, num_train)   val: [num_train, num_train+num_val)   test: [num_train+num_val, end)
 * (train is NOT shuffled here: call sn_windows_shuffle). Normalization
 * statistics belong to rows [0, num_train). */
typedef struct sn_ts_protocol {
    size_t n_rows;            /* N */
    int lookback;             /* sequence_length, in sampled steps */
    int horizon;              /* in sampled steps after the last input */
    int sampling;             /* sampling_rate, in rows */
    long delay;               /* rows from a window's first row to its target */
    size_t num_train, num_val, num_test;
    sn_windows train, val, test;
} sn_ts_protocol;

/* Fills p (see above). Errors (SN_ERR_ARG, p zeroed): a non-positive value,
 * fractions outside (0,1) or summing to >= 1, a series too short for a split
 * (the Keras checks of sn_windows_init apply). Free with sn_ts_protocol_free. */
SN_API sn_status sn_ts_protocol_init(sn_ts_protocol *p, size_t n_rows, int lookback, int horizon, int sampling,
                              double train_frac, double val_frac);

/* The same in durations: sampling = sampling_s / step_s rows, lookback =
 * lookback_s / sampling_s steps, horizon = horizon_s / sampling_s steps, each
 * division exact (else SN_ERR_ARG naming the durations). With step 10min,
 * ("120h","24h","1h") gives the book's L=120, r=6, delay 858; with hourly data
 * the same durations give L=120, r=1, delay 143. */
SN_API sn_status sn_ts_protocol_from_durations(sn_ts_protocol *p, size_t n_rows, int64_t step_s, int64_t lookback_s,
                                        int64_t horizon_s, int64_t sampling_s, double train_frac,
                                        double val_frac);

/* Releases the three window sets and zeroes p (a zeroed p is fine). */
SN_API void sn_ts_protocol_free(sn_ts_protocol *p);

/* ======================================================================
 * Naive baseline
 * ====================================================================== */

/* Mean absolute error of "the target in `delay` rows equals its value at the
 * window's last input row": over the windows of w,
 *   pred = target[start + (L-1)*r],  truth = target[start + delay],
 * with target the UNnormalized column (N). Accumulated in double.
 * SN_ERR_ARG if a window reaches beyond N or w is empty. */
SN_API sn_status sn_ts_naive_mae(const float *target /* (N) */, size_t N, long delay, const sn_windows *w,
                          double *mae);

/* ======================================================================
 * Split windows: several series, multi-step targets, the two conventions
 * ====================================================================== */

/* One series' rows [begin, end) and its split borders: train [begin,
 * train_end), validation [train_end, val_end), test [val_end, end). */
typedef struct sn_ts_borders {
    size_t begin, train_end, val_end, end;
} sn_ts_borders;

typedef enum sn_ts_split { SN_TS_TRAIN = 0, SN_TS_VAL = 1, SN_TS_TEST = 2 } sn_ts_split;

/* Window geometry: L steps every r rows (span (L-1)*r from the first input
 * row s to the origin o = s + (L-1)*r), targets `first` .. `last` rows after
 * the origin. */
typedef struct sn_ts_window_spec {
    int lookback;     /* L >= 1 */
    int sampling;     /* r >= 1 */
    long first, last; /* 1 <= first <= last */
    int context;      /* 0: Keras / the seed; 1: --split-context (see below) */
} sn_ts_window_spec;

/* The windows (stride 1 row, ascending, series after series) of split
 * `which` of every series b[0..n_series):
 *   context 0, the seed's convention (keras timeseries_dataset_from_array
 *     over data[:-delay] with start/end indices at the borders, delay =
 *     span + last): the whole look-back lies in the split, s in [lo, hi) and
 *     s + span < min(hi, end - delay); the targets may lie past the split.
 *     On one series this gives exactly sn_ts_protocol_init's windows.
 *   context 1, the long-horizon benchmarks' convention (Informer, Autoformer,
 *     DLinear data loaders): every target lies in the split and the look-back
 *     may reach back before its border (not before the series' start):
 *     s >= begin, o + first >= lo, o + last < hi. The first forecast of a
 *     split starts at its border.
 * A series without a window in this split is skipped; none at all gives
 * SN_ERR_ARG saying how many rows a window needs and how many the split
 * has. Free with sn_windows_free; on error *w is zeroed. */
SN_API sn_status sn_ts_windows_split(sn_windows *w, const sn_ts_window_spec *sp, const sn_ts_borders *b, int n_series,
                                     sn_ts_split which);

#ifdef __cplusplus
}
#endif
#endif
