/* The documents a table reader collects (table_internal.h): growth, labels
 * per document, commit with "<file>:<line>" paths, and column lookup by name
 * or index. Shared by the CSV / TSV scanner (table_csv.c) and the JSONL
 * reader and entry points (table_load.c). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"
#include "text/table_internal.h"

/* ---- the documents being collected ---- */

void sn_tb_free(sn_tb *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->texts[i]);
        free(t->paths[i]);
    }
    free(t->texts);
    free(t->paths);
    free(t->lengths);
    free(t->lab_start);
    free(t->lab);
    free(t->spans);
    sn_strtab_free(&t->labels);
    memset(t, 0, sizeof *t);
}

/* Room for one more document. */
static sn_status tb_grow(sn_tb *t) {
    if (t->n < t->cap) return SN_OK;
    size_t nc = t->cap ? 2 * t->cap : 1024;
    char **tx = sn_realloc(t->texts, nc, sizeof *tx);
    if (tx) t->texts = tx;
    char **pa = sn_realloc(t->paths, nc, sizeof *pa);
    if (pa) t->paths = pa;
    size_t *le = sn_realloc(t->lengths, nc, sizeof *le);
    if (le) t->lengths = le;
    size_t *ls = sn_realloc(t->lab_start, nc + 1, sizeof *ls);
    if (ls) t->lab_start = ls;
    if (!tx || !pa || !le || !ls) return SN_ERR_NOMEM;
    if (t->index_only) {
        uint64_t *sp = sn_realloc(t->spans, 2 * nc, sizeof *sp);
        if (!sp) return SN_ERR_NOMEM;
        t->spans = sp;
    }
    t->cap = nc;
    return SN_OK;
}

/* One label of the current document (s[0..n), surrounding ASCII spaces
 * dropped by the caller). */
static sn_status tb_label(sn_tb *t, const char *s, size_t n) {
    int fresh;
    int64_t id = sn_strtab_put(&t->labels, s, n, &fresh);
    if (id < 0) return SN_ERR_NOMEM;
    if (t->n_lab == t->lab_cap) {
        size_t nc = t->lab_cap ? 2 * t->lab_cap : 1024;
        int32_t *l = sn_realloc(t->lab, nc, sizeof *l);
        if (!l) return SN_ERR_NOMEM;
        t->lab = l;
        t->lab_cap = nc;
    }
    /* a label repeated within one set counts once */
    for (size_t j = t->lab_start[t->n]; j < t->n_lab; j++)
        if (t->lab[j] == (int32_t)id) return SN_OK;
    t->lab[t->n_lab++] = (int32_t)id;
    return SN_OK;
}

static void trim(const char **s, size_t *n) {
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

sn_status sn_tb_add_labels(sn_tb *t, const char *s, size_t n, const char *delim, size_t line, const char *col) {
    size_t before = t->n_lab;
    if (!delim) {
        trim(&s, &n);
        if (n && tb_label(t, s, n)) return SN_ERR_NOMEM;
    } else {
        size_t dl = strlen(delim);
        const char *e = s + n;
        while (s <= e) {
            const char *q = s;
            while (q < e && !(dl && (size_t)(e - q) >= dl && !memcmp(q, delim, dl))) q++;
            const char *a = s;
            size_t k = (size_t)(q - s);
            trim(&a, &k);
            if (k && tb_label(t, a, k)) return SN_ERR_NOMEM;
            s = q + (dl ? dl : 1);
        }
    }
    if (t->n_lab == before) return sn_error(SN_ERR_FORMAT, "%s:%zu: empty label (%s)", t->name, line, col);
    return SN_OK;
}

sn_status sn_tb_begin(sn_tb *t) {
    sn_status st = tb_grow(t);
    if (st) return st;
    t->lab_start[t->n] = t->n_lab;
    return SN_OK;
}

sn_status sn_tb_commit(sn_tb *t, char *text, size_t len, size_t line) {
    char path[4096 + 32];
    snprintf(path, sizeof path, "%s:%zu", t->name, line);
    char *p = sn_malloc(strlen(path) + 1, 1);
    if (!p) {
        free(text);
        return SN_ERR_NOMEM;
    }
    strcpy(p, path);
    for (size_t i = 0; i < len; i++)
        if (!text[i]) text[i] = ' '; /* texts are C strings */
    if (t->index_only) { /* the text was checked; only its place is kept */
        text[0] = 0;
        len = 0;
        t->spans[2 * t->n] = t->span_off;
        t->spans[2 * t->n + 1] = t->span_len;
    }
    t->texts[t->n] = text;
    t->paths[t->n] = p;
    t->lengths[t->n] = len;
    t->n++;
    t->lab_start[t->n] = t->n_lab;
    return SN_OK;
}

/* ---- columns ---- */

sn_status sn_tb_resolve(sn_tb *t, char *const *names, int n_names, const char *spec, const char *what, int *idx,
                        int max, int *n_out) {
    int k = 0;
    const char *s = spec;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (k == max) return sn_error(SN_ERR_ARG, "%s: more than %d %s columns", t->name, max, what);
        int found = -1;
        for (int j = 0; names && j < n_names && found < 0; j++)
            if (strlen(names[j]) == len && !memcmp(names[j], s, len)) found = j;
        char buf[32];
        if (found < 0) {
            char *end = buf;
            snprintf(buf, sizeof buf, "%.*s", (int)SN_MIN(len, 31), s);
            long v = len && len < 31 && isdigit((unsigned char)buf[0]) ? strtol(buf, &end, 10) : -1;
            if (v >= 0 && *end == 0 && v < n_names) found = (int)v;
        }
        if (found < 0) {
            char list[1024] = "";
            size_t o = 0;
            for (int j = 0; j < n_names && o + 8 < sizeof list; j++) {
                if (names) o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%.100s\"", j ? ", " : "", names[j]);
                else o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", j ? ", " : "", j);
            }
            return sn_error(SN_ERR_ARG, "%s: no %s column \"%.*s\" (columns: %s)", t->name, what, (int)SN_MIN(len, 200),
                            s, list);
        }
        idx[k++] = found;
        s += len;
        if (*s == ',') s++;
    }
    if (k == 0) return sn_error(SN_ERR_ARG, "%s: no %s column given", t->name, what);
    *n_out = k;
    return SN_OK;
}


size_t sn_tb_doc_line(const sn_text_corpus *c, size_t i) {
    const char *p = c->paths && c->paths[i] ? strrchr(c->paths[i], ':') : NULL;
    return p ? (size_t)strtoull(p + 1, NULL, 10) : 0;
}

sn_status sn_tb_set_text(sn_text_corpus *c, size_t i, const char *text, size_t n) {
    char *d = sn_malloc(n + 1, 1);
    if (!d) return SN_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) d[k] = text[k] ? text[k] : ' ';
    d[n] = 0;
    free(c->texts[i]);
    c->texts[i] = d;
    c->lengths[i] = n;
    return SN_OK;
}
