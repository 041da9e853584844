/* Reading only a rank's share of the forecasting data under MPI
 * (docs/distributed.md, "Reading only a rank's share"; forecast.h).
 *
 * Every rank first reads the file's index (sn_csv_opts.index_only: each
 * row's time, line and series, no values), so the row count, the split
 * borders, the time report and the windows are known identically
 * everywhere. Then each rank parses only the rows it needs:
 *   - the rows under the training windows of its chunk positions' shards
 *     (sn_fit_shard; the training windows stay in time order in chunked
 *     training, so a shard is a stretch of the series),
 *   - the validation and test windows it evaluates in chunked evaluation
 *     (sn_model_eval_shard) — rank 0 all of them: it alone predicts them
 *     after training and computes the metrics, intervals, tables and plots
 *     (forecast_run.c: the other ranks train, evaluate their share and
 *     join the collective steps),
 *   - the statistics blocks it sums (sn_table_stats_blocked: blocks of the
 *     training rows, each given to the rank whose training stretch it
 *     starts in, with the season's rows before it for the MASE scale). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

const char *fc_shard_refusal(const fc_opts *o) {
    if (!cli_comm || cli_comm->size < 2) return "";
    if (o->whole) return o->whole;
    if (o->ffill) return "--ffill needs every row before";
    if (!o->data || sn_file_compressed(o->data, NULL, 0) != 0) return "compressed file";
    return NULL;
}

typedef struct rng_list {
    size_t *v; /* (n, 2) */
    size_t n, cap;
} rng_list;

static int add_range(rng_list *l, size_t b, size_t e) {
    if (e <= b) return 0;
    if (l->n && b >= l->v[2 * l->n - 2] && b <= l->v[2 * l->n - 1]) { /* extends the last one (ascending input) */
        if (e > l->v[2 * l->n - 1]) l->v[2 * l->n - 1] = e;
        return 0;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 256;
        size_t *v = realloc(l->v, nc * 2 * sizeof *v);
        if (!v) return 1;
        l->v = v, l->cap = nc;
    }
    l->v[2 * l->n] = b, l->v[2 * l->n + 1] = e, l->n++;
    return 0;
}

static int cmp_range(const void *a, const void *b) {
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* Sorts and merges overlapping or touching ranges in place. */
static void merge_ranges(rng_list *l) {
    if (!l->n) return;
    qsort(l->v, l->n, 2 * sizeof *l->v, cmp_range);
    size_t m = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (l->v[2 * i] <= l->v[2 * m + 1]) {
            if (l->v[2 * i + 1] > l->v[2 * m + 1]) l->v[2 * m + 1] = l->v[2 * i + 1];
        } else {
            m++;
            l->v[2 * m] = l->v[2 * i], l->v[2 * m + 1] = l->v[2 * i + 1];
        }
    }
    l->n = m + 1;
}

/* Training windows [*w0, *w1) of rank r: its shard of the samples of the
 * plain layout and of the channel-independent one (K samples a window). */
static int train_windows(const fc_data *d, int r, size_t *w0, size_t *w1) {
    const size_t nw = d->w[0].n, K = (size_t)d->K;
    size_t lo, hi;
    sn_status st = sn_fit_shard(nw, d->batch, d->chunks, r, cli_comm->size, &lo, &hi);
    if (st) return cli_fail(st, "--chunks");
    *w0 = lo, *w1 = hi;
    if (K > 1) {
        if ((st = sn_fit_shard(nw * K, d->batch, d->chunks, r, cli_comm->size, &lo, &hi))) return cli_fail(st, "--chunks");
        if (hi > lo) {
            size_t a = lo / K, b = (hi + K - 1) / K;
            if (*w1 <= *w0) *w0 = a, *w1 = b;
            else *w0 = SN_MIN_SZ(*w0, a), *w1 = *w1 > b ? *w1 : b;
        }
    }
    return 0;
}

/* The statistics ranges (each series' training rows) and their owners: a
 * block belongs to the last rank whose training stretch starts at or
 * before the block's first row (rank 0 before every stretch). */
int fc_shard_stats_req(const fc_data *d, sn_stats_req *r, size_t *begin, size_t *end, int **owner) {
    r->n_ranges = d->n_series;
    r->begin = begin, r->end = end;
    for (int s = 0; s < d->n_series; s++) begin[s] = d->b[s].begin, end[s] = d->b[s].train_end;
    *owner = NULL;
    r->owner = NULL;
    r->comm = NULL;
    if (!d->shard) return 0;
    const int size = cli_comm->size;
    size_t *first = malloc((size_t)size * sizeof *first);
    int *has = calloc((size_t)size, sizeof *has);
    size_t nb = sn_stats_n_blocks(r);
    int *ow = malloc((nb ? nb : 1) * sizeof *ow);
    if (!first || !has || !ow) {
        free(first), free(has), free(ow);
        return cli_fail(SN_ERR_NOMEM, NULL);
    }
    for (int k = 0; k < size; k++) {
        size_t w0, w1;
        if (train_windows(d, k, &w0, &w1)) {
            free(first), free(has), free(ow);
            return 1;
        }
        if (w1 > w0) has[k] = 1, first[k] = d->w[0].start[w0];
    }
    size_t q = 0;
    for (int s = 0; s < d->n_series; s++)
        for (size_t g = begin[s]; g < end[s]; g += SN_STATS_BLOCK, q++) {
            int o = 0;
            for (int k = 0; k < size; k++)
                if (has[k] && first[k] <= g) o = k;
            ow[q] = o;
        }
    free(first), free(has);
    *owner = ow;
    r->owner = ow;
    r->comm = cli_comm;
    return 0;
}

/* Validation / test windows [*w0, *w1) of split sp that rank r evaluates
 * in chunked evaluation (sn_model_eval_shard), for both layouts. */
static void eval_windows(const fc_data *d, int sp, int r, size_t *w0, size_t *w1) {
    const size_t nw = d->w[sp].n, K = (size_t)d->K;
    sn_model_eval_shard(nw, d->batch, r, cli_comm->size, w0, w1);
    if (K > 1) {
        size_t lo, hi;
        sn_model_eval_shard(nw * K, d->batch, r, cli_comm->size, &lo, &hi);
        if (hi > lo) {
            size_t a = lo / K, b = (hi + K - 1) / K;
            if (*w1 <= *w0) *w0 = a, *w1 = b;
            else *w0 = SN_MIN_SZ(*w0, a), *w1 = *w1 > b ? *w1 : b;
        }
    }
}

/* The rows this rank needs (module comment), merged. */
static int needed_rows(const fc_data *d, rng_list *l) {
    const size_t span = (size_t)sn_fc_layout_span(&d->lay);
    size_t w0, w1;
    if (train_windows(d, cli_comm->rank, &w0, &w1)) return 1;
    int rc = 0;
    for (size_t j = w0; j < w1 && !rc; j++) rc = add_range(l, d->w[0].start[j], d->w[0].start[j] + span + 1);
    for (int sp = 1; sp <= 2; sp++) {
        size_t e0 = 0, e1 = d->w[sp].n; /* rank 0: every window, for its predictions and reports */
        if (cli_comm->rank) eval_windows(d, sp, cli_comm->rank, &e0, &e1);
        for (size_t j = e0; j < e1 && !rc; j++) rc = add_range(l, d->w[sp].start[j], d->w[sp].start[j] + span + 1);
    }
    sn_stats_req r;
    size_t *begin = malloc((size_t)d->n_series * sizeof *begin), *end = malloc((size_t)d->n_series * sizeof *end);
    int *owner = NULL;
    if (!begin || !end || rc) rc = 1;
    else rc = fc_shard_stats_req(d, &r, begin, end, &owner);
    size_t q = 0;
    for (int s = 0; s < d->n_series && !rc; s++)
        for (size_t g = begin[s]; g < end[s] && !rc; g += SN_STATS_BLOCK, q++)
            if (owner[q] == cli_comm->rank) {
                size_t back = SN_MIN_SZ((size_t)d->season, g - begin[s]);
                rc = add_range(l, g - back, SN_MIN_SZ(g + SN_STATS_BLOCK, end[s]));
            }
    free(begin), free(end), free(owner);
    if (!rc) merge_ranges(l);
    return rc ? cli_fail(SN_ERR_NOMEM, NULL) : 0;
}

/* Rank 0's line (and with SEQNN_DIST_VERBOSE=1 one per rank on stderr):
 * the rows each rank parsed. */
static int report_rows(const fc_data *d, const char *cmd) {
    const int size = cli_comm->size;
    double mine = (double)d->tab.n_rows, *all = malloc((size_t)size * sizeof *all);
    int *cnt = malloc((size_t)size * sizeof *cnt);
    sn_status st = !all || !cnt ? SN_ERR_NOMEM : SN_OK;
    for (int k = 0; !st && k < size; k++) cnt[k] = 1;
    if (!st) st = cli_comm->gather_f64(cli_comm->ctx, &mine, cnt, all);
    const char *v = getenv("SEQNN_DIST_VERBOSE");
    if (v && *v && *v != '0')
        fprintf(stderr, "seqnn [rank %d]: data: parsed %zu of %zu rows of %s\n", cli_rank, d->tab.n_rows, d->N, d->o.data);
    if (!st && !d->quiet) {
        printf("data: each of %d ranks read only its share: rows", size);
        for (int k = 0; k < size; k++) printf("%s %.0f", k ? "," : "", all[k]);
        printf(" of %zu (its training and evaluation windows, rank 0 every validation / test row, its statistics "
               "blocks)\n",
               d->N);
    }
    free(all), free(cnt);
    if (st) return cli_fail(st, cmd);
    return 0;
}

int fc_shard_read(fc_data *d, const char *cmd) {
    rng_list l = {0};
    int rc = needed_rows(d, &l);
    sn_table part;
    memset(&part, 0, sizeof part);
    sn_status st = rc ? SN_ERR_ARG : SN_OK;
    if (!rc) {
        sn_csv_opts co = d->copts;
        if (d->named_cols) co.columns = (const char *const *)d->tab.col_names, co.n_columns = d->tab.n_cols;
        co.keep = l.v;
        co.n_keep = (int)l.n;
        co.keep_series_start = d->tab.series_start;
        co.keep_n_series = d->tab.n_series;
        if (l.n == 0 || l.n > 0x7fffffff) st = sn_error(SN_ERR_ARG, "%s: %zu row ranges to read", d->o.data, l.n);
        else st = sn_csv_read(&part, d->o.data, &co);
    }
    free(l.v);
    /* a failure on one rank (its rows' values) fails every rank alike */
    sn_status all = sn_comm_agree(cli_comm, st);
    if (all) {
        cli_dist_agreed = 1;
        return rc ? rc : cli_fail(all, NULL);
    }
    sn_table_free(&d->tab);
    d->tab = part;
    return report_rows(d, cmd);
}
