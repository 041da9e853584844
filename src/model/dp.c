/* Data parallelism over an sn_comm: the group of one, the contiguous split
 * of work, collective status (a failing rank's message reaches every
 * rank), and chunked evaluation: evaluation batches spread over the ranks,
 * their sums gathered and added in batch order, so the result does not
 * depend on the number of ranks (docs/distributed.md). */
#include <limits.h>
#include <string.h>

#include "model/dp.h"
#include "model/model_impl.h"

/* ---- The group of one process. ---- */
static sn_status solo_max(void *ctx, int32_t *v, int n) {
    (void)ctx; (void)v; (void)n;
    return SN_OK;
}
static sn_status solo_max_start(void *ctx, int32_t *v, int n, int *req) {
    (void)ctx; (void)v; (void)n;
    *req = 0;
    return SN_OK;
}
static sn_status solo_sum_start(void *ctx, int64_t *v, size_t n, int *req) {
    (void)ctx; (void)v; (void)n;
    *req = 0;
    return SN_OK;
}
static sn_status solo_sum(void *ctx, int64_t *v, size_t n) {
    (void)ctx; (void)v; (void)n;
    return SN_OK;
}
static void solo_progress(void *ctx) { (void)ctx; }
static sn_status solo_wait(void *ctx, int req) {
    (void)ctx; (void)req;
    return SN_OK;
}
static sn_status solo_gather(void *ctx, const double *mine, const int *counts, double *all) {
    (void)ctx;
    if (counts[0] > 0) memmove(all, mine, (size_t)counts[0] * sizeof(double));
    return SN_OK;
}
static sn_status solo_bcast(void *ctx, void *buf, size_t n, int root) {
    (void)ctx; (void)buf; (void)n; (void)root;
    return SN_OK;
}

/* One rank: its own bytes, copied (the caller frees the result). */
static sn_status solo_bytes(const void *src, size_t n, void **out, size_t *count) {
    *out = sn_malloc(SN_MAX(n, 1), 1);
    if (!*out) return SN_ERR_NOMEM;
    if (n) memcpy(*out, src, n);
    *count = n;
    return SN_OK;
}
static sn_status solo_gather_bytes(void *ctx, const void *mine, size_t n, void **all, size_t *counts) {
    (void)ctx;
    return solo_bytes(mine, n, all, counts);
}
static sn_status solo_exchange(void *ctx, const void *send, const size_t *counts, void **recv, size_t *rcounts) {
    (void)ctx;
    return solo_bytes(send, counts[0], recv, rcounts);
}

static const sn_comm g_solo = {
    .rank = 0,
    .size = 1,
    .ctx = NULL,
    .max_i32 = solo_max,
    .max_i32_start = solo_max_start,
    .sum_i64_start = solo_sum_start,
    .sum_i64 = solo_sum,
    .progress = solo_progress,
    .wait = solo_wait,
    .gather_f64 = solo_gather,
    .bcast = solo_bcast,
    .gather_bytes = solo_gather_bytes,
    .exchange = solo_exchange,
};

const sn_comm *sn_dp_solo(void) { return &g_solo; }
const sn_comm *sn_dp_or_solo(const sn_comm *c) { return c ? c : &g_solo; }

void sn_dp_split(size_t n, int size, int rank, size_t *lo, size_t *hi) {
    size_t q = n / (size_t)size, r = n % (size_t)size, k = (size_t)rank;
    *lo = k * q + (k < r ? k : r);
    *hi = *lo + q + (k < r ? 1 : 0);
}

/* What the failing rank sends to every rank. */
typedef struct dp_failure {
    int32_t code;
    char msg[1000];
} dp_failure;

sn_status sn_dp_agree(const sn_comm *c, sn_status st) {
    c = sn_dp_or_solo(c);
    if (c->size == 1) return st;
    /* The lowest failing rank r contributes INT32_MAX - r; the maximum names it. */
    int32_t v = st ? INT32_MAX - c->rank : INT32_MIN;
    dp_failure f;
    memset(&f, 0, sizeof f);
    if (st) {
        f.code = st;
        snprintf(f.msg, sizeof f.msg, "%s", sn_error_last());
    }
    sn_status cs = c->max_i32(c->ctx, &v, 1);
    if (cs) return cs;
    if (v == INT32_MIN) return SN_OK;
    int root = INT32_MAX - v;
    if ((cs = c->bcast(c->ctx, &f, sizeof f, root))) return cs;
    f.msg[sizeof f.msg - 1] = '\0';
    return sn_error((sn_status)f.code, "rank %d: %s", root, f.msg);
}

sn_status sn_comm_agree(const sn_comm *c, sn_status st) { return sn_dp_agree(c, st); }

sn_status sn_dp_gather(const sn_comm *c, sn_status st, const double *mine, const int *counts, double *all) {
    c = sn_dp_or_solo(c);
    sn_status s = sn_dp_agree(c, st);
    if (s) return s;
    return c->gather_f64(c->ctx, mine, counts, all);
}

/* ---- Chunked evaluation. ---- */

/* Values one evaluation batch contributes: loss * rows, rows, then per
 * metric its total and count. */
#define EVAL_ROW(m) (2 + 2 * (size_t)(m)->n_metrics)

void sn_model_eval_shard(size_t n, int batch_size, int rank, int size, size_t *lo, size_t *hi) {
    size_t B = batch_size > 0 ? (size_t)batch_size : 1, nb = (n + B - 1) / B, b0, b1;
    sn_dp_split(nb, size, rank, &b0, &b1);
    *lo = SN_MIN(b0 * B, n);
    *hi = SN_MIN(b1 * B, n);
}

/* Evaluates this rank's batches [b0, b1) of B rows, one row of EVAL_ROW
 * values per batch into rows. */
static sn_status eval_my_batches(sn_model *m, const sn_dataset *data, size_t B, size_t b0, size_t b1, double *rows) {
    sn_status st = sn_model_plan(m, (int)B);
    if (st) return st;
    size_t *idx = sn_malloc(B, sizeof(size_t));
    if (!idx) return SN_ERR_NOMEM;
    for (size_t b = b0; b < b1 && !st; b++) {
        size_t s = b * B;
        int nb = (int)SN_MIN(B, data->n - s);
        for (int i = 0; i < nb; i++) idx[i] = s + (size_t)i;
        sn_csr csr;
        int has;
        if ((st = sn_model_load_batch(m, data, idx, nb, &csr, &has))) {
            st = sn_error_prefix(st, "evaluation batch at sample %zu", s);
            break;
        }
        sn_model_forward(m, nb, has ? &csr : NULL, 0);
        size_t rn, width;
        sn_model_loss_layout(m, nb, &rn, &width);
        const float *rw = sn_model_row_weights(m, nb);
        double *row = rows + (b - b0) * EVAL_ROW(m);
        row[0] = sn_loss_eval(m->loss, m->act[m->n_layers], m->ytrue, rw, rn, width, NULL) * nb;
        row[1] = nb;
        sn_metric_acc acc[4];
        sn_model_metrics_init(m, acc);
        for (int i = 0; i < m->n_metrics; i++) {
            sn_metric_update(&acc[i], m->act[m->n_layers], m->ytrue, rw, rn, width);
            row[2 + 2 * i] = acc[i].total;
            row[3 + 2 * i] = acc[i].count;
        }
    }
    free(idx);
    return st;
}

/* Adds the gathered batch rows (nb of them, in batch order) into *out. */
static void eval_logs(const sn_model *m, const double *all, size_t nb, sn_logs *out) {
    double lt = 0, lc = 0;
    sn_metric_acc acc[4];
    sn_model_metrics_init(m, acc);
    for (size_t b = 0; b < nb; b++) {
        const double *row = all + b * EVAL_ROW(m);
        lt += row[0];
        lc += row[1];
        for (int i = 0; i < m->n_metrics; i++) {
            acc[i].total += row[2 + 2 * i];
            acc[i].count += row[3 + 2 * i];
        }
    }
    memset(out, 0, sizeof *out);
    sn_logs_set(out, "loss", lt / lc);
    for (int i = 0; i < m->n_metrics; i++) sn_logs_set(out, sn_model_metric_key(m, i), sn_metric_result(&acc[i]));
}

/* Evaluation that gives the same logs on any number of ranks (and equal to
 * one process with comm NULL): the data is cut into batches of batch_size
 * rows, rank r evaluates its contiguous share of them
 * (sn_model_eval_shard: only those samples are filled from `data`), each
 * batch's loss sum and metric sums are gathered and added in batch order.
 * Every rank gets the logs. The numbers may differ from sn_model_evaluate
 * in the last bits (metrics are summed per batch first). Collective: every
 * rank of comm calls it with the same n and batch_size; a rank's failure
 * (bad data, no memory) is returned on every rank naming that rank.
 * Runs with denormals flushed; the caller's mode is restored on return. */
sn_status sn_model_evaluate_chunked(sn_model *m, const sn_dataset *data, int batch_size, const sn_comm *comm,
                                    sn_logs *out) {
    const sn_comm *c = sn_dp_or_solo(comm);
    sn_status st = SN_OK;
    if (!m || !out || !data) st = sn_error(SN_ERR_ARG, "sn_model_evaluate_chunked: NULL argument");
    else if (!m->compiled) st = sn_error(SN_ERR_STATE, "model is not compiled");
    else if (batch_size <= 0) st = sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", batch_size);
    else st = sn_model_check_dataset(m, data, "evaluation", 1);
    if ((st = sn_dp_agree(c, st))) return st;
    size_t B = SN_MIN((size_t)batch_size, data->n), nb = (data->n + B - 1) / B, row = EVAL_ROW(m);
    size_t b0, b1;
    sn_dp_split(nb, c->size, c->rank, &b0, &b1);
    int *counts = sn_malloc((size_t)c->size, sizeof(int));
    double *all = sn_malloc(nb * row + 1, sizeof(double));
    double *mine = sn_malloc((b1 - b0) * row + 1, sizeof(double));
    if (!counts || !all || !mine) st = SN_ERR_NOMEM;
    for (int r = 0; r < c->size && !st; r++) {
        size_t lo, hi;
        sn_dp_split(nb, c->size, r, &lo, &hi);
        counts[r] = (int)((hi - lo) * row);
    }
    sn_fp_state fp = sn_fp_enter();
    if (!st) st = eval_my_batches(m, data, B, b0, b1, mine);
    sn_fp_leave(fp);
    st = sn_dp_gather(c, st, mine, counts, all);
    if (!st) eval_logs(m, all, nb, out);
    free(mine);
    free(all);
    free(counts);
    return st;
}
