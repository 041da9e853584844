/* CSV reader for numeric time series (plain, gzip, zip, xz, bzip2, zstd),
 * with dates.
 *
 * The file is streamed through a 4 MiB window (never held whole; peak memory
 * is the table itself) and parsed line by line by a hand-written scanner:
 * fields are split on the delimiter (quote-aware), numbers go through an
 * exact fast path (Clinger: an integer mantissa <= 2^53 scaled by an exact
 * power of ten <= 1e22 is one correctly rounded IEEE operation, hence
 * bit-identical to strtod) with strtod as the fallback for anything longer.
 * Dates are parsed by hand too. Load time of a 43 MB, 420,551-row Jena file:
 * see bench/csv_load.c (about 0.3 s CPU plain, 0.45 s gzip on a Zen3 core). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/internal.h"
#include "data/stream.h"
#include "seqnn/data.h"

#define SN_CSV_MAX_LINE (1u << 20)  /* 1 MiB per line */
#define SN_CSV_MAX_FIELDS 100000

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

static int parse_date(const char *p, const char *e, sn_date_format fmt, int64_t *out) {
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

static const char *date_format_name(sn_date_format f) {
    switch (f) {
    case SN_DATE_DMY: return "dd.mm.yyyy HH:MM:SS";
    case SN_DATE_ISO: return "yyyy-mm-dd HH:MM:SS";
    case SN_DATE_UNIX: return "unix seconds";
    case SN_DATE_MDY: return "mm/dd/yyyy HH:MM:SS";
    case SN_DATE_AUTO: break;
    }
    return "auto";
}

/* ---------------------------------------------------------------------
 * Numbers
 * --------------------------------------------------------------------- */
static const double k_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* "inf", "-Infinity", ...: a number-shaped value that is refused as not
 * finite (rather than taken for a text column). */
static int is_inf_text(const char *b, const char *e) {
    if (b < e && (*b == '-' || *b == '+')) b++;
    size_t n = (size_t)(e - b);
    return (n == 3 && !strncasecmp(b, "inf", 3)) || (n == 8 && !strncasecmp(b, "infinity", 8));
}

/* Parses the decimal number [b, e) (no surrounding spaces) into *out.
 * Syntax: [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa
 * digit. Returns 1 on success, 0 if the text is not such a number (so "inf",
 * "nan", hex floats are refused). The value equals strtod's bit for bit. */
static int parse_number(const char *b, const char *e, double *out) {
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

/* Next non-blank line of the stream: [*b, *e) without CR/LF. *got = 0 at
 * the end. Blank lines (spaces and tabs only) are skipped but counted in
 * the stream's line numbers. */
static sn_status next_line(sn_stream *in, const char **b, const char **e, int *got) {
    for (;;) {
        char *p;
        size_t n;
        sn_status st = sn_stream_getline(in, &p, &n, got);
        if (st != SN_OK || !*got) return st;
        const char *t = p, *le = p + n;
        while (t < le && (*t == ' ' || *t == '\t')) t++;
        if (t == le) continue;
        *b = p;
        *e = le;
        return SN_OK;
    }
}

/* ---------------------------------------------------------------------
 * Lines and fields
 * --------------------------------------------------------------------- */
typedef struct span {
    const char *b, *e; /* field text, quotes removed (escaped "" stay doubled) */
    int quoted;
} span;

/* Quotes a field for an error message: at most 40 bytes, non-printable bytes as \xNN. */
static const char *show(const char *b, const char *e, char *buf, size_t n) {
    size_t o = 0;
    const char *p = b;
    for (; p < e && o + 8 < n && p - b < 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 32 && c < 127 && c != '"' && c != '\\') buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, n - o, "\\x%02X", c);
    }
    if (p < e && o + 4 < n) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o < n ? o : n - 1] = 0;
    return buf;
}

/* Splits line [p, e) into fields. Stores up to max spans; returns the total
 * number of fields (which may exceed max), or -1 on an unterminated or
 * malformed quote (*bad_col set to its 1-based byte column). */
static int split_fields(const char *p, const char *e, char delim, span *f, int max, size_t *bad_col) {
    const char *line = p;
    int n = 0;
    for (;;) {
        span s;
        s.quoted = 0;
        const char *q = p;
        while (q < e && *q == ' ') q++;
        if (q < e && *q == '"') {
            q++;
            s.b = q;
            for (;;) {
                const char *c = memchr(q, '"', (size_t)(e - q));
                if (!c) {
                    *bad_col = (size_t)(s.b - line);
                    return -1;
                }
                if (c + 1 < e && c[1] == '"') {
                    q = c + 2;
                    continue;
                }
                s.e = c;
                q = c + 1;
                break;
            }
            s.quoted = 1;
            while (q < e && *q == ' ') q++;
            if (q < e && *q != delim) {
                *bad_col = (size_t)(q - line) + 1;
                return -1;
            }
            p = q;
        } else {
            /* A byte loop: fields are short, so a memchr call per field costs more. */
            const char *c = p;
            while (c < e && *c != delim) c++;
            s.b = p;
            s.e = c;
            p = c;
        }
        if (n < max) f[n] = s;
        n++;
        if (p >= e) break;
        p++; /* the delimiter */
        if (p == e) { /* trailing delimiter: one more, empty field */
            if (n < max) f[n].b = f[n].e = e, f[n].quoted = 0;
            n++;
            break;
        }
    }
    return n;
}

static void trim(const char **b, const char **e) {
    while (*b < *e && (**b == ' ' || **b == '\t')) (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

/* "1,5" or "-0,25": a decimal comma (from a ';'-separated European file). */
static int is_decimal_comma(const char *b, const char *e) {
    const char *p = b;
    if (p < e && (*p == '-' || *p == '+')) p++;
    const char *d = p;
    while (p < e && (unsigned)(*p - '0') < 10) p++;
    if (p == d || p >= e || *p != ',') return 0;
    d = ++p;
    while (p < e && (unsigned)(*p - '0') < 10) p++;
    return p > d && p == e;
}

static int is_missing_text(const char *b, const char *e) {
    if (b == e) return 1;
    return e - b == 3 && (b[0] | 32) == 'n' && (b[1] | 32) == 'a' && (b[2] | 32) == 'n';
}

static char *dup_field(const span *s) {
    const char *b = s->b, *e = s->e;
    if (!s->quoted) trim(&b, &e);
    char *out = sn_malloc((size_t)(e - b) + 1, 1);
    if (!out) return NULL;
    size_t o = 0;
    for (const char *p = b; p < e; p++) {
        out[o++] = *p;
        if (s->quoted && *p == '"' && p + 1 < e && p[1] == '"') p++;
    }
    out[o] = 0;
    return out;
}

static int name_eq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int is_date_name(const char *s) {
    static const char *names[] = {"date time", "datetime", "date", "time", "timestamp", "date_time"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (name_eq_ci(s, names[i])) return 1;
    return 0;
}

/* ---------------------------------------------------------------------
 * sn_table
 * --------------------------------------------------------------------- */
void sn_table_free(sn_table *t) {
    if (!t) return;
    if (t->col_names)
        for (int j = 0; j < t->n_cols; j++) free(t->col_names[j]);
    free(t->col_names);
    free(t->data);
    free(t->time);
    free(t->time_name);
    free(t->line);
    free(t->path);
    memset(t, 0, sizeof *t);
}

static sn_status list_columns_error(sn_status st, char *const *names, int n, const char *what, const char *name) {
    char list[700];
    size_t o = 0;
    list[0] = 0;
    for (int j = 0; j < n && o < sizeof list - 8; j++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", j ? ", " : "", names[j]);
    if (o >= sizeof list - 8) snprintf(list + sizeof list - 8, 8, "...");
    return sn_error(st, "%s \"%s\" (columns: %s)", what, name, list);
}

/* Name lookup over an array of names; see sn_table_col_index. Returns index,
 * -1 for no match, -2 for ambiguous. */
static int find_name(char *const *names, int n, const char *name) {
    for (int j = 0; j < n; j++)
        if (names[j] && !strcmp(names[j], name)) return j;
    int hit = -1;
    for (int j = 0; j < n; j++)
        if (names[j] && name_eq_ci(names[j], name)) {
            if (hit >= 0) return -2;
            hit = j;
        }
    if (hit >= 0) return hit;
    size_t ln = strlen(name);
    for (int j = 0; j < n; j++) {
        if (!names[j]) continue;
        const char *paren = strstr(names[j], " (");
        size_t k = paren ? (size_t)(paren - names[j]) : strlen(names[j]);
        if (k != ln) continue;
        size_t i = 0;
        while (i < k && tolower((unsigned char)names[j][i]) == tolower((unsigned char)name[i])) i++;
        if (i == k) {
            if (hit >= 0) return -2;
            hit = j;
        }
    }
    return hit;
}

sn_status sn_table_col_index(const sn_table *t, const char *name, int *idx) {
    if (!t || !name || !idx) return sn_error(SN_ERR_ARG, "sn_table_col_index: NULL argument");
    int j = find_name(t->col_names, t->n_cols, name);
    if (j == -2) return list_columns_error(SN_ERR_ARG, t->col_names, t->n_cols, "ambiguous column name", name);
    if (j < 0) return list_columns_error(SN_ERR_ARG, t->col_names, t->n_cols, "no column named", name);
    *idx = j;
    return SN_OK;
}

sn_status sn_table_column_f32(const sn_table *t, int col, float *out) {
    if (!t || !out || !t->data) return sn_error(SN_ERR_ARG, "sn_table_column_f32: NULL argument");
    if (col < 0 || col >= t->n_cols)
        return sn_error(SN_ERR_ARG, "column index %d out of range [0,%d)", col, t->n_cols);
    for (size_t i = 0; i < t->n_rows; i++) out[i] = (float)t->data[i * (size_t)t->n_cols + (size_t)col];
    return SN_OK;
}

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = sn_malloc(n, 1);
    if (d) memcpy(d, s, n);
    return d;
}

sn_status sn_table_select(sn_table *out, const sn_table *in, const char *const *names, int n_names) {
    if (!out || !in || !names || n_names <= 0 || out == in)
        return sn_error(SN_ERR_ARG, "sn_table_select: NULL argument, no names, or out == in");
    int *idx = sn_malloc((size_t)n_names, sizeof *idx);
    if (!idx) return SN_ERR_NOMEM;
    sn_status st;
    for (int k = 0; k < n_names; k++)
        if ((st = sn_table_col_index(in, names[k], &idx[k])) != SN_OK) {
            free(idx);
            return st;
        }
    sn_table t;
    memset(&t, 0, sizeof t);
    t.n_rows = in->n_rows;
    t.n_cols = n_names;
    t.col_names = sn_calloc((size_t)n_names, sizeof *t.col_names);
    t.data = sn_malloc(in->n_rows ? in->n_rows * (size_t)n_names : 1, sizeof *t.data);
    t.path = dup_str(in->path);
    t.line = in->line ? sn_malloc(in->n_rows ? in->n_rows : 1, sizeof *t.line) : NULL;
    t.time = in->time ? sn_malloc(in->n_rows ? in->n_rows : 1, sizeof *t.time) : NULL;
    t.time_name = dup_str(in->time_name);
    int bad = !t.col_names || !t.data || (in->path && !t.path) || (in->line && !t.line) ||
              (in->time && !t.time) || (in->time_name && !t.time_name);
    for (int k = 0; !bad && k < n_names; k++) bad = !(t.col_names[k] = dup_str(in->col_names[idx[k]]));
    if (bad) {
        free(idx);
        sn_table_free(&t);
        return SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < in->n_rows; i++)
        for (int k = 0; k < n_names; k++)
            t.data[i * (size_t)n_names + (size_t)k] = in->data[i * (size_t)in->n_cols + (size_t)idx[k]];
    if (in->line) memcpy(t.line, in->line, in->n_rows * sizeof *t.line);
    if (in->time) memcpy(t.time, in->time, in->n_rows * sizeof *t.time);
    free(idx);
    *out = t;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * sn_csv_read
 * --------------------------------------------------------------------- */
typedef struct csv_state {
    const char *path;
    sn_stream in;
    span *f;          /* (n_fields + 1) scratch spans */
    char **hdr;       /* (n_fields) header names */
    int n_fields;
    int *map;         /* (n_fields): output column, -1 skip, -2 date */
    int *out_field;   /* (n_out): source field of each output column */
    int n_out;
    int date_field;   /* -1 none */
    sn_date_format dfmt;
} csv_state;

static void csv_state_free(csv_state *s) {
    sn_stream_close(&s->in);
    free(s->f);
    if (s->hdr)
        for (int j = 0; j < s->n_fields; j++) free(s->hdr[j]);
    free(s->hdr);
    free(s->map);
    free(s->out_field);
}

static size_t col_of(const char *line_b, const char *p) { return (size_t)(p - line_b) + 1; }

sn_status sn_csv_read(sn_table *out, const char *path, const sn_csv_opts *opts_in) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_csv_read: NULL argument");
    memset(out, 0, sizeof *out);
    sn_csv_opts opts;
    memset(&opts, 0, sizeof opts);
    if (opts_in) opts = *opts_in;
    if (opts.columns && opts.n_columns <= 0)
        return sn_error(SN_ERR_ARG, "sn_csv_read: columns given but n_columns = %d", opts.n_columns);
    if (opts.missing != SN_MISSING_ERROR && opts.missing != SN_MISSING_FFILL)
        return sn_error(SN_ERR_ARG, "sn_csv_read: unknown missing-value policy %d", (int)opts.missing);
    if ((int)opts.date_format < 0 || (int)opts.date_format > SN_DATE_MDY)
        return sn_error(SN_ERR_ARG, "sn_csv_read: unknown date format %d", (int)opts.date_format);

    csv_state s;
    memset(&s, 0, sizeof s);
    s.path = path;
    s.date_field = -1;
    sn_table t;
    memset(&t, 0, sizeof t);
    sn_stream_opts so = {0, ".csv", SN_CSV_MAX_LINE};
    sn_status st = sn_stream_open(&s.in, path, &so);
    if (st != SN_OK) {
        csv_state_free(&s);
        return st;
    }
    const char *lb = NULL, *le = NULL;
    int r;
    char shown[200];
    if ((st = next_line(&s.in, &lb, &le, &r)) != SN_OK) goto fail;
    size_t lineno = s.in.lineno;
    if (r == 0) {
        st = sn_error(SN_ERR_FORMAT, "%s: file is empty (no header line)", path);
        goto fail;
    }
    if (lineno == 1 && le - lb >= 3 && (unsigned char)lb[0] == 0xEF && (unsigned char)lb[1] == 0xBB &&
        (unsigned char)lb[2] == 0xBF)
        lb += 3; /* UTF-8 byte order mark */
    size_t header_line = lineno;

    /* Delimiter: given, or the most frequent of , ; \t outside quotes in the header. */
    char delim = opts.delimiter;
    if (!delim) {
        size_t cnt[3] = {0, 0, 0};
        int inq = 0;
        for (const char *p = lb; p < le; p++) {
            if (*p == '"') inq = !inq;
            else if (!inq) cnt[0] += *p == ',', cnt[1] += *p == ';', cnt[2] += *p == '\t';
        }
        delim = ',';
        if (cnt[1] > cnt[0] && cnt[1] >= cnt[2]) delim = ';';
        else if (cnt[2] > cnt[0] && cnt[2] > cnt[1]) delim = '\t';
    }

    /* Header. */
    size_t badc = 0;
    span tmp1;
    int nf = split_fields(lb, le, delim, &tmp1, 0, &badc);
    if (nf < 0) {
        st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: unterminated or malformed quoted field in the header", path,
                      lineno, badc);
        goto fail;
    }
    if (nf > SN_CSV_MAX_FIELDS) {
        st = sn_error(SN_ERR_FORMAT, "%s:%zu: %d fields in the header, more than %d", path, lineno, nf,
                      SN_CSV_MAX_FIELDS);
        goto fail;
    }
    s.n_fields = nf;
    s.f = sn_malloc((size_t)nf + 1, sizeof *s.f);
    s.hdr = sn_calloc((size_t)nf, sizeof *s.hdr);
    s.map = sn_malloc((size_t)nf, sizeof *s.map);
    if (!s.f || !s.hdr || !s.map) {
        st = SN_ERR_NOMEM;
        goto fail;
    }
    split_fields(lb, le, delim, s.f, nf + 1, &badc);
    for (int j = 0; j < nf; j++) {
        if (!(s.hdr[j] = dup_field(&s.f[j]))) {
            st = SN_ERR_NOMEM;
            goto fail;
        }
        if (!s.hdr[j][0]) { /* unnamed (a pandas index): "column N" */
            free(s.hdr[j]);
            if (!(s.hdr[j] = sn_malloc(24, 1))) {
                st = SN_ERR_NOMEM;
                goto fail;
            }
            snprintf(s.hdr[j], 24, "column %d", j + 1);
        }
        s.map[j] = -1;
    }

    /* Date column. */
    if (opts.date_column && opts.date_column[0]) {
        s.date_field = find_name(s.hdr, nf, opts.date_column);
        if (s.date_field < 0) {
            st = list_columns_error(SN_ERR_FORMAT, s.hdr, nf, "no (or an ambiguous) date column", opts.date_column);
            sn_error_prefix(st, "%s:%zu", path, header_line);
            goto fail;
        }
    } else if (!opts.date_column) {
        for (int j = 0; j < nf && s.date_field < 0; j++)
            if (is_date_name(s.hdr[j])) s.date_field = j;
    }
    if (s.date_field >= 0) s.map[s.date_field] = -2;
    s.dfmt = opts.date_format;

    /* First data row: decides numeric columns (NULL selection) and the date format. */
    if ((st = next_line(&s.in, &lb, &le, &r)) != SN_OK) goto fail;
    lineno = s.in.lineno;
    if (r == 0) {
        st = sn_error(SN_ERR_FORMAT, "%s: header only, no data rows", path);
        goto fail;
    }
    int n1 = split_fields(lb, le, delim, s.f, nf + 1, &badc);
    if (n1 >= 0 && n1 != nf) {
        st = sn_error(SN_ERR_FORMAT, "%s:%zu: expected %d fields (as in the header), found %d", path, lineno, nf,
                      n1);
        goto fail;
    }
    if (opts.columns) {
        s.n_out = opts.n_columns;
        s.out_field = sn_malloc((size_t)s.n_out, sizeof *s.out_field);
        if (!s.out_field) {
            st = SN_ERR_NOMEM;
            goto fail;
        }
        for (int k = 0; k < s.n_out; k++) {
            const char *nm = opts.columns[k] ? opts.columns[k] : "(null)";
            int j = find_name(s.hdr, nf, nm);
            if (j < 0) {
                st = list_columns_error(SN_ERR_FORMAT, s.hdr, nf, j == -2 ? "ambiguous column name" : "no column named",
                                        nm);
                sn_error_prefix(st, "%s:%zu", path, header_line);
                goto fail;
            }
            if (j == s.date_field) {
                st = sn_error(SN_ERR_ARG, "%s: column \"%s\" is the date column, not a numeric one", path, s.hdr[j]);
                goto fail;
            }
            if (s.map[j] >= 0) {
                st = sn_error(SN_ERR_ARG, "%s: column \"%s\" selected twice", path, s.hdr[j]);
                goto fail;
            }
            s.map[j] = k;
            s.out_field[k] = j;
        }
    } else {
        s.out_field = sn_malloc((size_t)nf, sizeof *s.out_field);
        if (!s.out_field) {
            st = SN_ERR_NOMEM;
            goto fail;
        }
        for (int j = 0; j < nf && n1 >= 0; j++) {
            if (j == s.date_field) continue;
            const char *b = s.f[j].b, *e = s.f[j].e;
            trim(&b, &e);
            double v;
            if (is_missing_text(b, e) || parse_number(b, e, &v) || is_decimal_comma(b, e) || is_inf_text(b, e)) {
                s.map[j] = s.n_out;
                s.out_field[s.n_out++] = j;
            } else {
                sn_log(SN_LOG_INFO, "%s: skipping column \"%s\": its first value \"%s\" is not a number", path,
                       s.hdr[j], show(b, e, shown, sizeof shown));
            }
        }
        if (n1 >= 0 && s.n_out == 0) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: no numeric column (the first data row has no number%s)", path,
                          lineno, s.date_field >= 0 ? " besides the date" : "");
            goto fail;
        }
    }
    if (s.date_field >= 0 && s.dfmt == SN_DATE_AUTO && n1 >= 0) {
        const span *d = &s.f[s.date_field];
        int64_t tv;
        if (parse_date(d->b, d->e, SN_DATE_DMY, &tv)) s.dfmt = SN_DATE_DMY;
        else if (parse_date(d->b, d->e, SN_DATE_ISO, &tv)) s.dfmt = SN_DATE_ISO;
        else if (parse_date(d->b, d->e, SN_DATE_UNIX, &tv)) s.dfmt = SN_DATE_UNIX;
        else {
            int slash = memchr(d->b, '/', (size_t)(d->e - d->b)) != NULL;
            st = sn_error(SN_ERR_FORMAT,
                          "%s:%zu:%zu: cannot recognise the date \"%s\" in column \"%s\"%s", path, lineno,
                          col_of(lb, d->b), show(d->b, d->e, shown, sizeof shown), s.hdr[s.date_field],
                          slash ? " (month-first dates need date_format = SN_DATE_MDY)"
                                : " (expected dd.mm.yyyy HH:MM:SS, yyyy-mm-dd[THH:MM:SS] or unix seconds)");
            goto fail;
        }
    }

    /* All data rows, starting with the one in [lb, le); arrays grow by doubling. */
    int C = s.n_out;
    t.n_cols = C;
    size_t n = 0, cap_rows = 0;
    const int ffill = opts.missing == SN_MISSING_FFILL;
    for (r = 1; r == 1; st = next_line(&s.in, &lb, &le, &r), lineno = s.in.lineno) {
        if (st != SN_OK) goto fail;
        if (!r) break;
        if (n == cap_rows) {
            size_t nc = cap_rows ? cap_rows * 2 : 16384;
            double *d2 = sn_realloc(t.data, nc * (size_t)C, sizeof *t.data);
            if (d2) t.data = d2;
            size_t *l2 = d2 ? sn_realloc(t.line, nc, sizeof *t.line) : NULL;
            if (l2) t.line = l2;
            int64_t *t2 = l2 && s.date_field >= 0 ? sn_realloc(t.time, nc, sizeof *t.time) : NULL;
            if (t2) t.time = t2;
            if (!d2 || !l2 || (s.date_field >= 0 && !t2)) {
                st = sn_error_prefix(SN_ERR_NOMEM, "%s:%zu", path, lineno);
                goto fail;
            }
            cap_rows = nc;
        }
        int k = split_fields(lb, le, delim, s.f, nf + 1, &badc);
        if (k < 0) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: unterminated or malformed quoted field", path, lineno, badc);
            goto fail;
        }
        if (k != nf) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: expected %d fields (as in the header), found %d", path, lineno,
                          nf, k);
            goto fail;
        }
        double *row = t.data + n * (size_t)C;
        for (int c = 0; c < C; c++) {
            const span *fs = &s.f[s.out_field[c]];
            const char *b = fs->b, *e = fs->e;
            trim(&b, &e);
            double v;
            int missing = 0;
            if (parse_number(b, e, &v)) {
                if (!isfinite(v)) {
                    st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: \"%s\" is out of range for a number in column \"%s\"",
                                  path, lineno, col_of(lb, fs->b), show(b, e, shown, sizeof shown),
                                  s.hdr[s.out_field[c]]);
                    goto fail;
                }
                missing = opts.use_sentinel && v == opts.sentinel;
            } else if (is_missing_text(b, e)) {
                missing = 1;
            } else if (is_inf_text(b, e)) {
                st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: \"%s\" is not a finite number in column \"%s\"", path, lineno,
                              col_of(lb, fs->b), show(b, e, shown, sizeof shown), s.hdr[s.out_field[c]]);
                goto fail;
            } else {
                st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: cannot parse \"%s\" as a number in column \"%s\"%s", path,
                              lineno, col_of(lb, fs->b), show(b, e, shown, sizeof shown), s.hdr[s.out_field[c]],
                              is_decimal_comma(b, e) ? " (decimal commas are not supported)" : "");
                goto fail;
            }
            if (missing) {
                if (!ffill) {
                    st = sn_error(SN_ERR_FORMAT,
                                  "%s:%zu:%zu: missing value \"%s\" in column \"%s\" (set missing = "
                                  "SN_MISSING_FFILL to forward-fill)",
                                  path, lineno, col_of(lb, fs->b), show(b, e, shown, sizeof shown),
                                  s.hdr[s.out_field[c]]);
                    goto fail;
                }
                if (n == 0) {
                    st = sn_error(SN_ERR_FORMAT,
                                  "%s:%zu:%zu: missing value \"%s\" in column \"%s\" in the first data row cannot "
                                  "be forward-filled",
                                  path, lineno, col_of(lb, fs->b), show(b, e, shown, sizeof shown),
                                  s.hdr[s.out_field[c]]);
                    goto fail;
                }
                v = row[(ptrdiff_t)c - C];
            }
            row[c] = v;
        }
        if (s.date_field >= 0) {
            const span *d = &s.f[s.date_field];
            int64_t tv;
            if (!parse_date(d->b, d->e, s.dfmt, &tv)) {
                st = sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: cannot parse \"%s\" as a date (%s) in column \"%s\"", path,
                              lineno, col_of(lb, d->b), show(d->b, d->e, shown, sizeof shown),
                              date_format_name(s.dfmt), s.hdr[s.date_field]);
                goto fail;
            }
            if (n > 0 && tv <= t.time[n - 1] && !opts.allow_unsorted_time) {
                char a[32], b2[32];
                st = sn_error(SN_ERR_FORMAT,
                              "%s:%zu:%zu: timestamp %s %s line %zu (%s); timestamps must increase "
                              "(set allow_unsorted_time to accept)",
                              path, lineno, col_of(lb, d->b), sn_time_format(tv, a, sizeof a),
                              tv == t.time[n - 1] ? "duplicates" : "goes back before", t.line[n - 1],
                              sn_time_format(t.time[n - 1], b2, sizeof b2));
                goto fail;
            }
            t.time[n] = tv;
        }
        t.line[n] = lineno;
        n++;
    }
    if (st != SN_OK) goto fail;
    SN_ASSERT(n >= 1 && n <= cap_rows);

    t.n_rows = n;
    t.col_names = sn_calloc((size_t)C, sizeof *t.col_names);
    t.path = dup_str(path);
    if (!t.col_names || !t.path) {
        st = SN_ERR_NOMEM;
        goto fail;
    }
    for (int c = 0; c < C; c++) {
        t.col_names[c] = s.hdr[s.out_field[c]];
        s.hdr[s.out_field[c]] = NULL;
    }
    if (s.date_field >= 0) {
        t.time_name = s.hdr[s.date_field];
        s.hdr[s.date_field] = NULL;
    }
    /* Shrink to size (failure to shrink is harmless). */
    double *d2 = realloc(t.data, n * (size_t)C * sizeof *t.data);
    if (d2) t.data = d2;
    size_t *l2 = realloc(t.line, n * sizeof *t.line);
    if (l2) t.line = l2;
    if (t.time) {
        int64_t *t2 = realloc(t.time, n * sizeof *t.time);
        if (t2) t.time = t2;
    }
    csv_state_free(&s);
    *out = t;
    return SN_OK;

fail:
    csv_state_free(&s);
    sn_table_free(&t);
    return st;
}

/* ---------------------------------------------------------------------
 * Time report
 * --------------------------------------------------------------------- */
static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

sn_status sn_table_time_report(const sn_table *t, sn_time_report *rep) {
    if (!t || !rep) return sn_error(SN_ERR_ARG, "sn_table_time_report: NULL argument");
    memset(rep, 0, sizeof *rep);
    if (!t->time) return sn_error(SN_ERR_ARG, "%s: the table has no date column", t->path ? t->path : "table");
    if (t->n_rows < 2)
        return sn_error(SN_ERR_ARG, "%s: %zu row(s): no time step to report", t->path ? t->path : "table",
                        t->n_rows);
    size_t ns = t->n_rows - 1;
    int64_t *d = sn_malloc(ns, sizeof *d);
    if (!d) return SN_ERR_NOMEM;
    for (size_t i = 0; i < ns; i++) d[i] = t->time[i + 1] - t->time[i];
    rep->n_steps = ns;
    rep->min_step = rep->max_step = d[0];
    for (size_t i = 0; i < ns; i++) {
        rep->min_step = SN_MIN(rep->min_step, d[i]);
        rep->max_step = SN_MAX(rep->max_step, d[i]);
    }
    int64_t *sorted = sn_malloc(ns, sizeof *sorted);
    if (!sorted) {
        free(d);
        return SN_ERR_NOMEM;
    }
    memcpy(sorted, d, ns * sizeof *d);
    qsort(sorted, ns, sizeof *sorted, cmp_i64);
    rep->median_step = sorted[(ns - 1) / 2];
    free(sorted);
    for (size_t i = 0; i < ns; i++) {
        size_t line = t->line ? t->line[i + 1] : i + 2;
        if (d[i] < 0) {
            if (!rep->n_backwards++) rep->first_backwards_line = line;
        } else if (d[i] == 0) {
            if (!rep->n_duplicate++) rep->first_duplicate_line = line;
        } else if (d[i] != rep->median_step) {
            if (!rep->n_irregular++) rep->first_irregular_line = line;
        }
    }
    free(d);
    return SN_OK;
}
