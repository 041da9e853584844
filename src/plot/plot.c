/* Plots: line charts as PNG or SVG, drawn by cairo.
 *
 * Pipeline of sn_plot_lines:
 *   1. validate the arguments and the file extension (nothing touches disk);
 *   2. data ranges over the drawable points (x and y finite, y > 0 on a log
 *      axis), padded by a small margin;
 *   3. layout: margins from the measured tick-label widths, ticks from the
 *      pixel room (sn_plot_ticks / sn_plot_log_ticks / sn_plot_time_ticks,
 *      in plot_ticks.c);
 *   4. draw: grid, frame, series clipped to the plot area (lines decimated per
 *      pixel column, M4: first / min / max / last of each column run),
 *      legend in the emptiest corner, tick labels, axis labels, title;
 *   5. encode into a memory buffer (PNG stream, or SVG stream finished), then
 *      sn_file_write_atomic: temp file + fsync + rename, so a failure never
 *      leaves a partial or changed file at `path`.
 * Coordinates: "device" = pixels, origin top-left; data y grows upwards. */
#include <cairo.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "plot/plot_internal.h"
#include "seqnn/plot.h"

#define PLOT_PI 3.14159265358979323846
#define PLOT_DEFAULT_W 900
#define PLOT_DEFAULT_H 500
#define PLOT_MAX_TICKS 64
#define PLOT_TEXT_CAP 256 /* bytes kept of a title / label (UTF-8 safe cut) */

enum { FMT_NONE = 0, FMT_PNG = 1, FMT_SVG = 2 };

/* tab10 (matplotlib's default cycle), as 0..1 RGB. */
static const double plot_colors[10][3] = {
    {0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0}, {0xff / 255.0, 0x7f / 255.0, 0x0e / 255.0},
    {0x2c / 255.0, 0xa0 / 255.0, 0x2c / 255.0}, {0xd6 / 255.0, 0x27 / 255.0, 0x28 / 255.0},
    {0x94 / 255.0, 0x67 / 255.0, 0xbd / 255.0}, {0x8c / 255.0, 0x56 / 255.0, 0x4b / 255.0},
    {0xe3 / 255.0, 0x77 / 255.0, 0xc2 / 255.0}, {0x7f / 255.0, 0x7f / 255.0, 0x7f / 255.0},
    {0xbc / 255.0, 0xbd / 255.0, 0x22 / 255.0}, {0x17 / 255.0, 0xbe / 255.0, 0xcf / 255.0},
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int plot_format(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || strlen(dot) != 4) return FMT_NONE;
    char ext[5];
    for (int i = 0; i < 4; i++) {
        char c = dot[i];
        ext[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    ext[4] = 0;
    if (strcmp(ext, ".png") == 0) return FMT_PNG;
    if (strcmp(ext, ".svg") == 0) return FMT_SVG;
    return FMT_NONE;
}

/* Copies `in` into out (cap) as valid UTF-8 for cairo's text API: invalid
 * bytes become '?', control characters a space; cut on a character
 * boundary. NULL gives "". */
static void plot_text_clean(const char *in, char *out, size_t cap) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    while (*p) {
        unsigned c = p[0];
        size_t len = 0;
        if (c < 0x80) len = 1;
        else if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3;
        else if (c >= 0xF0 && c <= 0xF4) len = 4;
        int ok = len > 0;
        for (size_t k = 1; ok && k < len; k++)
            if ((p[k] & 0xC0) != 0x80) ok = 0;
        /* Overlong 3/4-byte forms, surrogates, > U+10FFFF. */
        if (ok && c == 0xE0 && p[1] < 0xA0) ok = 0;
        if (ok && c == 0xED && p[1] >= 0xA0) ok = 0;
        if (ok && c == 0xF0 && p[1] < 0x90) ok = 0;
        if (ok && c == 0xF4 && p[1] >= 0x90) ok = 0;
        if (!ok) len = 1;
        if (o + len + 1 > cap) break;
        if (!ok) out[o++] = '?';
        else if (len == 1 && (c < 0x20 || c == 0x7F)) out[o++] = ' ';
        else {
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
    }
    out[o] = 0;
}

/* Growable in-memory sink for cairo's stream writers. */
typedef struct plot_buf {
    unsigned char *p;
    size_t n, cap;
} plot_buf;

static cairo_status_t plot_buf_write(void *closure, const unsigned char *data, unsigned int len) {
    plot_buf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len) {
            if (cap > SIZE_MAX / 2) return CAIRO_STATUS_NO_MEMORY;
            cap *= 2;
        }
        unsigned char *q = realloc(b->p, cap);
        if (!q) return CAIRO_STATUS_NO_MEMORY;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Maps a cairo failure to a status with the path and cairo's own words. */
static sn_status plot_cairo_error(const char *path, cairo_status_t cs) {
    sn_status st = cs == CAIRO_STATUS_NO_MEMORY ? SN_ERR_NOMEM : SN_ERR_IO;
    return sn_error(st, "%s: cairo: %s", path, cairo_status_to_string(cs));
}

/* ------------------------------------------------------------------ */
/* Figure                                                              */
/* ------------------------------------------------------------------ */

typedef struct plot_ctx {
    cairo_t *cr;
    double W, H;          /* image size */
    double L, T, R, B;    /* plot area: left, top, right, bottom (device) */
    double x0, x1, y0, y1;/* data range; y in log10 units when log_y */
    int log_y;
} plot_ctx;

static inline double plot_map_x(const plot_ctx *c, double x) {
    return c->L + (x - c->x0) / (c->x1 - c->x0) * (c->R - c->L);
}
static inline double plot_map_y(const plot_ctx *c, double y) {
    return c->B - (y - c->y0) / (c->y1 - c->y0) * (c->B - c->T);
}

/* Point i of series s in data units (y transformed for a log axis); 0 when
 * it is a gap. */
static inline int plot_point(const sn_plot_series *s, size_t i, int log_y, double *x, double *y) {
    double xv = s->x ? s->x[i] : (double)i;
    double yv = (double)s->y[i];
    if (!isfinite(xv) || !isfinite(yv)) return 0;
    if (log_y) {
        if (yv <= 0) return 0;
        yv = log10(yv);
    }
    *x = xv;
    *y = yv;
    return 1;
}

/* Anchored text: ax 0 / 0.5 / 1 = left / centre / right of x; ay 0 / 0.5 /
 * 1 = top / middle / bottom of y, from the font's ascent and descent so a
 * row of labels shares one baseline. */
static void plot_text(cairo_t *cr, const char *s, double x, double y, double ax, double ay) {
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, s, &te);
    cairo_font_extents(cr, &fe);
    double h = fe.ascent + fe.descent;
    cairo_move_to(cr, x - te.x_advance * ax, y - h * ay + fe.ascent);
    cairo_show_text(cr, s);
}

static double plot_text_w(cairo_t *cr, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

static void plot_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* "Pen" over one series: starts a sub-path after a gap, turns a lone point
 * into a dot. */
typedef struct plot_pen {
    cairo_t *cr;
    int open;
    size_t sub_n;
    double lx, ly;
} plot_pen;

static void plot_pen_to(plot_pen *p, double x, double y) {
    if (!p->open) {
        cairo_move_to(p->cr, x, y);
        p->open = 1;
        p->sub_n = 1;
    } else {
        cairo_line_to(p->cr, x, y);
        p->sub_n++;
    }
    p->lx = x;
    p->ly = y;
}

static void plot_pen_break(plot_pen *p) {
    if (p->open && p->sub_n == 1) {
        /* A lone point between gaps: a small ring that the stroke fills. */
        cairo_new_sub_path(p->cr);
        cairo_arc(p->cr, p->lx, p->ly, 1.2, 0, 2 * PLOT_PI);
    }
    p->open = 0;
}

/* One pixel-column run of the M4 decimation. */
typedef struct plot_dpt { double x, y; size_t i; } plot_dpt;
typedef struct plot_bucket {
    int have;
    double col;
    plot_dpt first, mn, mx, last;
} plot_bucket;

/* Emits the run's first, min, max and last points in their original order
 * (each once): the polyline through them covers the same pixels as the full
 * run up to the column's width. */
static void plot_bucket_flush(plot_bucket *b, plot_pen *p) {
    if (!b->have) return;
    plot_dpt q[4] = {b->first, b->mn, b->mx, b->last};
    if (q[1].i > q[2].i) {
        plot_dpt t = q[1];
        q[1] = q[2];
        q[2] = t;
    }
    size_t prev = (size_t)-1;
    for (int k = 0; k < 4; k++) {
        if (k > 0 && q[k].i == prev) continue;
        plot_pen_to(p, q[k].x, q[k].y);
        prev = q[k].i;
    }
    b->have = 0;
}

/* Strokes series s as a (decimated) polyline broken at gaps. */
static void plot_draw_line(const plot_ctx *c, const sn_plot_series *s, int dashed) {
    cairo_t *cr = c->cr;
    plot_pen pen = {cr, 0, 0, 0, 0};
    plot_bucket b = {0};
    cairo_new_path(cr);
    for (size_t i = 0; i < s->n; i++) {
        double x, y;
        if (!plot_point(s, i, c->log_y, &x, &y)) {
            plot_bucket_flush(&b, &pen);
            plot_pen_break(&pen);
            continue;
        }
        plot_dpt d = {plot_map_x(c, x), plot_map_y(c, y), i};
        double col = floor(d.x);
        if (b.have && col == b.col) {
            b.last = d;
            if (d.y < b.mn.y) b.mn = d;
            if (d.y > b.mx.y) b.mx = d;
        } else {
            plot_bucket_flush(&b, &pen);
            b.have = 1;
            b.col = col;
            b.first = b.last = b.mn = b.mx = d;
        }
    }
    plot_bucket_flush(&b, &pen);
    plot_pen_break(&pen);
    cairo_set_line_width(cr, 1.6);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (dashed) {
        const double dash[2] = {6.0, 4.0};
        cairo_set_dash(cr, dash, 2, 0);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}

/* Fills one marker per occupied 2x2-pixel cell. */
static sn_status plot_draw_markers(const plot_ctx *c, const sn_plot_series *s, double r) {
    cairo_t *cr = c->cr;
    size_t gw = (size_t)(c->W / 2) + 2, gh = (size_t)(c->H / 2) + 2;
    unsigned char *seen = sn_calloc((gw * gh + 7) / 8, 1);
    if (!seen) return SN_ERR_NOMEM;
    cairo_new_path(cr);
    for (size_t i = 0; i < s->n; i++) {
        double x, y;
        if (!plot_point(s, i, c->log_y, &x, &y)) continue;
        double px = plot_map_x(c, x), py = plot_map_y(c, y);
        double cx = floor(px / 2), cy = floor(py / 2);
        if (cx < 0 || cy < 0 || cx >= (double)gw || cy >= (double)gh) continue;
        size_t cell = (size_t)cy * gw + (size_t)cx;
        if (seen[cell >> 3] & (1u << (cell & 7))) continue;
        seen[cell >> 3] |= (unsigned char)(1u << (cell & 7));
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r, 0, 2 * PLOT_PI);
    }
    cairo_fill(cr);
    free(seen);
    return SN_OK;
}

/* Legend sample of one style at (x, y), `len` pixels wide. */
static void plot_draw_sample(cairo_t *cr, int style, double x, double y, double len) {
    if (style != SN_PLOT_POINTS) {
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + len, y);
        cairo_set_line_width(cr, 1.6);
        if (style == SN_PLOT_DASHED) {
            const double dash[2] = {6.0, 4.0};
            cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (style == SN_PLOT_POINTS || style == SN_PLOT_LINE_POINTS) {
        cairo_new_path(cr);
        cairo_arc(cr, x + len / 2, y, style == SN_PLOT_POINTS ? 3.0 : 2.6, 0, 2 * PLOT_PI);
        cairo_fill(cr);
    }
}

/* Number of drawable points of all series inside device box (x, y, w, h):
 * the legend goes where it hides the least data. */
static size_t plot_points_in_box(const plot_ctx *c, const sn_plot_series *s, int ns, double bx, double by,
                                 double bw, double bh) {
    size_t cnt = 0;
    for (int k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double x, y;
            if (!plot_point(&s[k], i, c->log_y, &x, &y)) continue;
            double px = plot_map_x(c, x), py = plot_map_y(c, y);
            cnt += px >= bx && px <= bx + bw && py >= by && py <= by + bh;
        }
    return cnt;
}

static void plot_draw_legend(const plot_ctx *c, const sn_plot_series *s, int ns) {
    cairo_t *cr = c->cr;
    char text[PLOT_TEXT_CAP];
    plot_font(cr, 12, 0);
    double tw = 0;
    int nl = 0;
    for (int k = 0; k < ns; k++) {
        if (!s[k].label || !s[k].label[0]) continue;
        plot_text_clean(s[k].label, text, sizeof text);
        tw = SN_MAX(tw, plot_text_w(cr, text));
        nl++;
    }
    if (!nl) return;
    const double pad = 8, row = 18, sample = 26;
    double bw = pad + sample + 6 + tw + pad, bh = pad + nl * row + pad - 4;
    double inset = 8;
    /* Candidates: upper right, upper left, lower left, lower right. */
    double cand[4][2] = {{c->R - inset - bw, c->T + inset},
                         {c->L + inset, c->T + inset},
                         {c->L + inset, c->B - inset - bh},
                         {c->R - inset - bw, c->B - inset - bh}};
    int best = 0;
    size_t best_n = (size_t)-1;
    for (int q = 0; q < 4; q++) {
        size_t n = plot_points_in_box(c, s, ns, cand[q][0], cand[q][1], bw, bh);
        if (n < best_n) {
            best_n = n;
            best = q;
        }
        if (n == 0) break;
    }
    double bx = cand[best][0], by = cand[best][1];
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw, bh);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    int r = 0;
    for (int k = 0; k < ns; k++) {
        if (!s[k].label || !s[k].label[0]) continue;
        double yc = by + pad + r * row + 5;
        const double *col = plot_colors[k % 10];
        cairo_set_source_rgb(cr, col[0], col[1], col[2]);
        plot_draw_sample(cr, s[k].style, bx + pad, yc, sample);
        plot_text_clean(s[k].label, text, sizeof text);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, text, bx + pad + sample + 6, yc, 0, 0.5);
        r++;
    }
}

/* Ticks for the x axis, thinned until the labels fit side by side. */
static int plot_x_ticks(const plot_ctx *c, const sn_plot_opts *o, sn_plot_tick *t) {
    double pw = c->R - c->L;
    int target = (int)(pw / (o->x_is_time ? 100.0 : 90.0));
    if (target < 2) target = 2;
    int n = 0;
    for (int iter = 0; iter < 6; iter++) {
        n = o->x_is_time ? sn_plot_time_ticks(c->x0, c->x1, target, t, PLOT_MAX_TICKS)
                         : sn_plot_ticks(c->x0, c->x1, target, o->x_integer, t, PLOT_MAX_TICKS);
        double mw = 0;
        for (int i = 0; i < n; i++) mw = SN_MAX(mw, plot_text_w(c->cr, t[i].label));
        if (n <= 2 || (mw + 14) * n <= pw) break;
        int nt = (int)(pw / (mw + 14));
        target = nt < target ? nt : target - 1;
        if (target < 2) target = 2;
    }
    return n;
}

static int plot_y_ticks(const plot_ctx *c, sn_plot_tick *t) {
    int target = (int)((c->B - c->T) / 45.0);
    if (target < 2) target = 2;
    if (c->log_y) return sn_plot_log_ticks(pow(10.0, c->y0), pow(10.0, c->y1), target, t, PLOT_MAX_TICKS);
    return sn_plot_ticks(c->y0, c->y1, target, 0, t, PLOT_MAX_TICKS);
}

/* Widens a degenerate range and adds `frac` of the span on each side. */
static void plot_pad_range(double *lo, double *hi, double frac, double min_half) {
    if (*hi - *lo <= 0) {
        double h = fabs(*lo) * 0.05;
        if (!(h > 0)) h = min_half;
        *lo -= h;
        *hi += h;
    }
    double d = (*hi - *lo) * frac;
    *lo -= d;
    *hi += d;
}

/* Lays out and draws the whole figure on cr. */
static sn_status plot_draw(cairo_t *cr, double W, double H, const sn_plot_series *s, int ns,
                           const sn_plot_opts *o, double xlo, double xhi, double ylo, double yhi) {
    plot_ctx c = {cr, W, H, 0, 0, 0, 0, xlo, xhi, ylo, yhi, o->log_y};
    char title[PLOT_TEXT_CAP], xlabel[PLOT_TEXT_CAP], ylabel[PLOT_TEXT_CAP];
    plot_text_clean(o->title, title, sizeof title);
    plot_text_clean(o->xlabel, xlabel, sizeof xlabel);
    plot_text_clean(o->ylabel, ylabel, sizeof ylabel);
    const double tick_len = 5, tick_fs = 11, label_fs = 13, title_fs = 15;

    /* Vertical layout first: it fixes the y ticks, whose widths fix L. */
    c.T = title[0] ? 14 + title_fs + 14 : 14;
    c.B = H - (8 + tick_len + 4 + tick_fs * 1.3 + (xlabel[0] ? label_fs * 1.3 + 8 : 0));
    if (c.B - c.T < 40) return sn_error(SN_ERR_ARG, "plot: image height %g leaves no room for the plot area", H);
    sn_plot_tick yt[PLOT_MAX_TICKS], xt[PLOT_MAX_TICKS];
    plot_font(cr, tick_fs, 0);
    int nyt = plot_y_ticks(&c, yt);
    double yw = 0;
    for (int i = 0; i < nyt; i++) yw = SN_MAX(yw, plot_text_w(cr, yt[i].label));
    c.L = 10 + (ylabel[0] ? label_fs * 1.3 + 8 : 0) + yw + 4 + tick_len;
    c.R = W - 24;
    if (c.R - c.L < 60)
        return sn_error(SN_ERR_ARG, "plot: image width %g leaves no room for the plot area next to the labels", W);
    int nxt = plot_x_ticks(&c, o, xt);

    /* Background, grid, frame. */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    for (int i = 0; i < nyt; i++) {
        double py = floor(plot_map_y(&c, o->log_y ? log10(yt[i].v) : yt[i].v)) + 0.5;
        cairo_move_to(cr, c.L, py);
        cairo_line_to(cr, c.R, py);
    }
    for (int i = 0; i < nxt; i++) {
        double px = floor(plot_map_x(&c, xt[i].v)) + 0.5;
        cairo_move_to(cr, px, c.T);
        cairo_line_to(cr, px, c.B);
    }
    cairo_stroke(cr);

    /* Series, clipped to the plot area. */
    cairo_save(cr);
    cairo_rectangle(cr, c.L, c.T, c.R - c.L, c.B - c.T);
    cairo_clip(cr);
    for (int k = 0; k < ns; k++) {
        if (!s[k].n) continue;
        const double *col = plot_colors[k % 10];
        cairo_set_source_rgb(cr, col[0], col[1], col[2]);
        if (s[k].style != SN_PLOT_POINTS) plot_draw_line(&c, &s[k], s[k].style == SN_PLOT_DASHED);
        if (s[k].style == SN_PLOT_POINTS || s[k].style == SN_PLOT_LINE_POINTS) {
            sn_status st = plot_draw_markers(&c, &s[k], s[k].style == SN_PLOT_POINTS ? 3.0 : 2.6);
            if (st != SN_OK) {
                cairo_restore(cr);
                return st;
            }
        }
    }
    plot_draw_legend(&c, s, ns);
    cairo_restore(cr);

    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, floor(c.L) + 0.5, floor(c.T) + 0.5, floor(c.R) - floor(c.L), floor(c.B) - floor(c.T));
    cairo_stroke(cr);

    /* Tick marks and labels. */
    plot_font(cr, tick_fs, 0);
    for (int i = 0; i < nyt; i++) {
        double py = floor(plot_map_y(&c, o->log_y ? log10(yt[i].v) : yt[i].v)) + 0.5;
        cairo_move_to(cr, c.L, py);
        cairo_line_to(cr, c.L - tick_len, py);
        cairo_stroke(cr);
        plot_text(cr, yt[i].label, c.L - tick_len - 4, py, 1, 0.5);
    }
    for (int i = 0; i < nxt; i++) {
        double px = floor(plot_map_x(&c, xt[i].v)) + 0.5;
        cairo_move_to(cr, px, c.B);
        cairo_line_to(cr, px, c.B + tick_len);
        cairo_stroke(cr);
        plot_text(cr, xt[i].label, px, c.B + tick_len + 4, 0.5, 0);
    }

    /* Axis labels and title. */
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_font(cr, label_fs, 0);
    if (xlabel[0]) plot_text(cr, xlabel, 0.5 * (c.L + c.R), H - 8, 0.5, 1);
    if (ylabel[0]) {
        cairo_save(cr);
        cairo_translate(cr, 10, 0.5 * (c.T + c.B));
        cairo_rotate(cr, -PLOT_PI / 2);
        plot_text(cr, ylabel, 0, 0, 0.5, 0);
        cairo_restore(cr);
    }
    if (title[0]) {
        plot_font(cr, title_fs, 1);
        plot_text(cr, title, 0.5 * (c.L + c.R), 12, 0.5, 0);
    }
    return SN_OK;
}

/* sn_plot_lines' figure for plot_render. */
typedef struct plot_fig {
    const sn_plot_series *s;
    int ns;
    const sn_plot_opts *o;
    double xlo, xhi, ylo, yhi;
} plot_fig;

static sn_status plot_fig_draw(cairo_t *cr, int W, int H, void *ctx) {
    const plot_fig *f = ctx;
    return plot_draw(cr, W, H, f->s, f->ns, f->o, f->xlo, f->xhi, f->ylo, f->yhi);
}

sn_status sn_plot_lines(const char *path, const sn_plot_series *s, int n_series, const sn_plot_opts *o) {
    if (!path || !path[0]) return sn_error(SN_ERR_ARG, "sn_plot_lines: no output path");
    int fmt = plot_format(path);
    if (fmt == FMT_NONE)
        return sn_error(SN_ERR_ARG, "%s: unsupported plot file extension (use .png or .svg)", path);
    if (!s || n_series < 1) return sn_error(SN_ERR_ARG, "%s: nothing to plot: no series given", path);
    sn_plot_opts def = {0};
    if (!o) o = &def;
    int W = o->width ? o->width : PLOT_DEFAULT_W, H = o->height ? o->height : PLOT_DEFAULT_H;
    if (W < 200 || W > 8192 || H < 150 || H > 8192)
        return sn_error(SN_ERR_ARG, "%s: plot size %dx%d outside 200..8192 x 150..8192", path, W, H);

    /* Data range over drawable points; reject what cannot be drawn. */
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    size_t total = 0, drawable = 0;
    for (int k = 0; k < n_series; k++) {
        if (s[k].n && !s[k].y) return sn_error(SN_ERR_ARG, "%s: series %d has n = %zu but y = NULL", path, k, s[k].n);
        if (s[k].style < SN_PLOT_LINE || s[k].style > SN_PLOT_LINE_POINTS)
            return sn_error(SN_ERR_ARG, "%s: series %d: unknown style %d (0 line, 1 points, 2 dashed, 3 line+points)",
                            path, k, s[k].style);
        total += s[k].n;
        for (size_t i = 0; i < s[k].n; i++) {
            double x, y;
            if (!plot_point(&s[k], i, o->log_y, &x, &y)) continue;
            drawable++;
            xlo = x < xlo ? x : xlo;
            xhi = x > xhi ? x : xhi;
            ylo = y < ylo ? y : ylo;
            yhi = y > yhi ? y : yhi;
        }
    }
    if (total == 0) return sn_error(SN_ERR_ARG, "%s: nothing to plot: all %d series are empty", path, n_series);
    if (drawable == 0)
        return sn_error(SN_ERR_ARG, "%s: nothing to plot: all %zu values are NaN or Inf%s", path, total,
                        o->log_y ? " or <= 0 (log y axis)" : "");
    if (!isfinite(xhi - xlo) || !isfinite(yhi - ylo))
        return sn_error(SN_ERR_ARG, "%s: data range too large to plot (x %g..%g, y %g..%g)", path, xlo, xhi, ylo, yhi);
    plot_pad_range(&xlo, &xhi, 0.02, o->x_is_time ? 60.0 : 0.5);
    plot_pad_range(&ylo, &yhi, 0.05, o->log_y ? 0.5 : 0.5);

    plot_fig fig = {s, n_series, o, xlo, xhi, ylo, yhi};
    return plot_render(path, fmt == FMT_SVG, W, H, plot_fig_draw, &fig);
}

sn_status plot_render(const char *path, int svg, int W, int H, plot_draw_fn draw, void *ctx) {
    plot_buf buf = {0};
    cairo_surface_t *surf = svg ? cairo_svg_surface_create_for_stream(plot_buf_write, &buf, W, H)
                                : cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_status_t cs = cairo_surface_status(surf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return plot_cairo_error(path, cs);
    }
    if (svg) cairo_svg_surface_set_document_unit(surf, CAIRO_SVG_UNIT_PX);
    cairo_t *cr = cairo_create(surf);
    sn_status st = draw(cr, W, H, ctx);
    if (st == SN_OK && (cs = cairo_status(cr)) != CAIRO_STATUS_SUCCESS) st = plot_cairo_error(path, cs);
    cairo_destroy(cr);
    if (st == SN_OK) {
        if (!svg) cs = cairo_surface_write_to_png_stream(surf, plot_buf_write, &buf);
        else {
            cairo_surface_finish(surf); /* the SVG document is complete only now */
            cs = cairo_surface_status(surf);
        }
        if (cs != CAIRO_STATUS_SUCCESS) st = plot_cairo_error(path, cs);
    }
    cairo_surface_destroy(surf);
    if (st == SN_OK) st = sn_file_write_atomic(path, buf.p, buf.n);
    free(buf.p);
    return st;
}

/* ------------------------------------------------------------------ */
/* Convenience figures                                                 */
/* ------------------------------------------------------------------ */

sn_status sn_plot_history(const char *path, const char *metric_name, const double *train, const double *val,
                          int epochs, const char *title) {
    if (!train) return sn_error(SN_ERR_ARG, "%s: sn_plot_history: no training values", path ? path : "(null)");
    if (epochs < 1) return sn_error(SN_ERR_ARG, "%s: sn_plot_history: epochs must be >= 1, got %d", path ? path : "(null)", epochs);
    const char *m = metric_name && metric_name[0] ? metric_name : "loss";
    double *x = sn_malloc((size_t)epochs, sizeof *x);
    float *yt = sn_malloc((size_t)epochs, sizeof *yt);
    float *yv = val ? sn_malloc((size_t)epochs, sizeof *yv) : NULL;
    if (!x || !yt || (val && !yv)) {
        free(x);
        free(yt);
        free(yv);
        return SN_ERR_NOMEM;
    }
    for (int e = 0; e < epochs; e++) {
        x[e] = e + 1;
        yt[e] = (float)train[e];
        if (yv) yv[e] = (float)val[e];
    }
    char lt[160], lv[160], tt[200];
    snprintf(lt, sizeof lt, "Training %s", m);
    snprintf(lv, sizeof lv, "Validation %s", m);
    snprintf(tt, sizeof tt, val ? "Training and validation %s" : "Training %s", m);
    sn_plot_series s[2] = {{lt, x, yt, (size_t)epochs, SN_PLOT_POINTS}, {lv, x, yv, (size_t)epochs, SN_PLOT_LINE}};
    sn_plot_opts o = {0};
    o.title = title ? title : tt;
    o.xlabel = "Epochs";
    o.ylabel = m;
    o.x_integer = 1;
    sn_status st = sn_plot_lines(path, s, val ? 2 : 1, &o);
    free(x);
    free(yt);
    free(yv);
    return st;
}

sn_status sn_plot_forecast(const char *path, const double *t, const float *actual, const float *pred, size_t n,
                           const char *title, const char *ylabel) {
    if (!actual && !pred)
        return sn_error(SN_ERR_ARG, "%s: sn_plot_forecast: neither actual nor predicted values given",
                        path ? path : "(null)");
    sn_plot_series s[2];
    int ns = 0;
    if (actual) s[ns++] = (sn_plot_series){"Actual", t, actual, n, SN_PLOT_LINE};
    if (pred) s[ns++] = (sn_plot_series){"Predicted", t, pred, n, SN_PLOT_LINE};
    sn_plot_opts o = {0};
    o.title = title;
    o.ylabel = ylabel;
    o.xlabel = t ? "Time (UTC)" : "Step";
    o.x_is_time = t != NULL;
    return sn_plot_lines(path, s, ns, &o);
}
