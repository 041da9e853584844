/* Shared layer machinery: creation from an ops table, tensor bookkeeping,
 * shapes. Initializers are in initializers.c, activations in activations.c. */
#include "layers/layer.h"

#include <limits.h>
#include <string.h>

size_t sn_shape_phys(const sn_shape *s) {
    if (s->rep == SN_REP_SPARSE) return 0;
    if (s->rep == SN_REP_IDS) return (size_t)s->d[0];
    return sn_shape_numel(s);
}

size_t sn_shape_numel(const sn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->d[i];
    return n;
}

void sn_shape_str(const sn_shape *s, char *buf, size_t n) {
    int k = snprintf(buf, n, "(None");
    for (int i = 0; i < s->rank && k > 0 && (size_t)k < n; i++) k += snprintf(buf + k, n - (size_t)k, ", %d", s->d[i]);
    if (k > 0 && (size_t)k < n) snprintf(buf + k, n - (size_t)k, ")");
}

/* Rejects a table with a missing mandatory entry: an internal bug surfaced as
 * an error at model build instead of a crash mid-training. */
static sn_status check_ops(const sn_layer_ops *o) {
    if (!o->kind || !o->class_name || !o->configure || !o->build || !o->init || !o->cache_floats ||
        !o->scratch_floats || !o->forward || !o->backward || !o->describe)
        return sn_error(SN_ERR_STATE, "layer table '%s' has a missing entry", o->kind ? o->kind : "?");
    return SN_OK;
}

sn_layer *sn_layer_new(const sn_layer_ops *ops, const sn_spec_call *call) {
    if (check_ops(ops)) return NULL;
    sn_layer *L = sn_calloc(1, sizeof *L);
    if (!L) return NULL;
    L->ops = ops;
    L->trainable = 1;
    L->threads = 1;
    snprintf(L->name, sizeof L->name, "%s", ops->kind);
    sn_status st = ops->configure(L, call);
    if (st == SN_OK) st = sn_spec_check_used(call);
    if (st) {
        sn_layer_free(L);
        return NULL;
    }
    return L;
}

void sn_layer_free(sn_layer *L) {
    if (!L) return;
    if (L->ops && L->ops->destroy)
        L->ops->destroy(L);
    else
        free(L->cfg);
    free(L);
}

size_t sn_layer_add_tensor(sn_layer *L, const char *name, int rank, const int *dims, int trainable) {
    SN_ASSERT(L->n_tensors < SN_MAX_TENSORS && rank >= 1 && rank <= 4);
    sn_tensor_info *t = &L->tensors[L->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->numel = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        t->numel *= (size_t)dims[i];
    }
    t->offset = L->n_params;
    t->trainable = trainable;
    L->n_params += t->numel;
    return t->offset;
}

sn_status sn_layer_build(sn_layer *L, const sn_shape *in) {
    L->in = *in;
    L->n_tensors = 0;
    L->n_params = 0;
    memset(&L->out, 0, sizeof L->out);
    return L->ops->build(L);
}

/* ---- GEMMs in row blocks ---- */

static size_t g_gemm_rows = INT_MAX; /* rows per sn_gemm call */
static size_t g_gemm_rows_used;      /* largest block since the test hook lowered g_gemm_rows */

size_t sn_layer_gemm_rows(void) { return g_gemm_rows; }

void sn_layer_gemm_rows_set(size_t n) {
    g_gemm_rows = n && n < (size_t)INT_MAX ? n : (size_t)INT_MAX;
    g_gemm_rows_used = 0;
}

size_t sn_layer_gemm_rows_used(void) { return g_gemm_rows_used; }

/* Rows of the next block when `left` remain. */
static size_t gemm_block(size_t left) {
    size_t n = left < g_gemm_rows ? left : g_gemm_rows;
    if (g_gemm_rows != (size_t)INT_MAX && n > g_gemm_rows_used) g_gemm_rows_used = n; /* test mode only */
    return n;
}

void sn_layer_gemm_m(size_t M, int N, int K, float alpha, const float *A, int lda, int trans_b, const float *B,
                     int ldb, float beta, float *C, int ldc) {
    for (size_t r0 = 0; r0 < M;) {
        size_t n = gemm_block(M - r0);
        sn_gemm(0, trans_b, (int)n, N, K, alpha, A + r0 * (size_t)lda, lda, B, ldb, beta, C + r0 * (size_t)ldc, ldc);
        r0 += n;
    }
}

void sn_layer_gemm_k(int M, int N, size_t K, float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc) {
    if (K == 0) {
        sn_gemm(1, 0, M, N, 0, alpha, A, lda, B, ldb, beta, C, ldc); /* C = beta C, as sn_gemm does */
        return;
    }
    for (size_t r0 = 0; r0 < K;) {
        size_t n = gemm_block(K - r0);
        sn_gemm(1, 0, M, N, (int)n, alpha, A + r0 * (size_t)lda, lda, B + r0 * (size_t)ldb, ldb, r0 ? 1.0f : beta, C,
                ldc);
        r0 += n;
    }
}
