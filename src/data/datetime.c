/* Dates: the proleptic Gregorian calendar (Howard Hinnant's days-from-civil
 * algorithms), the date formats sn_csv_read accepts, and sn_time_format. */
#include <stdio.h>
#include <string.h>

#include "data/csv_internal.h"

/* ---------------------------------------------------------------------
 * Calendar (proleptic Gregorian, Howard Hinnant's algorithms)
 * --------------------------------------------------------------------- */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

char *sn_time_format(int64_t t, char *buf, size_t n) {
    if (!buf || n == 0) return buf;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t sod = t - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
    return buf;
}

/* ---------------------------------------------------------------------
 * Date parsing. Each parser reads [p, e) completely or fails (returns 0).
 * --------------------------------------------------------------------- */
/* Reads between min and max digits; returns the count (0 on failure). */
static int read_digits(const char **pp, const char *e, int min, int max, int64_t *v) {
    const char *p = *pp;
    int64_t x = 0;
    int n = 0;
    while (p < e && n < max && *p >= '0' && *p <= '9') {
        x = x * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n < min) return 0;
    *pp = p;
    *v = x;
    return n;
}

static int make_time(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t *out) {
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (int)mo) || h > 23 || mi > 59 || s > 59) return 0;
    *out = days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + s;
    return 1;
}

/* Optional " HH:MM[:SS]" (sep is ' ' or, for ISO, also 'T'). */
static int parse_clock(const char **pp, const char *e, int iso, int64_t *h, int64_t *mi, int64_t *s) {
    const char *p = *pp;
    *h = *mi = *s = 0;
    if (p == e) return 1;
    if (*p == ' ' || (iso && (*p == 'T' || *p == 't'))) p++;
    else return 0;
    while (p < e && *p == ' ') p++;
    if (!read_digits(&p, e, 1, 2, h) || p >= e || *p != ':') return 0;
    p++;
    if (!read_digits(&p, e, 2, 2, mi)) return 0;
    if (p < e && *p == ':') {
        p++;
        if (!read_digits(&p, e, 2, 2, s)) return 0;
        if (iso && p < e && (*p == '.' || *p == ',')) { /* fraction: truncated */
            p++;
            int64_t f;
            if (!read_digits(&p, e, 1, 18, &f)) return 0;
        }
    }
    *pp = p;
    return 1;
}

int sn_date_parse(const char *p, const char *e, sn_date_format fmt, int64_t *out) {
    while (p < e && *p == ' ') p++;
    while (e > p && e[-1] == ' ') e--;
    int64_t y, mo, d, h, mi, s;
    switch (fmt) {
    case SN_DATE_DMY:
        if (!read_digits(&p, e, 1, 2, &d) || p >= e || *p++ != '.') return 0;
        if (!read_digits(&p, e, 1, 2, &mo) || p >= e || *p++ != '.') return 0;
        if (!read_digits(&p, e, 4, 4, &y)) return 0;
        if (!parse_clock(&p, e, 0, &h, &mi, &s) || p != e) return 0;
        return make_time(y, mo, d, h, mi, s, out);
    case SN_DATE_MDY:
        if (!read_digits(&p, e, 1, 2, &mo) || p >= e || *p++ != '/') return 0;
        if (!read_digits(&p, e, 1, 2, &d) || p >= e || *p++ != '/') return 0;
        if (!read_digits(&p, e, 4, 4, &y)) return 0;
        if (!parse_clock(&p, e, 0, &h, &mi, &s) || p != e) return 0;
        return make_time(y, mo, d, h, mi, s, out);
    case SN_DATE_ISO: {
        if (!read_digits(&p, e, 4, 4, &y) || p >= e || *p++ != '-') return 0;
        if (!read_digits(&p, e, 2, 2, &mo) || p >= e || *p++ != '-') return 0;
        if (!read_digits(&p, e, 2, 2, &d)) return 0;
        if (!parse_clock(&p, e, 1, &h, &mi, &s)) return 0;
        int64_t off = 0;
        if (p < e && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < e && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh, om = 0;
            if (!read_digits(&p, e, 2, 2, &oh)) return 0;
            if (p < e && *p == ':') p++;
            if (p < e && !read_digits(&p, e, 2, 2, &om)) return 0;
            if (oh > 23 || om > 59) return 0;
            off = sign * (oh * 3600 + om * 60);
        }
        if (p != e || !make_time(y, mo, d, h, mi, s, out)) return 0;
        *out -= off;
        return 1;
    }
    case SN_DATE_UNIX: {
        int neg = 0;
        if (p < e && (*p == '-' || *p == '+')) neg = *p++ == '-';
        int64_t v;
        if (!read_digits(&p, e, 1, 18, &v) || p != e) return 0;
        *out = neg ? -v : v;
        return 1;
    }
    case SN_DATE_AUTO: break;
    }
    return 0;
}

const char *sn_date_format_name(sn_date_format f) {
    switch (f) {
    case SN_DATE_DMY: return "dd.mm.yyyy HH:MM:SS";
    case SN_DATE_ISO: return "yyyy-mm-dd HH:MM:SS";
    case SN_DATE_UNIX: return "unix seconds";
    case SN_DATE_MDY: return "mm/dd/yyyy HH:MM:SS";
    case SN_DATE_AUTO: break;
    }
    return "auto";
}
