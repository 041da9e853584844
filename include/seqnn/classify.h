/* Classical text classifiers and classification metrics.
 *
 * The two baselines every text-classification paper reports beside a
 * network, fitted in closed form (naive Bayes) or to convergence (logistic
 * regression) on bag-of-words rows, in O(non-zeros) per pass:
 *   - multinomial naive Bayes on binarized n-gram counts (Wang & Manning
 *     2012, "Baselines and Bigrams"; scikit-learn's MultinomialNB on 0/1
 *     features);
 *   - L2-regularised logistic regression (softmax for one label out of K,
 *     one sigmoid per class for K independent labels), solved by L-BFGS.
 * Both give a linear model logits = b + x·W with W (cols, K) in the layout
 * of a Dense kernel, so a Dense layer with softmax / sigmoid computes their
 * posteriors: the CLI stores them as ordinary model files.
 *
 * Metrics: the confusion matrix, per-class precision / recall / F1 and
 * their macro and support-weighted means (scikit-learn's definitions,
 * 0 where a denominator is 0), accuracy, and the binary ROC-AUC.
 *
 * Threads: logistic regression spreads each pass over sn_threads_get()
 * threads with disjoint outputs and fixed-order sums: the result does not
 * depend on the thread count. Everything else is single-threaded. */
#ifndef SEQNN_CLASSIFY_H
#define SEQNN_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows of a sparse matrix (CSR): row i holds col[row_ptr[i] .. row_ptr[i+1])
 * with values val[...], columns in [0, cols). Borrowed, never freed here. */
typedef struct sn_csr_rows {
    size_t rows, cols;
    const int64_t *row_ptr; /* (rows + 1) */
    const int32_t *col;     /* (nnz) */
    const float *val;       /* (nnz) */
} sn_csr_rows;

/* ---- naive Bayes ---- */

typedef struct sn_nb_opts {
    double alpha;  /* additive (Laplace / Lidstone) smoothing, > 0; default 1 */
    int binarize;  /* 1 (default): a feature counts once per document (val > 0) */
} sn_nb_opts;

SN_API void sn_nb_opts_default(sn_nb_opts *o);

/* Multinomial naive Bayes over K classes: with N_cj = Σ_{i: y_i = c} w_i x_ij
 * (x binarized), N_c = Σ_j N_cj, V = x->cols,
 *   W[j, c] = log((N_cj + alpha) / (N_c + alpha V)),
 *   b[c]    = log(Σ_{i: y_i = c} w_i / Σ_i w_i)   (-1e4 for a class without documents),
 * so that softmax(b + x·W) is the posterior. y (rows) class ids in [0, K);
 * sw (rows) sample weights or NULL (1). W (cols, K), b (K) caller-owned.
 * Errors: SN_ERR_ARG (empty input, a class id out of range, K < 2,
 * alpha <= 0, a negative weight, a column out of range). */
SN_API sn_status sn_nb_fit(const sn_csr_rows *x, const int32_t *y, const float *sw, int K, const sn_nb_opts *o,
                           float *W, float *b);

/* One-vs-rest naive Bayes for K independent labels: for each class c a
 * two-class model of "c" against "not c" (Y (rows, K) 0/1), written as the
 * logit of "c": W[j, c] = log θ_cj - log θ_¬c,j, b[c] = log prior ratio,
 * so that sigmoid(b + x·W) is each label's posterior. */
SN_API sn_status sn_nb_fit_ovr(const sn_csr_rows *x, const uint8_t *Y, const float *sw, int K, const sn_nb_opts *o,
                               float *W, float *b);

/* ---- logistic regression ---- */

typedef enum sn_logreg_kind {
    SN_LOGREG_SOFTMAX = 0, /* y: (rows) class ids; K >= 2 outputs, softmax + crossentropy */
    SN_LOGREG_SIGMOID = 1  /* y: (rows, K) 0/1 targets; K >= 1 independent sigmoids + binary crossentropy */
} sn_logreg_kind;

typedef struct sn_logreg_opts {
    sn_logreg_kind kind;
    double l2;        /* λ >= 0 of the objective below; default 1e-4 */
    int max_iter;     /* L-BFGS iterations, default 200 */
    double tol;       /* stop when max |gradient| <= tol (default 1e-4, scikit-learn's) */
    int memory;       /* L-BFGS correction pairs, default 10 */
} sn_logreg_opts;

typedef struct sn_logreg_info {
    int iterations;
    int converged;    /* 1: the gradient test passed (else max_iter or no progress) */
    double objective; /* at the solution */
    double grad_max;  /* max |gradient| at the solution */
} sn_logreg_info;

SN_API void sn_logreg_opts_default(sn_logreg_opts *o);

/* Minimises (1/Σw) Σ_i w_i ℓ(b + x_i·W, y_i) + (λ/2) ||W||² (the bias is not
 * penalised) from W = 0, b = 0 by L-BFGS with a backtracking (Armijo) line
 * search; ℓ is the softmax crossentropy or the sum over the K sigmoid
 * crossentropies. Each evaluation costs O(nnz·K + cols·K). Writes W (cols,
 * K) and b (K); info may be NULL. Errors: SN_ERR_ARG (empty input, a
 * target out of range, bad options), SN_ERR_NOMEM. The passes over the
 * rows run with denormals flushed in their threads (the caller's mode is
 * unchanged). */
SN_API sn_status sn_logreg_fit(const sn_csr_rows *x, const float *y, const float *sw, int K, const sn_logreg_opts *o,
                               float *W, float *b, sn_logreg_info *info);

/* ---- metrics ---- */

typedef struct sn_class_metrics {
    int K;
    size_t n;
    int64_t *confusion;       /* (K, K): [true][predicted] counts */
    int64_t *support;         /* (K) true documents per class */
    double *precision, *recall, *f1; /* (K) 0 where undefined */
    double accuracy;          /* single label: correct / n; multi-label: exact set matches / n */
    double macro_precision, macro_recall, macro_f1; /* over the classes that occur in truth or prediction */
    double weighted_f1;       /* F1 weighted by support */
    double roc_auc;           /* two classes with scores: ROC-AUC of class 1; else NaN */
} sn_class_metrics;

/* From class ids y_true, y_pred (n) in [0, K). score1 (n) the score of
 * class 1 (K == 2) for the ROC-AUC, or NULL. Free with
 * sn_class_metrics_free. Errors: SN_ERR_ARG (n == 0, K < 1, an id out of
 * range), SN_ERR_NOMEM. */
SN_API sn_status sn_class_metrics_compute(sn_class_metrics *m, const int32_t *y_true, const int32_t *y_pred, size_t n,
                                          int K, const float *score1);

/* Multi-label: Y_true, Y_pred (n, K) 0/1. Per class the binary counts
 * (confusion is (K, 2, 2): [class][true][predicted]), precision / recall /
 * F1 of the positive label, support = positives; accuracy is the share of
 * documents whose whole set is right. */
SN_API sn_status sn_multilabel_metrics_compute(sn_class_metrics *m, const uint8_t *Y_true, const uint8_t *Y_pred,
                                               size_t n, int K);

SN_API void sn_class_metrics_free(sn_class_metrics *m);

/* Area under the ROC curve of scores for binary labels y (n) (1 positive):
 * the probability that a random positive scores above a random negative,
 * ties counting one half (Mann-Whitney U with midranks). NaN when either
 * class is absent. */
SN_API double sn_roc_auc(const float *score, const int32_t *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif
