/* Shared layer machinery: creation from an ops table, tensor bookkeeping, shapes, initializers (Keras
 * formulas), activations. */
#include "layers/layer.h"

#include <math.h>
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

/* ---- Initializers ---- */
void sn_init_uniform(float *w, size_t n, double lo, double hi, sn_rng *r) {
    for (size_t i = 0; i < n; i++) w[i] = (float)(lo + (hi - lo) * sn_rng_double(r));
}

void sn_init_glorot_uniform(float *w, size_t n, double fan_in, double fan_out, sn_rng *r) {
    double limit = sqrt(6.0 / (fan_in + fan_out));
    sn_init_uniform(w, n, -limit, limit, r);
}

void sn_init_he_uniform(float *w, size_t n, double fan_in, sn_rng *r) {
    double limit = sqrt(6.0 / fan_in);
    sn_init_uniform(w, n, -limit, limit, r);
}

void sn_init_const(float *w, size_t n, float v) {
    for (size_t i = 0; i < n; i++) w[i] = v;
}

/* Keras Orthogonal: A ~ N(0,1) of shape (max(rows,cols), min(rows,cols));
 * reduced QR (Householder, in double); column j of Q times sign(R_jj);
 * transpose when rows < cols; times gain. */
sn_status sn_init_orthogonal(float *w, int rows, int cols, double gain, sn_rng *r) {
    int m = rows > cols ? rows : cols, n = rows > cols ? cols : rows;
    double *A = sn_malloc((size_t)m * n, sizeof(double));
    double *Q = sn_calloc((size_t)m * n, sizeof(double));
    double *v = sn_malloc((size_t)m, sizeof(double));
    double *d = sn_malloc((size_t)n, sizeof(double));
    if (!A || !Q || !v || !d) {
        free(A); free(Q); free(v); free(d);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < (size_t)m * n; i++) A[i] = sn_rng_normal(r);
    /* Householder QR in place: A (m,n) row-major; reflectors stored below the
     * diagonal; d receives R's diagonal. */
    double **H = sn_malloc((size_t)n, sizeof(double *));
    if (!H) {
        free(A); free(Q); free(v); free(d);
        return SN_ERR_NOMEM;
    }
    for (int k = 0; k < n; k++) {
        double norm = 0;
        for (int i = k; i < m; i++) norm += A[(size_t)i * n + k] * A[(size_t)i * n + k];
        norm = sqrt(norm);
        double akk = A[(size_t)k * n + k];
        double alpha = akk > 0 ? -norm : norm;
        /* v = x - alpha e1, normalised */
        for (int i = 0; i < m; i++) v[i] = 0;
        for (int i = k; i < m; i++) v[i] = A[(size_t)i * n + k];
        v[k] -= alpha;
        double vn = 0;
        for (int i = k; i < m; i++) vn += v[i] * v[i];
        vn = sqrt(vn);
        H[k] = sn_calloc((size_t)m, sizeof(double));
        if (!H[k]) {
            for (int q = 0; q < k; q++) free(H[q]);
            free(H); free(A); free(Q); free(v); free(d);
            return SN_ERR_NOMEM;
        }
        if (vn > 0)
            for (int i = k; i < m; i++) H[k][i] = v[i] / vn;
        /* apply (I - 2 h h^T) to A[:, k:] */
        for (int j = k; j < n; j++) {
            double s = 0;
            for (int i = k; i < m; i++) s += H[k][i] * A[(size_t)i * n + j];
            for (int i = k; i < m; i++) A[(size_t)i * n + j] -= 2 * s * H[k][i];
        }
        d[k] = A[(size_t)k * n + k];
    }
    /* Q = H_0 H_1 ... H_{n-1} applied to the first n columns of I. */
    for (int j = 0; j < n; j++) Q[(size_t)j * n + j] = 1.0;
    for (int k = n - 1; k >= 0; k--)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = k; i < m; i++) s += H[k][i] * Q[(size_t)i * n + j];
            for (int i = k; i < m; i++) Q[(size_t)i * n + j] -= 2 * s * H[k][i];
        }
    for (int k = 0; k < n; k++) free(H[k]);
    free(H);
    for (int j = 0; j < n; j++) {
        double sg = d[j] < 0 ? -1.0 : 1.0;
        for (int i = 0; i < m; i++) Q[(size_t)i * n + j] *= sg;
    }
    /* Q is (m,n) = (max,min). If rows < cols the result is Q^T (rows=n, cols=m). */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double q = rows >= cols ? Q[(size_t)i * n + j] : Q[(size_t)j * n + i];
            w[(size_t)i * cols + j] = (float)(gain * q);
        }
    free(A); free(Q); free(v); free(d);
    return SN_OK;
}

static const char *const g_init_names[] = {"glorot_uniform", "he_uniform", "orthogonal", "zeros", "ones", "uniform"};

int sn_init_parse(const char *s, sn_init_kind *out) {
    for (int i = 0; i < (int)(sizeof g_init_names / sizeof *g_init_names); i++)
        if (!strcmp(s, g_init_names[i])) {
            *out = (sn_init_kind)i;
            return 1;
        }
    if (!strcmp(s, "random_uniform")) {
        *out = SN_INIT_UNIFORM;
        return 1;
    }
    return 0;
}

const char *sn_init_name(sn_init_kind k) { return g_init_names[k]; }

sn_status sn_init_apply(sn_init_kind k, float *w, int rows, int cols, double fan_in, double fan_out, sn_rng *r) {
    size_t n = (size_t)rows * (size_t)cols;
    switch (k) {
    case SN_INIT_GLOROT_UNIFORM: sn_init_glorot_uniform(w, n, fan_in, fan_out, r); return SN_OK;
    case SN_INIT_HE_UNIFORM: sn_init_he_uniform(w, n, fan_in, r); return SN_OK;
    case SN_INIT_ORTHOGONAL: return sn_init_orthogonal(w, rows, cols, 1.0, r);
    case SN_INIT_ZEROS: sn_init_const(w, n, 0.0f); return SN_OK;
    case SN_INIT_ONES: sn_init_const(w, n, 1.0f); return SN_OK;
    case SN_INIT_UNIFORM: sn_init_uniform(w, n, -0.05, 0.05, r); return SN_OK;
    }
    return sn_error(SN_ERR_ARG, "unknown initializer %d", (int)k);
}

/* ---- Activations ---- */
static const char *const g_act_names[] = {"linear", "relu", "tanh", "sigmoid", "softmax"};

int sn_act_parse(const char *s, sn_act *out) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, g_act_names[i])) {
            *out = (sn_act)i;
            return 1;
        }
    if (!strcmp(s, "none")) {
        *out = SN_ACT_LINEAR;
        return 1;
    }
    return 0;
}

const char *sn_act_name(sn_act a) { return g_act_names[a]; }

static inline float sigmoidf(float x) {
    /* Stable for large |x|: exp of a non-positive argument only. */
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

void sn_act_forward(sn_act a, float *y, size_t rows, size_t n) {
    size_t total = rows * n;
    switch (a) {
    case SN_ACT_LINEAR: return;
    case SN_ACT_RELU:
        /* Branch-free (a data-dependent branch mispredicts on half the
         * elements): keep the bits where y > 0, else +0 (NaN and -0 give +0). */
        for (size_t i = 0; i < total; i++) {
            uint32_t b;
            memcpy(&b, &y[i], 4);
            b &= -(uint32_t)(y[i] > 0.0f);
            memcpy(&y[i], &b, 4);
        }
        return;
    case SN_ACT_TANH:
        for (size_t i = 0; i < total; i++) y[i] = tanhf(y[i]);
        return;
    case SN_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++) y[i] = sigmoidf(y[i]);
        return;
    case SN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            float *v = y + r * n, mx = v[0];
            for (size_t j = 1; j < n; j++) mx = v[j] > mx ? v[j] : mx;
            double s = 0;
            for (size_t j = 0; j < n; j++) {
                v[j] = expf(v[j] - mx);
                s += v[j];
            }
            for (size_t j = 0; j < n; j++) v[j] = (float)(v[j] / s);
        }
        return;
    }
}

void sn_act_backward(sn_act a, float *dz, const float *y, const float *dy, size_t rows, size_t n) {
    size_t total = rows * n;
    switch (a) {
    case SN_ACT_LINEAR:
        if (dz != dy) memcpy(dz, dy, total * sizeof(float));
        return;
    case SN_ACT_RELU:
        for (size_t i = 0; i < total; i++) {
            uint32_t b;
            memcpy(&b, &dy[i], 4);
            b &= -(uint32_t)(y[i] > 0.0f);
            memcpy(&dz[i], &b, 4);
        }
        return;
    case SN_ACT_TANH:
        for (size_t i = 0; i < total; i++) dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        return;
    case SN_ACT_SIGMOID:
        for (size_t i = 0; i < total; i++) dz[i] = dy[i] * y[i] * (1.0f - y[i]);
        return;
    case SN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * n, *dr = dy + r * n;
            double s = 0;
            for (size_t j = 0; j < n; j++) s += (double)yr[j] * dr[j];
            for (size_t j = 0; j < n; j++) dz[r * n + j] = yr[j] * (float)(dr[j] - s);
        }
        return;
    }
}
