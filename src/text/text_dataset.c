/* Datasets of encoded texts: every document is encoded once (in parallel
 * with OpenMP; each document writes only its own row, so the result does not
 * depend on the thread count), then batches are gathered by sample index.
 *   int: ids (n, L) int32, fill writes floats into b->x (B, L).
 *   bag: CSR (row_ptr (n+1), col, val), fill builds a batch CSR it owns. */
#include <string.h>
#include "core/internal.h"
#include "core/par_error.h"
#include "seqnn/text.h"

typedef struct int_ctx {
    size_t n, L, yn;
    int32_t *ids;   /* (n, L) */
    float *labels;  /* (n, yn) class ids (yn 1) or multi-hot label sets */
    float *weights; /* (n) loss weights, or NULL */
} int_ctx;

typedef struct bag_ctx {
    size_t n, width;
    int64_t *row_ptr; /* (n+1) */
    int32_t *col;     /* (nnz) */
    float *val;       /* (nnz) */
    size_t yn;
    float *labels;    /* (n, yn) */
    float *weights;   /* (n) or NULL */
    /* batch CSR handed out by fill (valid until the next fill) */
    int64_t *b_row;   /* (b_rows+1) */
    int32_t *b_col;
    float *b_val;
    size_t b_rows, b_cap;
} bag_ctx;

static void int_destroy(void *p) {
    int_ctx *c = p;
    if (!c) return;
    free(c->ids);
    free(c->labels);
    free(c->weights);
    free(c);
}

static void bag_destroy(void *p) {
    bag_ctx *c = p;
    if (!c) return;
    free(c->row_ptr);
    free(c->col);
    free(c->val);
    free(c->labels);
    free(c->weights);
    free(c->b_row);
    free(c->b_col);
    free(c->b_val);
    free(c);
}

/* Targets (B, yn) and, with weights, the loss weights (B) of samples idx. */
static void fill_targets(const float *labels, const float *weights, size_t yn, const size_t *idx, int B, sn_batch *b) {
    for (int i = 0; i < B; i++) {
        if (b->y) memcpy(b->y + (size_t)i * yn, labels + idx[i] * yn, yn * sizeof *labels);
        if (weights && b->sw) b->sw[i] = weights[idx[i]];
    }
}

static sn_status int_fill(void *p, const size_t *idx, int B, sn_batch *b) {
    const int_ctx *c = p;
    for (int i = 0; i < B; i++)
        if (idx[i] >= c->n) return sn_error(SN_ERR_ARG, "text dataset: sample %zu out of range (n = %zu)", idx[i], c->n);
    for (int i = 0; i < B; i++) {
        const int32_t *row = c->ids + idx[i] * c->L;
        float *x = b->x + (size_t)i * c->L;
        for (size_t t = 0; t < c->L; t++) x[t] = (float)row[t];
    }
    fill_targets(c->labels, c->weights, c->yn, idx, B, b);
    b->B = B;
    b->sp_row_ptr = NULL;
    b->sp_col = NULL;
    b->sp_val = NULL;
    return SN_OK;
}

static sn_status bag_fill(void *p, const size_t *idx, int B, sn_batch *b) {
    bag_ctx *c = p;
    size_t nnz = 0;
    for (int i = 0; i < B; i++) {
        if (idx[i] >= c->n) return sn_error(SN_ERR_ARG, "text dataset: sample %zu out of range (n = %zu)", idx[i], c->n);
        nnz += (size_t)(c->row_ptr[idx[i] + 1] - c->row_ptr[idx[i]]);
    }
    if ((size_t)B + 1 > c->b_rows) {
        int64_t *r = sn_realloc(c->b_row, (size_t)B + 1, sizeof *r);
        if (!r) return SN_ERR_NOMEM;
        c->b_row = r;
        c->b_rows = (size_t)B + 1;
    }
    if (nnz > c->b_cap) {
        size_t nc = SN_MAX(nnz, 2 * c->b_cap);
        int32_t *col = sn_realloc(c->b_col, nc, sizeof *col);
        if (!col) return SN_ERR_NOMEM;
        c->b_col = col;
        float *val = sn_realloc(c->b_val, nc, sizeof *val);
        if (!val) return SN_ERR_NOMEM;
        c->b_val = val;
        c->b_cap = nc;
    }
    size_t o = 0;
    c->b_row[0] = 0;
    for (int i = 0; i < B; i++) {
        size_t s = (size_t)c->row_ptr[idx[i]], e = (size_t)c->row_ptr[idx[i] + 1];
        memcpy(c->b_col + o, c->col + s, (e - s) * sizeof *c->col);
        memcpy(c->b_val + o, c->val + s, (e - s) * sizeof *c->val);
        o += e - s;
        c->b_row[i + 1] = (int64_t)o;
    }
    fill_targets(c->labels, c->weights, c->yn, idx, B, b);
    b->B = B;
    b->sp_row_ptr = c->b_row;
    b->sp_col = c->b_col;
    b->sp_val = c->b_val;
    return SN_OK;
}

static sn_status check_corpus(const sn_vectorizer *v, const sn_text_corpus *c) {
    if (!v || !c) return sn_error(SN_ERR_ARG, "text dataset: NULL vectorizer or corpus");
    if (c->n == 0 || !c->texts || !c->labels) return sn_error(SN_ERR_ARG, "text dataset: empty corpus");
    return SN_OK;
}

/* Floats per target: the class id, or the multi-hot label set. */
static size_t target_width(const sn_text_corpus *c) { return c->label_sets ? (size_t)SN_MAX(c->n_classes, 1) : 1; }

/* The targets (n, target_width) as floats. */
static float *copy_labels(const sn_text_corpus *c) {
    size_t yn = target_width(c);
    float *l = sn_malloc(c->n, yn * sizeof *l);
    if (l)
        for (size_t i = 0; i < c->n; i++)
            for (size_t k = 0; k < yn; k++) l[i * yn + k] = c->label_sets ? (float)c->label_sets[i * yn + k] : (float)c->labels[i];
    return l;
}

/* A copy of the loss weights, or NULL (*ok = 0 when the copy failed). */
static float *copy_weights(const sn_text_corpus *c, int *ok) {
    if (!c->weights) return NULL;
    float *w = sn_malloc(c->n, sizeof *w);
    if (w) memcpy(w, c->weights, c->n * sizeof *w);
    else *ok = 0;
    return w;
}

/* The workers' first failure (smallest document index) on the calling
 * thread, its message prefixed with the function and the document. */
static sn_status doc_error(const sn_par_error *pe, const char *fn, const sn_text_corpus *c) {
    sn_status st = sn_par_error_raise(pe);
    return sn_error_prefix(st, "%s: encoding document %zu (%s)", fn, pe->index, c->paths ? c->paths[pe->index] : "?");
}

static sn_status sn_text_dataset_int_work(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_text_dataset_int: NULL output");
    memset(out, 0, sizeof *out);
    sn_status st = check_corpus(v, c);
    if (st != SN_OK) return st;
    const sn_vectorizer_opts *o = sn_vectorizer_get_opts(v);
    if (o->output_mode != SN_OUTPUT_INT || o->output_sequence_length <= 0)
        return sn_error(SN_ERR_STATE, "sn_text_dataset_int: needs int output mode with output_sequence_length > 0");
    int_ctx *ctx = sn_calloc(1, sizeof *ctx);
    if (!ctx) return SN_ERR_NOMEM;
    ctx->n = c->n;
    ctx->L = (size_t)o->output_sequence_length;
    ctx->ids = sn_calloc(c->n, ctx->L * sizeof(int32_t));
    ctx->labels = copy_labels(c);
    ctx->yn = target_width(c);
    int wok = 1;
    ctx->weights = copy_weights(c, &wok);
    if (!ctx->ids || !ctx->labels || !wok) {
        int_destroy(ctx);
        return SN_ERR_NOMEM;
    }
    sn_par_error pe;
    sn_par_error_init(&pe);
    long long n = (long long)c->n;
#pragma omp parallel num_threads(sn_threads_get())
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 32)
        for (long long i = 0; i < n; i++) {
            size_t cnt = 0;
            sn_status s = sn_vectorizer_encode_ids(v, c->texts[i], ctx->ids + (size_t)i * ctx->L, ctx->L, &cnt);
            if (s != SN_OK) sn_par_error_note(&pe, (size_t)i, s);
            /* rows were zeroed by calloc: shorter texts stay 0-padded at the end */
        }
        sn_fp_leave(fp);
    }
    if (sn_par_error_any(&pe)) {
        int_destroy(ctx);
        return doc_error(&pe, "sn_text_dataset_int", c);
    }
    out->n = c->n;
    out->x_numel = ctx->L;
    out->y_numel = ctx->yn;
    out->sparse = 0;
    out->sample_weights = ctx->weights != NULL;
    out->ctx = ctx;
    out->fill = int_fill;
    out->destroy = int_destroy;
    return SN_OK;
}

sn_status sn_text_dataset_int(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_text_dataset_int_work(out, v, c);
    sn_fp_leave(fp);
    return st;
}

/* A worker's scratch for one document's sparse encoding. */
typedef struct bag_scratch {
    int32_t *ti;
    float *tv;
    size_t cap;
} bag_scratch;

/* Document `text` into fresh exact-size arrays *col / *val (NULL when it
 * has no non-zero), growing the scratch when the document needs more. */
static sn_status encode_bag(const sn_vectorizer *v, const char *text, bag_scratch *w, int32_t **col, float **val,
                            size_t *nnz) {
    *nnz = 0;
    sn_status s = (w->ti && w->tv) ? sn_vectorizer_encode_sparse(v, text, w->ti, w->tv, w->cap, nnz) : SN_ERR_NOMEM;
    if (s == SN_ERR_SHAPE) {
        w->cap = *nnz;
        free(w->ti);
        free(w->tv);
        w->ti = sn_malloc(w->cap, sizeof *w->ti);
        w->tv = sn_malloc(w->cap, sizeof *w->tv);
        s = (w->ti && w->tv) ? sn_vectorizer_encode_sparse(v, text, w->ti, w->tv, w->cap, nnz) : SN_ERR_NOMEM;
    }
    if (s != SN_OK || !*nnz) return s;
    *col = sn_malloc(*nnz, sizeof **col);
    *val = sn_malloc(*nnz, sizeof **val);
    if (!*col || !*val) return SN_ERR_NOMEM;
    memcpy(*col, w->ti, *nnz * sizeof *w->ti);
    memcpy(*val, w->tv, *nnz * sizeof *w->tv);
    return SN_OK;
}

/* Phase 1, in parallel: each document into its own arrays dcol[i] /
 * dval[i], its non-zero count into row_ptr[i + 1]; failures into pe. */
static void encode_bags(const sn_vectorizer *v, const sn_text_corpus *c, int32_t **dcol, float **dval,
                        int64_t *row_ptr, sn_par_error *pe) {
    long long n = (long long)c->n;
#pragma omp parallel num_threads(sn_threads_get())
    {
        sn_fp_state fp = sn_fp_enter();
        /* sn_malloc: a failure leaves the worker's message for sn_par_error_note */
        bag_scratch w = {sn_malloc(1024, sizeof(int32_t)), sn_malloc(1024, sizeof(float)), 1024};
#pragma omp for schedule(dynamic, 32)
        for (long long i = 0; i < n; i++) {
            size_t nnz;
            sn_status s = encode_bag(v, c->texts[i], &w, &dcol[i], &dval[i], &nnz);
            if (s != SN_OK) sn_par_error_note(pe, (size_t)i, s);
            else row_ptr[i + 1] = (int64_t)nnz;
        }
        free(w.ti);
        free(w.tv);
        sn_fp_leave(fp);
    }
}

/* Phase 2: the per-document arrays concatenated in document order into the
 * CSR storage of ctx (when ok), and released. Returns whether it worked. */
static int concat_bags(bag_ctx *ctx, int32_t **dcol, float **dval, size_t n, int ok) {
    size_t total = 0;
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            total += (size_t)ctx->row_ptr[i + 1];
            ctx->row_ptr[i + 1] = (int64_t)total;
        }
        ctx->col = sn_malloc(SN_MAX(total, 1), sizeof *ctx->col);
        ctx->val = sn_malloc(SN_MAX(total, 1), sizeof *ctx->val);
        ok = ctx->col && ctx->val;
    }
    for (size_t i = 0; i < n; i++) {
        if (ok && dcol[i]) {
            size_t s = (size_t)ctx->row_ptr[i], k = (size_t)ctx->row_ptr[i + 1] - s;
            memcpy(ctx->col + s, dcol[i], k * sizeof *dcol[i]);
            memcpy(ctx->val + s, dval[i], k * sizeof *dval[i]);
        }
        free(dcol[i]);
        free(dval[i]);
    }
    return ok;
}

static sn_status sn_text_dataset_bag_work(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_text_dataset_bag: NULL output");
    memset(out, 0, sizeof *out);
    sn_status st = check_corpus(v, c);
    if (st != SN_OK) return st;
    const sn_vectorizer_opts *o = sn_vectorizer_get_opts(v);
    if (o->output_mode == SN_OUTPUT_INT)
        return sn_error(SN_ERR_STATE, "sn_text_dataset_bag: needs multi_hot, count or tf_idf output mode");
    bag_ctx *ctx = sn_calloc(1, sizeof *ctx);
    if (!ctx) return SN_ERR_NOMEM;
    ctx->n = c->n;
    ctx->width = sn_vectorizer_output_width(v);
    ctx->labels = copy_labels(c);
    ctx->yn = target_width(c);
    int wok = 1;
    ctx->weights = copy_weights(c, &wok);
    ctx->row_ptr = sn_calloc(c->n + 1, sizeof *ctx->row_ptr);
    int32_t **dcol = sn_calloc(c->n, sizeof *dcol);
    float **dval = sn_calloc(c->n, sizeof *dval);
    int ok = ctx->labels && ctx->row_ptr && dcol && dval && wok;
    sn_par_error pe;
    sn_par_error_init(&pe);
    if (ok) encode_bags(v, c, dcol, dval, ctx->row_ptr, &pe);
    if (dcol && dval) ok = concat_bags(ctx, dcol, dval, c->n, ok && !sn_par_error_any(&pe));
    free(dcol);
    free(dval);
    if (!ok) {
        bag_destroy(ctx);
        return sn_par_error_any(&pe) ? doc_error(&pe, "sn_text_dataset_bag", c) : SN_ERR_NOMEM;
    }
    out->n = c->n;
    out->x_numel = ctx->width;
    out->y_numel = ctx->yn;
    out->sparse = 1;
    out->sample_weights = ctx->weights != NULL;
    out->ctx = ctx;
    out->fill = bag_fill;
    out->destroy = bag_destroy;
    return SN_OK;
}

sn_status sn_text_dataset_bag(sn_dataset *out, const sn_vectorizer *v, const sn_text_corpus *c) {
    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on the calling thread (core/internal.h) */
    sn_status st = sn_text_dataset_bag_work(out, v, c);
    sn_fp_leave(fp);
    return st;
}
