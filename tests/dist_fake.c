/* Threads posing as ranks: dist_fake.h. Each collective posts this rank's
 * pointer, meets the others at a barrier, reads every rank's data into its
 * own result, meets them again (so no rank overwrites data another still
 * reads), then writes the result. */
#define _POSIX_C_SOURCE 200809L
#include "dist_fake.h"

#include <stdlib.h>
#include <string.h>

static void meet(fake_rank *r) { pthread_barrier_wait(&r->g->bar); }

static sn_status f_max(void *ctx, int32_t *v, int n) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    int32_t *t = malloc((size_t)(n > 0 ? n : 1) * sizeof *t);
    g->slot[r->rank] = v;
    meet(r);
    for (int i = 0; i < n; i++) {
        t[i] = INT32_MIN;
        for (int k = 0; k < g->size; k++) {
            int32_t x = ((const int32_t *)g->slot[k])[i];
            t[i] = x > t[i] ? x : t[i];
        }
    }
    meet(r);
    memcpy(v, t, (size_t)n * sizeof *t);
    free(t);
    return SN_OK;
}

static sn_status f_max_start(void *ctx, int32_t *v, int n, int *req) {
    *req = 0;
    return f_max(ctx, v, n);
}

static sn_status f_sum_start(void *ctx, int64_t *v, size_t n, int *req) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    *req = 0;
    uint64_t *t = malloc((n ? n : 1) * sizeof *t);
    g->slot[r->rank] = v;
    meet(r);
    /* ranks added from the last to the first: integer sums do not care */
    for (size_t i = 0; i < n; i++) {
        t[i] = 0;
        for (int k = g->size - 1; k >= 0; k--) t[i] += (uint64_t)((const int64_t *)g->slot[k])[i];
    }
    meet(r);
    for (size_t i = 0; i < n; i++) v[i] = (int64_t)t[i];
    free(t);
    return SN_OK;
}

static sn_status f_sum(void *ctx, int64_t *v, size_t n) {
    int req;
    return f_sum_start(ctx, v, n, &req);
}

static void f_progress(void *ctx) { (void)ctx; }
static sn_status f_wait(void *ctx, int req) {
    (void)ctx; (void)req;
    return SN_OK;
}

static sn_status f_gather(void *ctx, const double *mine, const int *counts, double *all) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    g->slot[r->rank] = mine;
    meet(r);
    size_t p = 0;
    for (int k = 0; k < g->size; k++) {
        memcpy(all + p, g->slot[k], (size_t)counts[k] * sizeof(double));
        p += (size_t)counts[k];
    }
    meet(r);
    return SN_OK;
}

static sn_status f_bcast(void *ctx, void *buf, size_t n, int root) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    g->slot[r->rank] = buf;
    meet(r);
    if (r->rank != root) memcpy(buf, g->slot[root], n);
    meet(r);
    return SN_OK;
}

/* The result buffer of a byte collective: at least 1 byte. */
static void *alloc_bytes(size_t n) { return malloc(n ? n : 1); }

typedef struct bytes_post {
    const char *p;
    size_t n;          /* gather: the bytes; exchange: unused */
    const size_t *cnt; /* exchange: the counts per destination */
} bytes_post;

static sn_status f_gather_bytes(void *ctx, const void *mine, size_t n, void **all, size_t *counts) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    bytes_post me = {mine, n, NULL};
    g->slot[r->rank] = &me;
    meet(r);
    size_t tot = 0;
    for (int k = 0; k < g->size; k++) tot += ((const bytes_post *)g->slot[k])->n;
    char *o = alloc_bytes(tot);
    size_t p = 0;
    for (int k = 0; o && k < g->size; k++) {
        const bytes_post *b = g->slot[k];
        if (b->n) memcpy(o + p, b->p, b->n);
        counts[k] = b->n;
        p += b->n;
    }
    meet(r);
    *all = o;
    return o ? SN_OK : SN_ERR_NOMEM;
}

static sn_status f_exchange(void *ctx, const void *send, const size_t *counts, void **recv, size_t *rcounts) {
    fake_rank *r = ctx;
    fake_group *g = r->g;
    g->ops[r->rank]++;
    bytes_post me = {send, 0, counts};
    g->slot[r->rank] = &me;
    meet(r);
    size_t tot = 0;
    for (int k = 0; k < g->size; k++) tot += ((const bytes_post *)g->slot[k])->cnt[r->rank];
    char *o = alloc_bytes(tot);
    size_t p = 0;
    for (int k = 0; o && k < g->size; k++) {
        const bytes_post *b = g->slot[k];
        size_t off = 0;
        for (int q = 0; q < r->rank; q++) off += b->cnt[q];
        rcounts[k] = b->cnt[r->rank];
        if (rcounts[k]) memcpy(o + p, b->p + off, rcounts[k]);
        p += rcounts[k];
    }
    meet(r);
    *recv = o;
    return o ? SN_OK : SN_ERR_NOMEM;
}

void fake_group_init(fake_group *g, fake_rank *r, int size) {
    memset(g, 0, sizeof *g);
    g->size = size;
    pthread_barrier_init(&g->bar, NULL, (unsigned)size);
    for (int k = 0; k < size; k++) {
        r[k].g = g;
        r[k].rank = k;
        sn_comm c = {k, size, &r[k], f_max, f_max_start, f_sum_start, f_sum, f_progress, f_wait, f_gather, f_bcast,
                     f_gather_bytes, f_exchange};
        r[k].comm = c;
    }
}

void fake_group_free(fake_group *g) { pthread_barrier_destroy(&g->bar); }

typedef struct run_arg {
    fake_rank *r;
    void (*fn)(fake_rank *r, void *user);
    void *user;
} run_arg;

static void *run_one(void *p) {
    run_arg *a = p;
    a->fn(a->r, a->user);
    return NULL;
}

void fake_group_run(int size, void (*fn)(fake_rank *r, void *user), void *user) {
    fake_group g;
    fake_rank r[FAKE_MAX_RANKS];
    fake_group_init(&g, r, size);
    pthread_t th[FAKE_MAX_RANKS];
    run_arg a[FAKE_MAX_RANKS];
    for (int k = 0; k < size; k++) {
        a[k] = (run_arg){&r[k], fn, user};
        pthread_create(&th[k], NULL, run_one, &a[k]);
    }
    for (int k = 0; k < size; k++) pthread_join(th[k], NULL);
    fake_group_free(&g);
}
