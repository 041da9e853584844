/* Time-series windows (keras.utils.timeseries_dataset_from_array), the
 * on-demand window dataset, normalization statistics, durations, the Jena
 * split protocol and the naive "persistence" baseline.
 *
 * Keras reference: keras/src/utils/timeseries_dataset_utils.py. Its window
 * j covers rows s0 + j*S + k*r (k < L) of `data` and takes targets[s0 + j*S];
 * the book's Jena code gets a 24 h-ahead target by shifting the arrays:
 * data = raw[:-delay], targets = temperature[delay:]. Here the arrays are not
 * shifted; the dataset reads target[start + delay] from the full column. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/data.h"

/* ---------------------------------------------------------------------
 * Windows
 * --------------------------------------------------------------------- */
sn_status sn_windows_init(sn_windows *w, size_t n_rows, int L, int r, int S, size_t s0, size_t end_index,
                          size_t n_targets) {
    if (!w) return sn_error(SN_ERR_ARG, "sn_windows_init: NULL argument");
    memset(w, 0, sizeof *w);
    if (n_rows == 0) return sn_error(SN_ERR_ARG, "timeseries windows: the data has no rows");
    if (L < 1) return sn_error(SN_ERR_ARG, "timeseries windows: sequence_length must be >= 1, got %d", L);
    /* Keras's checks, in its order. */
    if (s0 >= n_rows)
        return sn_error(SN_ERR_ARG, "timeseries windows: start_index must be lower than the data length %zu, got %zu",
                        n_rows, s0);
    if (end_index) {
        if (s0 && end_index <= s0)
            return sn_error(SN_ERR_ARG, "timeseries windows: end_index %zu must be higher than start_index %zu",
                            end_index, s0);
        if (end_index >= n_rows)
            return sn_error(SN_ERR_ARG,
                            "timeseries windows: end_index must be lower than the data length %zu, got %zu "
                            "(omit it, 0, to use all rows)",
                            n_rows, end_index);
    }
    if (r < 1 || (size_t)r >= n_rows)
        return sn_error(SN_ERR_ARG, "timeseries windows: sampling_rate must be in [1, %zu), got %d", n_rows, r);
    if (S < 1 || (size_t)S >= n_rows)
        return sn_error(SN_ERR_ARG, "timeseries windows: sequence_stride must be in [1, %zu), got %d", n_rows, S);
    size_t e = end_index ? end_index : n_rows;
    /* n = e - s0 - (L-1)*r, capped at len(targets) */
    long long span = (long long)(L - 1) * (long long)r; /* < 2^62: both < 2^31 */
    long long n = (long long)(e - s0) - span;
    if (n_targets && n > (long long)n_targets) n = (long long)n_targets;
    if (n <= 0)
        return sn_error(SN_ERR_ARG,
                        "timeseries windows: a window of %d steps at sampling rate %d spans %lld rows, but rows "
                        "[%zu, %zu) hold only %zu (Keras would yield an empty dataset)",
                        L, r, span + 1, s0, e, e - s0);
    size_t count = ((size_t)n + (size_t)S - 1) / (size_t)S;
    if (n_targets && s0 + (count - 1) * (size_t)S >= n_targets)
        return sn_error(SN_ERR_ARG,
                        "timeseries windows: the last window (start %zu) has no target: only %zu targets",
                        s0 + (count - 1) * (size_t)S, n_targets);
    w->start = sn_malloc(count, sizeof *w->start);
    if (!w->start) return SN_ERR_NOMEM;
    for (size_t j = 0; j < count; j++) w->start[j] = s0 + j * (size_t)S;
    w->n = count;
    w->sequence_length = L;
    w->sampling_rate = r;
    w->sequence_stride = S;
    w->start_index = s0;
    w->end_index = e;
    return SN_OK;
}

void sn_windows_shuffle(sn_windows *w, sn_rng *rng) {
    if (!w || !rng || !w->start) return;
    sn_rng_shuffle(rng, w->start, w->n);
}

void sn_windows_free(sn_windows *w) {
    if (!w) return;
    free(w->start);
    memset(w, 0, sizeof *w);
}

/* ---------------------------------------------------------------------
 * Window dataset
 * --------------------------------------------------------------------- */
typedef struct ts_ctx {
    const float *data;    /* (N,C) */
    const float *targets; /* (N) or NULL */
    size_t N, n;
    int C, L, r;
    long delay;
    size_t *start;        /* (n) copy */
} ts_ctx;

static sn_status ts_fill(void *vctx, const size_t *idx, int B, sn_batch *b) {
    const ts_ctx *c = vctx;
    const size_t C = (size_t)c->C, LC = (size_t)c->L * C;
    for (int i = 0; i < B; i++) {
        if (idx[i] >= c->n)
            return sn_error(SN_ERR_ARG, "timeseries dataset: sample index %zu out of range (%zu windows)", idx[i],
                            c->n);
        size_t s = c->start[idx[i]];
        float *x = b->x + (size_t)i * LC;
        for (int t = 0; t < c->L; t++)
            memcpy(x + (size_t)t * C, c->data + (s + (size_t)t * (size_t)c->r) * C, C * sizeof(float));
        if (c->targets && b->y) b->y[i] = c->targets[s + (size_t)c->delay];
    }
    return SN_OK;
}

static void ts_destroy(void *vctx) {
    ts_ctx *c = vctx;
    if (!c) return;
    free(c->start);
    free(c);
}

sn_status sn_ts_dataset(sn_dataset *out, const float *data, size_t N, int C, const float *targets,
                        long target_delay, const sn_windows *w) {
    if (!out || !data || !w || !w->start) return sn_error(SN_ERR_ARG, "sn_ts_dataset: NULL argument");
    memset(out, 0, sizeof *out);
    if (C < 1 || N == 0 || w->n == 0)
        return sn_error(SN_ERR_ARG, "sn_ts_dataset: empty input (N=%zu, C=%d, %zu windows)", N, C, w->n);
    if (targets && target_delay < 0)
        return sn_error(SN_ERR_ARG, "sn_ts_dataset: target delay must be >= 0, got %ld", target_delay);
    size_t span = (size_t)(w->sequence_length - 1) * (size_t)w->sampling_rate;
    for (size_t k = 0; k < w->n; k++) {
        size_t s = w->start[k];
        if (s >= N || span >= N - s)
            return sn_error(SN_ERR_ARG, "sn_ts_dataset: window %zu (rows %zu..%zu) reaches beyond the %zu data rows",
                            k, s, s + span, N);
        if (targets && (size_t)target_delay >= N - s)
            return sn_error(SN_ERR_ARG,
                            "sn_ts_dataset: the target of window %zu (row %zu + delay %ld) is beyond the %zu rows", k,
                            s, target_delay, N);
    }
    ts_ctx *c = sn_calloc(1, sizeof *c);
    if (!c) return SN_ERR_NOMEM;
    c->start = sn_malloc(w->n, sizeof *c->start);
    if (!c->start) {
        free(c);
        return SN_ERR_NOMEM;
    }
    memcpy(c->start, w->start, w->n * sizeof *c->start);
    c->data = data;
    c->targets = targets;
    c->N = N;
    c->n = w->n;
    c->C = C;
    c->L = w->sequence_length;
    c->r = w->sampling_rate;
    c->delay = target_delay;
    out->n = w->n;
    out->x_numel = (size_t)w->sequence_length * (size_t)C;
    out->y_numel = targets ? 1 : 0;
    out->sparse = 0;
    out->ctx = c;
    out->fill = ts_fill;
    out->destroy = ts_destroy;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Normalization
 * --------------------------------------------------------------------- */
sn_status sn_table_stats(const sn_table *t, size_t b, size_t e, double *mean, double *std) {
    if (!t || !mean || !std || !t->data) return sn_error(SN_ERR_ARG, "sn_table_stats: NULL argument");
    if (b >= e || e > t->n_rows)
        return sn_error(SN_ERR_ARG, "sn_table_stats: row range [%zu, %zu) is empty or beyond the %zu rows", b, e,
                        t->n_rows);
    const size_t C = (size_t)t->n_cols;
    const double cnt = (double)(e - b);
    for (size_t c = 0; c < C; c++) mean[c] = std[c] = 0.0;
    for (size_t i = b; i < e; i++)
        for (size_t c = 0; c < C; c++) mean[c] += t->data[i * C + c];
    for (size_t c = 0; c < C; c++) mean[c] /= cnt;
    for (size_t i = b; i < e; i++)
        for (size_t c = 0; c < C; c++) {
            double d = t->data[i * C + c] - mean[c];
            std[c] += d * d;
        }
    for (size_t c = 0; c < C; c++) std[c] = sqrt(std[c] / cnt);
    for (size_t c = 0; c < C; c++)
        if (!(std[c] > 0.0) || !isfinite(std[c]) || !isfinite(mean[c]))
            return sn_error(SN_ERR_NUMERIC,
                            "column \"%s\" has standard deviation %g over rows [%zu, %zu): cannot normalize it "
                            "(drop the column)",
                            t->col_names ? t->col_names[c] : "?", std[c], b, e);
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Blocked statistics: block sums by whoever holds the block, added in
 * block order (data.h; docs/distributed.md)
 * --------------------------------------------------------------------- */
size_t sn_stats_n_blocks(const sn_stats_req *r) {
    size_t n = 0;
    for (int i = 0; r && i < r->n_ranges; i++)
        if (r->end[i] > r->begin[i]) n += (r->end[i] - r->begin[i] + SN_STATS_BLOCK - 1) / SN_STATS_BLOCK;
    return n;
}

/* Local row holding whole-table row g (t->row: binary search), or SIZE_MAX. */
static size_t held_row(const sn_table *t, size_t g) {
    if (!t->row) return g < t->n_rows ? g : SIZE_MAX;
    size_t lo = 0, hi = t->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->row[mid] < g) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->n_rows && t->row[lo] == g ? lo : SIZE_MAX;
}

/* The local row of whole-table row g0 when rows [g0, g1) are all held
 * (t->row ascends, so they are then consecutive). */
static sn_status held_rows(const sn_table *t, size_t g0, size_t g1, size_t *l0) {
    size_t a = held_row(t, g0), b = held_row(t, g1 - 1);
    if (a == SIZE_MAX || b == SIZE_MAX || b - a != g1 - 1 - g0 || !t->data)
        return sn_error(SN_ERR_ARG, "blocked statistics: rows [%zu, %zu) are not all held here", g0, g1);
    *l0 = a;
    return SN_OK;
}

/* Sums of the block [g0, g1) of a range starting at `begin` into out:
 * pass 1 (mean NULL) the C column sums, then the n_diff sums of
 * |y[t] - y[t-m]| over t >= begin + m; pass 2 the C sums of squared
 * deviations from mean. Each a sequential double sum in row order. */
static sn_status block_sums(const sn_table *t, const sn_stats_req *r, size_t begin, size_t g0, size_t g1,
                            const double *mean, double *out) {
    const size_t C = (size_t)t->n_cols, m = (size_t)(r->n_diff ? r->season : 0);
    const size_t back = mean ? 0 : SN_MIN(m, g0 - begin); /* rows before g0 the differences need */
    size_t l0 = 0;
    sn_status st = held_rows(t, g0 - back, g1, &l0);
    if (st) return st;
    const double *x = t->data + (l0 + back) * C; /* row g0 */
    for (size_t c = 0; c < C; c++) out[c] = 0.0;
    for (size_t i = 0; i < g1 - g0; i++)
        for (size_t c = 0; c < C; c++) {
            double v = x[i * C + c];
            if (mean) v = (v - mean[c]) * (v - mean[c]);
            out[c] += v;
        }
    for (int j = 0; !mean && j < r->n_diff; j++) {
        const size_t col = (size_t)r->diff_col[j];
        double sd = 0.0;
        for (size_t g = SN_MAX(g0, begin + m); g < g1; g++) {
            const double *row = x + ((ptrdiff_t)g - (ptrdiff_t)g0) * (ptrdiff_t)C;
            sd += fabs((double)(float)row[col] - (double)(float)row[(ptrdiff_t)col - (ptrdiff_t)(m * C)]);
        }
        out[C + (size_t)j] = sd;
    }
    return SN_OK;
}

typedef struct stats_plan {
    size_t nb;         /* blocks */
    size_t *rng;       /* (nb) range of each block */
    size_t *pos;       /* (nb) index of each block in the gathered order (rank 0's first) */
    int *counts;       /* (size) blocks per rank, times the width when gathering */
    size_t n_mine;
    int size, rank;
} stats_plan;

static void stats_plan_free(stats_plan *p) {
    free(p->rng);
    free(p->pos);
    free(p->counts);
}

static sn_status stats_plan_init(stats_plan *p, const sn_table *t, const sn_stats_req *r) {
    memset(p, 0, sizeof *p);
    p->size = r->comm ? r->comm->size : 1;
    p->rank = r->comm ? r->comm->rank : 0;
    const size_t total = t->row ? t->n_total : t->n_rows;
    for (int i = 0; i < r->n_ranges; i++)
        if (r->begin[i] >= r->end[i] || r->end[i] > total)
            return sn_error(SN_ERR_ARG, "blocked statistics: range %d [%zu, %zu) is empty or beyond the %zu rows", i,
                            r->begin[i], r->end[i], total);
    p->nb = sn_stats_n_blocks(r);
    p->rng = sn_malloc(p->nb, sizeof *p->rng);
    p->pos = sn_malloc(p->nb, sizeof *p->pos);
    p->counts = sn_calloc((size_t)p->size, sizeof *p->counts);
    size_t *off = sn_calloc((size_t)p->size + 1, sizeof *off);
    sn_status st = !p->rng || !p->pos || !p->counts || !off ? SN_ERR_NOMEM : SN_OK;
    size_t q = 0;
    for (int i = 0; !st && i < r->n_ranges; i++)
        for (size_t g = r->begin[i]; g < r->end[i]; g += SN_STATS_BLOCK) p->rng[q++] = (size_t)i;
    for (q = 0; !st && q < p->nb; q++) {
        int o = r->owner ? r->owner[q] : 0;
        if (o < 0 || o >= p->size) st = sn_error(SN_ERR_ARG, "blocked statistics: block %zu owned by rank %d of %d", q, o, p->size);
        else p->counts[o]++;
    }
    for (int k = 0; !st && k < p->size; k++) off[k + 1] = off[k] + (size_t)p->counts[k];
    for (q = 0; !st && q < p->nb; q++) p->pos[q] = off[r->owner ? r->owner[q] : 0]++;
    if (!st) p->n_mine = (size_t)p->counts[p->rank];
    free(off);
    return st;
}

/* One pass: this rank's blocks' sums (width w each), gathered from every
 * rank and added per range in block order into tot (n_ranges, w). A rank
 * that fails still joins the gather (with zeros) and returns its error. */
static sn_status stats_pass(const sn_table *t, const sn_stats_req *r, stats_plan *p, size_t w, const double *mean,
                            double *tot) {
    double *mine = sn_calloc(p->n_mine * w + 1, sizeof *mine), *all = sn_calloc(p->nb * w + 1, sizeof *all);
    int *cnt = sn_malloc((size_t)p->size, sizeof *cnt);
    sn_status st = !mine || !all || !cnt ? SN_ERR_NOMEM : SN_OK, local = SN_OK;
    for (int k = 0; !st && k < p->size; k++) {
        if ((size_t)p->counts[k] * w > (size_t)INT32_MAX) st = sn_error(SN_ERR_ARG, "blocked statistics: too many blocks");
        else cnt[k] = (int)((size_t)p->counts[k] * w);
    }
    size_t k = 0, q = 0;
    for (int i = 0; !st && i < r->n_ranges; i++)
        for (size_t g = r->begin[i]; g < r->end[i]; g += SN_STATS_BLOCK, q++) {
            if ((r->owner ? r->owner[q] : 0) != p->rank) continue;
            size_t g1 = SN_MIN(g + SN_STATS_BLOCK, r->end[i]);
            if (!local) local = block_sums(t, r, r->begin[i], g, g1, mean ? mean + (size_t)i * (size_t)t->n_cols : NULL,
                                           mine + k * w);
            k++;
        }
    if (!st && r->comm && p->size > 1) st = r->comm->gather_f64(r->comm->ctx, mine, cnt, all);
    else if (!st) memcpy(all, mine, p->nb * w * sizeof *all);
    for (size_t j = 0; !st && j < (size_t)r->n_ranges * w; j++) tot[j] = 0.0;
    for (q = 0; !st && q < p->nb; q++)
        for (size_t j = 0; j < w; j++) tot[p->rng[q] * w + j] += all[p->pos[q] * w + j];
    free(mine);
    free(all);
    free(cnt);
    return st ? st : local;
}

sn_status sn_table_stats_blocked(const sn_table *t, const sn_stats_req *r, double *mean, double *std, double *diff) {
    if (!t || !r || !mean || !std || r->n_ranges < 1 || !r->begin || !r->end || t->n_cols < 1 ||
        (r->n_diff && (!diff || !r->diff_col || r->season < 1)))
        return sn_error(SN_ERR_ARG, "sn_table_stats_blocked: NULL or bad argument");
    for (int j = 0; j < r->n_diff; j++)
        if (r->diff_col[j] < 0 || r->diff_col[j] >= t->n_cols)
            return sn_error(SN_ERR_ARG, "sn_table_stats_blocked: difference column %d of %d", r->diff_col[j], t->n_cols);
    stats_plan p;
    sn_status st = stats_plan_init(&p, t, r);
    const size_t C = (size_t)t->n_cols, R = (size_t)r->n_ranges, D = (size_t)r->n_diff, W1 = C + D;
    double *tot = st ? NULL : sn_malloc(R * W1, sizeof *tot);
    if (!st && !tot) st = SN_ERR_NOMEM;
    sn_status local = SN_OK;
    if (!st) {
        local = stats_pass(t, r, &p, W1, NULL, tot);
        if (local && local != SN_ERR_ARG) st = local; /* a failed gather */
    }
    for (size_t i = 0; !st && i < R; i++) {
        const double n = (double)(r->end[i] - r->begin[i]);
        for (size_t c = 0; c < C; c++) mean[i * C + c] = tot[i * W1 + c] / n;
        for (size_t j = 0; j < D; j++)
            diff[i * D + j] = n > (double)r->season ? tot[i * W1 + C + j] / (n - (double)r->season) : NAN;
    }
    if (!st) {
        sn_status s2 = stats_pass(t, r, &p, C, mean, tot);
        if (s2 && s2 != SN_ERR_ARG) st = s2;
        else if (!local) local = s2;
    }
    for (size_t i = 0; !st && i < R; i++)
        for (size_t c = 0; c < C; c++) std[i * C + c] = sqrt(tot[i * C + c] / (double)(r->end[i] - r->begin[i]));
    for (size_t i = 0; !st && !local && i < R; i++)
        for (size_t c = 0; c < C && !st; c++)
            if (!(std[i * C + c] > 0.0) || !isfinite(std[i * C + c]) || !isfinite(mean[i * C + c]))
                st = sn_error(SN_ERR_NUMERIC,
                              "column \"%s\" has standard deviation %g over rows [%zu, %zu): cannot normalize it "
                              "(drop the column)",
                              t->col_names ? t->col_names[c] : "?", std[i * C + c], r->begin[i], r->end[i]);
    free(tot);
    stats_plan_free(&p);
    return st ? st : local;
}

sn_status sn_table_normalize(const sn_table *t, const double *mean, const double *std, float *out) {
    if (!t || !mean || !std || !out || !t->data) return sn_error(SN_ERR_ARG, "sn_table_normalize: NULL argument");
    const size_t C = (size_t)t->n_cols;
    for (size_t c = 0; c < C; c++)
        if (!(std[c] > 0.0) || !isfinite(std[c]) || !isfinite(mean[c]))
            return sn_error(SN_ERR_ARG, "cannot normalize column \"%s\": mean %g, std %g",
                            t->col_names ? t->col_names[c] : "?", mean[c], std[c]);
    for (size_t i = 0; i < t->n_rows; i++)
        for (size_t c = 0; c < C; c++) out[i * C + c] = (float)((t->data[i * C + c] - mean[c]) / std[c]);
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Durations
 * --------------------------------------------------------------------- */
static const struct {
    const char *name;
    int64_t sec;
} k_units[] = {
    {"s", 1},        {"sec", 1},       {"secs", 1},      {"second", 1},    {"seconds", 1},
    {"m", 60},       {"min", 60},      {"mins", 60},     {"minute", 60},   {"minutes", 60},
    {"h", 3600},     {"hr", 3600},     {"hrs", 3600},    {"hour", 3600},   {"hours", 3600},
    {"d", 86400},    {"day", 86400},   {"days", 86400},  {"w", 604800},    {"week", 604800},
    {"weeks", 604800},
};

sn_status sn_duration_parse(const char *s, int64_t *seconds) {
    if (!s || !seconds) return sn_error(SN_ERR_ARG, "sn_duration_parse: NULL argument");
    const char *p = s;
    int64_t total = 0;
    int parts = 0;
    for (;;) {
        while (*p == ' ') p++;
        if (!*p) break;
        if (!isdigit((unsigned char)*p))
            return sn_error(SN_ERR_PARSE, "duration \"%.60s\": expected a number at \"%.20s\"", s, p);
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            if (v > (INT64_MAX - 9) / 10) return sn_error(SN_ERR_PARSE, "duration \"%.60s\" is too large", s);
            v = v * 10 + (*p++ - '0');
        }
        while (*p == ' ') p++;
        const char *u = p;
        while (isalpha((unsigned char)*p)) p++;
        size_t ul = (size_t)(p - u);
        if (ul == 0)
            return sn_error(SN_ERR_PARSE,
                            "duration \"%.60s\": missing unit after %lld (use s, min, h, d or w, e.g. \"24h\")", s,
                            (long long)v);
        int64_t mul = 0;
        for (size_t k = 0; k < sizeof k_units / sizeof *k_units; k++) {
            if (strlen(k_units[k].name) != ul) continue;
            size_t i = 0;
            while (i < ul && tolower((unsigned char)u[i]) == k_units[k].name[i]) i++;
            if (i == ul) {
                mul = k_units[k].sec;
                break;
            }
        }
        if (!mul)
            return sn_error(SN_ERR_PARSE, "duration \"%.60s\": unknown unit \"%.*s\" (use s, min, h, d or w)", s,
                            (int)SN_MIN(ul, (size_t)20), u);
        if (v > (INT64_MAX - total) / mul) return sn_error(SN_ERR_PARSE, "duration \"%.60s\" is too large", s);
        total += v * mul;
        parts++;
    }
    if (!parts) return sn_error(SN_ERR_PARSE, "empty duration");
    *seconds = total;
    return SN_OK;
}

char *sn_duration_format(int64_t sec, char *buf, size_t n) {
    if (!buf || n == 0) return buf;
    size_t o = 0;
    buf[0] = 0;
    if (sec < 0) {
        o += (size_t)snprintf(buf, n, "-");
        sec = sec == INT64_MIN ? INT64_MAX : -sec;
    }
    if (sec == 0) {
        snprintf(buf + o, n - SN_MIN(o, n), "0s");
        return buf;
    }
    static const struct { const char *u; int64_t s; } parts[] = {{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}};
    for (int k = 0; k < 4; k++) {
        int64_t q = sec / parts[k].s;
        sec %= parts[k].s;
        if (q && o < n) o += (size_t)snprintf(buf + o, n - o, "%lld%s", (long long)q, parts[k].u);
    }
    return buf;
}

sn_status sn_duration_to_rows(int64_t seconds, int64_t step, long *rows) {
    if (!rows) return sn_error(SN_ERR_ARG, "sn_duration_to_rows: NULL argument");
    char a[48], b[48];
    if (step <= 0)
        return sn_error(SN_ERR_ARG, "time step must be positive, got %lld s (irregular or unsorted dates?)",
                        (long long)step);
    if (seconds < 0) return sn_error(SN_ERR_ARG, "duration must be >= 0, got %lld s", (long long)seconds);
    if (seconds % step)
        return sn_error(SN_ERR_ARG, "%s is not a whole number of %s steps", sn_duration_format(seconds, a, sizeof a),
                        sn_duration_format(step, b, sizeof b));
    int64_t q = seconds / step;
    if (q > (int64_t)0x7fffffff)
        return sn_error(SN_ERR_ARG, "%s is %lld steps of %s: too many", sn_duration_format(seconds, a, sizeof a),
                        (long long)q, sn_duration_format(step, b, sizeof b));
    *rows = (long)q;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Protocol
 * --------------------------------------------------------------------- */
void sn_ts_protocol_free(sn_ts_protocol *p) {
    if (!p) return;
    sn_windows_free(&p->train);
    sn_windows_free(&p->val);
    sn_windows_free(&p->test);
    memset(p, 0, sizeof *p);
}

sn_status sn_ts_protocol_init(sn_ts_protocol *p, size_t N, int lookback, int horizon, int sampling,
                              double train_frac, double val_frac) {
    if (!p) return sn_error(SN_ERR_ARG, "sn_ts_protocol_init: NULL argument");
    memset(p, 0, sizeof *p);
    if (lookback < 1 || horizon < 1 || sampling < 1)
        return sn_error(SN_ERR_ARG, "protocol: lookback (%d), horizon (%d) and sampling (%d) must be >= 1", lookback,
                        horizon, sampling);
    if (!(train_frac > 0 && train_frac < 1 && val_frac > 0 && val_frac < 1 && train_frac + val_frac < 1))
        return sn_error(SN_ERR_ARG, "protocol: split fractions train %g, val %g must be in (0,1) and sum below 1",
                        train_frac, val_frac);
    long long delay = (long long)sampling * ((long long)lookback + horizon - 1);
    if (delay >= (long long)N)
        return sn_error(SN_ERR_ARG, "protocol: the target delay of %lld rows leaves no data in a series of %zu rows",
                        delay, N);
    p->n_rows = N;
    p->lookback = lookback;
    p->horizon = horizon;
    p->sampling = sampling;
    p->delay = (long)delay;
    p->num_train = (size_t)(train_frac * (double)N);
    p->num_val = (size_t)(val_frac * (double)N);
    p->num_test = N - p->num_train - p->num_val;
    size_t nd = N - (size_t)delay; /* len(raw[:-delay]) == len(targets) */
    sn_status st = sn_windows_init(&p->train, nd, lookback, sampling, 1, 0, p->num_train, nd);
    if (st != SN_OK) {
        sn_error_prefix(st, "protocol, train split (rows 0..%zu)", p->num_train);
        goto fail;
    }
    st = sn_windows_init(&p->val, nd, lookback, sampling, 1, p->num_train, p->num_train + p->num_val, nd);
    if (st != SN_OK) {
        sn_error_prefix(st, "protocol, validation split (rows %zu..%zu)", p->num_train, p->num_train + p->num_val);
        goto fail;
    }
    st = sn_windows_init(&p->test, nd, lookback, sampling, 1, p->num_train + p->num_val, 0, nd);
    if (st != SN_OK) {
        sn_error_prefix(st, "protocol, test split (rows %zu..%zu)", p->num_train + p->num_val, nd);
        goto fail;
    }
    return SN_OK;
fail:
    sn_ts_protocol_free(p);
    return st;
}

sn_status sn_ts_protocol_from_durations(sn_ts_protocol *p, size_t N, int64_t step_s, int64_t lookback_s,
                                        int64_t horizon_s, int64_t sampling_s, double train_frac,
                                        double val_frac) {
    if (!p) return sn_error(SN_ERR_ARG, "sn_ts_protocol_from_durations: NULL argument");
    memset(p, 0, sizeof *p);
    long sampling, lookback, horizon;
    sn_status st;
    if (sampling_s <= 0) return sn_error(SN_ERR_ARG, "protocol: the sampling interval must be positive");
    if ((st = sn_duration_to_rows(sampling_s, step_s, &sampling)) != SN_OK)
        return sn_error_prefix(st, "protocol: sampling interval vs data step");
    if ((st = sn_duration_to_rows(lookback_s, sampling_s, &lookback)) != SN_OK)
        return sn_error_prefix(st, "protocol: lookback vs sampling interval");
    if ((st = sn_duration_to_rows(horizon_s, sampling_s, &horizon)) != SN_OK)
        return sn_error_prefix(st, "protocol: horizon vs sampling interval");
    return sn_ts_protocol_init(p, N, (int)lookback, (int)horizon, (int)sampling, train_frac, val_frac);
}

/* ---------------------------------------------------------------------
 * Naive baseline
 * --------------------------------------------------------------------- */
sn_status sn_ts_naive_mae(const float *target, size_t N, long delay, const sn_windows *w, double *mae) {
    if (!target || !w || !mae || !w->start) return sn_error(SN_ERR_ARG, "sn_ts_naive_mae: NULL argument");
    if (w->n == 0) return sn_error(SN_ERR_ARG, "sn_ts_naive_mae: no windows");
    if (delay < 0) return sn_error(SN_ERR_ARG, "sn_ts_naive_mae: delay must be >= 0, got %ld", delay);
    size_t last = (size_t)(w->sequence_length - 1) * (size_t)w->sampling_rate;
    double sum = 0.0;
    for (size_t k = 0; k < w->n; k++) {
        size_t s = w->start[k];
        if (s >= N || last >= N - s || (size_t)delay >= N - s)
            return sn_error(SN_ERR_ARG, "sn_ts_naive_mae: window %zu (start %zu, delay %ld) reaches beyond %zu rows",
                            k, s, delay, N);
        sum += fabs((double)target[s + last] - (double)target[s + (size_t)delay]);
    }
    *mae = sum / (double)w->n;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Split windows (several series, both conventions)
 * --------------------------------------------------------------------- */

/* Start rows [*lo_s, *hi_s) of the windows of split `which` of series b
 * (empty when *hi_s <= *lo_s); see sn_ts_windows_split. */
static void split_starts(const sn_ts_window_spec *sp, const sn_ts_borders *b, sn_ts_split which, size_t *lo_s,
                         size_t *hi_s) {
    size_t lo = which == SN_TS_TRAIN ? b->begin : which == SN_TS_VAL ? b->train_end : b->val_end;
    size_t hi = which == SN_TS_TRAIN ? b->train_end : which == SN_TS_VAL ? b->val_end : b->end;
    size_t span = (size_t)(sp->lookback - 1) * (size_t)sp->sampling;
    *lo_s = *hi_s = 0;
    if (!sp->context) {
        /* s >= lo and s + span < min(hi, end - delay), delay = span + last */
        size_t delay = span + (size_t)sp->last;
        if (b->end < b->begin + delay) return;
        size_t cap = SN_MIN(hi, b->end - delay);
        if (cap <= lo + span) return;
        *lo_s = lo;
        *hi_s = cap - span;
        return;
    }
    /* s >= begin, s + span + first >= lo, s + span + last < hi */
    size_t need_lo = lo >= span + (size_t)sp->first ? lo - span - (size_t)sp->first : 0;
    size_t s0 = SN_MAX(b->begin, need_lo);
    if (hi < span + (size_t)sp->last + 1) return;
    size_t s1 = hi - span - (size_t)sp->last; /* exclusive */
    if (s1 <= s0) return;
    *lo_s = s0;
    *hi_s = s1;
}

sn_status sn_ts_windows_split(sn_windows *w, const sn_ts_window_spec *sp, const sn_ts_borders *b, int n_series,
                              sn_ts_split which) {
    if (!w || !sp || !b) return sn_error(SN_ERR_ARG, "sn_ts_windows_split: NULL argument");
    memset(w, 0, sizeof *w);
    if (sp->lookback < 1 || sp->sampling < 1 || sp->first < 1 || sp->last < sp->first || n_series < 1 ||
        (int)which < 0 || (int)which > 2)
        return sn_error(SN_ERR_ARG,
                        "sn_ts_windows_split: bad geometry (lookback %d, sampling %d, targets %ld..%ld rows after the "
                        "last input, %d series)",
                        sp->lookback, sp->sampling, sp->first, sp->last, n_series);
    size_t total = 0;
    for (int i = 0; i < n_series; i++) {
        const sn_ts_borders *bi = &b[i];
        if (!(bi->begin <= bi->train_end && bi->train_end <= bi->val_end && bi->val_end <= bi->end))
            return sn_error(SN_ERR_ARG, "sn_ts_windows_split: series %d has unordered borders %zu, %zu, %zu, %zu", i,
                            bi->begin, bi->train_end, bi->val_end, bi->end);
        size_t a, z;
        split_starts(sp, bi, which, &a, &z);
        total += z > a ? z - a : 0;
    }
    static const char *names[] = {"training", "validation", "test"};
    if (total == 0) {
        size_t need = (size_t)(sp->lookback - 1) * (size_t)sp->sampling + (size_t)sp->last + 1;
        const sn_ts_borders *b0 = &b[0];
        size_t lo = which == SN_TS_TRAIN ? b0->begin : which == SN_TS_VAL ? b0->train_end : b0->val_end;
        size_t hi = which == SN_TS_TRAIN ? b0->train_end : which == SN_TS_VAL ? b0->val_end : b0->end;
        return sn_error(SN_ERR_ARG,
                        "the %s split has no window: a window with its targets spans %zu rows (%d steps every %d "
                        "rows, then %ld rows ahead) but the split has %zu rows%s (rows %zu..%zu%s)",
                        names[which], need, sp->lookback, sp->sampling, sp->last, hi - lo,
                        sp->context ? " for its targets"
                                    : " for the look-back, and a series' last look-back + horizon rows hold only targets",
                        lo, hi, n_series > 1 ? " of the first series" : "");
    }
    w->start = sn_malloc(total, sizeof *w->start);
    if (!w->start) return SN_ERR_NOMEM;
    size_t k = 0;
    for (int i = 0; i < n_series; i++) {
        size_t a, z;
        split_starts(sp, &b[i], which, &a, &z);
        for (size_t s = a; s < z; s++) w->start[k++] = s;
    }
    SN_ASSERT(k == total);
    w->n = total;
    w->sequence_length = sp->lookback;
    w->sampling_rate = sp->sampling;
    w->sequence_stride = 1;
    w->start_index = w->start[0];
    w->end_index = w->start[total - 1] + 1;
    return SN_OK;
}
