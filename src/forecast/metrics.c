/* Forecast metrics, the MASE scale, split-conformal half-widths and
 * coverage (include/seqnn/forecast.h). Sums are in double, in entry order.
 *
 * Definitions (e = truth - pred over entries (window, step, target)):
 *   MAE = mean |e|, MSE = mean e^2, RMSE = sqrt(MSE),
 *   MAPE = 100 mean |e| / |y| over y != 0,
 *   sMAPE = 100 mean 2 |e| / (|y| + |pred|) over |y| + |pred| > 0 (darts, M4),
 *   MASE = mean |e| / den, den = the in-sample seasonal-naive MAE of the
 *   entry's series and target (Hyndman & Koehler 2006). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/forecast.h"

typedef struct acc {
    double ae, se, ape, sape, ase;
    size_t n, n_ape, n_sape, n_ase;
} acc;

static void acc_add(acc *a, double p, double y, double den) {
    double e = y - p, ae = fabs(e);
    a->ae += ae;
    a->se += e * e;
    a->n++;
    if (y != 0) {
        a->ape += ae / fabs(y);
        a->n_ape++;
    }
    if (fabs(y) + fabs(p) > 0) {
        a->sape += 2 * ae / (fabs(y) + fabs(p));
        a->n_sape++;
    }
    if (!isnan(den)) {
        a->ase += ae / den;
        a->n_ase++;
    }
}

static void acc_result(const acc *a, sn_fc_metrics *m) {
    double n = (double)a->n;
    m->n = a->n;
    m->mae = a->n ? a->ae / n : NAN;
    m->mse = a->n ? a->se / n : NAN;
    m->rmse = sqrt(m->mse);
    m->mape = a->n_ape ? 100 * a->ape / (double)a->n_ape : NAN;
    m->smape = a->n_sape ? 100 * a->sape / (double)a->n_sape : NAN;
    m->mase = a->n_ase ? a->ase / (double)a->n_ase : NAN;
}

sn_status sn_fc_metrics_eval(const double *pred, const double *truth, const double *mase_den, size_t n, int S, int K,
                             sn_fc_metrics *all, sn_fc_metrics *per_step) {
    if (!pred || !truth || !all || S < 1 || K < 1) return sn_error(SN_ERR_ARG, "sn_fc_metrics_eval: bad argument");
    if (n == 0) return sn_error(SN_ERR_ARG, "sn_fc_metrics_eval: no windows");
    acc tot;
    memset(&tot, 0, sizeof tot);
    acc *ps = per_step ? sn_calloc((size_t)S, sizeof *ps) : NULL;
    if (per_step && !ps) return SN_ERR_NOMEM;
    for (size_t j = 0; j < n; j++)
        for (int i = 0; i < S; i++)
            for (int k = 0; k < K; k++) {
                size_t e = (j * (size_t)S + (size_t)i) * (size_t)K + (size_t)k;
                double den = mase_den ? mase_den[j * (size_t)K + (size_t)k] : NAN;
                acc_add(&tot, pred[e], truth[e], den);
                if (ps) acc_add(&ps[i], pred[e], truth[e], den);
            }
    acc_result(&tot, all);
    for (int i = 0; ps && i < S; i++) acc_result(&ps[i], &per_step[i]);
    free(ps);
    return SN_OK;
}

sn_status sn_fc_mase_scale(const float *y, int K, int k, size_t begin, size_t end, long m, double *den) {
    if (!y || !den || K < 1 || k < 0 || k >= K || m < 1) return sn_error(SN_ERR_ARG, "sn_fc_mase_scale: bad argument");
    if (end <= begin + (size_t)m)
        return sn_error(SN_ERR_ARG, "MASE scale: %zu training rows, not more than the season of %ld", end - begin, m);
    double s = 0;
    for (size_t t = begin + (size_t)m; t < end; t++)
        s += fabs((double)y[t * (size_t)K + (size_t)k] - (double)y[(t - (size_t)m) * (size_t)K + (size_t)k]);
    *den = s / (double)(end - begin - (size_t)m);
    return SN_OK;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

sn_status sn_fc_conformal(const double *pred, const double *truth, size_t n, size_t m, double level, double *q) {
    if (!pred || !truth || !q || m == 0) return sn_error(SN_ERR_ARG, "sn_fc_conformal: NULL argument");
    if (n == 0) return sn_error(SN_ERR_ARG, "conformal interval: no calibration windows");
    if (!(level > 0 && level < 1)) return sn_error(SN_ERR_ARG, "conformal interval: level must be in (0,1), got %g", level);
    double *r = sn_malloc(n, sizeof *r);
    if (!r) return SN_ERR_NOMEM;
    /* rank ceil((n+1) level), 1-based; computed in exact integer terms where
     * (n+1) level is within 1e-9 of an integer so that 0.9 * 10 gives 9 */
    double want = (double)(n + 1) * level;
    size_t rank = (size_t)ceil(want - 1e-9);
    for (size_t j = 0; j < m; j++) {
        for (size_t i = 0; i < n; i++) r[i] = fabs(truth[i * m + j] - pred[i * m + j]);
        if (rank > n) {
            q[j] = INFINITY;
            continue;
        }
        qsort(r, n, sizeof *r, cmp_dbl);
        q[j] = r[rank - 1];
    }
    free(r);
    return SN_OK;
}

double sn_fc_coverage(const double *lo, const double *hi, const double *truth, size_t n) {
    if (!lo || !hi || !truth || n == 0) return NAN;
    size_t in = 0;
    for (size_t i = 0; i < n; i++) in += truth[i] >= lo[i] && truth[i] <= hi[i];
    return (double)in / (double)n;
}
