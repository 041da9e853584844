/* Multinomial naive Bayes on (binarized) bag-of-words rows, closed form
 * (classify.h). One pass over the non-zeros gathers the weighted feature
 * counts per class, then
 *   θ_cj = (N_cj + α) / (N_c + α V),   log P(x | c) = const + Σ_j x_j log θ_cj,
 * which is linear in x: W[j, c] = log θ_cj, b[c] = log prior. The counts
 * are summed in double in document order. References: McCallum & Nigam
 * 1998 (the multinomial event model), Wang & Manning 2012 (binarized NB as
 * the sentiment baseline), scikit-learn MultinomialNB. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "seqnn/classify.h"

/* log prior of a class that has no training document: effectively never
 * predicted, but finite so that the logits stay numbers */
#define NB_NO_DOCS (-1e4)

void sn_nb_opts_default(sn_nb_opts *o) {
    o->alpha = 1.0;
    o->binarize = 1;
}

static sn_status check_rows(const sn_csr_rows *x, const float *sw, int K, const sn_nb_opts *o) {
    if (!x || !x->row_ptr || x->rows == 0 || x->cols == 0) return sn_error(SN_ERR_ARG, "naive Bayes: empty input");
    if (K < 1) return sn_error(SN_ERR_ARG, "naive Bayes: K must be >= 1, got %d", K);
    if (!(o->alpha > 0)) return sn_error(SN_ERR_ARG, "naive Bayes: alpha must be > 0, got %g", o->alpha);
    for (size_t i = 0; i < x->rows; i++) {
        if (sw && !(sw[i] >= 0)) return sn_error(SN_ERR_ARG, "naive Bayes: row %zu has weight %g", i, (double)sw[i]);
        for (int64_t p = x->row_ptr[i]; p < x->row_ptr[i + 1]; p++)
            if (x->col[p] < 0 || (size_t)x->col[p] >= x->cols)
                return sn_error(SN_ERR_ARG, "naive Bayes: row %zu has column %d outside [0, %zu)", i, (int)x->col[p],
                                x->cols);
    }
    return SN_OK;
}

/* Adds w * x_i (binarized when asked) to counts row cnt (cols). */
static void add_row(const sn_csr_rows *x, size_t i, double w, int binarize, double *cnt) {
    for (int64_t p = x->row_ptr[i]; p < x->row_ptr[i + 1]; p++) {
        double v = binarize ? (x->val[p] > 0 ? 1.0 : 0.0) : (double)x->val[p];
        cnt[x->col[p]] += w * v;
    }
}

/* log θ (cols) of one count row: log((N_j + α) / (N + α V)). */
static void log_theta(const double *cnt, size_t V, double alpha, double *out) {
    double N = 0;
    for (size_t j = 0; j < V; j++) N += cnt[j];
    double den = log(N + alpha * (double)V);
    for (size_t j = 0; j < V; j++) out[j] = log(cnt[j] + alpha) - den;
}

static sn_status nb_fit_work(const sn_csr_rows *x, const int32_t *y, const float *sw, int K, const sn_nb_opts *o, float *W,
                             float *b) {
    sn_nb_opts def;
    sn_nb_opts_default(&def);
    if (!o) o = &def;
    sn_status st = check_rows(x, sw, K, o);
    if (st) return st;
    if (K < 2) return sn_error(SN_ERR_ARG, "naive Bayes: K must be >= 2, got %d", K);
    if (!y || !W || !b) return sn_error(SN_ERR_ARG, "naive Bayes: NULL argument");
    for (size_t i = 0; i < x->rows; i++)
        if (y[i] < 0 || y[i] >= K) return sn_error(SN_ERR_ARG, "naive Bayes: row %zu has class %d outside [0, %d)", i, (int)y[i], K);
    size_t V = x->cols, Kz = (size_t)K;
    /* counts (K, V): one pass over the non-zeros, O(nnz + V·K) in all */
    double *cnt = sn_calloc(V, Kz * sizeof *cnt), *lt = sn_malloc(V, sizeof *lt), *prior = sn_calloc(Kz, sizeof *prior);
    if (!cnt || !lt || !prior) {
        free(cnt);
        free(lt);
        free(prior);
        return SN_ERR_NOMEM;
    }
    double total = 0;
    for (size_t i = 0; i < x->rows; i++) {
        double w = sw ? sw[i] : 1.0;
        prior[y[i]] += w;
        total += w;
        add_row(x, i, w, o->binarize, cnt + (size_t)y[i] * V);
    }
    for (size_t c = 0; c < Kz; c++) {
        log_theta(cnt + c * V, V, o->alpha, lt);
        for (size_t j = 0; j < V; j++) W[j * Kz + c] = (float)lt[j];
        b[c] = prior[c] > 0 && total > 0 ? (float)log(prior[c] / total) : (float)NB_NO_DOCS;
    }
    free(cnt);
    free(lt);
    free(prior);
    return SN_OK;
}

static sn_status nb_fit_ovr_work(const sn_csr_rows *x, const uint8_t *Y, const float *sw, int K, const sn_nb_opts *o,
                                 float *W, float *b) {
    sn_nb_opts def;
    sn_nb_opts_default(&def);
    if (!o) o = &def;
    sn_status st = check_rows(x, sw, K, o);
    if (st) return st;
    if (!Y || !W || !b) return sn_error(SN_ERR_ARG, "naive Bayes: NULL argument");
    size_t V = x->cols;
    double *pos = sn_calloc(V, sizeof *pos), *all = sn_calloc(V, sizeof *all), *lp = sn_malloc(V, sizeof *lp),
           *ln = sn_malloc(V, sizeof *ln);
    if (!pos || !all || !lp || !ln) st = SN_ERR_NOMEM;
    double total = 0;
    for (size_t i = 0; st == SN_OK && i < x->rows; i++) {
        double w = sw ? sw[i] : 1.0;
        add_row(x, i, w, o->binarize, all);
        total += w;
    }
    for (int c = 0; st == SN_OK && c < K; c++) {
        memset(pos, 0, V * sizeof *pos);
        double wp = 0;
        for (size_t i = 0; i < x->rows; i++)
            if (Y[i * (size_t)K + (size_t)c]) {
                double w = sw ? sw[i] : 1.0;
                add_row(x, i, w, o->binarize, pos);
                wp += w;
            }
        log_theta(pos, V, o->alpha, lp);
        for (size_t j = 0; j < V; j++) pos[j] = all[j] - pos[j]; /* the "not c" counts */
        log_theta(pos, V, o->alpha, ln);
        for (size_t j = 0; j < V; j++) W[j * (size_t)K + (size_t)c] = (float)(lp[j] - ln[j]);
        double wn = total - wp;
        b[c] = wp > 0 && wn > 0 ? (float)log(wp / wn) : (float)(wp > 0 ? -NB_NO_DOCS : NB_NO_DOCS);
    }
    free(pos);
    free(all);
    free(lp);
    free(ln);
    return st;
}

/* The public entry points run with denormals flushed on the calling thread
 * (core/internal.h); there is no parallel region inside. */
sn_status sn_nb_fit(const sn_csr_rows *x, const int32_t *y, const float *sw, int K, const sn_nb_opts *o, float *W,
                    float *b) {
    sn_fp_state fp = sn_fp_enter();
    sn_status st = nb_fit_work(x, y, sw, K, o, W, b);
    sn_fp_leave(fp);
    return st;
}

sn_status sn_nb_fit_ovr(const sn_csr_rows *x, const uint8_t *Y, const float *sw, int K, const sn_nb_opts *o, float *W,
                        float *b) {
    sn_fp_state fp = sn_fp_enter();
    sn_status st = nb_fit_ovr_work(x, Y, sw, K, o, W, b);
    sn_fp_leave(fp);
    return st;
}
