/* Generic dataset helpers: in-memory arrays. */
#include <string.h>
#include "core/internal.h"
#include "seqnn/dataset.h"

void sn_dataset_free(sn_dataset *d) {
    if (!d) return;
    if (d->destroy) d->destroy(d->ctx);
    memset(d, 0, sizeof *d);
}

typedef struct arrays_ctx {
    const float *x, *y;
    size_t xn, yn;
} arrays_ctx;

static sn_status arrays_fill(void *ctx, const size_t *idx, int B, sn_batch *b) {
    const arrays_ctx *a = ctx;
    for (int i = 0; i < B; i++) {
        memcpy(b->x + (size_t)i * a->xn, a->x + idx[i] * a->xn, a->xn * sizeof(float));
        if (b->y && a->y) memcpy(b->y + (size_t)i * a->yn, a->y + idx[i] * a->yn, a->yn * sizeof(float));
    }
    return SN_OK;
}

static void arrays_destroy(void *ctx) { free(ctx); }

sn_status sn_dataset_from_arrays(sn_dataset *out, const float *x, const float *y, size_t n, size_t x_numel,
                                 size_t y_numel) {
    if (!out || !x || n == 0 || x_numel == 0) return sn_error(SN_ERR_ARG, "sn_dataset_from_arrays: empty or NULL input");
    arrays_ctx *a = sn_calloc(1, sizeof *a);
    if (!a) return SN_ERR_NOMEM;
    a->x = x;
    a->y = y;
    a->xn = x_numel;
    a->yn = y_numel;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->x_numel = x_numel;
    out->y_numel = y_numel;
    out->ctx = a;
    out->fill = arrays_fill;
    out->destroy = arrays_destroy;
    return SN_OK;
}

/* ---- A window onto a part of a dataset (sn_dataset_window). ---- */

typedef struct window_ctx {
    sn_dataset inner;  /* samples [lo, lo + inner.n); empty when nothing is held */
    size_t lo;
    size_t *idx;       /* translated indexes (cap) */
    int cap;
} window_ctx;

static sn_status window_fill(void *ctx, const size_t *idx, int B, sn_batch *b) {
    window_ctx *w = ctx;
    if (B > w->cap) {
        size_t *t = sn_realloc(w->idx, (size_t)B, sizeof *t);
        if (!t) return SN_ERR_NOMEM;
        w->idx = t;
        w->cap = B;
    }
    for (int i = 0; i < B; i++) {
        if (idx[i] < w->lo || idx[i] - w->lo >= w->inner.n)
            return sn_error(SN_ERR_STATE, "sample %zu is not held here (this process holds samples [%zu, %zu))", idx[i],
                            w->lo, w->lo + w->inner.n);
        w->idx[i] = idx[i] - w->lo;
    }
    return w->inner.fill(w->inner.ctx, w->idx, B, b);
}

static void window_destroy(void *ctx) {
    window_ctx *w = ctx;
    if (!w) return;
    sn_dataset_free(&w->inner);
    free(w->idx);
    free(w);
}

sn_status sn_dataset_window(sn_dataset *out, sn_dataset *inner, size_t n, size_t lo) {
    if (!out || !inner) return sn_error(SN_ERR_ARG, "sn_dataset_window: NULL argument");
    if (lo > n || inner->n > n - lo)
        return sn_error(SN_ERR_ARG, "sn_dataset_window: samples [%zu, %zu) do not lie in [0, %zu)", lo, lo + inner->n, n);
    if (n == 0) return sn_error(SN_ERR_ARG, "sn_dataset_window: no samples");
    window_ctx *w = sn_calloc(1, sizeof *w);
    if (!w) return SN_ERR_NOMEM;
    w->inner = *inner;
    w->lo = lo;
    memset(inner, 0, sizeof *inner);
    *out = w->inner;
    out->n = n;
    out->ctx = w;
    out->fill = window_fill;
    out->destroy = window_destroy;
    return SN_OK;
}
