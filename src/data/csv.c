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
#include "core/strtab.h"
#include "data/csv_internal.h"
#include "data/stream.h"
#include "seqnn/data.h"

#define SN_CSV_MAX_LINE (1u << 20)  /* 1 MiB per line */
#define SN_CSV_MAX_FIELDS 100000

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

static int is_date_name(const char *s) {
    static const char *names[] = {"date time", "datetime", "date", "time", "timestamp", "date_time"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcasecmp(s, names[i])) return 1;
    return 0;
}

/* ---------------------------------------------------------------------
 * sn_csv_read: header, first data row (column choice, date format), rows
 * --------------------------------------------------------------------- */
typedef struct csv_state {
    const char *path;
    const sn_csv_opts *o;
    sn_stream in;
    const char *lb, *le; /* the current line */
    char delim;
    span *f;             /* (n_fields + 1) scratch spans */
    char **hdr;          /* (n_fields) header names */
    int n_fields;
    int *map;            /* (n_fields): output column, -1 skip, -2 date */
    int *out_field;      /* (n_out): source field of each output column */
    int n_out;
    int n_vals;          /* values parsed per row: n_out, 0 for an index read */
    size_t *kcnt;        /* (keep_n_series) rows seen of each series (keep with an id column) */
    int date_field;      /* -1 none */
    int id_field;        /* -1 none (sn_csv_opts.id_column) */
    sn_strtab ids;       /* id text -> series index */
    int *row_series;     /* (cap_rows) series index of each row read */
    sn_date_format dfmt;
    size_t header_line;
    size_t cap_rows;     /* rows allocated in the table being filled */
    char shown[200];     /* scratch for show() */
} csv_state;

static void csv_state_free(csv_state *s) {
    sn_stream_close(&s->in);
    free(s->f);
    if (s->hdr)
        for (int j = 0; j < s->n_fields; j++) free(s->hdr[j]);
    free(s->hdr);
    free(s->map);
    free(s->out_field);
    sn_strtab_free(&s->ids);
    free(s->row_series);
    free(s->kcnt);
}

/* 1-based byte column of p in the current line. */
static size_t col_of(const csv_state *s, const char *p) { return (size_t)(p - s->lb) + 1; }

static const char *show_span(csv_state *s, const char *b, const char *e) { return show(b, e, s->shown, sizeof s->shown); }

static sn_status check_opts(const sn_csv_opts *o) {
    if (o->columns && o->n_columns <= 0)
        return sn_error(SN_ERR_ARG, "sn_csv_read: columns given but n_columns = %d", o->n_columns);
    if (o->missing != SN_MISSING_ERROR && o->missing != SN_MISSING_FFILL)
        return sn_error(SN_ERR_ARG, "sn_csv_read: unknown missing-value policy %d", (int)o->missing);
    if ((int)o->date_format < 0 || (int)o->date_format > SN_DATE_MDY)
        return sn_error(SN_ERR_ARG, "sn_csv_read: unknown date format %d", (int)o->date_format);
    if (o->keep && (o->n_keep <= 0 || o->index_only))
        return sn_error(SN_ERR_ARG, "sn_csv_read: keep needs n_keep > 0 and no index_only");
    for (int i = 0; o->keep && i < o->n_keep; i++)
        if (o->keep[2 * i] >= o->keep[2 * i + 1] || (i && o->keep[2 * i] < o->keep[2 * i - 1]))
            return sn_error(SN_ERR_ARG, "sn_csv_read: keep range %d [%zu, %zu) is empty or not after the one before", i,
                            o->keep[2 * i], o->keep[2 * i + 1]);
    if (o->keep && o->missing == SN_MISSING_FFILL)
        return sn_error(SN_ERR_ARG, "sn_csv_read: a partial read (keep) cannot forward-fill: the rows before are not read");
    if (o->keep && o->id_column && (!o->keep_series_start || o->keep_n_series < 1))
        return sn_error(SN_ERR_ARG, "sn_csv_read: keep with an id column needs keep_series_start of an index read");
    return SN_OK;
}

/* The most frequent of , ; \t outside quotes in the header line (ties: ','). */
static char pick_delimiter(const char *lb, const char *le) {
    size_t cnt[3] = {0, 0, 0};
    int inq = 0;
    for (const char *p = lb; p < le; p++) {
        if (*p == '"') inq = !inq;
        else if (!inq) cnt[0] += *p == ',', cnt[1] += *p == ';', cnt[2] += *p == '\t';
    }
    if (cnt[1] > cnt[0] && cnt[1] >= cnt[2]) return ';';
    if (cnt[2] > cnt[0] && cnt[2] > cnt[1]) return '\t';
    return ',';
}

/* Header names from the split header line in s->f; an empty one (a pandas
 * index) becomes "column N". */
static sn_status header_names(csv_state *s) {
    for (int j = 0; j < s->n_fields; j++) {
        if (!(s->hdr[j] = dup_field(&s->f[j]))) return SN_ERR_NOMEM;
        if (!s->hdr[j][0]) {
            free(s->hdr[j]);
            if (!(s->hdr[j] = sn_malloc(24, 1))) return SN_ERR_NOMEM;
            snprintf(s->hdr[j], 24, "column %d", j + 1);
        }
        s->map[j] = -1;
    }
    return SN_OK;
}

/* Line 1: the delimiter (unless given), the fields and their names. */
static sn_status read_header(csv_state *s) {
    int got;
    sn_status st = next_line(&s->in, &s->lb, &s->le, &got);
    if (st != SN_OK) return st;
    if (!got) return sn_error(SN_ERR_FORMAT, "%s: file is empty (no header line)", s->path);
    const char *lb = s->lb;
    if (s->in.lineno == 1 && s->le - lb >= 3 && (unsigned char)lb[0] == 0xEF && (unsigned char)lb[1] == 0xBB &&
        (unsigned char)lb[2] == 0xBF)
        s->lb = lb += 3; /* UTF-8 byte order mark */
    s->header_line = s->in.lineno;
    s->delim = s->o->delimiter ? s->o->delimiter : pick_delimiter(s->lb, s->le);
    size_t badc = 0;
    span tmp1;
    int nf = split_fields(s->lb, s->le, s->delim, &tmp1, 0, &badc);
    if (nf < 0)
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: unterminated or malformed quoted field in the header", s->path,
                        s->header_line, badc);
    if (nf > SN_CSV_MAX_FIELDS)
        return sn_error(SN_ERR_FORMAT, "%s:%zu: %d fields in the header, more than %d", s->path, s->header_line, nf,
                        SN_CSV_MAX_FIELDS);
    s->n_fields = nf;
    s->f = sn_malloc((size_t)nf + 1, sizeof *s->f);
    s->hdr = sn_calloc((size_t)nf, sizeof *s->hdr);
    s->map = sn_malloc((size_t)nf, sizeof *s->map);
    if (!s->f || !s->hdr || !s->map) return SN_ERR_NOMEM;
    split_fields(s->lb, s->le, s->delim, s->f, nf + 1, &badc);
    return header_names(s);
}

/* The date column: named in the options, none (""), or the first header
 * with a date-like name. */
static sn_status find_date_column(csv_state *s) {
    const char *dc = s->o->date_column;
    if (dc && dc[0]) {
        s->date_field = sn_table_find_name(s->hdr, s->n_fields, dc);
        if (s->date_field < 0) {
            sn_status st = sn_table_names_error(SN_ERR_FORMAT, s->hdr, s->n_fields, "no (or an ambiguous) date column", dc);
            return sn_error_prefix(st, "%s:%zu", s->path, s->header_line);
        }
    } else if (!dc) {
        for (int j = 0; j < s->n_fields && s->date_field < 0; j++)
            if (is_date_name(s->hdr[j])) s->date_field = j;
    }
    if (s->date_field >= 0) s->map[s->date_field] = -2;
    s->dfmt = s->o->date_format;
    return SN_OK;
}

/* The series-id column named in the options, if any. */
static sn_status find_id_column(csv_state *s) {
    const char *ic = s->o->id_column;
    if (!ic) return SN_OK;
    s->id_field = sn_table_find_name(s->hdr, s->n_fields, ic);
    if (s->id_field < 0) {
        sn_status st = sn_table_names_error(SN_ERR_FORMAT, s->hdr, s->n_fields, "no (or an ambiguous) id column", ic);
        return sn_error_prefix(st, "%s:%zu", s->path, s->header_line);
    }
    if (s->id_field == s->date_field)
        return sn_error(SN_ERR_ARG, "%s: the id column \"%s\" is the date column", s->path, s->hdr[s->id_field]);
    s->map[s->id_field] = -3;
    return sn_strtab_init(&s->ids, 64);
}

/* The columns named in the options, in their order. */
static sn_status select_named(csv_state *s) {
    const sn_csv_opts *o = s->o;
    s->n_out = o->n_columns;
    s->out_field = sn_malloc((size_t)s->n_out, sizeof *s->out_field);
    if (!s->out_field) return SN_ERR_NOMEM;
    for (int k = 0; k < s->n_out; k++) {
        const char *nm = o->columns[k] ? o->columns[k] : "(null)";
        int j = sn_table_find_name(s->hdr, s->n_fields, nm);
        if (j < 0) {
            sn_status st = sn_table_names_error(SN_ERR_FORMAT, s->hdr, s->n_fields,
                                                j == -2 ? "ambiguous column name" : "no column named", nm);
            return sn_error_prefix(st, "%s:%zu", s->path, s->header_line);
        }
        if (j == s->date_field)
            return sn_error(SN_ERR_ARG, "%s: column \"%s\" is the date column, not a numeric one", s->path, s->hdr[j]);
        if (j == s->id_field)
            return sn_error(SN_ERR_ARG, "%s: column \"%s\" is the id column, not a numeric one", s->path, s->hdr[j]);
        if (s->map[j] >= 0) return sn_error(SN_ERR_ARG, "%s: column \"%s\" selected twice", s->path, s->hdr[j]);
        s->map[j] = k;
        s->out_field[k] = j;
    }
    return SN_OK;
}

/* Every column whose value in the first data row (split in s->f, n1 fields,
 * n1 < 0 for a malformed row that the row loop reports) is a number or
 * missing; the others are logged and skipped as text. */
static sn_status select_numeric(csv_state *s, int n1) {
    s->out_field = sn_malloc((size_t)s->n_fields, sizeof *s->out_field);
    if (!s->out_field) return SN_ERR_NOMEM;
    for (int j = 0; j < s->n_fields && n1 >= 0; j++) {
        if (j == s->date_field || j == s->id_field) continue;
        const char *b = s->f[j].b, *e = s->f[j].e;
        trim(&b, &e);
        double v;
        if (is_missing_text(b, e) || sn_csv_parse_number(b, e, &v) || is_decimal_comma(b, e) || sn_csv_is_inf_text(b, e)) {
            s->map[j] = s->n_out;
            s->out_field[s->n_out++] = j;
        } else {
            sn_log(SN_LOG_INFO, "%s: skipping column \"%s\": its first value \"%s\" is not a number", s->path, s->hdr[j],
                   show_span(s, b, e));
        }
    }
    if (n1 >= 0 && s->n_out == 0)
        return sn_error(SN_ERR_FORMAT, "%s:%zu: no numeric column (the first data row has no number%s)", s->path,
                        s->in.lineno, s->date_field >= 0 ? " besides the date" : "");
    return SN_OK;
}

/* SN_DATE_AUTO: the format of the first row's date, then held for every row. */
static sn_status detect_date_format(csv_state *s) {
    const span *d = &s->f[s->date_field];
    int64_t tv;
    if (sn_date_parse(d->b, d->e, SN_DATE_DMY, &tv)) s->dfmt = SN_DATE_DMY;
    else if (sn_date_parse(d->b, d->e, SN_DATE_ISO, &tv)) s->dfmt = SN_DATE_ISO;
    else if (sn_date_parse(d->b, d->e, SN_DATE_UNIX, &tv)) s->dfmt = SN_DATE_UNIX;
    else {
        int slash = memchr(d->b, '/', (size_t)(d->e - d->b)) != NULL;
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: cannot recognise the date \"%s\" in column \"%s\"%s", s->path,
                        s->in.lineno, col_of(s, d->b), show_span(s, d->b, d->e), s->hdr[s->date_field],
                        slash ? " (month-first dates need date_format = SN_DATE_MDY)"
                              : " (expected dd.mm.yyyy HH:MM:SS, yyyy-mm-dd[THH:MM:SS] or unix seconds)");
    }
    return SN_OK;
}

/* The first data row decides the numeric columns (without a selection) and
 * the date format; it stays the current line for the row loop. */
static sn_status read_first_row(csv_state *s) {
    int got;
    sn_status st = next_line(&s->in, &s->lb, &s->le, &got);
    if (st != SN_OK) return st;
    if (!got) return sn_error(SN_ERR_FORMAT, "%s: header only, no data rows", s->path);
    size_t badc = 0;
    int n1 = split_fields(s->lb, s->le, s->delim, s->f, s->n_fields + 1, &badc);
    if (n1 >= 0 && n1 != s->n_fields)
        return sn_error(SN_ERR_FORMAT, "%s:%zu: expected %d fields (as in the header), found %d", s->path, s->in.lineno,
                        s->n_fields, n1);
    st = s->o->columns ? select_named(s) : select_numeric(s, n1);
    if (st == SN_OK && s->date_field >= 0 && s->dfmt == SN_DATE_AUTO && n1 >= 0) st = detect_date_format(s);
    return st;
}

/* Makes room for row n in the table's arrays (doubling). */
static sn_status grow_rows(csv_state *s, sn_table *t, size_t n) {
    if (n < s->cap_rows) return SN_OK;
    size_t nc = s->cap_rows ? s->cap_rows * 2 : 16384, C = (size_t)s->n_vals;
    double *d2 = C ? sn_realloc(t->data, nc * C, sizeof *t->data) : NULL;
    if (d2) t->data = d2;
    size_t *l2 = d2 || !C ? sn_realloc(t->line, nc, sizeof *t->line) : NULL;
    if (l2) t->line = l2;
    int64_t *t2 = l2 && s->date_field >= 0 ? sn_realloc(t->time, nc, sizeof *t->time) : NULL;
    if (t2) t->time = t2;
    size_t *r2 = l2 && s->o->keep ? sn_realloc(t->row, nc, sizeof *t->row) : NULL;
    if (r2) t->row = r2;
    if ((C && !d2) || !l2 || (s->date_field >= 0 && !t2) || (s->o->keep && !r2))
        return sn_error_prefix(SN_ERR_NOMEM, "%s:%zu", s->path, s->in.lineno);
    if (s->id_field >= 0) {
        int *r2 = sn_realloc(s->row_series, nc, sizeof *r2);
        if (!r2) return sn_error_prefix(SN_ERR_NOMEM, "%s:%zu", s->path, s->in.lineno);
        s->row_series = r2;
    }
    s->cap_rows = nc;
    return SN_OK;
}

/* Output column c of row n (row points to it; the row before is row - C)
 * from its field: a number, or a missing value handled by the policy. */
static sn_status parse_value(csv_state *s, int c, size_t n, double *row) {
    const sn_csv_opts *o = s->o;
    const span *fs = &s->f[s->out_field[c]];
    const char *b = fs->b, *e = fs->e, *name = s->hdr[s->out_field[c]];
    trim(&b, &e);
    double v;
    int missing = 0;
    if (sn_csv_parse_number(b, e, &v)) {
        if (!isfinite(v))
            return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: \"%s\" is out of range for a number in column \"%s\"", s->path,
                            s->in.lineno, col_of(s, fs->b), show_span(s, b, e), name);
        missing = o->use_sentinel && v == o->sentinel;
    } else if (is_missing_text(b, e)) {
        missing = 1;
    } else if (sn_csv_is_inf_text(b, e)) {
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: \"%s\" is not a finite number in column \"%s\"", s->path,
                        s->in.lineno, col_of(s, fs->b), show_span(s, b, e), name);
    } else {
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: cannot parse \"%s\" as a number in column \"%s\"%s", s->path,
                        s->in.lineno, col_of(s, fs->b), show_span(s, b, e), name,
                        is_decimal_comma(b, e) ? " (decimal commas are not supported)" : "");
    }
    if (missing) {
        if (o->missing != SN_MISSING_FFILL)
            return sn_error(SN_ERR_FORMAT,
                            "%s:%zu:%zu: missing value \"%s\" in column \"%s\" (set missing = "
                            "SN_MISSING_FFILL to forward-fill)",
                            s->path, s->in.lineno, col_of(s, fs->b), show_span(s, b, e), name);
        if (n == 0)
            return sn_error(SN_ERR_FORMAT,
                            "%s:%zu:%zu: missing value \"%s\" in column \"%s\" in the first data row cannot "
                            "be forward-filled",
                            s->path, s->in.lineno, col_of(s, fs->b), show_span(s, b, e), name);
        v = row[(ptrdiff_t)c - s->n_out];
    }
    row[c] = v;
    return SN_OK;
}

/* The timestamp of row n, which must exceed row n-1's unless allowed. */
static sn_status parse_row_time(csv_state *s, sn_table *t, size_t n) {
    const span *d = &s->f[s->date_field];
    int64_t tv;
    if (!sn_date_parse(d->b, d->e, s->dfmt, &tv))
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: cannot parse \"%s\" as a date (%s) in column \"%s\"", s->path,
                        s->in.lineno, col_of(s, d->b), show_span(s, d->b, d->e), sn_date_format_name(s->dfmt),
                        s->hdr[s->date_field]);
    if (n > 0 && tv <= t->time[n - 1] && !s->o->allow_unsorted_time && s->id_field < 0 && !s->o->keep) {
        char a[32], b2[32];
        return sn_error(SN_ERR_FORMAT,
                        "%s:%zu:%zu: timestamp %s %s line %zu (%s); timestamps must increase "
                        "(set allow_unsorted_time to accept)",
                        s->path, s->in.lineno, col_of(s, d->b), sn_time_format(tv, a, sizeof a),
                        tv == t->time[n - 1] ? "duplicates" : "goes back before", t->line[n - 1],
                        sn_time_format(t->time[n - 1], b2, sizeof b2));
    }
    t->time[n] = tv;
    return SN_OK;
}

/* The series of the current line from its id field (any text, trimmed;
 * empty refused). */
static sn_status parse_row_id(csv_state *s, int *sid) {
    const span *d = &s->f[s->id_field];
    const char *b = d->b, *e = d->e;
    trim(&b, &e);
    if (b == e)
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: empty series id in column \"%s\"", s->path, s->in.lineno,
                        col_of(s, d->b), s->hdr[s->id_field]);
    int fresh;
    int64_t id = sn_strtab_put(&s->ids, b, (size_t)(e - b), &fresh);
    if (id < 0) return sn_error_prefix(SN_ERR_NOMEM, "%s:%zu", s->path, s->in.lineno);
    *sid = (int)id;
    return SN_OK;
}

/* Splits the current line into s->f, which must have the header's field count. */
static sn_status split_line(csv_state *s) {
    size_t badc = 0;
    int k = split_fields(s->lb, s->le, s->delim, s->f, s->n_fields + 1, &badc);
    if (k < 0)
        return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: unterminated or malformed quoted field", s->path, s->in.lineno, badc);
    if (k != s->n_fields)
        return sn_error(SN_ERR_FORMAT, "%s:%zu: expected %d fields (as in the header), found %d", s->path, s->in.lineno,
                        s->n_fields, k);
    return SN_OK;
}

/* 1 when table row tr lies in a range of opts.keep (binary search). */
static int in_keep(const sn_csv_opts *o, size_t tr) {
    int lo = 0, hi = o->n_keep; /* the first range with end > tr is in [lo, hi] */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (o->keep[2 * mid + 1] <= tr) lo = mid + 1;
        else hi = mid;
    }
    return lo < o->n_keep && o->keep[2 * lo] <= tr;
}

/* A partial read: the table row *tr of data line g and whether it is kept.
 * With an id column the line is split (*split = 1) and its series read:
 * its table row is the series' start in the index plus the rows of that
 * series seen before. */
static sn_status keep_line(csv_state *s, size_t g, size_t *tr, int *sid, int *split, int *kept) {
    const sn_csv_opts *o = s->o;
    *tr = g;
    if (s->id_field >= 0) {
        sn_status st = split_line(s);
        if (st == SN_OK) st = parse_row_id(s, sid);
        if (st != SN_OK) return st;
        *split = 1;
        if (*sid >= o->keep_n_series)
            return sn_error(SN_ERR_ARG, "%s:%zu: series %d is not in the index read (%d series)", s->path,
                            s->in.lineno, *sid + 1, o->keep_n_series);
        *tr = o->keep_series_start[*sid] + s->kcnt[*sid]++;
    }
    *kept = in_keep(o, *tr);
    return SN_OK;
}

/* Every data row, starting with the current line (with opts.keep only the
 * kept ones); *n_rows receives the count, *n_lines the data lines. */
static sn_status read_rows(csv_state *s, sn_table *t, size_t *n_rows, size_t *n_lines) {
    const int C = s->n_vals;
    const sn_csv_opts *o = s->o;
    if (o->keep && s->id_field >= 0 && !(s->kcnt = sn_calloc((size_t)o->keep_n_series, sizeof *s->kcnt)))
        return SN_ERR_NOMEM;
    size_t n = 0, g = 0;
    sn_status st = SN_OK;
    for (int got = 1; got; st = next_line(&s->in, &s->lb, &s->le, &got), g++) {
        if (st != SN_OK) return st;
        size_t tr = g;
        int sid = -1, split = 0, kept = 1;
        if (o->keep && (st = keep_line(s, g, &tr, &sid, &split, &kept)) != SN_OK) return st;
        if (!kept) continue;
        if ((st = grow_rows(s, t, n)) != SN_OK) return st;
        if (!split && (st = split_line(s)) != SN_OK) return st;
        double *row = C ? t->data + n * (size_t)C : NULL;
        for (int c = 0; c < C; c++)
            if ((st = parse_value(s, c, n, row)) != SN_OK) return st;
        if (s->date_field >= 0 && (st = parse_row_time(s, t, n)) != SN_OK) return st;
        if (s->id_field >= 0 && sid < 0 && (st = parse_row_id(s, &sid)) != SN_OK) return st;
        if (s->id_field >= 0) s->row_series[n] = sid;
        if (o->keep) t->row[n] = tr;
        t->line[n] = s->in.lineno;
        n++;
    }
    if (st != SN_OK) return st;
    SN_ASSERT((n >= 1 || o->keep) && n <= s->cap_rows);
    *n_rows = n;
    *n_lines = g;
    return SN_OK;
}

/* Hands the names over to the table and shrinks its arrays to n rows. */
static sn_status finish_table(csv_state *s, sn_table *t, size_t n, size_t n_lines) {
    int C = s->n_out;
    t->n_rows = n;
    t->n_total = n_lines;
    t->n_cols = C;
    t->col_names = sn_calloc((size_t)C, sizeof *t->col_names);
    t->path = sn_malloc(strlen(s->path) + 1, 1);
    if (!t->col_names || !t->path) return SN_ERR_NOMEM;
    memcpy(t->path, s->path, strlen(s->path) + 1);
    for (int c = 0; c < C; c++) {
        t->col_names[c] = s->hdr[s->out_field[c]];
        s->hdr[s->out_field[c]] = NULL;
    }
    if (s->date_field >= 0) {
        t->time_name = s->hdr[s->date_field];
        s->hdr[s->date_field] = NULL;
    }
    /* Shrink to size (failure to shrink is harmless; a partial read may
     * keep no row, and realloc to 0 bytes would free). */
    if (n == 0) return SN_OK;
    double *d2 = t->data ? realloc(t->data, n * (size_t)s->n_vals * sizeof *t->data) : NULL;
    if (d2) t->data = d2;
    size_t *l2 = realloc(t->line, n * sizeof *t->line);
    if (l2) t->line = l2;
    if (t->time) {
        int64_t *t2 = realloc(t->time, n * sizeof *t->time);
        if (t2) t->time = t2;
    }
    if (t->row) {
        size_t *r2 = realloc(t->row, n * sizeof *t->row);
        if (r2) t->row = r2;
    }
    return SN_OK;
}

/* Regroups the rows series after series (stable counting sort by series
 * index), then checks that time increases within each series. */
static sn_status group_series(csv_state *s, sn_table *t) {
    const size_t n = t->n_rows, C = t->data ? (size_t)s->n_vals : 0;
    const int ns = (int)s->ids.n;
    t->n_series = ns;
    t->series_names = sn_calloc((size_t)ns, sizeof *t->series_names);
    t->series_start = sn_calloc((size_t)ns + 1, sizeof *t->series_start);
    t->series_column = sn_malloc(strlen(s->hdr[s->id_field]) + 1, 1);
    size_t *pos = sn_malloc((size_t)ns + 1, sizeof *pos); /* per series (a partial read may keep fewer rows than series) */
    double *d2 = C ? sn_malloc(n * C, sizeof *d2) : NULL;
    size_t *l2 = sn_malloc(n, sizeof *l2), *r2 = t->row ? sn_malloc(n, sizeof *r2) : NULL;
    int64_t *t2 = t->time ? sn_malloc(n, sizeof *t2) : NULL;
    sn_status st = SN_OK;
    if (!t->series_names || !t->series_start || !t->series_column || !pos || (n && ((C && !d2) || !l2)) ||
        (n && t->time && !t2) || (n && t->row && !r2)) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    memcpy(t->series_column, s->hdr[s->id_field], strlen(s->hdr[s->id_field]) + 1);
    for (int i = 0; i < ns; i++) {
        const char *k = sn_strtab_key(&s->ids, (size_t)i);
        if (!(t->series_names[i] = sn_malloc(strlen(k) + 1, 1))) {
            st = SN_ERR_NOMEM;
            goto done;
        }
        memcpy(t->series_names[i], k, strlen(k) + 1);
    }
    for (size_t r = 0; r < n; r++) t->series_start[s->row_series[r] + 1]++;
    for (int i = 0; i < ns; i++) t->series_start[i + 1] += t->series_start[i];
    if (n == 0) goto done; /* a partial read that kept no row */
    memcpy(pos, t->series_start, (size_t)ns * sizeof *pos);
    for (size_t r = 0; r < n; r++) {
        size_t q = pos[s->row_series[r]]++;
        if (C) memcpy(d2 + q * C, t->data + r * C, C * sizeof *d2);
        l2[q] = t->line[r];
        if (t2) t2[q] = t->time[r];
        if (r2) r2[q] = t->row[r];
    }
    if (C) {
        free(t->data);
        t->data = d2;
        d2 = NULL;
    }
    if (r2) {
        free(t->row);
        t->row = r2;
        r2 = NULL;
    }
    free(t->line);
    t->line = l2;
    l2 = NULL;
    if (t2) {
        free(t->time);
        t->time = t2;
        t2 = NULL;
    }
    for (int i = 0; i < ns && t->time && !s->o->allow_unsorted_time; i++)
        for (size_t r = t->series_start[i] + 1; r < t->series_start[i + 1]; r++)
            if (t->time[r] <= t->time[r - 1]) {
                char a[32], b2[32];
                st = sn_error(SN_ERR_FORMAT,
                              "%s:%zu: timestamp %s of series \"%s\" %s its previous row (line %zu, %s); timestamps "
                              "must increase within each series",
                              s->path, t->line[r], sn_time_format(t->time[r], a, sizeof a), t->series_names[i],
                              t->time[r] == t->time[r - 1] ? "duplicates" : "goes back before", t->line[r - 1],
                              sn_time_format(t->time[r - 1], b2, sizeof b2));
                goto done;
            }
done:
    free(pos);
    free(d2);
    free(l2);
    free(r2);
    free(t2);
    return st;
}

sn_status sn_csv_read(sn_table *out, const char *path, const sn_csv_opts *opts_in) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_csv_read: NULL argument");
    memset(out, 0, sizeof *out);
    sn_csv_opts opts;
    memset(&opts, 0, sizeof opts);
    if (opts_in) opts = *opts_in;
    sn_status st = check_opts(&opts);
    if (st != SN_OK) return st;
    csv_state s;
    memset(&s, 0, sizeof s);
    s.path = path;
    s.o = &opts;
    s.date_field = -1;
    s.id_field = -1;
    sn_table t;
    memset(&t, 0, sizeof t);
    size_t n = 0, n_lines = 0;
    sn_stream_opts so = {0, ".csv", SN_CSV_MAX_LINE};
    st = sn_stream_open(&s.in, path, &so);
    if (st == SN_OK) st = read_header(&s);
    if (st == SN_OK) st = find_date_column(&s);
    if (st == SN_OK) st = find_id_column(&s);
    if (st == SN_OK) st = read_first_row(&s);
    s.n_vals = opts.index_only ? 0 : s.n_out;
    if (st == SN_OK) st = read_rows(&s, &t, &n, &n_lines);
    if (st == SN_OK) st = finish_table(&s, &t, n, n_lines);
    if (st == SN_OK && s.id_field >= 0) st = group_series(&s, &t);
    csv_state_free(&s);
    if (st != SN_OK) {
        sn_table_free(&t);
        return st;
    }
    *out = t;
    return SN_OK;
}
