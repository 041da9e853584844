/* Weight initializers (Keras formulas, docs/keras-semantics.md §6): uniform,
 * Glorot / He uniform, constants and orthogonal, and their names in a spec.
 * Declared in layer.h. */
#include "layers/layer.h"

#include <math.h>
#include <string.h>

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
    /* Householder QR in place: A (m,n) row-major; reflectors[k] (m) is the
     * unit Householder vector of column k; d receives R's diagonal. */
    double **reflectors = sn_malloc((size_t)n, sizeof(double *));
    if (!reflectors) {
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
        reflectors[k] = sn_calloc((size_t)m, sizeof(double));
        if (!reflectors[k]) {
            for (int q = 0; q < k; q++) free(reflectors[q]);
            free(reflectors); free(A); free(Q); free(v); free(d);
            return SN_ERR_NOMEM;
        }
        if (vn > 0)
            for (int i = k; i < m; i++) reflectors[k][i] = v[i] / vn;
        /* apply (I - 2 h h^T) to A[:, k:] */
        for (int j = k; j < n; j++) {
            double s = 0;
            for (int i = k; i < m; i++) s += reflectors[k][i] * A[(size_t)i * n + j];
            for (int i = k; i < m; i++) A[(size_t)i * n + j] -= 2 * s * reflectors[k][i];
        }
        d[k] = A[(size_t)k * n + k];
    }
    /* Q = H_0 H_1 ... H_{n-1} applied to the first n columns of I. */
    for (int j = 0; j < n; j++) Q[(size_t)j * n + j] = 1.0;
    for (int k = n - 1; k >= 0; k--)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = k; i < m; i++) s += reflectors[k][i] * Q[(size_t)i * n + j];
            for (int i = k; i < m; i++) Q[(size_t)i * n + j] -= 2 * s * reflectors[k][i];
        }
    for (int k = 0; k < n; k++) free(reflectors[k]);
    free(reflectors);
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
