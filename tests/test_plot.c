/* Plots: PNG read back through cairo and checked pixel by pixel (the series
 * colour inside the plot, the line's direction, gaps at NaN, the envelope of a
 * decimated 420k-point series), SVG structure, tick helpers, and the error
 * paths (nothing written, existing files untouched). */
#include <cairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "seqnn.h"
#include "seqnn/plot.h"
#include "test.h"

/* fontconfig (behind cairo's toy text API) keeps a few hundred bytes of its
 * one-time configuration unreachable at exit; LeakSanitizer in `make asan`
 * would fail the whole run on it. Only that library's allocations are
 * suppressed; leaks in seqnn still fail. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

/* tab10 colours of series 0, 1, 2. */
static const int BLUE[3] = {0x1f, 0x77, 0xb4}, ORANGE[3] = {0xff, 0x7f, 0x0e}, GREEN[3] = {0x2c, 0xa0, 0x2c};

static const char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", sn_test_tmpdir(), name);
    return buf[k];
}

static int file_exists(const char *p) {
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Reads a whole file into a NUL-terminated malloc'd buffer (or NULL). */
static char *slurp(const char *p, size_t *n) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    b[got] = 0;
    if (n) *n = got;
    return b;
}

/* Pixels of colour rgb (each channel within tol) in the image: count, their
 * bounding box, mean row in the left / right quarter of their x extent, and
 * per-column presence (cols, width entries, may be NULL). */
typedef struct px_stats {
    long count;
    int minx, maxx, miny, maxy;
    double mean_row_left, mean_row_right;
} px_stats;

static px_stats color_stats(cairo_surface_t *img, const int rgb[3], int tol, unsigned char *cols) {
    px_stats st = {0, 1 << 30, -1, 1 << 30, -1, 0, 0};
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    if (cols) memset(cols, 0, (size_t)w);
    for (int pass = 0; pass < 2; pass++) {
        double sl = 0, sr = 0;
        long nl = 0, nr = 0;
        int q = (st.maxx - st.minx) / 4;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint32_t p = *(const uint32_t *)(d + (size_t)y * stride + (size_t)x * 4);
                int r = (int)(p >> 16 & 255), g = (int)(p >> 8 & 255), b = (int)(p & 255);
                if (abs(r - rgb[0]) > tol || abs(g - rgb[1]) > tol || abs(b - rgb[2]) > tol) continue;
                if (pass == 0) {
                    st.count++;
                    if (x < st.minx) st.minx = x;
                    if (x > st.maxx) st.maxx = x;
                    if (y < st.miny) st.miny = y;
                    if (y > st.maxy) st.maxy = y;
                    if (cols) cols[x] = 1;
                } else if (x <= st.minx + q) {
                    sl += y;
                    nl++;
                } else if (x >= st.maxx - q) {
                    sr += y;
                    nr++;
                }
            }
        if (pass == 1) {
            st.mean_row_left = nl ? sl / nl : -1;
            st.mean_row_right = nr ? sr / nr : -1;
        }
        if (st.count == 0) break;
    }
    return st;
}

/* Pixels that are not pure white. */
static long nonwhite(cairo_surface_t *img) {
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) n += (*(const uint32_t *)(d + (size_t)y * stride + (size_t)x * 4) & 0xFFFFFF) != 0xFFFFFF;
    return n;
}

static cairo_surface_t *load_png(const char *path) {
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "    cannot read %s: %s\n", path, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return NULL;
    }
    cairo_surface_flush(s);
    return s;
}

/* Longest run of columns without the colour between its first and last column. */
static int longest_gap(const unsigned char *cols, int minx, int maxx) {
    int best = 0, run = 0;
    for (int x = minx; x <= maxx; x++) {
        run = cols[x] ? 0 : run + 1;
        if (run > best) best = run;
    }
    return best;
}

TEST(plot_png_draws_series_in_their_colours_and_direction) {
    enum { N = 200 };
    float up[N], down[N];
    for (int i = 0; i < N; i++) {
        up[i] = (float)i;
        down[i] = (float)(N - 1 - i) * 0.5f + 20;
    }
    sn_plot_series s[2] = {{NULL, NULL, up, N, SN_PLOT_LINE}, {NULL, NULL, down, N, SN_PLOT_LINE}};
    sn_plot_opts o = {.title = "up and down", .xlabel = "step", .ylabel = "value", .width = 640, .height = 400};
    const char *p = tmp_path("dir.png");
    CHECK_OK(sn_plot_lines(p, s, 2, &o));
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    CHECK(cairo_image_surface_get_width(img) == 640 && cairo_image_surface_get_height(img) == 400);
    px_stats b = color_stats(img, BLUE, 12, NULL), r = color_stats(img, ORANGE, 12, NULL),
             g = color_stats(img, GREEN, 12, NULL);
    cairo_surface_destroy(img);
    /* Both lines drawn across most of the width; no third colour. */
    CHECK_MSG(b.count > 300 && r.count > 300, "blue %ld orange %ld", b.count, r.count);
    CHECK_MSG(g.count == 0, "green pixels %ld in a two-series plot", g.count);
    CHECK(b.maxx - b.minx > 640 * 0.6);
    CHECK(r.maxx - r.minx > 640 * 0.6);
    /* Increasing series: rows shrink to the right (y grows upwards); decreasing: the opposite. */
    CHECK_MSG(b.mean_row_left > b.mean_row_right + 100, "blue rows %g -> %g", b.mean_row_left, b.mean_row_right);
    CHECK_MSG(r.mean_row_left + 50 < r.mean_row_right, "orange rows %g -> %g", r.mean_row_left, r.mean_row_right);
    /* Inside the image, away from the borders (margins hold the labels). */
    CHECK(b.minx > 20 && b.maxx < 640 - 10 && b.miny > 20 && b.maxy < 400 - 20);
}

TEST(plot_png_blank_image_fails_the_checks) {
    /* The pixel checks above are real: an all-white image of the same size has none of the colour. */
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 640, 400);
    cairo_t *cr = cairo_create(img);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_flush(img);
    px_stats b = color_stats(img, BLUE, 12, NULL);
    long nw = nonwhite(img);
    cairo_surface_destroy(img);
    CHECK(b.count == 0 && nw == 0);
}

TEST(plot_line_breaks_at_nan) {
    enum { N = 1000 };
    static float y[N];
    for (int i = 0; i < N; i++) y[i] = (float)(0.5 + 0.2 * sin(i * 0.05));
    sn_plot_series s = {NULL, NULL, y, N, SN_PLOT_LINE};
    const char *p = tmp_path("gap.png");
    unsigned char cols[900];
    /* Control: no NaN, no gap wider than a few columns. */
    CHECK_OK(sn_plot_lines(p, &s, 1, NULL));
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    CHECK(cairo_image_surface_get_width(img) == 900 && cairo_image_surface_get_height(img) == 500);
    px_stats st = color_stats(img, BLUE, 12, cols);
    cairo_surface_destroy(img);
    CHECK(st.count > 500);
    CHECK_MSG(longest_gap(cols, st.minx, st.maxx) < 4, "gap %d", longest_gap(cols, st.minx, st.maxx));
    /* 20% of the points NaN: about 20% of the plot width stays empty. */
    for (int i = 400; i < 600; i++) y[i] = NAN;
    y[700] = INFINITY;
    CHECK_OK(sn_plot_lines(p, &s, 1, NULL));
    img = load_png(p);
    CHECK(img);
    st = color_stats(img, BLUE, 12, cols);
    cairo_surface_destroy(img);
    int gap = longest_gap(cols, st.minx, st.maxx);
    double expect = 0.2 * (st.maxx - st.minx);
    CHECK_MSG(gap > expect * 0.85 && gap < expect * 1.15, "gap %d columns, expected about %g", gap, expect);
}

TEST(plot_420k_points_is_fast_and_keeps_the_envelope) {
    enum { N = 420000 };
    float *y = malloc(sizeof(float) * N);
    CHECK(y);
    sn_rng r;
    sn_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) y[i] = (float)(0.1 * sin(i * 1e-4) + 0.01 * sn_rng_normal(&r));
    y[210000] = 1.0f;  /* one-sample spikes: decimation must keep them */
    y[100000] = -1.0f;
    sn_plot_series s = {"noisy", NULL, y, N, SN_PLOT_LINE};
    sn_plot_opts o = {.title = "420k points"};
    const char *p = tmp_path("big.png"), *q = tmp_path("big.svg");
    double t0 = sn_time_now();
    sn_status st = sn_plot_lines(p, &s, 1, &o);
    double t_png = sn_time_now() - t0;
    t0 = sn_time_now();
    sn_status st2 = sn_plot_lines(q, &s, 1, &o);
    double t_svg = sn_time_now() - t0;
    free(y);
    CHECK_OK(st);
    CHECK_OK(st2);
    fprintf(stderr, "    420k points: png %.1f ms, svg %.1f ms\n", t_png * 1e3, t_svg * 1e3);
    CHECK_MSG(t_png < 2.0 && t_svg < 2.0, "too slow: png %g s svg %g s", t_png, t_svg);
    size_t svg_n = 0;
    char *svg = slurp(q, &svg_n);
    CHECK(svg);
    free(svg);
    CHECK_MSG(svg_n < 2000000, "svg %zu bytes: not decimated", svg_n);
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    unsigned char cols[900];
    px_stats b = color_stats(img, BLUE, 12, cols);
    /* Spike up reaches the top of the plot, spike down the bottom, near x = 1/2 and 100/420. */
    int w = b.maxx - b.minx;
    int top_col = -1, bot_col = -1;
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    for (int x = 0; x < 900; x++) {
        uint32_t pt = *(const uint32_t *)(d + (size_t)b.miny * stride + (size_t)x * 4);
        uint32_t pb = *(const uint32_t *)(d + (size_t)b.maxy * stride + (size_t)x * 4);
        if (abs((int)(pt >> 16 & 255) - BLUE[0]) <= 12 && abs((int)(pt & 255) - BLUE[2]) <= 12) top_col = x;
        if (abs((int)(pb >> 16 & 255) - BLUE[0]) <= 12 && abs((int)(pb & 255) - BLUE[2]) <= 12) bot_col = x;
    }
    cairo_surface_destroy(img);
    CHECK_MSG(b.miny < 500 * 0.2, "top of the line at row %d", b.miny);
    CHECK_MSG(b.maxy > 500 * 0.8, "bottom of the line at row %d", b.maxy);
    CHECK_MSG(abs(top_col - (b.minx + w / 2)) < 6, "spike at column %d, expected %d", top_col, b.minx + w / 2);
    CHECK_MSG(abs(bot_col - (b.minx + (int)(w * 100000.0 / (N - 1)))) < 6, "dip at column %d", bot_col);
    CHECK(longest_gap(cols, b.minx, b.maxx) < 3);
}

TEST(plot_svg_is_complete_document) {
    float y[50];
    for (int i = 0; i < 50; i++) y[i] = (float)(i % 7);
    double x[50];
    for (int i = 0; i < 50; i++) x[i] = 0.1 * i;
    sn_plot_series s[3] = {{"a", x, y, 50, SN_PLOT_LINE},
                           {"b", x, y, 50, SN_PLOT_POINTS},
                           {"c \xff\xfe bad utf8", x, y, 50, SN_PLOT_DASHED}};
    sn_plot_opts o = {.title = "svg \xe2\x82\xac", .xlabel = "x", .ylabel = "y", .log_y = 0};
    const char *p = tmp_path("a.SVG");
    CHECK_OK(sn_plot_lines(p, s, 3, &o));
    size_t n = 0;
    char *t = slurp(p, &n);
    CHECK(t);
    /* Glyphs are paths too, so look for the series' own strokes: tab10 blue and the dash pattern. */
    int blue = strstr(t, "rgb(12.156863%,46.666667%,70.588235%)") || strstr(t, "#1f77b4") || strstr(t, "rgb(31,119,180)");
    int ok = (strncmp(t, "<?xml", 5) == 0 || strncmp(t, "<svg", 4) == 0) && strstr(t, "<path") && strstr(t, "</svg>") &&
             strstr(t, "width=\"900") && strstr(t, "stroke-dasharray") && blue;
    free(t);
    CHECK(ok);
}

TEST(plot_legend_is_drawn_only_with_labels) {
    float y[100];
    for (int i = 0; i < 100; i++) y[i] = (float)(i * i);
    sn_plot_series s = {NULL, NULL, y, 100, SN_PLOT_LINE_POINTS};
    const char *p = tmp_path("leg.png");
    CHECK_OK(sn_plot_lines(p, &s, 1, NULL));
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    long n0 = nonwhite(img);
    cairo_surface_destroy(img);
    s.label = "squares of the first hundred integers";
    CHECK_OK(sn_plot_lines(p, &s, 1, NULL));
    img = load_png(p);
    CHECK(img);
    long n1 = nonwhite(img);
    cairo_surface_destroy(img);
    CHECK_MSG(n1 > n0 + 300, "non-white pixels %ld without legend, %ld with", n0, n1);
}

TEST(plot_log_y_and_time_axis_render) {
    enum { N = 432 }; /* 3 days of 10-minute steps */
    double t[N];
    float a[N], pr[N];
    for (int i = 0; i < N; i++) {
        t[i] = 1456790400.0 + 600.0 * i; /* 2016-03-01 00:00 UTC */
        a[i] = (float)(5 + 3 * sin(i * 0.05));
        pr[i] = i < N / 2 ? NAN : a[i] + 0.5f;
    }
    const char *p = tmp_path("fc.png");
    CHECK_OK(sn_plot_forecast(p, t, a, pr, N, "forecast", "degC"));
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    px_stats b = color_stats(img, BLUE, 12, NULL), o = color_stats(img, ORANGE, 12, NULL);
    cairo_surface_destroy(img);
    CHECK(b.count > 300 && o.count > 100);
    /* Predictions exist for the second half only (legend sample aside, which sits in a corner). */
    CHECK_MSG(o.mean_row_left >= 0 && b.minx + (b.maxx - b.minx) * 0.2 < o.minx + (o.maxx - o.minx) * 0.6,
              "orange extent %d..%d, blue %d..%d", o.minx, o.maxx, b.minx, b.maxx);
    /* Log axis: values spanning 6 decades, non-positive ones are gaps, not errors. */
    float e[60];
    for (int i = 0; i < 60; i++) e[i] = (float)pow(10.0, i / 10.0 - 3);
    e[5] = 0;
    e[6] = -1;
    sn_plot_series s = {"exp", NULL, e, 60, SN_PLOT_LINE};
    sn_plot_opts lo = {.log_y = 1, .ylabel = "log"};
    p = tmp_path("log.png");
    CHECK_OK(sn_plot_lines(p, &s, 1, &lo));
    img = load_png(p);
    CHECK(img);
    b = color_stats(img, BLUE, 12, NULL);
    cairo_surface_destroy(img);
    /* Exponential on a log axis is a straight line: mid point of the extent is on it. */
    CHECK(b.count > 200);
    CHECK(b.mean_row_left > b.mean_row_right + 150);
}

TEST(plot_history_curves) {
    double tr[20], va[20];
    for (int e = 0; e < 20; e++) {
        tr[e] = 3.0 / (e + 1) + 0.2;
        va[e] = 3.0 / (e + 1) + 0.4 + 0.01 * e;
    }
    const char *p = tmp_path("hist.png");
    CHECK_OK(sn_plot_history(p, "mae", tr, va, 20, NULL));
    cairo_surface_t *img = load_png(p);
    CHECK(img);
    px_stats b = color_stats(img, BLUE, 12, NULL), o = color_stats(img, ORANGE, 12, NULL);
    cairo_surface_destroy(img);
    CHECK(b.count > 100 && o.count > 100);
    CHECK(b.mean_row_left < b.mean_row_right); /* loss falls: rows grow to the right */
    CHECK_OK(sn_plot_history(p, "mae", tr, NULL, 20, "train only"));
    img = load_png(p);
    CHECK(img);
    o = color_stats(img, ORANGE, 12, NULL);
    cairo_surface_destroy(img);
    CHECK(o.count == 0);
    CHECK_OK(sn_plot_history(tmp_path("hist1.svg"), NULL, tr, va, 1, NULL)); /* one epoch still plots */
    CHECK(sn_plot_history(p, "mae", tr, va, 0, NULL) == SN_ERR_ARG);
    CHECK(sn_plot_history(p, "mae", NULL, va, 5, NULL) == SN_ERR_ARG);
}

TEST(plot_tick_helpers) {
    sn_plot_tick t[64];
    int n = sn_plot_ticks(0, 1, 5, 0, t, 64);
    CHECK(n == 6);
    CHECK(strcmp(t[0].label, "0") == 0 && strcmp(t[1].label, "0.2") == 0 && strcmp(t[5].label, "1.0") == 0);
    n = sn_plot_ticks(-3.7, 12.1, 6, 0, t, 64);
    CHECK_MSG(n == 3 && t[0].v == 0 && t[1].v == 5 && t[2].v == 10, "n %d", n);
    /* Every step is 1, 2 or 5 x 10^k, for many ranges. */
    for (int k = 0; k < 200; k++) {
        double lo = -50 + k * 0.37, hi = lo + pow(10.0, (k % 13) - 5) * (1 + k % 7);
        n = sn_plot_ticks(lo, hi, 2 + k % 9, 0, t, 64);
        CHECK(n >= 1);
        for (int i = 0; i < n; i++) CHECK(t[i].v >= lo - 1e-9 * fabs(lo) && t[i].v <= hi + 1e-9 * fabs(hi));
        if (n < 2) continue;
        double st = t[1].v - t[0].v, m = st / pow(10.0, floor(log10(st) + 1e-9));
        CHECK_MSG(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6, "step %g on %g..%g", st, lo, hi);
        CHECK(strcmp(t[0].label, t[1].label) != 0);
    }
    n = sn_plot_ticks(0.9, 3.1, 10, 1, t, 64);
    CHECK(n == 3 && t[0].v == 1 && strcmp(t[2].label, "3") == 0);
    n = sn_plot_ticks(0, 4e6, 5, 0, t, 64);
    CHECK(n == 5 && strcmp(t[1].label, "1e+06") == 0);
    CHECK(sn_plot_ticks(NAN, 1, 5, 0, t, 64) == 0 && sn_plot_ticks(2, 1, 5, 0, t, 64) == 0);

    n = sn_plot_log_ticks(1e-3, 100, 8, t, 64);
    CHECK(n == 6 && strcmp(t[0].label, "0.001") == 0 && strcmp(t[5].label, "100") == 0);
    n = sn_plot_log_ticks(1e-30, 1e30, 6, t, 64);
    CHECK_MSG(n >= 2 && n <= 7, "n %d", n);
    n = sn_plot_log_ticks(2, 9, 5, t, 64);
    CHECK(n == 2 && t[0].v == 2 && t[1].v == 5);

    /* Calendar ticks, UTC. */
    double y2009 = 1230768000.0, mar2016 = 1456790400.0;
    n = sn_plot_time_ticks(y2009, y2009 + 8 * 365.25 * 86400 - 86400, 8, t, 64);
    CHECK_MSG(n == 8 && strcmp(t[0].label, "2009") == 0 && strcmp(t[7].label, "2016") == 0, "n %d %s", n, t[0].label);
    n = sn_plot_time_ticks(mar2016 - 3600, mar2016 + 3 * 86400, 8, t, 64);
    CHECK_MSG(n >= 6 && strcmp(t[0].label, "01.03 00:00") == 0 && strcmp(t[1].label, "01.03 12:00") == 0, "%s %s",
              t[0].label, t[1].label);
    n = sn_plot_time_ticks(mar2016, mar2016 + 150 * 86400.0, 6, t, 64);
    CHECK_MSG(n == 5 && strcmp(t[0].label, "2016-03") == 0 && strcmp(t[4].label, "2016-07") == 0, "n %d %s", n,
              t[0].label);
    n = sn_plot_time_ticks(mar2016 + 10, mar2016 + 50, 5, t, 64);
    CHECK(n >= 3 && strcmp(t[0].label, "00:00:10") == 0);
    n = sn_plot_time_ticks(mar2016 - 2 * 86400, mar2016 + 10 * 86400, 14, t, 64); /* daily, leap year */
    CHECK_MSG(n == 13 && strcmp(t[1].label, "2016-02-29") == 0 && strcmp(t[2].label, "2016-03-01") == 0, "%s",
              t[1].label);
}

TEST(plot_errors_write_nothing) {
    float y[4] = {1, 2, 3, 4}, bad[3] = {NAN, INFINITY, -INFINITY};
    sn_plot_series ok = {"y", NULL, y, 4, SN_PLOT_LINE};
    const char *p = tmp_path("err.png");
    CHECK(sn_plot_lines(p, NULL, 0, NULL) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "no series"));
    sn_plot_series empty = {"e", NULL, y, 0, SN_PLOT_LINE};
    sn_plot_series two_empty[2] = {empty, empty};
    CHECK(sn_plot_lines(p, two_empty, 2, NULL) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "empty"));
    sn_plot_series nan = {"n", NULL, bad, 3, SN_PLOT_LINE};
    CHECK(sn_plot_lines(p, &nan, 1, NULL) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "NaN or Inf"));
    sn_plot_opts lg = {.log_y = 1};
    float neg[2] = {-1, 0};
    sn_plot_series ns = {"n", NULL, neg, 2, SN_PLOT_LINE};
    CHECK(sn_plot_lines(p, &ns, 1, &lg) == SN_ERR_ARG);
    sn_plot_series sty = ok;
    sty.style = 9;
    CHECK(sn_plot_lines(p, &sty, 1, NULL) == SN_ERR_ARG);
    sn_plot_series noy = {"n", NULL, NULL, 3, SN_PLOT_LINE};
    CHECK(sn_plot_lines(p, &noy, 1, NULL) == SN_ERR_ARG);
    sn_plot_opts tiny = {.width = 50, .height = 50};
    CHECK(sn_plot_lines(p, &ok, 1, &tiny) == SN_ERR_ARG);
    CHECK(!file_exists(p));

    const char *jpg = tmp_path("err.jpg");
    CHECK(sn_plot_lines(jpg, &ok, 1, NULL) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), jpg) && strstr(sn_error_last(), "extension"));
    CHECK(!file_exists(jpg));
    CHECK(sn_plot_lines(tmp_path("noext"), &ok, 1, NULL) == SN_ERR_ARG);

    /* Unwritable places: a missing directory, a path through a regular file. */
    CHECK(sn_plot_lines("/nonexistent-seqnn-dir/x.png", &ok, 1, NULL) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), "/nonexistent-seqnn-dir/x.png"));
    const char *f = tmp_path("plain.txt");
    CHECK_OK(sn_file_write_atomic(f, "x", 1));
    char through[600];
    snprintf(through, sizeof through, "%s/x.svg", f);
    CHECK(sn_plot_lines(through, &ok, 1, NULL) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), through));

    /* Rename onto a directory fails after rendering: no temp file stays behind. */
    const char *dir = tmp_path("isdir.png");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK(sn_plot_lines(dir, &ok, 1, NULL) == SN_ERR_IO);
    CHECK(strstr(sn_error_last(), dir));
    char tmpname[700];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", dir, (long)getpid());
    CHECK(!file_exists(tmpname));

    /* A failing call leaves an existing file byte for byte as it was. */
    const char *keep = tmp_path("keep.png");
    CHECK_OK(sn_file_write_atomic(keep, "keep", 4));
    CHECK(sn_plot_lines(keep, &nan, 1, NULL) == SN_ERR_ARG);
    size_t n = 0;
    char *t = slurp(keep, &n);
    CHECK(t && n == 4 && memcmp(t, "keep", 4) == 0);
    free(t);
    /* ... and a successful one replaces it with a PNG. */
    CHECK_OK(sn_plot_lines(keep, &ok, 1, NULL));
    t = slurp(keep, &n);
    CHECK(t && n > 8 && memcmp(t, "\x89PNG", 4) == 0);
    free(t);
}
