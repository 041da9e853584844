/* Split borders from --split and walk-forward folds (include/seqnn/forecast.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/forecast.h"

sn_status sn_fc_split_parse(const char *s, sn_fc_split *out) {
    if (!s || !out) return sn_error(SN_ERR_ARG, "sn_fc_split_parse: NULL argument");
    memset(out, 0, sizeof *out);
    double v[3];
    int n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        v[n] = strtod(p, &end);
        if (end == p || !isfinite(v[n]) || v[n] < 0)
            return sn_error(SN_ERR_PARSE, "--split \"%.60s\": expected a,b[,c] of fractions or row counts", s);
        n++;
        p = end;
        if (*p == 0) break;
        if (*p != ',') return sn_error(SN_ERR_PARSE, "--split \"%.60s\": unexpected \"%.10s\"", s, p);
        p++;
    }
    if (*p || n < 2) return sn_error(SN_ERR_PARSE, "--split \"%.60s\": give 2 or 3 comma-separated values", s);
    int rows = 0;
    for (int i = 0; i < n; i++) rows |= v[i] > 1;
    if (rows)
        for (int i = 0; i < n; i++)
            if (v[i] != floor(v[i]) || v[i] > 1e15)
                return sn_error(SN_ERR_ARG, "--split \"%.60s\": row counts must be whole numbers (fractions are all <= 1)",
                                s);
    if (!rows && !(v[0] + v[1] + (n == 3 ? v[2] : 0) <= 1 + 1e-9))
        return sn_error(SN_ERR_ARG, "--split \"%.60s\": the fractions sum to more than 1", s);
    if (v[0] <= 0 || v[1] <= 0 || (n == 3 && v[2] <= 0))
        return sn_error(SN_ERR_ARG, "--split \"%.60s\": every part must be positive", s);
    out->is_rows = rows;
    out->a = v[0];
    out->b = v[1];
    out->c = n == 3 ? v[2] : -1;
    if (!rows && n == 3 && fabs(v[0] + v[1] + v[2] - 1) <= 1e-9) out->c = -1; /* the rest: the seed's 50/25/25 */
    return SN_OK;
}

sn_status sn_fc_split_borders(const sn_fc_split *sp, size_t begin, size_t end, sn_ts_borders *out) {
    if (!sp || !out || end < begin) return sn_error(SN_ERR_ARG, "sn_fc_split_borders: bad argument");
    const size_t n = end - begin;
    size_t a, b, c;
    if (sp->is_rows) {
        a = (size_t)sp->a;
        b = (size_t)sp->b;
        c = sp->c < 0 ? (n > a + b ? n - a - b : 0) : (size_t)sp->c;
    } else {
        a = (size_t)(sp->a * (double)n); /* floor, as the seed's int(0.5 * len) */
        b = (size_t)(sp->b * (double)n);
        c = sp->c < 0 ? (n > a + b ? n - a - b : 0) : (size_t)(sp->c * (double)n);
    }
    if (a + b + c > n)
        return sn_error(SN_ERR_ARG, "--split asks for %zu + %zu + %zu rows but the series has %zu", a, b, c, n);
    if (!a || !b || !c)
        return sn_error(SN_ERR_ARG, "--split leaves an empty split (%zu train / %zu validation / %zu test rows of %zu)", a,
                        b, c, n);
    out->begin = begin;
    out->train_end = begin + a;
    out->val_end = begin + a + b;
    out->end = begin + a + b + c;
    return SN_OK;
}

sn_status sn_fc_folds(size_t begin, size_t end, int k, size_t step, double val_frac, size_t min_train,
                      sn_ts_borders *out) {
    if (!out || k < 1 || step == 0 || end < begin || !(val_frac > 0 && val_frac < 1))
        return sn_error(SN_ERR_ARG, "backtest: need folds >= 1, a positive step and a validation fraction in (0,1)");
    size_t n = end - begin;
    if ((size_t)k * step >= n || n - (size_t)k * step < min_train)
        return sn_error(SN_ERR_ARG,
                        "backtest: %d folds of %zu rows leave %zu rows to train the first fold on (of %zu), fewer "
                        "than the %zu it needs: use fewer --folds or a smaller --step",
                        k, step, (size_t)k * step < n ? n - (size_t)k * step : 0, n, min_train);
    for (int i = 0; i < k; i++) {
        size_t cut = end - (size_t)(k - i) * step;
        size_t nv = (size_t)(val_frac * (double)(cut - begin));
        if (nv == 0) nv = 1;
        out[i].begin = begin;
        out[i].train_end = cut - nv;
        out[i].val_end = cut;
        out[i].end = cut + step;
    }
    return SN_OK;
}
