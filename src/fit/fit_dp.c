/* Chunked (data-parallel) training steps (fit_dp.h; docs/distributed.md).
 *
 * A batch of B rows is cut into K chunks of c = B/K rows. Chunk position k
 * of every step reads from shard k of the training samples (chunk.h), so
 * chunk (step, k) is the same set of samples however many ranks there are;
 * rank r computes the contiguous positions sn_chunk_positions gives it.
 * Each chunk runs forward and backward on its own: its dropout streams are
 * derived from (the streams' state at the step, k), its BatchNormalization
 * statistics are its own, its loss gradient is that of the SUM of its rows'
 * weighted losses. So a chunk's gradient is the same float vector wherever
 * it runs, with any thread count. The gradients of all chunks are summed
 * exactly (xsum.c: a shared exponent per group of 1024 floats, one integer
 * maximum over the ranks, then int64 sums over the ranks) and divided by
 * the batch's total loss weight; every rank then applies the same update.
 *
 * Communication per step, in the same order on every rank: per bucket (the
 * trainable tensors of one layer, last layer first) an int32 max of its
 * group exponents and an int64 sum of its values, started from the
 * backward pass of this rank's last chunk as each layer finishes (so the
 * sums of the upper layers run while the lower ones compute); then one
 * status agreement and one all-gather of each chunk's sums (loss, weight,
 * rows, metric sums, BatchNormalization statistics) and each rank's stop
 * flag, added in chunk order. */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "fit/chunk.h"
#include "fit/fit_dp.h"
#include "model/dp.h"

/* A run of trainable floats sharing one exponent. */
typedef struct dp_group {
    size_t off;   /* in the parameter / gradient buffer */
    size_t t;     /* in the compact trainable layout (store, acc) */
    size_t n;
} dp_group;

/* The trainable tensors of one layer: reduced together. */
typedef struct dp_bucket {
    int g0, g1;      /* groups [g0, g1) */
    size_t t0, t1;   /* compact range */
    int max_req, sum_req;
} dp_bucket;

/* A non-trainable tensor of a trainable layer that training forward updates
 * (BatchNormalization's moving statistics). */
typedef struct dp_stat {
    size_t off, n;
} dp_stat;

#define DP_MAX_STREAMS 64

struct fit_dp {
    sn_model *m;
    const sn_dataset *train;
    const sn_comm *c;
    int K, k0, k1;          /* chunks per batch; this rank's positions [k0, k1) */
    size_t rows;            /* rows per chunk */
    int S;                  /* fixed-point fraction bits */
    size_t nt;              /* trainable floats */
    dp_group *grp;
    int n_grp;
    int32_t *exps;          /* (n_grp) the groups' exponents (this rank's, then all ranks') */
    int32_t *lexp;          /* (n_grp) exponents of this rank's last chunk alone */
    dp_bucket *bkt;         /* last layer first */
    int n_bkt;
    int *layer_bkt;         /* (n_layers) bucket of a layer, -1 for none */
    /* this rank's earlier chunks (all but its last): each chunk's non-zero
     * groups packed (embedding and bag-of-words gradients are mostly zero
     * rows), with their exponents */
    float *store;           /* (k1-k0-1, nt) */
    int32_t *sexp;          /* (k1-k0-1, n_grp) exponent of each stored group */
    size_t *spos;           /* (k1-k0-1, n_grp) its offset in the chunk's store (if not NONE) */
    int64_t *acc;           /* (nt) */
    dp_stat *stat;
    int n_stat;
    size_t stat_n;          /* floats in the statistics */
    float *stat0;           /* (stat_n) statistics at the start of the step */
    double *stat_sum;       /* (stat_n) their rows-weighted sum over the chunks */
    volatile sig_atomic_t *stop; /* the caller's stop flag, or NULL */
    size_t row_len;         /* values per chunk row */
    int *counts;            /* (size) values each rank gathers */
    double *mine, *all;
    sn_rng *streams[DP_MAX_STREAMS];
    sn_rng base[DP_MAX_STREAMS];
    int n_streams;
    /* the step in progress */
    int next_bkt;           /* first bucket not yet started */
    int pending;            /* bucket whose max is in flight, -1 none */
    int pending_last;       /* finish_max works on the last bucket */
    int have_local;         /* this rank's chunks' gradients are valid */
    sn_status comm_err;
};

int fit_dp_root(const fit_dp *d) { return d->c->rank == 0; }

sn_status fit_dp_agree(const fit_dp *d, sn_status st) { return sn_dp_agree(d->c, st); }

sn_status fit_dp_any(const fit_dp *d, int *flag) {
    int32_t v = *flag != 0;
    sn_status st = d->c->max_i32(d->c->ctx, &v, 1);
    *flag = v != 0;
    return st;
}

sn_status sn_fit_shard(size_t n, int batch_size, int chunks, int rank, int size, size_t *lo, size_t *hi) {
    if (!lo || !hi) return sn_error(SN_ERR_ARG, "sn_fit_shard: NULL argument");
    if (chunks <= 0 || batch_size <= 0 || batch_size % chunks)
        return sn_error(SN_ERR_ARG, "batch size %d is not a multiple of %d chunks", batch_size, chunks);
    if (size <= 0 || rank < 0 || rank >= size) return sn_error(SN_ERR_ARG, "rank %d of %d", rank, size);
    int k0, k1;
    sn_chunk_positions(chunks, size, rank, &k0, &k1);
    size_t a, b;
    sn_chunk_shard(n, chunks, k0, lo, &a);
    sn_chunk_shard(n, chunks, k1 - 1 < k0 ? k0 : k1 - 1, &a, &b);
    *hi = k1 > k0 ? b : *lo;
    return SN_OK;
}

void fit_dp_order(const fit_dp *d, size_t *idx, uint64_t epoch_seed, int shuffle) {
    size_t n = d->train->n;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    if (!shuffle) return;
    sn_rng base;
    sn_rng_seed(&base, epoch_seed);
    for (int k = 0; k < d->K; k++) {
        size_t lo, hi;
        sn_chunk_shard(n, d->K, k, &lo, &hi);
        sn_rng r;
        sn_chunk_rng(&r, &base, (uint64_t)k);
        sn_rng_shuffle(&r, idx + lo, hi - lo);
    }
}

/* ---- Set-up ---- */

/* Groups and buckets from the model's trainable segments, in layer order;
 * buckets are numbered from the last layer down. */
static sn_status make_layout(fit_dp *d) {
    sn_model *m = d->m;
    size_t ng = 0;
    for (int s = 0; s < m->n_seg; s++) ng += (m->seg[s].n + SN_XSUM_GROUP - 1) / SN_XSUM_GROUP;
    d->grp = sn_malloc(ng + 1, sizeof *d->grp);
    d->exps = sn_malloc(ng + 1, sizeof *d->exps);
    d->lexp = sn_malloc(ng + 1, sizeof *d->lexp);
    d->bkt = sn_malloc((size_t)m->n_layers, sizeof *d->bkt);
    d->layer_bkt = sn_malloc((size_t)m->n_layers, sizeof *d->layer_bkt);
    if (!d->grp || !d->exps || !d->lexp || !d->bkt || !d->layer_bkt) return SN_ERR_NOMEM;
    /* groups in layer order first; buckets recorded per layer */
    int nb = 0, s = 0;
    size_t t = 0;
    dp_bucket tmp[1];
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        size_t lo = (size_t)(L->w - m->params), hi = lo + L->n_params;
        d->layer_bkt[i] = -1;
        tmp[0].g0 = d->n_grp;
        tmp[0].t0 = t;
        for (; s < m->n_seg && m->seg[s].offset >= lo && m->seg[s].offset < hi; s++)
            for (size_t o = 0; o < m->seg[s].n; o += SN_XSUM_GROUP) {
                dp_group *g = &d->grp[d->n_grp++];
                g->off = m->seg[s].offset + o;
                g->t = t;
                g->n = SN_MIN((size_t)SN_XSUM_GROUP, m->seg[s].n - o);
                t += g->n;
            }
        if (d->n_grp == tmp[0].g0) continue;
        tmp[0].g1 = d->n_grp;
        tmp[0].t1 = t;
        d->bkt[nb] = tmp[0];
        d->layer_bkt[i] = nb++;
    }
    SN_ASSERT(s == m->n_seg);
    d->nt = t;
    d->n_bkt = nb;
    /* number buckets from the last layer: reverse the list and the map */
    for (int a = 0, b = nb - 1; a < b; a++, b--) {
        dp_bucket x = d->bkt[a];
        d->bkt[a] = d->bkt[b];
        d->bkt[b] = x;
    }
    for (int i = 0; i < m->n_layers; i++)
        if (d->layer_bkt[i] >= 0) d->layer_bkt[i] = nb - 1 - d->layer_bkt[i];
    return SN_OK;
}

/* The statistics tensors and the RNG streams of the model. */
static sn_status find_stats_and_streams(fit_dp *d) {
    sn_model *m = d->m;
    int ns = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i]->trainable)
            for (int k = 0; k < m->layers[i]->n_tensors; k++) ns += !m->layers[i]->tensors[k].trainable;
    d->stat = sn_malloc((size_t)ns + 1, sizeof *d->stat);
    if (!d->stat) return SN_ERR_NOMEM;
    d->streams[d->n_streams++] = &m->rng;
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        if (L->trainable)
            for (int k = 0; k < L->n_tensors; k++)
                if (!L->tensors[k].trainable) {
                    d->stat[d->n_stat].off = (size_t)(L->w - m->params) + L->tensors[k].offset;
                    d->stat[d->n_stat].n = L->tensors[k].numel;
                    d->stat_n += L->tensors[k].numel;
                    d->n_stat++;
                }
        if (!L->ops->rng_streams) continue;
        int n = L->ops->rng_streams(L, d->streams + d->n_streams, DP_MAX_STREAMS - d->n_streams);
        if (d->n_streams + n > DP_MAX_STREAMS)
            return sn_error(SN_ERR_UNSUPPORTED, "chunked training: more than %d dropout streams", DP_MAX_STREAMS);
        d->n_streams += n;
    }
    d->stat0 = sn_malloc(d->stat_n + 1, sizeof(float));
    d->stat_sum = sn_malloc(d->stat_n + 1, sizeof(double));
    return d->stat0 && d->stat_sum ? SN_OK : SN_ERR_NOMEM;
}

/* Buffers for this rank's chunks and the gathers. */
static sn_status alloc_buffers(fit_dp *d) {
    const sn_comm *c = d->c;
    size_t local = (size_t)(d->k1 - d->k0);
    d->row_len = 3 + 2 * (size_t)d->m->n_metrics + d->stat_n;
    d->store = sn_malloc(local > 1 ? (local - 1) * d->nt : 1, sizeof(float));
    d->sexp = sn_malloc(local > 1 ? (local - 1) * (size_t)d->n_grp : 1, sizeof(int32_t));
    d->spos = sn_malloc(local > 1 ? (local - 1) * (size_t)d->n_grp : 1, sizeof(size_t));
    d->acc = sn_malloc(d->nt + 1, sizeof(int64_t));
    d->counts = sn_malloc((size_t)c->size, sizeof(int));
    d->mine = sn_malloc(1 + local * d->row_len, sizeof(double));
    d->all = sn_malloc((size_t)c->size + (size_t)d->K * d->row_len, sizeof(double));
    if (!d->store || !d->sexp || !d->spos || !d->acc || !d->counts || !d->mine || !d->all)
        return sn_error(SN_ERR_NOMEM, "chunked training: no memory for the gradients of %zu chunks (%zu floats each)",
                        local, d->nt);
    for (int r = 0; r < c->size; r++) {
        int a, b;
        sn_chunk_positions(d->K, c->size, r, &a, &b);
        d->counts[r] = (int)(1 + (size_t)(b - a) * d->row_len);
    }
    return SN_OK;
}

/* FNV-1a over n bytes. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* A digest of everything the ranks must agree on before the first step. */
static uint64_t start_digest(const fit_dp *d, const sn_fit_opts *o, const sn_train_state *ts) {
    const sn_model *m = d->m;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t n = d->train->n;
    int cfg[6] = {o->epochs, o->batch_size, o->chunks, o->shuffle, m->n_layers, (int)m->n_params};
    h = fnv(h, cfg, sizeof cfg);
    h = fnv(h, &n, sizeof n);
    h = fnv(h, &o->seed, sizeof o->seed);
    h = fnv(h, m->params, m->n_params * sizeof(float));
    const float *slots[3] = {m->opt.m, m->opt.v, m->opt.u};
    for (int i = 0; i < 3; i++)
        if (slots[i]) h = fnv(h, slots[i], m->opt.n * sizeof(float));
    h = fnv(h, &m->opt.iterations, sizeof m->opt.iterations);
    for (int i = 0; i < d->n_streams; i++) h = fnv(h, d->streams[i]->s, sizeof d->streams[i]->s);
    int ti[6] = {ts->epoch_done, ts->have_best_ckpt, ts->have_best_es, ts->wait, ts->step_done, 0};
    double td[12] = {ts->best_ckpt, ts->best_es, ts->ltot, ts->lcnt};
    memcpy(td + 4, ts->mtotal, sizeof ts->mtotal);
    memcpy(td + 8, ts->mcount, sizeof ts->mcount);
    h = fnv(h, ti, sizeof ti);
    h = fnv(h, td, sizeof td);
    return h;
}

/* SN_ERR_STATE on every rank unless every rank has the same digest. */
static sn_status check_same_start(const fit_dp *d, uint64_t h) {
    /* The digest in four 16-bit pieces and their negatives: after the
     * maximum, piece i holds the largest value and piece i+4 minus the
     * smallest, equal on every rank. */
    int32_t v[8];
    for (int i = 0; i < 4; i++) {
        v[i] = (int32_t)((h >> (16 * i)) & 0xffff);
        v[i + 4] = -v[i];
    }
    sn_status st = d->c->max_i32(d->c->ctx, v, 8);
    if (st) return st;
    for (int i = 0; i < 4; i++)
        if (v[i] != -v[i + 4])
            return sn_error(SN_ERR_STATE,
                            "chunked training: the %d ranks do not start from the same model, optimizer, RNG, "
                            "training state or settings (a resume file or model only some ranks can read? the same "
                            "data on every rank?)",
                            d->c->size);
    return SN_OK;
}

sn_status fit_dp_begin(fit_dp **out, sn_status st, sn_model *m, const sn_dataset *train, const sn_fit_opts *o,
                       const sn_train_state *ts) {
    *out = NULL;
    const sn_comm *c = sn_dp_or_solo(o->comm);
    fit_dp *d = st ? NULL : sn_calloc(1, sizeof *d);
    if (!st && !d) st = SN_ERR_NOMEM;
    if (!st) {
        d->m = m;
        d->train = train;
        d->c = c;
        d->K = o->chunks;
        d->rows = (size_t)(o->batch_size / o->chunks);
        d->S = sn_xsum_bits(d->K);
        d->pending = -1;
        d->stop = o->stop_flag;
        sn_chunk_positions(d->K, c->size, c->rank, &d->k0, &d->k1);
        if (!(st = make_layout(d)) && !(st = find_stats_and_streams(d))) st = alloc_buffers(d);
    }
    if ((st = sn_dp_agree(c, st)) || (st = check_same_start(d, start_digest(d, o, ts)))) {
        fit_dp_free(d);
        return st;
    }
    sn_log(SN_LOG_INFO,
           "chunked training: %d chunks of %zu rows on %d rank(s), this one computing %d; per step %zu int64 sums "
           "and %d int32 exponents all-reduced in %d buckets (%.1f KiB), %d doubles gathered",
           d->K, d->rows, c->size, d->k1 - d->k0, d->nt, d->n_grp, d->n_bkt,
           (8.0 * (double)d->nt + 4.0 * d->n_grp) / 1024.0, c->size + d->K * (int)d->row_len);
    *out = d;
    return SN_OK;
}

void fit_dp_free(fit_dp *d) {
    if (!d) return;
    free(d->grp);
    free(d->exps);
    free(d->lexp);
    free(d->bkt);
    free(d->layer_bkt);
    free(d->store);
    free(d->sexp);
    free(d->spos);
    free(d->acc);
    free(d->stat);
    free(d->stat0);
    free(d->stat_sum);
    free(d->counts);
    free(d->mine);
    free(d->all);
    free(d);
}

/* ---- One step ---- */

/* Rows [*a, *b) of idx that chunk position k takes at `step`. */
static void chunk_rows(const fit_dp *d, int k, size_t step, size_t *a, size_t *b) {
    size_t lo, hi;
    sn_chunk_shard(d->train->n, d->K, k, &lo, &hi);
    *a = SN_MIN(lo + step * d->rows, hi);
    *b = SN_MIN(*a + d->rows, hi);
}

/* The exponents of bucket b's groups over this rank's chunks. */
static void local_exps(fit_dp *d, int b) {
    const dp_bucket *bk = &d->bkt[b];
    int stored = d->k1 - d->k0 - 1;
    for (int g = bk->g0; g < bk->g1; g++) {
        const dp_group *gr = &d->grp[g];
        int32_t e = SN_XSUM_NONE;
        if (d->have_local) {
            e = d->lexp[g] = sn_xsum_exp(d->m->grads + gr->off, gr->n);
            for (int j = 0; j < stored; j++) e = SN_MAX(e, d->sexp[(size_t)j * d->n_grp + g]);
        }
        d->exps[g] = e;
    }
}

/* Completes the pending bucket's exponents, rounds this rank's chunks onto
 * their grid, sums them and starts the sum over the ranks. */
static void finish_max(fit_dp *d) {
    dp_bucket *bk = &d->bkt[d->pending];
    d->pending_last = d->pending == d->n_bkt - 1;
    d->pending = -1;
    if ((d->comm_err = d->c->wait(d->c->ctx, bk->max_req))) return;
    memset(d->acc + bk->t0, 0, (bk->t1 - bk->t0) * sizeof(int64_t));
    int stored = d->k1 - d->k0 - 1;
    for (int g = bk->g0; g < bk->g1 && d->have_local; g++) {
        const dp_group *gr = &d->grp[g];
        int32_t e = d->exps[g];
        if (e == SN_XSUM_NONE || e == SN_XSUM_NONFINITE) continue;
        for (int j = 0; j < stored; j++) {
            size_t q = (size_t)j * d->n_grp + g;
            if (d->sexp[q] != SN_XSUM_NONE) sn_xsum_add(d->acc + gr->t, d->store + (size_t)j * d->nt + d->spos[q], gr->n, e, d->S);
        }
        if (d->lexp[g] != SN_XSUM_NONE) sn_xsum_add(d->acc + gr->t, d->m->grads + gr->off, gr->n, e, d->S);
    }
    /* The first layer's bucket is started after every backward pass: nothing
     * is left to overlap, and MPI's blocking all-reduce is the faster one
     * (docs/distributed.md). The choice depends on the bucket alone, so
     * every rank makes it alike (blocking and non-blocking collectives do
     * not match each other). */
    bk->sum_req = -1;
    if (d->pending_last)
        d->comm_err = d->c->sum_i64(d->c->ctx, d->acc + bk->t0, bk->t1 - bk->t0);
    else
        d->comm_err = d->c->sum_i64_start(d->c->ctx, d->acc + bk->t0, bk->t1 - bk->t0, &bk->sum_req);
}

/* Starts bucket b: its sum follows once its maximum is in (at the next
 * bucket, so every rank issues max(0), sum(0), max(1), sum(1), ...). */
static void start_bucket(fit_dp *d, int b) {
    if (d->comm_err) return;
    if (d->pending >= 0) finish_max(d);
    if (d->comm_err) return;
    local_exps(d, b);
    dp_bucket *bk = &d->bkt[b];
    d->comm_err = d->c->max_i32_start(d->c->ctx, d->exps + bk->g0, bk->g1 - bk->g0, &bk->max_req);
    d->pending = b;
    d->next_bkt = b + 1;
}

/* Backward hook of this rank's last chunk: layer's gradients are final. */
static void on_layer(void *user, int layer) {
    fit_dp *d = user;
    int b = d->layer_bkt[layer];
    while (b >= 0 && d->next_bkt <= b && !d->comm_err) start_bucket(d, d->next_bkt);
    d->c->progress(d->c->ctx);
}

/* Starts what the backward pass did not, and completes every sum. */
static sn_status finish_buckets(fit_dp *d) {
    while (d->next_bkt < d->n_bkt && !d->comm_err) start_bucket(d, d->next_bkt);
    if (d->pending >= 0 && !d->comm_err) finish_max(d);
    for (int b = 0; b < d->n_bkt && !d->comm_err; b++)
        if (d->bkt[b].sum_req >= 0) d->comm_err = d->c->wait(d->c->ctx, d->bkt[b].sum_req);
    return d->comm_err;
}

/* Copies the gradients of this rank's chunk j (not its last) out of the
 * way of the next backward pass. */
static void store_chunk(fit_dp *d, int j) {
    float *dst = d->store + (size_t)j * d->nt;
    int32_t *ex = d->sexp + (size_t)j * d->n_grp;
    size_t *pos = d->spos + (size_t)j * d->n_grp, p = 0;
    for (int g = 0; g < d->n_grp; g++) {
        const float *src = d->m->grads + d->grp[g].off;
        ex[g] = sn_xsum_exp(src, d->grp[g].n);
        if (ex[g] == SN_XSUM_NONE) continue;
        pos[g] = p;
        memcpy(dst + p, src, d->grp[g].n * sizeof(float));
        p += d->grp[g].n;
    }
}

/* The chunk's loss into row (weight, weighted loss sum, rows, metric sums,
 * statistics) and dlast = the gradient of its rows' weighted loss SUM. */
static void chunk_loss(fit_dp *d, int nb, float *dlast, double *row) {
    sn_model *m = d->m;
    size_t rows, width;
    sn_model_loss_layout(m, nb, &rows, &width);
    const float *rw = sn_model_row_weights(m, nb);
    double w = (double)rows;
    if (rw) {
        w = 0;
        for (size_t i = 0; i < rows; i++) w += rw[i];
    }
    double l = sn_loss_eval(m->loss, m->act[m->n_layers], m->ytrue, rw, rows, width, dlast);
    if (w != 1.0)
        for (size_t i = 0; i < rows * width; i++) dlast[i] = (float)(dlast[i] * w);
    row[0] = w;
    row[1] = l * w;
    row[2] = nb;
    sn_metric_acc acc[4];
    sn_model_metrics_init(m, acc);
    for (int i = 0; i < m->n_metrics; i++) {
        sn_metric_update(&acc[i], m->act[m->n_layers], m->ytrue, rw, rows, width);
        row[3 + 2 * i] = acc[i].total;
        row[4 + 2 * i] = acc[i].count;
    }
    double *sv = row + 3 + 2 * m->n_metrics;
    for (int s = 0; s < d->n_stat; s++)
        for (size_t i = 0; i < d->stat[s].n; i++) *sv++ = m->params[d->stat[s].off + i];
}

/* Puts the statistics back to where the step began (each chunk starts
 * from them). */
static void restore_stats(fit_dp *d) {
    const float *p = d->stat0;
    for (int s = 0; s < d->n_stat; s++) {
        memcpy(d->m->params + d->stat[s].off, p, d->stat[s].n * sizeof(float));
        p += d->stat[s].n;
    }
}

/* Chunk position k over samples idx[0..nb): its streams, forward, loss,
 * backward. j: this rank's index of the chunk, -1 for its last one (whose
 * backward starts the reductions; its gradients stay in m->grads). */
static sn_status run_chunk(fit_dp *d, const size_t *idx, int nb, int k, int j, double *row) {
    sn_model *m = d->m;
    for (int i = 0; i < d->n_streams; i++) sn_chunk_rng(d->streams[i], &d->base[i], (uint64_t)k);
    restore_stats(d);
    sn_csr csr;
    int has;
    sn_status st = sn_model_load_batch(m, d->train, idx, nb, &csr, &has);
    if (st) return st;
    sn_model_forward(m, nb, has ? &csr : NULL, 1);
    float *dlast = m->dbuf[m->n_layers % 2];
    chunk_loss(d, nb, dlast, row);
    if (j >= 0) {
        sn_model_backward(m, nb, has ? &csr : NULL, dlast);
        store_chunk(d, j);
        return SN_OK;
    }
    d->have_local = 1;
    sn_model_backward_hook(m, nb, has ? &csr : NULL, dlast, on_layer, d);
    return SN_OK;
}

/* A chunk position whose shard has no rows left at this step. */
static void empty_chunk(fit_dp *d, int j, double *row) {
    sn_model *m = d->m;
    if (j >= 0)
        for (int g = 0; g < d->n_grp; g++) d->sexp[(size_t)j * d->n_grp + g] = SN_XSUM_NONE;
    else {
        memset(m->grads, 0, m->n_params * sizeof(float));
        d->have_local = 1;
    }
    memset(row, 0, d->row_len * sizeof(double));
}

/* 1 when the gradient buffer's trainable values are all finite. */
static int grads_finite(const fit_dp *d) {
    float acc = 0.0f;
    for (int g = 0; g < d->n_grp; g++) {
        const float *x = d->m->grads + d->grp[g].off;
        for (size_t i = 0; i < d->grp[g].n; i++) acc += x[i] * 0.0f; /* NaN / Inf make acc NaN */
    }
    return acc == 0.0f;
}

/* Adds the gathered chunk rows in chunk order into *res and the statistics
 * sums; returns the batch's total loss weight. */
static double add_rows(fit_dp *d, fit_dp_result *res) {
    const sn_model *m = d->m;
    double W = 0, L = 0;
    memset(res, 0, sizeof *res);
    for (size_t i = 0; i < d->stat_n; i++) d->stat_sum[i] = 0;
    const double *p = d->all;
    for (int r = 0; r < d->c->size; r++) {
        res->stop |= *p++ != 0.0;
        int k0, k1;
        sn_chunk_positions(d->K, d->c->size, r, &k0, &k1);
        for (int k = k0; k < k1; k++, p += d->row_len) {
            W += p[0];
            L += p[1];
            res->rows += p[2];
            for (int i = 0; i < m->n_metrics; i++) {
                res->mtotal[i] += p[3 + 2 * i];
                res->mcount[i] += p[4 + 2 * i];
            }
            const double *sv = p + 3 + 2 * m->n_metrics;
            for (size_t i = 0; i < d->stat_n; i++) d->stat_sum[i] += p[2] * sv[i];
        }
    }
    res->loss = W > 0 ? L / W : 0.0;
    return W;
}

/* The summed gradient into m->grads (divided by the batch's loss weight W),
 * the statistics' update, the optimizer step; SN_ERR_NUMERIC before any
 * change for a non-finite loss or gradient. */
static sn_status apply(fit_dp *d, double W, const fit_dp_result *res, size_t step, int epoch) {
    sn_model *m = d->m;
    restore_stats(d); /* the last chunk's forward moved them */
    if (!isfinite(res->loss))
        return sn_error(SN_ERR_NUMERIC,
                        "loss is %s at epoch %d step %zu: training stopped (TerminateOnNaN); the last saved "
                        "checkpoint is unchanged",
                        isnan(res->loss) ? "NaN" : "Inf", epoch + 1, step + 1);
    int bad = 0;
    for (int g = 0; g < d->n_grp; g++) bad |= d->exps[g] == SN_XSUM_NONFINITE;
    for (int g = 0; g < d->n_grp && !bad; g++)
        sn_xsum_get(m->grads + d->grp[g].off, d->acc + d->grp[g].t, d->grp[g].n, d->exps[g], d->S, W > 0 ? W : 1.0);
    if (bad || !grads_finite(d))
        return sn_error(SN_ERR_NUMERIC,
                        "gradient holds NaN or Inf at epoch %d step %zu: training stopped; the last saved "
                        "checkpoint is unchanged",
                        epoch + 1, step + 1);
    sn_status st = sn_optimizer_step(&m->opt, m->params, m->grads, m->seg, m->n_seg);
    if (st) return st;
    size_t i = 0;
    for (int s = 0; s < d->n_stat; s++)
        for (size_t k = 0; k < d->stat[s].n; k++, i++)
            m->params[d->stat[s].off + k] = res->rows > 0 ? (float)(d->stat_sum[i] / res->rows) : d->stat0[i];
    return SN_OK;
}

sn_status fit_dp_step(fit_dp *d, const size_t *idx, size_t step, int epoch, fit_dp_result *res) {
    sn_model *m = d->m;
    for (int i = 0; i < d->n_streams; i++) d->base[i] = *d->streams[i];
    float *p0 = d->stat0;
    for (int s = 0; s < d->n_stat; s++) {
        memcpy(p0, m->params + d->stat[s].off, d->stat[s].n * sizeof(float));
        p0 += d->stat[s].n;
    }
    d->next_bkt = 0;
    d->pending = -1;
    d->have_local = 0;
    d->comm_err = SN_OK;
    int local = d->k1 - d->k0;
    sn_status st = SN_OK;
    for (int j = 0; j < local; j++) {
        double *row = d->mine + 1 + (size_t)j * d->row_len;
        memset(row, 0, d->row_len * sizeof(double));
        if (st) continue;
        size_t a, b;
        chunk_rows(d, d->k0 + j, step, &a, &b);
        int jj = j == local - 1 ? -1 : j;
        if (b > a) st = run_chunk(d, idx + a, (int)(b - a), d->k0 + j, jj, row);
        else empty_chunk(d, jj, row);
        if (st) st = sn_error_prefix(st, "epoch %d step %zu", epoch + 1, step + 1);
    }
    if (st) d->have_local = 0;
    sn_status cs = finish_buckets(d);
    if (cs) return cs;
    d->mine[0] = d->stop && *d->stop;
    if ((st = sn_dp_gather(d->c, st, d->mine, d->counts, d->all))) return st;
    double W = add_rows(d, res);
    if ((st = apply(d, W, res, step, epoch))) return st;
    for (int i = 0; i < d->n_streams; i++) sn_chunk_rng(d->streams[i], &d->base[i], SN_CHUNK_NEXT);
    return SN_OK;
}
