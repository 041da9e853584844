/* Decimal numbers of the CSV reader (csv.c): an exact fast path (Clinger:
 * an integer mantissa <= 2^53 scaled by an exact power of ten <= 1e22 is one
 * correctly rounded IEEE operation, hence bit-identical to strtod) with
 * strtod as the fallback for anything longer. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "data/csv_internal.h"

/* ---------------------------------------------------------------------
 * Numbers
 * --------------------------------------------------------------------- */
static const double k_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* "inf", "-Infinity", ...: a number-shaped value that is refused as not
 * finite (rather than taken for a text column). */
int sn_csv_is_inf_text(const char *b, const char *e) {
    if (b < e && (*b == '-' || *b == '+')) b++;
    size_t n = (size_t)(e - b);
    return (n == 3 && !strncasecmp(b, "inf", 3)) || (n == 8 && !strncasecmp(b, "infinity", 8));
}

/* Parses the decimal number [b, e) (no surrounding spaces) into *out.
 * Syntax: [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa
 * digit. Returns 1 on success, 0 if the text is not such a number (so "inf",
 * "nan", hex floats are refused). The value equals strtod's bit for bit. */
int sn_csv_parse_number(const char *b, const char *e, double *out) {
    const char *p = b;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = *p++ == '-';
    /* m collects every mantissa digit; it is exact while there are <= 19 of
     * them (leading zeros included), and unused (slow path) otherwise. */
    uint64_t m = 0;
    const char *d0 = p;
    while (p < e && (unsigned)(*p - '0') < 10) m = m * 10 + (uint64_t)(*p++ - '0');
    int ndig = (int)(p - d0), frac = 0;
    if (p < e && *p == '.') {
        const char *f0 = ++p;
        while (p < e && (unsigned)(*p - '0') < 10) m = m * 10 + (uint64_t)(*p++ - '0');
        frac = (int)(p - f0);
        ndig += frac;
    }
    if (ndig == 0) return 0;
    int64_t ex = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '-' || *p == '+')) eneg = *p++ == '-';
        int nd = 0;
        while (p < e && (unsigned)(*p - '0') < 10) {
            if (ex < 100000) ex = ex * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0) return 0;
        if (eneg) ex = -ex;
    }
    if (p != e) return 0;
    int64_t e10 = ex - frac;
    if (ndig <= 19 && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 < 0 ? v / k_pow10[-e10] : v * k_pow10[e10];
        *out = neg ? -v : v;
        return 1;
    }
    /* Slow exact path: strtod on a NUL-terminated copy (syntax already checked). */
    size_t len = (size_t)(e - b);
    char small[128];
    char *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp) return 0;
    memcpy(tmp, b, len);
    tmp[len] = 0;
    errno = 0;
    double v = strtod(tmp, NULL);
    if (tmp != small) free(tmp);
    *out = v; /* overflow gives +-HUGE_VAL: refused by the caller as not finite */
    return 1;
}

