/* ETS(A,A,A) by maximum likelihood, as statsforecast's ETS fits it
 * (python/statsforecast/ets.py: initparam, initstate, etsmodel; the C++
 * etscalc and the bounded Nelder-Mead of nelder_mead.h), written from the
 * model's equations (Hyndman, Koehler, Ord & Snyder 2008, ch. 2):
 *
 *   forecast  mu_t = l_{t-1} + b_{t-1} + s_{t-m}
 *   error     e_t  = y_t - mu_t
 *   level     l_t  = l_{t-1} + b_{t-1} + alpha e_t
 *   trend     b_t  = b_{t-1} + beta e_t
 *   season    s_t  = s_{t-m} + gamma e_t
 *
 * Objective: n log(sum_t e_t^2), the Gaussian negative log-likelihood times
 * two with sigma^2 = SSE / n concentrated out, up to a constant (etscalc's
 * `lik` for additive errors). Free parameters: alpha, beta, gamma, l_0, b_0
 * and m-1 season states (the m-th is minus their sum), start values and
 * bounds as statsforecast's initparam with its default limits
 * [1e-4, 0.9999]: alpha0 = 1e-4 + 0.2 (0.9999 - 1e-4) / m, beta in
 * [1e-4, alpha0], gamma in [1e-4, 1 - alpha0]; states unbounded.
 * Deviation: statsforecast maps a NaN objective to -inf (which Nelder-Mead
 * would take as the best point); here it is +inf.
 *
 * Season states live in a ring of m doubles (ring[(head + i) % m] is s[i],
 * s[0] the newest), so one step costs O(1) rather than a shift of m values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/forecast.h"

#define ETS_LO 1e-4
#define ETS_HI 0.9999
#define ETS_MAX_M 168
#define ETS_MAX_RESTARTS 30
#define ETS_RESTART_TOL 1e-3

/* One pass of the filter from the initial states; returns the SSE and, when
 * `st` is not NULL, leaves the final states there (l, b, ring, head). */
typedef struct ets_state {
    double l, b;
    double *ring; /* (m) */
    int head;
} ets_state;

static void state_init(ets_state *st, int m, double l0, double b0, const double *s0) {
    st->l = l0;
    st->b = b0;
    st->head = 0;
    for (int i = 0; i < m; i++) st->ring[i] = s0 ? s0[i] : 0.0;
}

/* Observes y: e = y - (l + b + s[m-1]); returns e. */
static double state_step(ets_state *st, int m, double alpha, double beta, double gamma, double y) {
    int old = (st->head + m - 1) % m; /* slot of s[m-1], the season of this step */
    double q = st->l + st->b;
    double e = y - (q + st->ring[old]);
    st->l = q + alpha * e;
    st->b = st->b + beta * e;
    st->ring[old] = st->ring[old] + gamma * e; /* becomes s[0] */
    st->head = old;
    return e;
}

static double lik_of_sse(double sse, size_t n) { return (double)n * log(sse > 0 ? sse : sse + 1e-8); }

double sn_ets_lik(const double *y, size_t n, int m, double alpha, double beta, double gamma, double l0, double b0,
                  const double *s0) {
    if (!y || n == 0 || m < 1 || m > ETS_MAX_M) return NAN;
    double ring[ETS_MAX_M];
    ets_state st = {0, 0, ring, 0};
    state_init(&st, m, l0, b0, m > 1 ? s0 : NULL);
    if (m == 1) gamma = 0, ring[0] = 0;
    double sse = 0;
    for (size_t t = 0; t < n; t++) {
        double e = state_step(&st, m, alpha, beta, gamma, y[t]);
        sse += e * e;
    }
    return lik_of_sse(sse, n);
}

/* ---- parameter vector: alpha, beta, [gamma,] l0, b0, s0[0..m-2] (gamma
 * and the season states only with m > 1) ---- */
typedef struct ets_problem {
    const double *y;
    size_t n;
    int m;
    double s0[ETS_MAX_M];
} ets_problem;

static int n_free(int m) { return m > 1 ? 5 + m - 1 : 4; }

/* The model's values from p; s0 (m) gets the m-th state as minus the sum. */
static void unpack(const double *p, int m, double *alpha, double *beta, double *gamma, double *l0, double *b0,
                   double *s0) {
    int g = m > 1;
    *alpha = p[0], *beta = p[1], *gamma = g ? p[2] : 0.0, *l0 = p[2 + g], *b0 = p[3 + g];
    double sum = 0;
    for (int i = 0; i + 1 < m; i++) sum += (s0[i] = p[5 + i]);
    s0[m - 1] = m > 1 ? -sum : 0.0;
}

static double objective(const double *p, const ets_problem *pr) {
    double a, b, g, l0, b0, s0[ETS_MAX_M];
    unpack(p, pr->m, &a, &b, &g, &l0, &b0, s0);
    double v = sn_ets_lik(pr->y, pr->n, pr->m, a, b, g, l0, b0, s0);
    if (isnan(v)) return INFINITY;
    return v < -1e10 ? -1e10 : v;
}

/* ---- bounded Nelder-Mead (statsforecast's nm::NelderMead) ---- */
static void clamp(double *x, const double *lo, const double *hi, int d) {
    for (int i = 0; i < d; i++) x[i] = x[i] < lo[i] ? lo[i] : x[i] > hi[i] ? hi[i] : x[i];
}

static double spread(const double *f, int k) {
    double m = 0, v = 0;
    for (int i = 0; i < k; i++) m += f[i];
    m /= k;
    for (int i = 0; i < k; i++) v += (f[i] - m) * (f[i] - m);
    return sqrt(v / k);
}

typedef struct nm_ws {
    int d;
    double *simplex; /* (d+1, d) */
    double *f;       /* (d+1) */
    double *xo, *xr, *xe, *xc; /* (d) */
} nm_ws;

/* Index of the smallest, largest and second largest f (first one on ties, as a stable argsort). */
static void nm_order(const double *f, int k, int *best, int *worst, int *second) {
    int b = 0, w = 0;
    for (int i = 1; i < k; i++) {
        if (f[i] < f[b]) b = i;
        if (f[i] >= f[w]) w = i;
    }
    int s = -1;
    for (int i = 0; i < k; i++)
        if (i != w && (s < 0 || f[i] >= f[s])) s = i;
    *best = b, *worst = w, *second = s;
}

static double nm_eval(nm_ws *ws, double *x, const double *lo, const double *hi, const ets_problem *pr) {
    clamp(x, lo, hi, ws->d);
    return objective(x, pr);
}

/* One Nelder-Mead iteration (reflection, expansion, contractions, shrink). */
static void nm_iterate(nm_ws *ws, const double *lo, const double *hi, const ets_problem *pr, double a, double g,
                       double rho, double sig) {
    const int d = ws->d;
    int b, w, s2;
    nm_order(ws->f, d + 1, &b, &w, &s2);
    double *xw = ws->simplex + (size_t)w * (size_t)d;
    for (int j = 0; j < d; j++) {
        double s = 0;
        for (int i = 0; i <= d; i++) s += ws->simplex[(size_t)i * (size_t)d + (size_t)j];
        ws->xo[j] = (s - xw[j]) / d;
    }
    for (int j = 0; j < d; j++) ws->xr[j] = ws->xo[j] + a * (ws->xo[j] - xw[j]);
    double fr = nm_eval(ws, ws->xr, lo, hi, pr);
    if (ws->f[b] <= fr && fr < ws->f[s2]) {
        memcpy(xw, ws->xr, (size_t)d * sizeof *xw);
        ws->f[w] = fr;
        return;
    }
    if (fr < ws->f[b]) {
        for (int j = 0; j < d; j++) ws->xe[j] = ws->xo[j] + g * (ws->xr[j] - ws->xo[j]);
        double fe = nm_eval(ws, ws->xe, lo, hi, pr);
        memcpy(xw, fe < fr ? ws->xe : ws->xr, (size_t)d * sizeof *xw);
        ws->f[w] = fe < fr ? fe : fr;
        return;
    }
    if (ws->f[s2] <= fr && fr < ws->f[w]) {
        for (int j = 0; j < d; j++) ws->xc[j] = ws->xo[j] + rho * (ws->xr[j] - ws->xo[j]);
        double fc = nm_eval(ws, ws->xc, lo, hi, pr);
        if (fc <= fr) {
            memcpy(xw, ws->xc, (size_t)d * sizeof *xw);
            ws->f[w] = fc;
            return;
        }
    } else {
        for (int j = 0; j < d; j++) ws->xc[j] = ws->xo[j] - rho * (ws->xr[j] - ws->xo[j]);
        double fc = nm_eval(ws, ws->xc, lo, hi, pr);
        if (fc < ws->f[w]) {
            memcpy(xw, ws->xc, (size_t)d * sizeof *xw);
            ws->f[w] = fc;
            return;
        }
    }
    const double *xb = ws->simplex + (size_t)b * (size_t)d;
    for (int i = 0; i <= d; i++) {
        if (i == b) continue; /* statsforecast shrinks rows 1..d: the same unless the best is not row 0 */
        double *xi = ws->simplex + (size_t)i * (size_t)d;
        for (int j = 0; j < d; j++) xi[j] = xb[j] + sig * (xi[j] - xb[j]);
        ws->f[i] = nm_eval(ws, xi, lo, hi, pr);
    }
}

/* Minimises the objective from x (d), in place; returns the iterations. */
static int nelder_mead(double *x, const double *lo, const double *hi, int d, const ets_problem *pr, int max_iter,
                       double tol, double *fbest) {
    nm_ws ws = {d, NULL, NULL, NULL, NULL, NULL, NULL};
    ws.simplex = sn_malloc((size_t)(d + 1) * (size_t)d, sizeof *ws.simplex);
    ws.f = sn_malloc((size_t)d + 1, sizeof *ws.f);
    double *tmp = sn_malloc(4 * (size_t)d, sizeof *tmp);
    if (!ws.simplex || !ws.f || !tmp) {
        free(ws.simplex);
        free(ws.f);
        free(tmp);
        return -1;
    }
    ws.xo = tmp, ws.xr = tmp + d, ws.xe = tmp + 2 * d, ws.xc = tmp + 3 * d;
    /* adaptive parameters (Gao & Han 2012), as statsforecast with adaptive = true */
    const double a = 1.0, g = 1.0 + 2.0 / d, rho = 0.75 - 1.0 / (2.0 * d), sig = 1.0 - 1.0 / d;
    clamp(x, lo, hi, d);
    for (int i = 0; i <= d; i++) {
        double *xi = ws.simplex + (size_t)i * (size_t)d;
        memcpy(xi, x, (size_t)d * sizeof *x);
        if (i < d) {
            double v = xi[i] == 0 ? 1e-4 : xi[i] * 1.05; /* init_step 0.05, zero_pert 1e-4 */
            xi[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
        }
        ws.f[i] = objective(xi, pr);
    }
    int it = 0, b = 0, w, s2;
    for (; it < max_iter; it++) {
        if (spread(ws.f, d + 1) < tol) break;
        nm_iterate(&ws, lo, hi, pr, a, g, rho, sig);
    }
    nm_order(ws.f, d + 1, &b, &w, &s2);
    memcpy(x, ws.simplex + (size_t)b * (size_t)d, (size_t)d * sizeof *x);
    *fbest = ws.f[b];
    free(ws.simplex);
    free(ws.f);
    free(tmp);
    return it + 1;
}

/* ---- initial states (statsforecast's initstate for additive season and trend) ---- */

/* Classical additive decomposition's season (statsmodels seasonal_decompose,
 * two-sided moving average): pa (m), centred to mean 0. */
static void seasonal_indices(const double *y, size_t n, int m, double *pa) {
    const int even = m % 2 == 0, half = m / 2;
    double sum[ETS_MAX_M] = {0};
    size_t cnt[ETS_MAX_M] = {0};
    for (size_t t = (size_t)half; t + (size_t)half < n; t++) {
        double tr = 0;
        if (even) {
            tr = 0.5 * y[t - (size_t)half] + 0.5 * y[t + (size_t)half];
            for (int j = -half + 1; j < half; j++) tr += y[(size_t)((long)t + j)];
        } else {
            for (int j = -half; j <= half; j++) tr += y[(size_t)((long)t + j)];
        }
        tr /= m;
        sum[t % (size_t)m] += y[t] - tr;
        cnt[t % (size_t)m]++;
    }
    double mean = 0;
    for (int i = 0; i < m; i++) mean += (pa[i] = cnt[i] ? sum[i] / (double)cnt[i] : 0.0);
    mean /= m;
    for (int i = 0; i < m; i++) pa[i] -= mean;
}

/* l0, b0 from least squares of the first maxn seasonally adjusted values on
 * t = 1..maxn; s0[i] = pa[m-1-i] (s0[m-1] = pa[0]). */
static void initial_states(const double *y, size_t n, int m, double *l0, double *b0, double *s0) {
    double pa[ETS_MAX_M];
    if (m > 1) seasonal_indices(y, n, m, pa);
    else pa[0] = 0;
    size_t maxn = SN_MIN((size_t)SN_MAX(10, 2 * m), n);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t t = 0; t < maxn; t++) {
        double x = (double)(t + 1), v = y[t] - pa[t % (size_t)m];
        sx += x, sy += v, sxx += x * x, sxy += x * v;
    }
    double k = (double)maxn, b = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    *b0 = b;
    *l0 = (sy - b * sx) / k;
    if (fabs(*l0 + *b0) < 1e-8) *l0 *= 1 + 1e-3, *b0 *= 1 - 1e-3;
    for (int i = 0; i < m; i++) s0[i] = pa[(m - 1 - i + m) % m];
}

static sn_status ets_fit(sn_ets *e, const double *y, size_t n, int m);

/* The compute entry points run with denormals flushed (core/internal.h) and
 * restore the caller's mode. */
sn_status sn_ets_fit(sn_ets *e, const double *y, size_t n, int m) {
    sn_fp_state fp = sn_fp_enter();
    sn_status st = ets_fit(e, y, n, m);
    sn_fp_leave(fp);
    return st;
}

static sn_status ets_fit(sn_ets *e, const double *y, size_t n, int m) {
    if (!e || !y) return sn_error(SN_ERR_ARG, "sn_ets_fit: NULL argument");
    memset(e, 0, sizeof *e);
    if (m < 1 || m > ETS_MAX_M)
        return sn_error(SN_ERR_ARG, "ets: season %d outside 1..%d (a 10-minute series needs --sampling 1h or --season 24)",
                        m, ETS_MAX_M);
    if (m > 1 && n < 3 * (size_t)m)
        return sn_error(SN_ERR_ARG, "ets: %zu training rows, fewer than 3 seasons of %d", n, m);
    const int d = n_free(m), gi = m > 1;
    if (n <= (size_t)d + 4) return sn_error(SN_ERR_ARG, "ets: %zu training rows for %d parameters", n, d);
    for (size_t t = 0; t < n; t++)
        if (!isfinite(y[t])) return sn_error(SN_ERR_NUMERIC, "ets: value %zu of the training series is not finite", t);
    e->s0 = sn_malloc((size_t)m, sizeof *e->s0);
    double *x = sn_malloc((size_t)d * 3, sizeof *x);
    if (!e->s0 || !x) {
        free(e->s0);
        free(x);
        e->s0 = NULL;
        return SN_ERR_NOMEM;
    }
    double *lo = x + d, *hi = x + 2 * d;
    ets_problem pr = {y, n, m, {0}};
    double s0[ETS_MAX_M];
    double alpha0 = ETS_LO + 0.2 * (ETS_HI - ETS_LO) / m;
    double bhi = SN_MIN(ETS_HI, alpha0), ghi = SN_MIN(ETS_HI, 1 - alpha0);
    x[0] = alpha0;
    x[1] = ETS_LO + 0.1 * (bhi - ETS_LO);
    if (gi) x[2] = ETS_LO + 0.05 * (ghi - ETS_LO);
    initial_states(y, n, m, &x[2 + gi], &x[3 + gi], s0);
    for (int i = 0; i + 1 < m; i++) x[5 + i] = s0[i];
    for (int i = 0; i < d; i++) lo[i] = -INFINITY, hi[i] = INFINITY;
    lo[0] = ETS_LO, hi[0] = ETS_HI;
    lo[1] = ETS_LO, hi[1] = bhi;
    if (gi) lo[2] = ETS_LO, hi[2] = ghi;
    /* statsforecast runs one Nelder-Mead of 1,000 iterations; with 4 + m
     * parameters that stops far from the optimum (docs/forecasting.md), so
     * the search restarts from its best point (a fresh simplex) until a
     * restart gains less than ETS_RESTART_TOL in the objective. */
    double fbest, fprev = INFINITY;
    int it = 0;
    for (int rs = 0; rs < ETS_MAX_RESTARTS; rs++) {
        int k = nelder_mead(x, lo, hi, d, &pr, 1000, 1e-4, &fbest);
        if (k < 0) {
            free(x);
            sn_ets_free(e);
            return SN_ERR_NOMEM;
        }
        it += k;
        if (!(fprev - fbest > ETS_RESTART_TOL)) break;
        fprev = fbest;
    }
    e->m = m;
    unpack(x, m, &e->alpha, &e->beta, &e->gamma, &e->l0, &e->b0, e->s0);
    e->lik = sn_ets_lik(y, n, m, e->alpha, e->beta, e->gamma, e->l0, e->b0, e->s0);
    double np = d + 1; /* statsforecast counts sigma^2 as a parameter */
    e->sigma2 = (double)n > np + 1 ? exp(e->lik / (double)n) / ((double)n - np - 1) : NAN;
    e->iterations = it;
    free(x);
    if (!isfinite(e->lik)) {
        sn_ets_free(e);
        return sn_error(SN_ERR_NUMERIC, "ets: the fit did not reach a finite likelihood");
    }
    return SN_OK;
}

void sn_ets_free(sn_ets *e) {
    if (!e) return;
    free(e->s0);
    memset(e, 0, sizeof *e);
}

static sn_status ets_forecast(const sn_ets *e, const double *y, size_t n, const size_t *origins, size_t n_o,
                              const long *offsets, int S, double *out, size_t out_stride);

sn_status sn_ets_forecast(const sn_ets *e, const double *y, size_t n, const size_t *origins, size_t n_o,
                          const long *offsets, int S, double *out, size_t out_stride) {
    sn_fp_state fp = sn_fp_enter();
    sn_status st = ets_forecast(e, y, n, origins, n_o, offsets, S, out, out_stride);
    sn_fp_leave(fp);
    return st;
}

static sn_status ets_forecast(const sn_ets *e, const double *y, size_t n, const size_t *origins, size_t n_o,
                              const long *offsets, int S, double *out, size_t out_stride) {
    if (!e || !e->s0 || !y || (n_o && (!origins || !out)) || !offsets || S < 1)
        return sn_error(SN_ERR_ARG, "sn_ets_forecast: NULL argument");
    const int m = e->m;
    double ring[ETS_MAX_M];
    ets_state st = {0, 0, ring, 0};
    state_init(&st, m, e->l0, e->b0, e->s0);
    size_t t = 0;
    for (size_t k = 0; k < n_o; k++) {
        if (origins[k] >= n || (k && origins[k] < origins[k - 1]))
            return sn_error(SN_ERR_ARG, "sn_ets_forecast: origin %zu (%zu) out of order or beyond %zu rows", k,
                            origins[k], n);
        for (; t <= origins[k]; t++) {
            if (!isfinite(y[t])) return sn_error(SN_ERR_NUMERIC, "ets: value %zu of the series is not finite", t);
            state_step(&st, m, e->alpha, e->beta, e->gamma, y[t]);
        }
        for (int i = 0; i < S; i++) {
            long dd = offsets[i];
            int j = (int)(((long)m - 1 - ((dd - 1) % m)) % m);
            out[k * out_stride + (size_t)i] = st.l + (double)dd * st.b + ring[(st.head + j) % m];
        }
    }
    return SN_OK;
}
