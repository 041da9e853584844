/* Forecasting samples: target scaling, multi-step / multi-target /
 * channel-independent / quantile-replicated samples over a window set, and
 * predictions mapped back to original units (include/seqnn/forecast.h).
 *
 * Scaled values, for target k of window (s, o = s + (L-1) r), step offset d,
 * with yn = (y - mean) / std the series-standardised target:
 *   none      y[o+d]                               back: p
 *   standard  yn[o+d]                              back: p std + mean
 *   last      yn[o+d] - yn[o]                      back: (p + yn[o]) std + mean
 *   window    (yn[o+d] - mu) / sd                  back: (p sd + mu) std + mean
 * where mu, sd = sqrt(var + 1e-5) are the mean / population variance of yn
 * over the window's L input rows. Inputs get the same treatment per channel:
 * none / standard leave x as given, last subtracts x[o], window
 * standardises each channel by its own window mean and sd. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "seqnn/forecast.h"

#define FC_REVIN_EPS 1e-5

static const char *const k_scale_names[] = {"none", "standard", "last", "window"};

int sn_fc_scale_parse(const char *s, sn_fc_scale *out) {
    if (!s || !out) return 0;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, k_scale_names[i])) {
            *out = (sn_fc_scale)i;
            return 1;
        }
    if (!strcasecmp(s, "instance") || !strcasecmp(s, "revin")) {
        *out = SN_FC_SCALE_WINDOW;
        return 1;
    }
    return 0;
}

const char *sn_fc_scale_name(sn_fc_scale s) { return (unsigned)s < 4 ? k_scale_names[s] : "?"; }

long sn_fc_layout_span(const sn_fc_layout *lay) {
    return (long)(lay->lookback - 1) * lay->sampling + lay->first + (long)(lay->n_steps - 1) * lay->stride;
}

size_t sn_fc_layout_x_numel(const sn_fc_layout *lay, int C) {
    return (size_t)lay->lookback * (lay->channel_independent ? 1 : (size_t)C);
}

size_t sn_fc_layout_y_numel(const sn_fc_layout *lay, int K) {
    return (size_t)lay->n_steps * (lay->channel_independent ? 1 : (size_t)K) * (size_t)SN_MAX(lay->n_quantiles, 1);
}

size_t sn_fc_layout_samples(const sn_fc_layout *lay, int K, size_t n_windows) {
    return lay->channel_independent ? n_windows * (size_t)K : n_windows;
}

/* Mean and sqrt(var + eps) of col[(s + t r) * stride], t = 0..L-1 (two-pass, double). */
static void win_stats(const float *col, size_t stride, size_t s, int L, int r, double *mu, double *sd) {
    double m = 0, v = 0;
    for (int t = 0; t < L; t++) m += col[(s + (size_t)t * (size_t)r) * stride];
    m /= L;
    for (int t = 0; t < L; t++) {
        double d = col[(s + (size_t)t * (size_t)r) * stride] - m;
        v += d * d;
    }
    *mu = m;
    *sd = sqrt(v / L + FC_REVIN_EPS);
}

typedef struct fc_ctx {
    sn_fc_series s;
    sn_fc_layout lay;
    size_t n_w;
    size_t *start; /* (n_w) copy */
    size_t span;   /* rows from a window's first row to its last one read */
} fc_ctx;

static int series_of(const sn_fc_series *s, size_t row) { return s->series ? s->series[row] : 0; }

int sn_fc_series_local(const sn_fc_series *s, size_t g, size_t span, size_t *local) {
    if (!s->rows) {
        *local = g;
        return g < s->N && span < s->N - g;
    }
    size_t lo = 0, hi = s->N;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->rows[mid] < g) lo = mid + 1;
        else hi = mid;
    }
    /* rows ascend, so g..g+span are held when the row span after g's is g+span */
    *local = lo;
    return lo < s->N && s->rows[lo] == g && span < s->N - lo && s->rows[lo + span] == g + span;
}

/* Input of one sample: column `col` of `src` (stride channels) for channel
 * independence, else every channel of x. */
static void fill_x(const fc_ctx *c, size_t s, int k, float *x) {
    const sn_fc_layout *lay = &c->lay;
    const int L = lay->lookback, r = lay->sampling;
    const size_t o = s + (size_t)(L - 1) * (size_t)r;
    const int ci = lay->channel_independent;
    const float *base = ci ? c->s.yn + k : c->s.x;
    const size_t stride = ci ? (size_t)c->s.K : (size_t)c->s.C;
    const int nch = ci ? 1 : c->s.C;
    for (int ch = 0; ch < nch; ch++) {
        const float *col = base + ch;
        double shift = 0, div = 1;
        if (lay->scale == SN_FC_SCALE_LAST) shift = col[o * stride];
        else if (lay->scale == SN_FC_SCALE_WINDOW) win_stats(col, stride, s, L, r, &shift, &div);
        for (int t = 0; t < L; t++) {
            float v = col[(s + (size_t)t * (size_t)r) * stride];
            x[(size_t)t * (size_t)nch + (size_t)ch] =
                lay->scale == SN_FC_SCALE_LAST || lay->scale == SN_FC_SCALE_WINDOW ? (float)((v - shift) / div) : v;
        }
    }
}

/* The affine map from scaled to original units of target k of window s:
 * original = a * scaled + b. */
static void target_affine(const sn_fc_series *S, const sn_fc_layout *lay, size_t s, int k, double *a, double *b) {
    const int L = lay->lookback, r = lay->sampling, K = S->K;
    const size_t o = s + (size_t)(L - 1) * (size_t)r;
    const int si = series_of(S, s);
    const double mean = S->y_mean[(size_t)si * (size_t)K + (size_t)k], std = S->y_std[(size_t)si * (size_t)K + (size_t)k];
    switch (lay->scale) {
    case SN_FC_SCALE_NONE: *a = 1, *b = 0; break;
    case SN_FC_SCALE_STANDARD: *a = std, *b = mean; break;
    case SN_FC_SCALE_LAST: *a = std, *b = (double)S->yn[o * (size_t)K + (size_t)k] * std + mean; break;
    default: {
        double mu, sd;
        win_stats(S->yn + k, (size_t)K, s, L, r, &mu, &sd);
        *a = sd * std;
        *b = mu * std + mean;
    }
    }
}

/* Scaled target value of target k, d rows after the origin of window s. */
static float target_value(const sn_fc_series *S, const sn_fc_layout *lay, size_t s, int k, long d, double a, double b) {
    const size_t row = s + (size_t)(lay->lookback - 1) * (size_t)lay->sampling + (size_t)d;
    const size_t K = (size_t)S->K;
    if (lay->scale == SN_FC_SCALE_NONE) return S->y[row * K + (size_t)k];
    if (lay->scale == SN_FC_SCALE_STANDARD) return S->yn[row * K + (size_t)k];
    return (float)(((double)S->y[row * K + (size_t)k] - b) / a);
}

static sn_status fc_fill(void *vctx, const size_t *idx, int B, sn_batch *bt) {
    const fc_ctx *c = vctx;
    const sn_fc_layout *lay = &c->lay;
    const int K = c->s.K, ci = lay->channel_independent, Q = SN_MAX(lay->n_quantiles, 1);
    const size_t xn = sn_fc_layout_x_numel(lay, c->s.C), yn = sn_fc_layout_y_numel(lay, K);
    const size_t n = sn_fc_layout_samples(lay, K, c->n_w);
    for (int i = 0; i < B; i++) {
        if (idx[i] >= n) return sn_error(SN_ERR_ARG, "forecast dataset: sample %zu out of range (%zu)", idx[i], n);
        size_t w = ci ? idx[i] / (size_t)K : idx[i];
        int k0 = ci ? (int)(idx[i] % (size_t)K) : 0, nk = ci ? 1 : K;
        size_t s;
        if (!sn_fc_series_local(&c->s, c->start[w], c->span, &s))
            return sn_error(SN_ERR_ARG, "forecast dataset: sample %zu (rows %zu..%zu) is not among the rows held here",
                            idx[i], c->start[w], c->start[w] + c->span);
        fill_x(c, s, k0, bt->x + (size_t)i * xn);
        if (!bt->y || lay->inputs_only) continue;
        float *y = bt->y + (size_t)i * yn;
        for (int kk = 0; kk < nk; kk++) {
            double a, b;
            target_affine(&c->s, lay, s, k0 + kk, &a, &b);
            for (int st = 0; st < lay->n_steps; st++) {
                float v = target_value(&c->s, lay, s, k0 + kk, lay->first + (long)st * lay->stride, a, b);
                for (int q = 0; q < Q; q++) y[((size_t)st * (size_t)nk + (size_t)kk) * (size_t)Q + (size_t)q] = v;
            }
        }
    }
    return SN_OK;
}

static void fc_destroy(void *vctx) {
    fc_ctx *c = vctx;
    if (!c) return;
    free(c->start);
    free(c);
}

/* Every window fits in its series and the layout is sane. */
static sn_status check_windows(const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w) {
    if (!s || !lay || !w || !s->x || !s->y || !s->yn || !s->y_mean || !s->y_std || (w->n && !w->start))
        return sn_error(SN_ERR_ARG, "forecast samples: NULL argument");
    if (lay->lookback < 1 || lay->sampling < 1 || lay->n_steps < 1 || lay->first < 1 ||
        (lay->n_steps > 1 && lay->stride < 1) || s->C < 1 || s->K < 1 || s->n_series < 1 || (unsigned)lay->scale > 3)
        return sn_error(SN_ERR_ARG, "forecast samples: bad layout (L %d, r %d, %d steps from %ld every %ld, C %d, K %d)",
                        lay->lookback, lay->sampling, lay->n_steps, lay->first, lay->stride, s->C, s->K);
    if (w->n == 0) return sn_error(SN_ERR_ARG, "forecast samples: no windows");
    const size_t span =
        lay->inputs_only ? (size_t)(lay->lookback - 1) * (size_t)lay->sampling : (size_t)sn_fc_layout_span(lay);
    for (size_t j = 0; j < w->n; j++) {
        size_t st;
        if (!sn_fc_series_local(s, w->start[j], span, &st)) {
            if (s->rows) continue; /* not held here: an error only when filled */
            return sn_error(SN_ERR_ARG, "forecast samples: window %zu (rows %zu..%zu) reaches beyond the %zu rows", j,
                            w->start[j], w->start[j] + span, s->N);
        }
        if (series_of(s, st) != series_of(s, st + span))
            return sn_error(SN_ERR_ARG, "forecast samples: window %zu (rows %zu..%zu) crosses from one series to the next",
                            j, st, st + span);
    }
    return SN_OK;
}

sn_status sn_fc_dataset(sn_dataset *out, const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_fc_dataset: NULL argument");
    memset(out, 0, sizeof *out);
    sn_status st = check_windows(s, lay, w);
    if (st) return st;
    fc_ctx *c = sn_calloc(1, sizeof *c);
    if (!c) return SN_ERR_NOMEM;
    c->start = sn_malloc(w->n, sizeof *c->start);
    if (!c->start) {
        free(c);
        return SN_ERR_NOMEM;
    }
    memcpy(c->start, w->start, w->n * sizeof *c->start);
    c->s = *s;
    c->lay = *lay;
    c->n_w = w->n;
    c->span = lay->inputs_only ? (size_t)(lay->lookback - 1) * (size_t)lay->sampling : (size_t)sn_fc_layout_span(lay);
    out->n = sn_fc_layout_samples(lay, s->K, w->n);
    out->x_numel = sn_fc_layout_x_numel(lay, s->C);
    out->y_numel = sn_fc_layout_y_numel(lay, s->K);
    out->ctx = c;
    out->fill = fc_fill;
    out->destroy = fc_destroy;
    return SN_OK;
}

sn_status sn_fc_unscale(const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w, const float *pred,
                        double *out) {
    sn_status st = check_windows(s, lay, w);
    if (st) return st;
    if (!pred || !out) return sn_error(SN_ERR_ARG, "sn_fc_unscale: NULL argument");
    const int K = s->K, S = lay->n_steps, Q = SN_MAX(lay->n_quantiles, 1), ci = lay->channel_independent;
    const size_t yn = sn_fc_layout_y_numel(lay, K);
    for (size_t j = 0; j < w->n; j++) {
        size_t ls;
        if (!sn_fc_series_local(s, w->start[j], (size_t)(lay->lookback - 1) * (size_t)lay->sampling, &ls))
            return sn_error(SN_ERR_ARG, "sn_fc_unscale: window %zu (row %zu) is not among the rows held here", j,
                            w->start[j]);
        for (int k = 0; k < K; k++) {
            double a, b;
            target_affine(s, lay, ls, k, &a, &b);
            /* the sample holding (j, k) and the index of (step, k) inside it */
            const float *p = pred + (ci ? (j * (size_t)K + (size_t)k) : j) * yn;
            for (int i = 0; i < S; i++)
                for (int q = 0; q < Q; q++) {
                    size_t in = ((size_t)i * (size_t)(ci ? 1 : K) + (size_t)(ci ? 0 : k)) * (size_t)Q + (size_t)q;
                    size_t o = ((j * (size_t)S + (size_t)i) * (size_t)K + (size_t)k) * (size_t)Q + (size_t)q;
                    out[o] = a * (double)p[in] + b;
                }
        }
    }
    return SN_OK;
}

sn_status sn_fc_truth(const sn_fc_series *s, const sn_fc_layout *lay, const sn_windows *w, double *out) {
    sn_status st = check_windows(s, lay, w);
    if (st) return st;
    if (!out || lay->inputs_only) return sn_error(SN_ERR_ARG, "sn_fc_truth: NULL argument or an inputs-only layout");
    const size_t K = (size_t)s->K, S = (size_t)lay->n_steps;
    for (size_t j = 0; j < w->n; j++) {
        size_t ls;
        if (!sn_fc_series_local(s, w->start[j], (size_t)sn_fc_layout_span(lay), &ls))
            return sn_error(SN_ERR_ARG, "sn_fc_truth: window %zu (row %zu) is not among the rows held here", j, w->start[j]);
        size_t o = ls + (size_t)(lay->lookback - 1) * (size_t)lay->sampling;
        for (size_t i = 0; i < S; i++) {
            size_t row = o + (size_t)lay->first + i * (size_t)lay->stride;
            for (size_t k = 0; k < K; k++) out[(j * S + i) * K + k] = s->y[row * K + k];
        }
    }
    return SN_OK;
}
