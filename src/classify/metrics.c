/* Classification metrics (classify.h), scikit-learn's definitions:
 *   precision_c = TP_c / (TP_c + FP_c), recall_c = TP_c / (TP_c + FN_c),
 *   F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c), each 0 when its denominator is
 *   (zero_division = 0); macro = the plain mean over the classes present in
 *   the truth or the predictions (sklearn's labels = None); weighted = the
 *   mean weighted by support. ROC-AUC by the rank statistic: AUC =
 *   (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg), R_pos the sum of the
 *   positives' ranks with tied scores given their mean rank. */
#include <math.h>
#include <string.h>
#include "core/internal.h"
#include "seqnn/classify.h"

void sn_class_metrics_free(sn_class_metrics *m) {
    if (!m) return;
    free(m->confusion);
    free(m->support);
    free(m->precision);
    free(m->recall);
    free(m->f1);
    memset(m, 0, sizeof *m);
}

static sn_status metrics_alloc(sn_class_metrics *m, int K, size_t n, size_t conf) {
    memset(m, 0, sizeof *m);
    m->K = K;
    m->n = n;
    m->roc_auc = NAN;
    m->confusion = sn_calloc(conf, sizeof *m->confusion);
    m->support = sn_calloc((size_t)K, sizeof *m->support);
    m->precision = sn_calloc((size_t)K, sizeof *m->precision);
    m->recall = sn_calloc((size_t)K, sizeof *m->recall);
    m->f1 = sn_calloc((size_t)K, sizeof *m->f1);
    if (!m->confusion || !m->support || !m->precision || !m->recall || !m->f1) {
        sn_class_metrics_free(m);
        return SN_ERR_NOMEM;
    }
    return SN_OK;
}

/* Per-class scores from TP, FP, FN and the averages (used: classes that
 * occur in truth or prediction). */
static void finish(sn_class_metrics *m, const int64_t *tp, const int64_t *fp, const int64_t *fn) {
    double sp = 0, sr = 0, sf = 0, wf = 0, tot = 0;
    int used = 0;
    for (int c = 0; c < m->K; c++) {
        double t = (double)tp[c], p = (double)fp[c], f = (double)fn[c];
        m->precision[c] = t + p > 0 ? t / (t + p) : 0;
        m->recall[c] = t + f > 0 ? t / (t + f) : 0;
        m->f1[c] = 2 * t + p + f > 0 ? 2 * t / (2 * t + p + f) : 0;
        if (m->support[c] > 0 || tp[c] + fp[c] > 0) {
            used++;
            sp += m->precision[c];
            sr += m->recall[c];
            sf += m->f1[c];
        }
        wf += m->f1[c] * (double)m->support[c];
        tot += (double)m->support[c];
    }
    m->macro_precision = used ? sp / used : 0;
    m->macro_recall = used ? sr / used : 0;
    m->macro_f1 = used ? sf / used : 0;
    m->weighted_f1 = tot > 0 ? wf / tot : 0;
}

sn_status sn_class_metrics_compute(sn_class_metrics *m, const int32_t *y_true, const int32_t *y_pred, size_t n, int K,
                                   const float *score1) {
    if (!m || !y_true || !y_pred || n == 0 || K < 1) return sn_error(SN_ERR_ARG, "metrics: empty input");
    for (size_t i = 0; i < n; i++)
        if (y_true[i] < 0 || y_true[i] >= K || y_pred[i] < 0 || y_pred[i] >= K)
            return sn_error(SN_ERR_ARG, "metrics: row %zu has class %d / %d outside [0, %d)", i, (int)y_true[i],
                            (int)y_pred[i], K);
    size_t Kz = (size_t)K;
    sn_status st = metrics_alloc(m, K, n, Kz * Kz);
    if (st) return st;
    int64_t *tp = sn_calloc(3 * Kz, sizeof *tp);
    if (!tp) {
        sn_class_metrics_free(m);
        return SN_ERR_NOMEM;
    }
    int64_t *fp = tp + Kz, *fn = fp + Kz, correct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t = (size_t)y_true[i], p = (size_t)y_pred[i];
        m->confusion[t * Kz + p]++;
        m->support[t]++;
        if (t == p) {
            tp[t]++;
            correct++;
        } else {
            fp[p]++;
            fn[t]++;
        }
    }
    m->accuracy = (double)correct / (double)n;
    finish(m, tp, fp, fn);
    free(tp);
    if (K == 2 && score1) m->roc_auc = sn_roc_auc(score1, y_true, n);
    return SN_OK;
}

sn_status sn_multilabel_metrics_compute(sn_class_metrics *m, const uint8_t *Y_true, const uint8_t *Y_pred, size_t n,
                                        int K) {
    if (!m || !Y_true || !Y_pred || n == 0 || K < 1) return sn_error(SN_ERR_ARG, "metrics: empty input");
    size_t Kz = (size_t)K;
    sn_status st = metrics_alloc(m, K, n, Kz * 4);
    if (st) return st;
    int64_t *tp = sn_calloc(3 * Kz, sizeof *tp);
    if (!tp) {
        sn_class_metrics_free(m);
        return SN_ERR_NOMEM;
    }
    int64_t *fp = tp + Kz, *fn = fp + Kz, exact = 0;
    for (size_t i = 0; i < n; i++) {
        int all = 1;
        for (size_t c = 0; c < Kz; c++) {
            int t = Y_true[i * Kz + c] != 0, p = Y_pred[i * Kz + c] != 0;
            m->confusion[c * 4 + (size_t)(2 * t + p)]++;
            m->support[c] += t;
            tp[c] += t && p;
            fp[c] += !t && p;
            fn[c] += t && !p;
            all &= t == p;
        }
        exact += all;
    }
    m->accuracy = (double)exact / (double)n;
    finish(m, tp, fp, fn);
    free(tp);
    return SN_OK;
}

typedef struct scored { float s; int32_t y; } scored;
static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x < y ? -1 : x > y;
}

double sn_roc_auc(const float *score, const int32_t *y, size_t n) {
    if (!score || !y || n == 0) return NAN;
    scored *v = sn_malloc(n, sizeof *v);
    if (!v) return NAN;
    for (size_t i = 0; i < n; i++) v[i] = (scored){score[i], y[i] == 1};
    qsort(v, n, sizeof *v, cmp_scored);
    double rpos = 0, npos = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double rank = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++)
            if (v[k].y) {
                rpos += rank;
                npos++;
            }
        i = j;
    }
    free(v);
    double nneg = (double)n - npos;
    if (npos == 0 || nneg == 0) return NAN;
    return (rpos - npos * (npos + 1) / 2) / (npos * nneg);
}
