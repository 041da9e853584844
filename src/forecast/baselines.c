/* Baseline forecasters on the raw targets (include/seqnn/forecast.h):
 * naive, seasonal naive, mean of the look-back window, drift. Each
 * prediction is computed in double from the window's own rows only, so a
 * baseline never sees a value after its origin. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/forecast.h"

long sn_fc_season_from_step(int64_t step) {
    if (step <= 0) return 1;
    if (step < 86400) return 86400 % step == 0 ? (long)(86400 / step) : 1;
    if (step == 86400) return 7;
    if (step == 7 * 86400) return 52;
    return 1;
}

sn_status sn_fc_baseline_predict(sn_fc_baseline b, const sn_fc_series *s, const sn_fc_layout *lay,
                                 const sn_windows *w, long m, double *out) {
    if (!s || !lay || !w || !out || !s->y || (w->n && !w->start))
        return sn_error(SN_ERR_ARG, "sn_fc_baseline_predict: NULL argument");
    if ((unsigned)b > SN_FC_DRIFT) return sn_error(SN_ERR_ARG, "sn_fc_baseline_predict: unknown baseline %d", (int)b);
    if (b == SN_FC_SEASONAL_NAIVE && m < 1) return sn_error(SN_ERR_ARG, "seasonal naive: season must be >= 1, got %ld", m);
    const size_t K = (size_t)s->K, S = (size_t)lay->n_steps, L = (size_t)lay->lookback, r = (size_t)lay->sampling;
    const size_t span = (size_t)sn_fc_layout_span(lay);
    for (size_t j = 0; j < w->n; j++) {
        size_t st;
        if (!sn_fc_series_local(s, w->start[j], span, &st))
            return sn_error(SN_ERR_ARG, "baseline: window %zu (rows %zu..%zu) reaches beyond the %zu rows%s", j,
                            w->start[j], w->start[j] + span, s->N, s->rows ? " held here" : "");
        const size_t o = st + (L - 1) * r; /* held rows from here on: st is the window's first */
        for (size_t k = 0; k < K; k++) {
            const float *y = s->y + k;
            double yo = y[o * K], mean = 0, slope = 0;
            if (b == SN_FC_MEAN) {
                for (size_t t = 0; t < L; t++) mean += y[(st + t * r) * K];
                mean /= (double)L;
            } else if (b == SN_FC_DRIFT) {
                slope = o > st ? (yo - (double)y[st * K]) / (double)(o - st) : 0.0;
            }
            for (size_t i = 0; i < S; i++) {
                const size_t d = (size_t)lay->first + i * (size_t)lay->stride;
                double v;
                switch (b) {
                case SN_FC_NAIVE: v = yo; break;
                case SN_FC_MEAN: v = mean; break;
                case SN_FC_DRIFT: v = yo + slope * (double)d; break;
                default: {
                    /* the latest row at the same phase: o + d - m * ceil(d / m) */
                    size_t back = (size_t)m * ((d + (size_t)m - 1) / (size_t)m), lr = 0;
                    /* the row reached back to must be held too (a partial read: whole-series row
                     * w->start[j] + o + d - back - st) */
                    int held = o + d >= back &&
                               (!s->rows || (w->start[j] + (o + d - back) >= st &&
                                             sn_fc_series_local(s, w->start[j] + (o + d - back) - st, 0, &lr) &&
                                             lr == o + d - back));
                    if (!held || (s->series && s->series[o + d - back] != s->series[st]))
                        return sn_error(SN_ERR_ARG,
                                        "seasonal naive: window %zu needs the value %zu rows before its origin (row "
                                        "%zu), which is before its series starts: use a --season below %ld",
                                        j, back - d, o, m);
                    v = y[(o + d - back) * K];
                }
                }
                out[(j * S + i) * K + k] = v;
            }
        }
    }
    return SN_OK;
}
