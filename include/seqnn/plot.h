/* Plots: line charts written as PNG or SVG through cairo.
 *
 * A separate library: link libseqnn_plot.a and cairo (`-lseqnn_plot -lcairo`)
 * besides libseqnn; the umbrella header seqnn.h does not include this one.
 *
 * One call draws a whole figure: title, axis labels, "nice" ticks
 * (1/2/5 x 10^k, or calendar dates for unix-second x values), grid lines,
 * a legend box when any series has a label, a fixed tab10 colour cycle
 * (series i gets colour i mod 10), and x / y ranges taken from the data with
 * a small margin. NaN or Inf values (and values <= 0 with a log y axis) are
 * gaps: the line breaks there.
 *
 * Long series are decimated per pixel column before drawing: for each run of
 * consecutive points that fall into one pixel column only the first, minimum,
 * maximum and last points are kept (M4 aggregation), so the drawn envelope
 * equals that of the full line while a 500k-point series costs a few thousand
 * path segments. Markers are drawn once per 2x2-pixel cell.
 *
 * The file type follows the extension of `path` (".png" or ".svg", any case).
 * Files are written atomically: the image is rendered in memory and then
 * handed to sn_file_write_atomic (temp file "path.tmp.PID", fsync, rename), so
 * on any failure nothing at `path` changes. Dates are shown in UTC. */
#ifndef SEQNN_PLOT_H
#define SEQNN_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_plot_style {
    SN_PLOT_LINE = 0,        /* solid line */
    SN_PLOT_POINTS = 1,      /* markers only */
    SN_PLOT_DASHED = 2,      /* dashed line */
    SN_PLOT_LINE_POINTS = 3  /* solid line with markers */
} sn_plot_style;

typedef struct sn_plot_series {
    const char *label;       /* legend text (UTF-8), or NULL / "" for none */
    const double *x;         /* (n) x values, or NULL for 0..n-1 */
    const float *y;          /* (n) y values; NaN / Inf = gap in the line */
    size_t n;
    int style;               /* an sn_plot_style */
} sn_plot_series;

typedef struct sn_plot_opts {
    const char *title, *xlabel, *ylabel; /* each may be NULL */
    int width, height;       /* pixels (SVG: points); 0 = default 900 x 500; 200..8192 x 150..8192 */
    int x_is_time;           /* x are unix seconds: tick labels are UTC dates, "yyyy",
                              * "yyyy-mm", "yyyy-mm-dd", "dd.mm HH:MM" or "HH:MM:SS"
                              * depending on the span */
    int x_integer;           /* x ticks only at integers (epochs, steps) */
    int log_y;               /* logarithmic y axis; values <= 0 become gaps */
} sn_plot_opts;

/* Draws `n_series` series `s` (n_series) into `path` (.png or .svg).
 * `o` may be NULL for defaults. The caller keeps ownership of all arrays.
 * Errors: SN_ERR_ARG for NULL / no series / a series with y == NULL and
 * n > 0 / an unknown style / a bad size / an extension other than .png or
 * .svg (the message names the path) / no finite point to draw (all n == 0,
 * every value NaN or Inf); SN_ERR_IO when the file cannot be written (names
 * the path; nothing at `path` changes) or cairo reports an error
 * (cairo_status_to_string in the message); SN_ERR_NOMEM on allocation failure. */
SN_API sn_status sn_plot_lines(const char *path, const sn_plot_series *s, int n_series, const sn_plot_opts *o);

/* Training curves, the Keras-book figure "Training and validation <metric>":
 * x = epochs 1..epochs, train (epochs) as points labelled "Training <metric>",
 * val (epochs, or NULL) as a line labelled "Validation <metric>". NaN entries
 * are gaps. `title` NULL gives "Training and validation <metric>"; the y axis
 * is labelled with `metric_name` (NULL = "loss"). Errors as sn_plot_lines,
 * plus SN_ERR_ARG for train == NULL or epochs < 1. */
SN_API sn_status sn_plot_history(const char *path, const char *metric_name, const double *train, const double *val,
                          int epochs, const char *title);

/* Forecast against truth: actual (n) as a line "Actual", pred (n) as a line
 * "Predicted" (either may be NULL, not both; NaN entries are gaps, e.g.
 * where no prediction exists). t (n) are unix seconds shown as UTC dates, or
 * NULL to plot against the step index 0..n-1. `title`, `ylabel` may be NULL.
 * Errors as sn_plot_lines. */
SN_API sn_status sn_plot_forecast(const char *path, const double *t, const float *actual, const float *pred, size_t n,
                           const char *title, const char *ylabel);

/* Confusion matrix counts (K, K), [true][predicted], as a heat map shaded
 * by each row's share (recall), counts written in the cells when they fit,
 * class names (K, or NULL for 0..K-1) on both axes, into path (.png /
 * .svg, 700 x 700). Errors as sn_plot_lines; SN_ERR_ARG for K outside
 * 1..1000. */
SN_API sn_status sn_plot_confusion(const char *path, const int64_t *counts, int K, const char *const *names,
                                   const char *title);

/* ---- Tick helpers (used by sn_plot_lines; public for tests and for callers
 * that draw their own axes). Each writes at most `max` ticks with their
 * labels into `out` (max), in increasing order inside [lo, hi], aiming at
 * about `target` (>= 2) ticks, and returns how many it wrote (0 when lo, hi
 * are not finite or lo > hi). ---- */
typedef struct sn_plot_tick {
    double v;                /* position in data units */
    char label[32];          /* formatted text */
} sn_plot_tick;

/* Linear ticks at multiples of step = {1, 2, 5} x 10^k; with integer_only
 * the step is at least 1. Labels use just enough decimals for the step
 * (exponent form when |values| >= 1e6 or < 1e-4). */
SN_API int sn_plot_ticks(double lo, double hi, int target, int integer_only, sn_plot_tick *out, int max);
/* Logarithmic ticks for positive lo..hi: powers of ten (every k-th decade
 * when there are many), adding 2x and 5x when fewer than two decades show. */
SN_API int sn_plot_log_ticks(double lo, double hi, int target, sn_plot_tick *out, int max);
/* Calendar ticks (UTC) for unix seconds: steps of 1..30 s, 1..30 min,
 * 1..12 h, 1, 2, 7, 14 days, 1, 2, 3, 6 months or 1, 2, 5, 10, ... years,
 * aligned to whole units; labels "HH:MM:SS", "dd.mm HH:MM", "yyyy-mm-dd",
 * "yyyy-mm" or "yyyy" by step. */
SN_API int sn_plot_time_ticks(double lo, double hi, int target, sn_plot_tick *out, int max);

#ifdef __cplusplus
}
#endif
#endif
