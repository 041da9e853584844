/* Confusion-matrix heat map (plot.h, sn_plot_confusion): one cell per
 * (true, predicted) pair, shaded by the row's share (the recall view:
 * white 0 to dark blue 1), annotated with the count when the cells are big
 * enough; classes on both axes. Rendered in memory (PNG or SVG by the
 * extension) and written atomically, as every figure of the library. */
#include <cairo.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "plot/plot_internal.h"
#include "seqnn/plot.h"

#define PLOT_HALF_PI 1.5707963267948966

/* Class name cut to at most 18 bytes on a UTF-8 boundary, control bytes as spaces. */
static void short_name(const char *s, char *out) {
    size_t k = 0;
    for (; s && s[k] && k < 18; k++) out[k] = (unsigned char)s[k] < 0x20 ? ' ' : s[k];
    while (k > 0 && s[k] && ((unsigned char)s[k] & 0xC0) == 0x80) k--; /* cut inside a character: drop it whole */
    out[k] = 0;
}

static void draw(cairo_t *cr, int W, int H, const int64_t *cm, int K, const char *const *names, const char *title) {
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    /* room under the matrix for the turned column names and the axis title */
    char nm[24], num[32];
    double maxw = 0;
    cairo_set_font_size(cr, 12);
    for (int k = 0; k < K; k++) {
        cairo_text_extents_t e;
        short_name(names ? names[k] : NULL, nm);
        cairo_text_extents(cr, nm, &e);
        maxw = fmax(maxw, e.x_advance);
    }
    double L = 150, T = 60, side = fmin(W - L - 30, H - T - maxw - 50), cell = side / K;
    cairo_set_font_size(cr, 15);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, 20, 30);
    cairo_show_text(cr, title ? title : "Confusion matrix");
    double fs = fmin(12, fmax(6, cell * 0.35));
    cairo_set_font_size(cr, fs);
    for (int t = 0; t < K; t++) {
        int64_t row = 0;
        for (int p = 0; p < K; p++) row += cm[(size_t)t * K + p];
        for (int p = 0; p < K; p++) {
            int64_t v = cm[(size_t)t * K + p];
            double share = row ? (double)v / (double)row : 0;
            cairo_set_source_rgb(cr, 1 - 0.85 * share, 1 - 0.65 * share, 1 - 0.25 * share);
            cairo_rectangle(cr, L + p * cell, T + t * cell, cell, cell);
            cairo_fill(cr);
            if (cell >= 18) {
                snprintf(num, sizeof num, "%lld", (long long)v);
                cairo_text_extents_t e;
                cairo_text_extents(cr, num, &e);
                double g = share > 0.5 ? 1 : 0;
                cairo_set_source_rgb(cr, g, g, g);
                cairo_move_to(cr, L + (p + 0.5) * cell - e.width / 2, T + (t + 0.5) * cell + e.height / 2);
                cairo_show_text(cr, num);
            }
        }
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, L, T, side, side);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int k = 0; k < K && fs >= 6; k++) {
        short_name(names ? names[k] : NULL, nm);
        if (!names) snprintf(nm, sizeof nm, "%d", k);
        cairo_text_extents_t e;
        cairo_text_extents(cr, nm, &e);
        cairo_move_to(cr, L - 8 - e.width, T + (k + 0.5) * cell + e.height / 2); /* rows: true class */
        cairo_show_text(cr, nm);
        cairo_save(cr);
        cairo_move_to(cr, L + (k + 0.5) * cell + e.height / 2, T + side + 8); /* columns: predicted, turned */
        cairo_rotate(cr, PLOT_HALF_PI);
        cairo_show_text(cr, nm);
        cairo_restore(cr);
    }
    cairo_set_font_size(cr, 13);
    cairo_move_to(cr, L + side / 2 - 30, fmin(H - 12, T + side + maxw * fs / 12 + 30));
    cairo_show_text(cr, "predicted");
    cairo_save(cr);
    cairo_move_to(cr, 18, T + side / 2 + 15);
    cairo_rotate(cr, -PLOT_HALF_PI);
    cairo_show_text(cr, "true");
    cairo_restore(cr);
}

/* sn_plot_confusion's figure for plot_render. */
typedef struct cm_fig {
    const int64_t *counts;
    int K;
    const char *const *names;
    const char *title;
} cm_fig;

static sn_status cm_draw(cairo_t *cr, int W, int H, void *ctx) {
    const cm_fig *f = ctx;
    draw(cr, W, H, f->counts, f->K, f->names, f->title);
    return SN_OK;
}

sn_status sn_plot_confusion(const char *path, const int64_t *counts, int K, const char *const *names, const char *title) {
    if (!path || !counts || K < 1 || K > 1000) return sn_error(SN_ERR_ARG, "sn_plot_confusion: bad arguments");
    size_t n = strlen(path);
    int svg = n > 4 && !strcasecmp(path + n - 4, ".svg"), png = n > 4 && !strcasecmp(path + n - 4, ".png");
    if (!svg && !png) return sn_error(SN_ERR_ARG, "%s: unsupported plot file extension (use .png or .svg)", path);
    cm_fig fig = {counts, K, names, title};
    return plot_render(path, svg, 700, 700, cm_draw, &fig);
}
