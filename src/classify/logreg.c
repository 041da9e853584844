/* L2-regularised logistic regression on sparse rows by L-BFGS (classify.h).
 *
 * Parameters θ = (W (cols, K), b (K)) in one double vector. One evaluation
 * of the objective
 *   J(θ) = (1/Σw) Σ_i w_i ℓ_i(z_i) + (λ/2) ||W||²,   z_i = b + x_i·W (K)
 * with its gradient costs two passes over the non-zeros:
 *   rows    z_i, ℓ_i and r_i = dℓ_i/dz_i (softmax: p_i - onehot(y_i);
 *           sigmoid: σ(z_i) - y_i), each row written by one thread;
 *   columns gW[j,:] = (1/Σw) Σ_{i ∋ j} w_i x_ij r_i + λ W[j,:] through a
 *           transposed copy of x (CSC, built once), each column by one
 *           thread; gb and J are summed over rows in row order.
 * So every sum has a fixed order and the result does not depend on the
 * number of threads.
 *
 * L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 7.4 and
 * 7.5): the two-loop recursion over the last m pairs (s, y) with the
 * initial scaling γ = sᵀy / yᵀy, a backtracking line search with the
 * Armijo condition (c1 = 1e-4, halving; the first step is 1/||g||∞ long).
 * With λ > 0 the objective is strictly convex, so sᵀy > 0 and every pair
 * is kept; a pair with sᵀy <= 1e-12·yᵀy (λ = 0, flat directions) is
 * skipped. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "seqnn/classify.h"

void sn_logreg_opts_default(sn_logreg_opts *o) {
    o->kind = SN_LOGREG_SOFTMAX;
    o->l2 = 1e-4;
    o->max_iter = 200;
    o->tol = 1e-4; /* scikit-learn's LogisticRegression(solver="lbfgs") default: max |projected gradient| */
    o->memory = 10;
}

typedef struct lr_prob {
    const sn_csr_rows *x;
    const float *y, *sw;
    size_t K, P;       /* outputs, parameters (cols·K + K) */
    int softmax;
    double l2, wsum;
    /* transposed x: column j holds rows t_row[t_ptr[j] .. t_ptr[j+1]) with values t_val */
    int64_t *t_ptr;
    int32_t *t_row;
    float *t_val;
    double *z;         /* (rows, K) logits, then residuals r */
    double *lrow;      /* (rows) weighted losses */
} lr_prob;

/* The CSC copy of x: counting sort by column, rows in increasing order. */
static sn_status transpose(lr_prob *p) {
    const sn_csr_rows *x = p->x;
    int64_t nnz = x->row_ptr[x->rows];
    p->t_ptr = sn_calloc(x->cols + 1, sizeof *p->t_ptr);
    p->t_row = sn_malloc((size_t)SN_MAX(nnz, 1), sizeof *p->t_row);
    p->t_val = sn_malloc((size_t)SN_MAX(nnz, 1), sizeof *p->t_val);
    int64_t *next = sn_malloc(x->cols + 1, sizeof *next);
    if (!p->t_ptr || !p->t_row || !p->t_val || !next) {
        free(next);
        return SN_ERR_NOMEM;
    }
    for (int64_t q = 0; q < nnz; q++) p->t_ptr[x->col[q] + 1]++;
    for (size_t j = 0; j < x->cols; j++) p->t_ptr[j + 1] += p->t_ptr[j];
    memcpy(next, p->t_ptr, (x->cols + 1) * sizeof *next);
    for (size_t i = 0; i < x->rows; i++)
        for (int64_t q = x->row_ptr[i]; q < x->row_ptr[i + 1]; q++) {
            int64_t d = next[x->col[q]]++;
            p->t_row[d] = (int32_t)i;
            p->t_val[d] = x->val[q];
        }
    free(next);
    return SN_OK;
}

/* log Σ exp(z) and softmax into p, for one row. */
static double log_softmax(const double *z, size_t K, double *p) {
    double m = z[0];
    for (size_t k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    double s = 0;
    for (size_t k = 0; k < K; k++) s += (p[k] = exp(z[k] - m));
    for (size_t k = 0; k < K; k++) p[k] /= s;
    return m + log(s);
}

/* Row i: logits from θ, then its weighted loss and the residuals in place. */
static void eval_row(const lr_prob *p, const double *th, size_t i) {
    const sn_csr_rows *x = p->x;
    size_t K = p->K;
    const double *W = th, *b = th + x->cols * K;
    double *z = p->z + i * K;
    for (size_t k = 0; k < K; k++) z[k] = b[k];
    for (int64_t q = x->row_ptr[i]; q < x->row_ptr[i + 1]; q++) {
        const double *wr = W + (size_t)x->col[q] * K;
        double v = x->val[q];
        for (size_t k = 0; k < K; k++) z[k] += v * wr[k];
    }
    double w = p->sw ? p->sw[i] : 1.0, loss = 0;
    if (p->softmax) {
        size_t c = (size_t)p->y[i];
        double zc = z[c];
        loss = log_softmax(z, K, z) - zc; /* -log p_c = logsumexp(z) - z_c; z now holds p */
        z[c] -= 1.0;
    } else {
        const float *t = p->y + i * K;
        for (size_t k = 0; k < K; k++) {
            double a = z[k];
            /* -[t log σ(a) + (1-t) log σ(-a)] = max(a,0) - a t + log1p(e^-|a|) */
            loss += (a > 0 ? a : 0) - a * t[k] + log1p(exp(-fabs(a)));
            z[k] = (a >= 0 ? 1.0 / (1.0 + exp(-a)) : exp(a) / (1.0 + exp(a))) - t[k];
        }
    }
    for (size_t k = 0; k < K; k++) z[k] *= w / p->wsum;
    p->lrow[i] = w * loss;
}

/* J(θ) and its gradient g (P). */
static double objective(const lr_prob *p, const double *th, double *g) {
    const sn_csr_rows *x = p->x;
    size_t K = p->K, rows = x->rows, cols = x->cols;
    long long nr = (long long)rows, nc = (long long)cols;
#pragma omp parallel num_threads(sn_threads_get())
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long long i = 0; i < nr; i++) eval_row(p, th, (size_t)i);
#pragma omp for schedule(dynamic, 256)
        for (long long j = 0; j < nc; j++) {
            double *gj = g + (size_t)j * K;
            const double *wj = th + (size_t)j * K;
            for (size_t k = 0; k < K; k++) gj[k] = p->l2 * wj[k];
            for (int64_t q = p->t_ptr[j]; q < p->t_ptr[j + 1]; q++) {
                const double *r = p->z + (size_t)p->t_row[q] * K;
                double v = p->t_val[q];
                for (size_t k = 0; k < K; k++) gj[k] += v * r[k];
            }
        }
        sn_fp_leave(fp);
    }
    double J = 0, reg = 0, *gb = g + cols * K;
    for (size_t k = 0; k < K; k++) gb[k] = 0;
    for (size_t i = 0; i < rows; i++) {
        J += p->lrow[i];
        for (size_t k = 0; k < K; k++) gb[k] += p->z[i * K + k];
    }
    for (size_t j = 0; j < cols * K; j++) reg += th[j] * th[j];
    return J / p->wsum + 0.5 * p->l2 * reg;
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* The L-BFGS state: m pairs in a ring, newest at (head + count - 1) % m. */
typedef struct lbfgs {
    size_t P;
    int m, count, head;
    double *s, *y, *rho, *alpha; /* s, y (m, P); rho, alpha (m) */
} lbfgs;

/* d = -H g by the two-loop recursion. */
static void lbfgs_direction(const lbfgs *L, const double *g, double *d) {
    size_t P = L->P;
    for (size_t i = 0; i < P; i++) d[i] = -g[i];
    for (int c = L->count - 1; c >= 0; c--) {
        int k = (L->head + c) % L->m;
        L->alpha[k] = L->rho[k] * dot(L->s + (size_t)k * P, d, P);
        const double *yk = L->y + (size_t)k * P;
        for (size_t i = 0; i < P; i++) d[i] -= L->alpha[k] * yk[i];
    }
    if (L->count > 0) {
        int k = (L->head + L->count - 1) % L->m;
        const double *yk = L->y + (size_t)k * P;
        double gamma = 1.0 / (L->rho[k] * dot(yk, yk, P));
        for (size_t i = 0; i < P; i++) d[i] *= gamma;
    }
    for (int c = 0; c < L->count; c++) {
        int k = (L->head + c) % L->m;
        double beta = L->rho[k] * dot(L->y + (size_t)k * P, d, P);
        const double *sk = L->s + (size_t)k * P;
        for (size_t i = 0; i < P; i++) d[i] += (L->alpha[k] - beta) * sk[i];
    }
}

/* Stores the pair s = x1 - x0, y = g1 - g0 (dropping the oldest when full). */
static void lbfgs_push(lbfgs *L, const double *x0, const double *x1, const double *g0, const double *g1) {
    size_t P = L->P;
    int k = L->count < L->m ? (L->head + L->count) % L->m : L->head;
    double *s = L->s + (size_t)k * P, *y = L->y + (size_t)k * P;
    for (size_t i = 0; i < P; i++) {
        s[i] = x1[i] - x0[i];
        y[i] = g1[i] - g0[i];
    }
    double sy = dot(s, y, P), yy = dot(y, y, P);
    if (!(sy > 1e-12 * yy)) return; /* no curvature along s: keep the old pairs */
    L->rho[k] = 1.0 / sy;
    if (L->count < L->m) L->count++;
    else L->head = (L->head + 1) % L->m;
}

static sn_status check_problem(const sn_csr_rows *x, const float *y, const float *sw, int K, const sn_logreg_opts *o) {
    if (!x || !x->row_ptr || x->rows == 0 || x->cols == 0 || !y) return sn_error(SN_ERR_ARG, "logistic regression: empty input");
    if (o->kind == SN_LOGREG_SOFTMAX ? K < 2 : K < 1)
        return sn_error(SN_ERR_ARG, "logistic regression: K = %d outputs is too few", K);
    if (!(o->l2 >= 0) || o->max_iter < 1 || o->memory < 1 || !(o->tol >= 0))
        return sn_error(SN_ERR_ARG, "logistic regression: l2 >= 0, max_iter >= 1, memory >= 1, tol >= 0 needed");
    double ws = 0;
    for (size_t i = 0; i < x->rows; i++) {
        if (sw && !(sw[i] >= 0)) return sn_error(SN_ERR_ARG, "logistic regression: row %zu has weight %g", i, (double)sw[i]);
        ws += sw ? sw[i] : 1.0;
        if (o->kind == SN_LOGREG_SOFTMAX && !(y[i] >= 0 && y[i] < K && y[i] == floorf(y[i])))
            return sn_error(SN_ERR_ARG, "logistic regression: row %zu has class %g outside [0, %d)", i, (double)y[i], K);
        if (o->kind == SN_LOGREG_SIGMOID)
            for (int k = 0; k < K; k++)
                if (!(y[i * (size_t)K + (size_t)k] >= 0 && y[i * (size_t)K + (size_t)k] <= 1))
                    return sn_error(SN_ERR_ARG, "logistic regression: row %zu target %d is not in [0, 1]", i, k);
        for (int64_t q = x->row_ptr[i]; q < x->row_ptr[i + 1]; q++)
            if (x->col[q] < 0 || (size_t)x->col[q] >= x->cols || !isfinite(x->val[q]))
                return sn_error(SN_ERR_ARG, "logistic regression: row %zu has a bad entry (column %d)", i, (int)x->col[q]);
    }
    if (!(ws > 0)) return sn_error(SN_ERR_ARG, "logistic regression: the sample weights sum to 0");
    return SN_OK;
}

/* The minimisation from θ = 0 (th, P); work holds 4 more vectors of P. */
static void minimise(lr_prob *p, lbfgs *L, double *th, double *work, const sn_logreg_opts *o, sn_logreg_info *info) {
    size_t P = p->P;
    double *g = work, *d = work + P, *th1 = work + 2 * P, *g1 = work + 3 * P;
    double J = objective(p, th, g);
    int it = 0, conv = 0;
    for (; it < o->max_iter; it++) {
        if (max_abs(g, P) <= o->tol) {
            conv = 1;
            break;
        }
        lbfgs_direction(L, g, d);
        double gd = dot(g, d, P);
        if (!(gd < 0)) { /* not a descent direction (rounding): restart from steepest descent */
            L->count = 0;
            for (size_t i = 0; i < P; i++) d[i] = -g[i];
            gd = -dot(g, g, P);
        }
        double step = L->count == 0 ? 1.0 / SN_MAX(max_abs(g, P), 1e-300) : 1.0, J1 = J;
        int ok = 0;
        for (int ls = 0; ls < 50 && !ok; ls++, step *= 0.5) {
            for (size_t i = 0; i < P; i++) th1[i] = th[i] + step * d[i];
            J1 = objective(p, th1, g1);
            ok = J1 <= J + 1e-4 * step * gd;
        }
        if (!ok) break; /* no decrease left at double precision */
        lbfgs_push(L, th, th1, g, g1);
        double dec = J - J1;
        memcpy(th, th1, P * sizeof *th);
        memcpy(g, g1, P * sizeof *g);
        J = J1;
        if (dec <= 1e-15 * SN_MAX(fabs(J), 1.0)) {
            it++;
            conv = max_abs(g, P) <= o->tol;
            break;
        }
    }
    if (info) {
        info->iterations = it;
        info->converged = conv;
        info->objective = J;
        info->grad_max = max_abs(g, P);
    }
}

sn_status sn_logreg_fit(const sn_csr_rows *x, const float *y, const float *sw, int K, const sn_logreg_opts *o,
                        float *W, float *b, sn_logreg_info *info) {
    sn_logreg_opts def;
    sn_logreg_opts_default(&def);
    if (!o) o = &def;
    if (!W || !b) return sn_error(SN_ERR_ARG, "logistic regression: NULL output");
    sn_status st = check_problem(x, y, sw, K, o);
    if (st) return st;
    lr_prob p = {0};
    p.x = x;
    p.y = y;
    p.sw = sw;
    p.K = (size_t)K;
    p.P = x->cols * p.K + p.K;
    p.softmax = o->kind == SN_LOGREG_SOFTMAX;
    p.l2 = o->l2;
    for (size_t i = 0; i < x->rows; i++) p.wsum += sw ? sw[i] : 1.0;
    lbfgs L = {p.P, o->memory, 0, 0, NULL, NULL, NULL, NULL};
    size_t m = (size_t)o->memory;
    double *th = sn_calloc(p.P, sizeof *th), *work = sn_calloc(p.P, 4 * sizeof *work);
    p.z = sn_malloc(x->rows, p.K * sizeof *p.z);
    p.lrow = sn_malloc(x->rows, sizeof *p.lrow);
    L.s = sn_malloc(m, p.P * sizeof *L.s);
    L.y = sn_malloc(m, p.P * sizeof *L.y);
    L.rho = sn_malloc(m, sizeof *L.rho);
    L.alpha = sn_malloc(m, sizeof *L.alpha);
    if (!th || !work || !p.z || !p.lrow || !L.s || !L.y || !L.rho || !L.alpha) st = SN_ERR_NOMEM;
    if (st == SN_OK) st = transpose(&p);
    if (st == SN_OK) {
        /* Denormals are flushed inside each pass's parallel region only (every
         * thread enters and leaves there). Not on the calling thread around
         * the whole solve: a worker the OpenMP runtime creates while the
         * caller is flushed (the team grew after sn_threads_set) inherits the
         * flush mode and would keep it after sn_fp_leave. The serial L-BFGS
         * vector work is in double, where denormals do not arise. */
        minimise(&p, &L, th, work, o, info);
        for (size_t i = 0; i < x->cols * p.K; i++) W[i] = (float)th[i];
        for (size_t k = 0; k < p.K; k++) b[k] = (float)th[x->cols * p.K + k];
    }
    free(th);
    free(work);
    free(p.z);
    free(p.lrow);
    free(p.t_ptr);
    free(p.t_row);
    free(p.t_val);
    free(L.s);
    free(L.y);
    free(L.rho);
    free(L.alpha);
    return st;
}
