/* CSV and TSV records for the table-corpus reader (table_internal.h).
 *
 * RFC 4180 with the usual liberties: records end in "\n" or "\r\n"; a field
 * that starts with '"' is quoted and runs to the next lone '"' (a doubled
 * "" is one quote; delimiters and newlines inside are data); a quote inside
 * an unquoted field is an ordinary character; blank lines between records
 * are skipped; the last record need not end in a newline. TSV follows the
 * same rules with a tab as the delimiter (as Python's csv module and pandas
 * read and write it). Refused, naming file:line (and the column in bytes):
 * a quoted field never closed (the line where it opened), text between a
 * closing quote and the delimiter, a record whose field count differs from
 * the header's (or, without a header, the first record's). */
#include <string.h>
#include "core/buf.h"
#include "core/internal.h"
#include "text/table_internal.h"

/* One field as it stands in the buffer: [p, p + n); quoted fields exclude
 * their quotes and may hold doubled quotes (dq = 1) still to be undone. */
typedef struct fspan {
    const char *p;
    size_t n;
    int dq;
} fspan;

typedef struct csv_rd {
    const char *s, *pos, *end;
    size_t line;      /* line of pos */
    char delim;
    fspan *f;
    size_t nf, cap;
    const char *name;
} csv_rd;

static sn_status push_field(csv_rd *r, const char *p, size_t n, int dq) {
    if (r->nf == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 16;
        if (nc > 100000) return sn_error(SN_ERR_FORMAT, "%s:%zu: more than 100000 fields", r->name, r->line);
        fspan *f = sn_realloc(r->f, nc, sizeof *f);
        if (!f) return SN_ERR_NOMEM;
        r->f = f;
        r->cap = nc;
    }
    r->f[r->nf++] = (fspan){p, n, dq};
    return SN_OK;
}

/* Byte column (1-based) of q on its line. */
static size_t col_of(const csv_rd *r, const char *q) {
    const char *b = q;
    while (b > r->s && b[-1] != '\n') b--;
    return (size_t)(q - b) + 1;
}

/* A quoted field starting at the quote r->pos; leaves r->pos after the
 * closing quote. */
static sn_status quoted_field(csv_rd *r) {
    const char *q = r->pos + 1, *open = r->pos;
    size_t open_line = r->line;
    int dq = 0;
    for (;;) {
        const char *e = memchr(q, '"', (size_t)(r->end - q));
        for (const char *c = q; c < (e ? e : r->end); c++) r->line += *c == '\n';
        if (!e)
            return sn_error(SN_ERR_FORMAT, "%s:%zu: quoted field opened at column %zu is never closed", r->name,
                            open_line, col_of(r, open));
        if (e + 1 < r->end && e[1] == '"') {
            dq = 1;
            q = e + 2;
            continue;
        }
        sn_status st = push_field(r, open + 1, (size_t)(e - open - 1), dq);
        r->pos = e + 1;
        return st;
    }
}

/* The next record's fields into r->f / r->nf; *got = 0 at the end. *line
 * is the line the record starts on. */
static sn_status next_record(csv_rd *r, int *got, size_t *line) {
    /* skip blank lines */
    while (r->pos < r->end && (*r->pos == '\n' || (*r->pos == '\r' && r->pos + 1 < r->end && r->pos[1] == '\n'))) {
        r->pos += *r->pos == '\r' ? 2 : 1;
        r->line++;
    }
    r->nf = 0;
    *got = 0;
    if (r->pos >= r->end) return SN_OK;
    *got = 1;
    *line = r->line;
    for (;;) {
        sn_status st;
        if (r->pos < r->end && *r->pos == '"') {
            if ((st = quoted_field(r))) return st;
            const char *c = r->pos;
            int ends = c >= r->end || *c == r->delim || *c == '\n' || (*c == '\r' && c + 1 < r->end && c[1] == '\n');
            if (!ends)
                return sn_error(SN_ERR_FORMAT,
                                "%s:%zu: column %zu: text after a closing quote (quote the whole field and double "
                                "the quotes inside it)",
                                r->name, r->line, col_of(r, c));
        } else {
            const char *c = r->pos;
            while (c < r->end && *c != r->delim && *c != '\n') c++;
            const char *e = c;
            if (e < r->end && *e == '\n' && e > r->pos && e[-1] == '\r') e--;
            if ((st = push_field(r, r->pos, (size_t)(e - r->pos), 0))) return st;
            r->pos = c;
        }
        if (r->pos >= r->end) return SN_OK;
        if (*r->pos == r->delim) {
            r->pos++;
            continue;
        }
        if (*r->pos == '\r') r->pos++;
        r->pos++; /* '\n' */
        r->line++;
        return SN_OK;
    }
}

/* Appends field f to b, undoing doubled quotes. */
static sn_status append_field(sn_buf *b, const fspan *f) {
    if (!f->dq) return sn_buf_append(b, f->p, f->n);
    for (size_t i = 0; i < f->n; i++) {
        if (f->p[i] == '"' && i + 1 < f->n && f->p[i + 1] == '"') i++;
        if (sn_buf_putc(b, f->p[i])) return SN_ERR_NOMEM;
    }
    return SN_OK;
}

/* The header's names (n) as fresh strings (*names, free each and the array). */
static sn_status header_names(const csv_rd *r, char ***names) {
    char **v = sn_calloc(SN_MAX(r->nf, 1), sizeof *v);
    if (!v) return SN_ERR_NOMEM;
    sn_buf b = {0};
    sn_status st = SN_OK;
    for (size_t i = 0; i < r->nf && st == SN_OK; i++) {
        b.n = 0;
        if ((st = append_field(&b, &r->f[i])) == SN_OK && (st = sn_buf_reserve(&b, 0)) == SN_OK) {
            const char *p = sn_buf_cstr(&b);
            size_t n = b.n;
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
            while (n && (*p == ' ' || *p == '\t')) {
                p++;
                n--;
            }
            v[i] = sn_malloc(n + 1, 1);
            if (!v[i]) st = SN_ERR_NOMEM;
            else {
                memcpy(v[i], p, n);
                v[i][n] = 0;
            }
        }
    }
    sn_buf_free(&b);
    *names = v;
    return st;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* The columns: text idx (*nt of them) and label *li, from the header names
 * (NULL without a header, n fields). */
static sn_status pick_columns(sn_tb *t, char **names, int n, const sn_text_table_opts *o, int *ti, int *nt, int *li) {
    const char *ts = o->text_columns ? o->text_columns : names ? "text" : "1";
    const char *ls = o->label_column ? o->label_column : names ? "label" : "0";
    sn_status st = sn_tb_resolve(t, names, n, ts, "text", ti, SN_TB_MAX_TEXT_COLS, nt);
    if (st || o->unlabelled) return st;
    int one;
    return sn_tb_resolve(t, names, n, ls, "label", li, 1, &one);
}

/* One data record of the reader into t. */
static sn_status add_record(sn_tb *t, const csv_rd *r, sn_buf *b, const int *ti, int nt, int li, char **names,
                            const sn_text_table_opts *o, size_t line) {
    sn_status st = sn_tb_begin(t);
    if (st) return st;
    b->n = 0;
    for (int k = 0; k < nt && st == SN_OK; k++) {
        if (k && (st = sn_buf_putc(b, '\n'))) break;
        st = append_field(b, &r->f[ti[k]]);
    }
    if (st == SN_OK && !o->unlabelled) {
        sn_buf lb = {0};
        char col[300];
        if (names) snprintf(col, sizeof col, "column \"%.250s\"", names[li]);
        else snprintf(col, sizeof col, "column %d", li);
        st = append_field(&lb, &r->f[li]);
        if (st == SN_OK) st = sn_tb_add_labels(t, lb.p ? lb.p : "", lb.n, o->label_delimiter, line, col);
        sn_buf_free(&lb);
    }
    if (st) return st;
    char *text = sn_malloc(b->n + 1, 1);
    if (!text) return SN_ERR_NOMEM;
    if (b->n) memcpy(text, b->p, b->n);
    text[b->n] = 0;
    return sn_tb_commit(t, text, b->n, line);
}

sn_status sn_tb_parse_delimited(sn_tb *t, const char *buf, size_t len, char delim, const sn_text_table_opts *o) {
    csv_rd r = {buf, buf, buf + len, 1, delim, NULL, 0, 0, t->name};
    int got, ti[SN_TB_MAX_TEXT_COLS], nt = 0, li = 0;
    size_t line = 0, width = 0;
    char **names = NULL;
    sn_buf b = {0};
    const char *rec = r.pos; /* where the record next_record reads starts */
    sn_status st = next_record(&r, &got, &line);
    if (st == SN_OK && !got) st = sn_error(SN_ERR_ARG, "%s: no records", t->name);
    if (st == SN_OK) {
        width = r.nf;
        if (!o->no_header) st = header_names(&r, &names);
        if (st == SN_OK) st = pick_columns(t, names, (int)width, o, ti, &nt, &li);
    }
    int have = st == SN_OK && o->no_header; /* the first record is data */
    while (st == SN_OK) {
        if (!have) {
            rec = r.pos;
            if ((st = next_record(&r, &got, &line)) || !got) break;
        }
        have = 0;
        t->span_off = (uint64_t)(rec - buf);
        t->span_len = (uint64_t)(r.pos - rec);
        if (r.nf != width) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: %zu field%s, expected %zu as the %s (a missing field, or an "
                                         "unquoted delimiter inside one?)",
                          t->name, line, r.nf, r.nf == 1 ? "" : "s", width, names ? "header" : "first record");
            break;
        }
        st = add_record(t, &r, &b, ti, nt, li, names, o, line);
    }
    sn_buf_free(&b);
    free_names(names, width);
    free(r.f);
    return st;
}

/* The columns of the table in buf: the header's (or the first record's)
 * width, the text columns and the label column, as the whole read has them. */
static sn_status table_columns(sn_tb *t, csv_rd *r, const sn_text_table_opts *o, size_t *width, int *ti, int *nt,
                               int *li) {
    int got;
    size_t line;
    char **names = NULL;
    sn_status st = next_record(r, &got, &line);
    if (st == SN_OK && !got) st = sn_error(SN_ERR_ARG, "%s: no records", t->name);
    if (st == SN_OK) {
        *width = r->nf;
        if (!o->no_header) st = header_names(r, &names);
        if (st == SN_OK) st = pick_columns(t, names, (int)*width, o, ti, nt, li);
    }
    free_names(names, *width);
    return st;
}

sn_status sn_tb_read_delimited(sn_text_corpus *c, size_t lo, size_t hi, const char *buf, size_t len, char delim,
                               const sn_text_table_opts *o, const char *name) {
    sn_tb t;
    memset(&t, 0, sizeof t);
    t.name = name;
    csv_rd r = {buf, buf, buf + len, 1, delim, NULL, 0, 0, name};
    int ti[SN_TB_MAX_TEXT_COLS], nt = 0, li = 0, got;
    size_t width = 0, line;
    sn_buf b = {0};
    sn_status st = table_columns(&t, &r, o, &width, ti, &nt, &li);
    for (size_t i = lo; i < hi && st == SN_OK; i++) {
        uint64_t off = c->spans[2 * i], n = c->spans[2 * i + 1];
        if (off > len || n > len - off) {
            st = sn_error(SN_ERR_FORMAT, "%s: document %zu lies beyond the file's %zu bytes (the file changed?)", name, i,
                          len);
            break;
        }
        r.s = r.pos = buf + off;
        r.end = buf + off + n;
        r.line = sn_tb_doc_line(c, i);
        if ((st = next_record(&r, &got, &line))) break;
        if (!got || r.nf != width) {
            st = sn_error(SN_ERR_FORMAT, "%s:%zu: the record is not the one indexed (the file changed?)", name,
                          sn_tb_doc_line(c, i));
            break;
        }
        b.n = 0;
        for (int k = 0; k < nt && st == SN_OK; k++) {
            if (k && (st = sn_buf_putc(&b, '\n'))) break;
            st = append_field(&b, &r.f[ti[k]]);
        }
        if (st == SN_OK) st = sn_tb_set_text(c, i, b.p ? b.p : "", b.n);
    }
    sn_buf_free(&b);
    free(r.f);
    sn_tb_free(&t);
    return st;
}
