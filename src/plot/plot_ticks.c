/* Axis ticks for the plots: "nice" linear steps (1/2/5 x 10^k), decades on
 * a log axis, calendar steps for unix-second time axes, each with its label.
 * No cairo here: the tests and the figure code in plot.c call these. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/plot.h"

/* ------------------------------------------------------------------ */
/* Ticks                                                               */
/* ------------------------------------------------------------------ */

/* Label of a linear tick value v for ticks `step` apart whose largest
 * magnitude is amax: just enough decimals to tell neighbours apart. */
static void plot_fmt_linear(char *buf, size_t cap, double v, double step, double amax) {
    if (v == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    double ls = floor(log10(step) + 1e-9);
    if (amax >= 1e6 || amax < 1e-4) {
        int prec = (int)(floor(log10(amax) + 1e-9) - ls);
        prec = prec < 0 ? 0 : prec > 12 ? 12 : prec;
        snprintf(buf, cap, "%.*e", prec, v);
    } else {
        int dec = ls >= 0 ? 0 : (int)-ls;
        dec = dec > 12 ? 12 : dec;
        snprintf(buf, cap, "%.*f", dec, v);
    }
}

int sn_plot_ticks(double lo, double hi, int target, int integer_only, sn_plot_tick *out, int max) {
    if (!out || max <= 0 || !isfinite(lo) || !isfinite(hi) || lo > hi) return 0;
    if (target < 2) target = 2;
    double span = hi - lo;
    if (!isfinite(span)) return 0;
    if (span == 0) {
        out[0].v = lo;
        snprintf(out[0].label, sizeof out[0].label, "%g", lo);
        return 1;
    }
    double raw = span / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double step = (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
    if (integer_only && step < 1) step = 1;
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    if (!(k1 >= k0) || fabs(k0) > 1e15 || fabs(k1) > 1e15) {
        /* No multiple inside, or the step is below double resolution here. */
        out[0].v = 0.5 * (lo + hi);
        snprintf(out[0].label, sizeof out[0].label, "%.6g", out[0].v);
        return 1;
    }
    int n = (int)SN_MIN(k1 - k0 + 1, (double)max);
    double amax = SN_MAX(fabs(k0 * step), fabs((k0 + n - 1) * step));
    for (int i = 0; i < n; i++) {
        double v = (k0 + i) * step;
        if (fabs(v) < step * 1e-9) v = 0;
        out[i].v = v;
        plot_fmt_linear(out[i].label, sizeof out[i].label, v, step, amax);
    }
    return n;
}

static void plot_fmt_pow10(char *buf, size_t cap, double m, int e) {
    if (e >= -4 && e <= 5) snprintf(buf, cap, "%g", m * pow(10.0, e));
    else if (m == 1) snprintf(buf, cap, "1e%d", e);
    else snprintf(buf, cap, "%ge%d", m, e);
}

int sn_plot_log_ticks(double lo, double hi, int target, sn_plot_tick *out, int max) {
    if (!out || max <= 0 || !isfinite(lo) || !isfinite(hi) || lo <= 0 || lo > hi) return 0;
    if (target < 2) target = 2;
    double L0 = log10(lo), L1 = log10(hi);
    int e0 = (int)ceil(L0 - 1e-9), e1 = (int)floor(L1 + 1e-9);
    int n = 0;
    if (e1 - e0 + 1 >= 2) {
        /* Every k-th decade, k in 1, 2, 5, 10, ... so about `target` show. */
        int nd = e1 - e0 + 1, every = 1;
        while ((nd + every - 1) / every > target) every = every == 1 ? 2 : every == 2 ? 5 : every * 2;
        int start = e0;
        while (((start % every) + every) % every) start++;
        for (int e = start; e <= e1 && n < max; e += every) {
            out[n].v = pow(10.0, e);
            plot_fmt_pow10(out[n].label, sizeof out[n].label, 1, e);
            n++;
        }
        if (n >= 2) return n;
        n = 0;
    }
    /* Under two decades: 1, 2, 5 x 10^e. */
    static const double mant[3] = {1, 2, 5};
    for (int e = (int)floor(L0) - 1; e <= (int)ceil(L1) && n < max; e++)
        for (int k = 0; k < 3 && n < max; k++) {
            double v = mant[k] * pow(10.0, e);
            if (v < lo * (1 - 1e-12) || v > hi * (1 + 1e-12)) continue;
            out[n].v = v;
            plot_fmt_pow10(out[n].label, sizeof out[n].label, mant[k], e);
            n++;
        }
    if (n >= 2) return n;
    /* A narrow range: linear ticks placed on the log axis. */
    return sn_plot_ticks(lo, hi, target, 0, out, max);
}

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's
 * algorithms, valid for negative days too). */
static int64_t plot_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void plot_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

enum { TSTEP_SEC = 0, TSTEP_MONTH = 1, TSTEP_YEAR = 2 };

static void plot_fmt_time(char *buf, size_t cap, double t, int kind, double step_s) {
    double tf = floor(t);
    int64_t days = (int64_t)floor(tf / 86400.0);
    int64_t sod = (int64_t)(tf - (double)days * 86400.0);
    int64_t y;
    unsigned m, d;
    plot_civil_from_days(days, &y, &m, &d);
    int hh = (int)(sod / 3600), mm = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    if (kind == TSTEP_YEAR) snprintf(buf, cap, "%lld", (long long)y);
    else if (kind == TSTEP_MONTH) snprintf(buf, cap, "%lld-%02u", (long long)y, m);
    else if (step_s >= 86400) snprintf(buf, cap, "%lld-%02u-%02u", (long long)y, m, d);
    else if (step_s >= 60) snprintf(buf, cap, "%02u.%02u %02d:%02d", d, m, hh, mm);
    else snprintf(buf, cap, "%02d:%02d:%02d", hh, mm, ss);
}

int sn_plot_time_ticks(double lo, double hi, int target, sn_plot_tick *out, int max) {
    if (!out || max <= 0 || !isfinite(lo) || !isfinite(hi) || lo > hi) return 0;
    /* Beyond +-300000 years the calendar is meaningless: numbers instead. */
    if (fabs(lo) > 1e13 || fabs(hi) > 1e13) return sn_plot_ticks(lo, hi, target, 0, out, max);
    if (target < 2) target = 2;
    static const struct { double sec; int kind, mult; } steps[] = {
        {1, TSTEP_SEC, 1},        {2, TSTEP_SEC, 1},        {5, TSTEP_SEC, 1},
        {10, TSTEP_SEC, 1},       {15, TSTEP_SEC, 1},       {30, TSTEP_SEC, 1},
        {60, TSTEP_SEC, 1},       {120, TSTEP_SEC, 1},      {300, TSTEP_SEC, 1},
        {600, TSTEP_SEC, 1},      {900, TSTEP_SEC, 1},      {1800, TSTEP_SEC, 1},
        {3600, TSTEP_SEC, 1},     {7200, TSTEP_SEC, 1},     {10800, TSTEP_SEC, 1},
        {21600, TSTEP_SEC, 1},    {43200, TSTEP_SEC, 1},    {86400, TSTEP_SEC, 1},
        {2 * 86400, TSTEP_SEC, 1}, {7 * 86400, TSTEP_SEC, 1}, {14 * 86400, TSTEP_SEC, 1},
        {30.44 * 86400, TSTEP_MONTH, 1}, {2 * 30.44 * 86400, TSTEP_MONTH, 2},
        {3 * 30.44 * 86400, TSTEP_MONTH, 3}, {6 * 30.44 * 86400, TSTEP_MONTH, 6},
    };
    const int nsteps = (int)(sizeof steps / sizeof steps[0]);
    double span = hi - lo;
    int kind = TSTEP_YEAR, mult = 1;
    double sec = 0;
    for (int i = 0; i < nsteps; i++)
        if (span / steps[i].sec <= target) {
            kind = steps[i].kind;
            mult = steps[i].mult;
            sec = steps[i].sec;
            break;
        }
    if (kind == TSTEP_YEAR) {
        /* 1, 2, 5, 10, 20, 50, ... years. */
        static const int seq[3] = {1, 2, 5};
        double years = span / (365.2425 * 86400.0);
        int j = 0, p = 1;
        while (years / mult > target) {
            if (++j == 3) {
                j = 0;
                p *= 10;
            }
            mult = seq[j] * p;
        }
    }
    int n = 0;
    if (kind == TSTEP_SEC) {
        double k0 = ceil(lo / sec - 1e-9);
        for (double k = k0; k * sec <= hi + 1e-9 && n < max; k += 1) {
            out[n].v = k * sec;
            plot_fmt_time(out[n].label, sizeof out[n].label, out[n].v, kind, sec);
            n++;
        }
        return n;
    }
    int64_t y;
    unsigned m, d;
    plot_civil_from_days((int64_t)floor(lo / 86400.0), &y, &m, &d);
    if (kind == TSTEP_MONTH) {
        int64_t mi = y * 12 + (m - 1); /* month index; first month start >= lo */
        if (plot_days_from_civil(y, m, 1) * 86400.0 < lo) mi++;
        while (((mi % mult) + mult) % mult) mi++;
        for (; n < max; mi += mult) {
            int64_t yy = (mi >= 0 ? mi : mi - 11) / 12;
            unsigned mm = (unsigned)(mi - yy * 12) + 1;
            double v = (double)plot_days_from_civil(yy, mm, 1) * 86400.0;
            if (v > hi) break;
            out[n].v = v;
            plot_fmt_time(out[n].label, sizeof out[n].label, v, kind, 0);
            n++;
        }
        return n;
    }
    int64_t yy = y;
    if (plot_days_from_civil(yy, 1, 1) * 86400.0 < lo) yy++;
    while (((yy % mult) + mult) % mult) yy++;
    for (; n < max; yy += mult) {
        double v = (double)plot_days_from_civil(yy, 1, 1) * 86400.0;
        if (v > hi) break;
        out[n].v = v;
        plot_fmt_time(out[n].label, sizeof out[n].label, v, kind, 0);
        n++;
    }
    return n;
}

