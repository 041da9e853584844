/* Labelled corpora in table files (text.h): CSV and TSV (RFC 4180 rules,
 * table_csv.c scans the records), JSON Lines (core/json.h's reader).
 *
 * The whole file is read through the library's stream reader (so .gz, .xz,
 * ... work), a UTF-8 byte-order mark is skipped and the bytes are decoded
 * first (UTF-8 validated, 8-bit encodings transcoded; line numbers do not
 * change). Then every record gives one document: its text columns joined
 * with '\n', its label field (or label set), and "<file>:<line>" as its
 * path. Labels are collected in a string table and turned into class ids
 * at the end, once the class order is known (the numeric order when every
 * label is an integer, else byte order, or the caller's list).
 *
 * An index (index_only) maps the file instead and parses it in place; each
 * document keeps its record's bytes as a span, and sn_text_table_read later
 * parses only the records asked for, with the same code, so a text read
 * from an index is the one a whole load gives. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/internal.h"
#include "core/json.h"
#include "core/strtab.h"
#include "data/stream.h"
#include "seqnn/data.h"
#include "text/table_internal.h"

void sn_text_table_opts_default(sn_text_table_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = SN_TEXT_FORMAT_AUTO;
    o->encoding = SN_TEXT_ENC_UTF8;
}

sn_status sn_text_format_parse(const char *s, sn_text_format *out) {
    static const char *const names[] = {"auto", "dir", "csv", "tsv", "jsonl"};
    for (int i = 0; s && i < 5; i++)
        if (!strcasecmp(s, names[i])) {
            *out = (sn_text_format)i;
            return SN_OK;
        }
    return sn_error(SN_ERR_PARSE, "unknown format '%s' (expected csv, tsv, jsonl or dir)", s ? s : "(null)");
}

static int has_suffix(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !strncasecmp(s + n - k, suf, k);
}

sn_text_format sn_text_format_guess(const char *path) {
    if (!path) return SN_TEXT_FORMAT_DIR;
    size_t n = strlen(path);
    static const char *const comp[] = {".gz", ".xz", ".bz2", ".zst"};
    for (int i = 0; i < 4; i++)
        if (has_suffix(path, n, comp[i])) {
            n -= strlen(comp[i]);
            break;
        }
    if (has_suffix(path, n, ".csv")) return SN_TEXT_FORMAT_CSV;
    if (has_suffix(path, n, ".tsv") || has_suffix(path, n, ".tab")) return SN_TEXT_FORMAT_TSV;
    if (has_suffix(path, n, ".jsonl") || has_suffix(path, n, ".ndjson")) return SN_TEXT_FORMAT_JSONL;
    return SN_TEXT_FORMAT_DIR;
}

/* ---- class ids ---- */

typedef struct cls_item { const char *s; size_t id; } cls_item;

static int is_int_label(const char *s) {
    if (*s == '-' || *s == '+') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int g_numeric; /* qsort has no user pointer; set just before each sort (one thread at a time) */
static int cmp_cls(const void *pa, const void *pb) {
    const cls_item *a = pa, *b = pb;
    if (g_numeric) {
        long long x = strtoll(a->s, NULL, 10), y = strtoll(b->s, NULL, 10);
        if (x != y) return x < y ? -1 : 1;
    }
    return strcmp(a->s, b->s);
}

/* The class of every label-table id (map (n_labels)) and the class names. */
static sn_status class_order(const sn_tb *t, const sn_text_table_opts *o, int32_t *map, char ***names, int *nc) {
    size_t L = t->labels.n;
    if (o->class_names) {
        for (size_t i = 0; i < L; i++) {
            map[i] = -1;
            for (int k = 0; k < o->n_class_names; k++)
                if (!strcmp(sn_strtab_key(&t->labels, i), o->class_names[k])) map[i] = k;
        }
        *nc = o->n_class_names;
        *names = sn_calloc((size_t)SN_MAX(*nc, 1), sizeof **names);
        if (!*names) return SN_ERR_NOMEM;
        for (int k = 0; k < *nc; k++)
            if (!((*names)[k] = strdup(o->class_names[k]))) return SN_ERR_NOMEM;
        return SN_OK;
    }
    cls_item *it = sn_malloc(SN_MAX(L, 1), sizeof *it);
    if (!it) return SN_ERR_NOMEM;
    int numeric = 1;
    for (size_t i = 0; i < L; i++) {
        it[i].s = sn_strtab_key(&t->labels, i);
        it[i].id = i;
        numeric &= is_int_label(it[i].s);
    }
    g_numeric = numeric;
    qsort(it, L, sizeof *it, cmp_cls);
    *nc = (int)L;
    *names = sn_calloc(SN_MAX(L, 1), sizeof **names);
    sn_status st = *names ? SN_OK : SN_ERR_NOMEM;
    for (size_t k = 0; k < L && st == SN_OK; k++) {
        map[it[k].id] = (int32_t)k;
        if (!((*names)[k] = strdup(it[k].s))) st = SN_ERR_NOMEM;
    }
    free(it);
    return st;
}

/* Moves the collected documents into *out with class ids. */
static sn_status tb_finish(sn_tb *t, const sn_text_table_opts *o, sn_text_corpus *out) {
    if (t->n == 0) return sn_error(SN_ERR_ARG, "%s: no records", t->name);
    sn_text_corpus c = {0};
    int32_t *map = sn_malloc(SN_MAX(t->labels.n, 1), sizeof *map);
    if (!map) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    if (!o->unlabelled) st = class_order(t, o, map, &c.class_names, &c.n_classes);
    size_t K = (size_t)SN_MAX(c.n_classes, 1);
    c.labels = sn_calloc(t->n, sizeof *c.labels);
    if (o->label_delimiter && !o->unlabelled) c.label_sets = sn_calloc(t->n, K);
    if (st == SN_OK && (!c.labels || (o->label_delimiter && !o->unlabelled && !c.label_sets))) st = SN_ERR_NOMEM;
    for (size_t i = 0; i < t->n && st == SN_OK && !o->unlabelled; i++) {
        for (size_t j = t->lab_start[i]; j < t->lab_start[i + 1] && st == SN_OK; j++) {
            int32_t k = map[t->lab[j]];
            if (k < 0)
                st = sn_error(SN_ERR_FORMAT, "%s: label \"%s\" is not one of the %d training classes", t->paths[i],
                              sn_strtab_key(&t->labels, (size_t)t->lab[j]), c.n_classes);
            else if (c.label_sets)
                c.label_sets[i * K + (size_t)k] = 1;
            if (j == t->lab_start[i]) c.labels[i] = k;
        }
    }
    free(map);
    if (st != SN_OK) {
        sn_text_corpus_free(&c);
        return st;
    }
    c.n = t->n;
    c.texts = t->texts;
    c.paths = t->paths;
    c.lengths = t->lengths;
    c.spans = t->spans;
    t->texts = t->paths = NULL;
    t->lengths = NULL;
    t->spans = NULL;
    t->n = 0;
    *out = c;
    return SN_OK;
}

/* ---- JSON Lines ---- */

/* Appends the text of key `key` of object v to the text buffer. */
static sn_status jl_text(sn_tb *t, sn_buf *b, const sn_json *v, const char *key, int first, uint32_t line) {
    const sn_json *f = sn_json_get(v, key);
    if (!f || f->type == SN_JSON_NULL) return sn_error(SN_ERR_FORMAT, "%s:%u: missing text field \"%s\"", t->name, line, key);
    if (f->type != SN_JSON_STRING)
        return sn_error(SN_ERR_FORMAT, "%s:%u: text field \"%s\" is %s %s, expected a string", t->name, line, key,
                        f->type == SN_JSON_ARRAY || f->type == SN_JSON_OBJECT ? "an" : "a", sn_json_type_name(f->type));
    if (!first && sn_buf_append(b, "\n", 1)) return SN_ERR_NOMEM;
    return sn_buf_append(b, f->str, f->len) ? SN_ERR_NOMEM : SN_OK;
}

/* The label(s) of object v: a string, a number (its literal), or with a
 * delimiter also an array of those. */
static sn_status jl_label(sn_tb *t, const sn_json *v, const char *key, const char *delim, uint32_t line) {
    const sn_json *f = sn_json_get(v, key);
    char col[300];
    snprintf(col, sizeof col, "field \"%.250s\"", key);
    if (!f || f->type == SN_JSON_NULL) return sn_error(SN_ERR_FORMAT, "%s:%u: missing label %s", t->name, line, col);
    if (f->type == SN_JSON_STRING || f->type == SN_JSON_NUMBER) return sn_tb_add_labels(t, f->str, f->len, delim, line, col);
    if (f->type == SN_JSON_ARRAY && delim) {
        size_t before = t->n_lab;
        for (size_t i = 0; i < f->len; i++) {
            const sn_json *e = &f->kids[i];
            if (e->type != SN_JSON_STRING && e->type != SN_JSON_NUMBER)
                return sn_error(SN_ERR_FORMAT, "%s:%u: label %s holds %s %s, expected strings", t->name, line, col,
                                e->type == SN_JSON_ARRAY || e->type == SN_JSON_OBJECT ? "an" : "a",
                                sn_json_type_name(e->type));
            sn_status st = sn_tb_add_labels(t, e->str, e->len, NULL, line, col);
            if (st && st != SN_ERR_FORMAT) return st;
        }
        if (t->n_lab == before) return sn_error(SN_ERR_FORMAT, "%s:%u: empty label (%s)", t->name, line, col);
        return SN_OK;
    }
    return sn_error(SN_ERR_FORMAT, "%s:%u: label %s is %s %s, expected a string or a number%s", t->name, line, col,
                    f->type == SN_JSON_ARRAY || f->type == SN_JSON_OBJECT ? "an" : "a", sn_json_type_name(f->type),
                    delim ? " (or an array of them)" : "");
}

/* Splits "a,b" (the text keys) into NUL-terminated names in keys. */
static int split_keys(const char *spec, char keys[][256], int max) {
    int k = 0;
    for (const char *s = spec; *s && k < max;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        snprintf(keys[k++], 256, "%.*s", (int)SN_MIN(len, 255), s);
        s += len;
        if (*s == ',') s++;
    }
    return k;
}

static sn_status parse_jsonl(sn_tb *t, const char *buf, size_t len, const sn_text_table_opts *o) {
    char keys[SN_TB_MAX_TEXT_COLS][256];
    int nk = split_keys(o->text_columns ? o->text_columns : "text", keys, SN_TB_MAX_TEXT_COLS);
    if (nk == 0) return sn_error(SN_ERR_ARG, "%s: no text field given", t->name);
    const char *lkey = o->label_column ? o->label_column : "label";
    sn_jsonl it;
    sn_jsonl_init(&it, buf, len, NULL);
    sn_status st = SN_OK;
    sn_buf b = {0};
    for (;;) {
        const sn_json *v;
        size_t rec = it.pos;
        if ((st = sn_jsonl_next(&it, &v))) {
            st = sn_error_prefix(st, "%s", t->name);
            break;
        }
        if (!v) break;
        if (v->type != SN_JSON_OBJECT) {
            st = sn_error(SN_ERR_FORMAT, "%s:%u: expected a JSON object, got %s %s", t->name, it.line,
                          v->type == SN_JSON_ARRAY ? "an" : "a", sn_json_type_name(v->type));
            break;
        }
        if ((st = sn_tb_begin(t))) break;
        t->span_off = rec;
        t->span_len = it.pos - rec;
        b.n = 0;
        for (int k = 0; k < nk && st == SN_OK; k++) st = jl_text(t, &b, v, keys[k], k == 0, it.line);
        if (st == SN_OK && !o->unlabelled) st = jl_label(t, v, lkey, o->label_delimiter, it.line);
        if (st) break;
        char *text = sn_malloc(b.n + 1, 1);
        if (!text) {
            st = SN_ERR_NOMEM;
            break;
        }
        if (b.n) memcpy(text, b.p, b.n);
        text[b.n] = 0;
        if ((st = sn_tb_commit(t, text, b.n, it.line))) break;
    }
    sn_buf_free(&b);
    sn_jsonl_free(&it);
    return st;
}

/* The texts of documents [lo, hi) of index c from the JSON Lines buffer. */
static sn_status read_jsonl(sn_text_corpus *c, size_t lo, size_t hi, const char *buf, size_t len,
                            const sn_text_table_opts *o, const char *name) {
    char keys[SN_TB_MAX_TEXT_COLS][256];
    int nk = split_keys(o->text_columns ? o->text_columns : "text", keys, SN_TB_MAX_TEXT_COLS);
    sn_tb t;
    memset(&t, 0, sizeof t);
    t.name = name;
    sn_buf b = {0};
    sn_status st = SN_OK;
    for (size_t i = lo; i < hi && !st; i++) {
        sn_jsonl it;
        sn_jsonl_init(&it, buf + c->spans[2 * i], (size_t)c->spans[2 * i + 1], NULL);
        const sn_json *v = NULL;
        uint32_t line = (uint32_t)sn_tb_doc_line(c, i);
        if ((st = sn_jsonl_next(&it, &v)) == SN_OK && (!v || v->type != SN_JSON_OBJECT))
            st = sn_error(SN_ERR_FORMAT, "%s:%u: the record is not the one indexed (the file changed?)", name, line);
        b.n = 0;
        for (int k = 0; k < nk && st == SN_OK; k++) st = jl_text(&t, &b, v, keys[k], k == 0, line);
        if (st == SN_OK) st = sn_tb_set_text(c, i, b.p ? b.p : "", b.n);
        sn_jsonl_free(&it);
    }
    (void)len;
    sn_buf_free(&b);
    return st;
}

/* ---- entry points ---- */

sn_status sn_text_parse_table(sn_text_corpus *out, const char *buf, size_t len, const char *name,
                              const sn_text_table_opts *opts) {
    if (!out || (len && !buf)) return sn_error(SN_ERR_ARG, "sn_text_parse_table: NULL argument");
    memset(out, 0, sizeof *out);
    sn_text_table_opts def;
    sn_text_table_opts_default(&def);
    const sn_text_table_opts *o = opts ? opts : &def;
    if (!name) name = "(buffer)";
    sn_text_format fmt = o->format == SN_TEXT_FORMAT_AUTO ? sn_text_format_guess(name) : o->format;
    if (fmt != SN_TEXT_FORMAT_CSV && fmt != SN_TEXT_FORMAT_TSV && fmt != SN_TEXT_FORMAT_JSONL)
        return sn_error(SN_ERR_ARG, "%s: not a CSV, TSV or JSONL file (give the format)", name);
    if (o->class_names && o->n_class_names <= 0) return sn_error(SN_ERR_ARG, "%s: empty class list", name);
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
        buf += 3;
        len -= 3;
    }
    if (o->index_only && o->encoding != SN_TEXT_ENC_UTF8)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: an index needs UTF-8 text (the file is read as %s)", name,
                        "another encoding");
    /* a whole load reads NUL bytes as spaces (sn_text_decode), also in labels and
     * delimiters' neighbourhood; an index parses the bytes where they lie */
    if (o->index_only && len && memchr(buf, 0, len))
        return sn_error(SN_ERR_UNSUPPORTED, "%s holds NUL bytes: an index needs a text file", name);
    char *dec = NULL;
    size_t dn = len;
    sn_status st = o->encoding == SN_TEXT_ENC_UTF8 ? sn_text_check_utf8(buf, len, name) : SN_OK;
    /* an index parses the (valid UTF-8) bytes where they lie: spans are offsets into them */
    if (st == SN_OK && !o->index_only && (st = sn_text_decode(buf, len, o->encoding, &dec, &dn)))
        st = sn_error_prefix(st, "%s", name);
    if (st) return st;
    const char *src = o->index_only ? buf : dec;
    sn_tb t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.index_only = o->index_only;
    if ((st = sn_strtab_init(&t.labels, 64)) == SN_OK) {
        if (fmt == SN_TEXT_FORMAT_JSONL) st = parse_jsonl(&t, src, dn, o);
        else st = sn_tb_parse_delimited(&t, src, dn, fmt == SN_TEXT_FORMAT_TSV ? '\t' : ',', o);
    }
    if (st == SN_OK) st = tb_finish(&t, o, out);
    sn_tb_free(&t);
    free(dec);
    return st;
}

/* ---- mapped files (index and partial reads) ---- */

typedef struct mapped {
    const char *p;  /* the bytes, after a UTF-8 byte order mark */
    size_t n;
    void *base;
    size_t len;
} mapped;

/* Maps `path` read-only; SN_ERR_UNSUPPORTED for a compressed file (its
 * parts cannot be reached without reading all before them). */
static sn_status map_file(const char *path, mapped *m) {
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    struct stat sb;
    sn_status st = fstat(fd, &sb) || !S_ISREG(sb.st_mode) ? sn_error(SN_ERR_UNSUPPORTED, "%s: not a regular file", path)
                                                          : SN_OK;
    if (!st && sb.st_size > 0) {
        m->len = (size_t)sb.st_size;
        m->base = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->base == MAP_FAILED) {
            m->base = NULL;
            st = sn_error(SN_ERR_IO, "%s: cannot map the file", path);
        }
    }
    close(fd);
    if (st) return st;
    if (m->base && sn_file_compressed(path, m->base, m->len) == 1) {
        munmap(m->base, m->len);
        memset(m, 0, sizeof *m);
        return sn_error(SN_ERR_UNSUPPORTED, "%s is compressed: it cannot be read in parts", path);
    }
    m->p = m->base ? m->base : "";
    m->n = m->len;
    if (m->n >= 3 && !memcmp(m->p, "\xEF\xBB\xBF", 3)) {
        m->p += 3;
        m->n -= 3;
    }
    return SN_OK;
}

static void unmap_file(mapped *m) {
    if (m->base) munmap(m->base, m->len);
    memset(m, 0, sizeof *m);
}

sn_status sn_text_table_read(sn_text_corpus *c, size_t lo, size_t hi, const char *path, const sn_text_table_opts *o) {
    if (!c || !path || !o) return sn_error(SN_ERR_ARG, "sn_text_table_read: NULL argument");
    if (!c->spans) return sn_error(SN_ERR_ARG, "sn_text_table_read: the corpus is not an index");
    if (lo > hi || hi > c->n) return sn_error(SN_ERR_ARG, "sn_text_table_read: documents [%zu, %zu) of %zu", lo, hi, c->n);
    if (lo == hi) return SN_OK;
    sn_text_format fmt = o->format == SN_TEXT_FORMAT_AUTO ? sn_text_format_guess(path) : o->format;
    mapped m;
    sn_status st = map_file(path, &m);
    if (st) return st;
    for (size_t i = lo; i < hi && !st; i++) {
        uint64_t off = c->spans[2 * i], n = c->spans[2 * i + 1];
        if (off > m.n || n > m.n - off)
            st = sn_error(SN_ERR_FORMAT, "%s: document %zu lies beyond the file (the file changed?)", path, i);
        else if (n && memchr(m.p + off, 0, n))
            st = sn_error(SN_ERR_FORMAT, "%s: document %zu now holds NUL bytes (the file changed?)", path, i);
        else st = sn_text_check_utf8(m.p + off, n, path);
    }
    if (!st && fmt == SN_TEXT_FORMAT_JSONL) st = read_jsonl(c, lo, hi, m.p, m.n, o, path);
    else if (!st) st = sn_tb_read_delimited(c, lo, hi, m.p, m.n, fmt == SN_TEXT_FORMAT_TSV ? '\t' : ',', o, path);
    unmap_file(&m);
    return st;
}

sn_status sn_text_load_table(sn_text_corpus *out, const char *path, const sn_text_table_opts *o) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_text_load_table: NULL argument");
    memset(out, 0, sizeof *out);
    if (o && o->index_only) {
        mapped m;
        sn_status st = map_file(path, &m);
        if (st) return st;
        sn_text_table_opts oo = *o;
        if (oo.format == SN_TEXT_FORMAT_AUTO) oo.format = sn_text_format_guess(path);
        /* the raw bytes: sn_text_parse_table skips the byte order mark, as map_file does for reads */
        st = sn_text_parse_table(out, m.base ? m.base : "", m.len, path, &oo);
        unmap_file(&m);
        return st;
    }
    sn_stream s;
    memset(&s, 0, sizeof s);
    sn_status st = sn_stream_open(&s, path, NULL);
    char *buf = NULL;
    size_t len = 0;
    if (st == SN_OK) st = sn_stream_read_all(&s, (size_t)4 << 30, &buf, &len);
    sn_stream_close(&s);
    if (st) return st;
    if (len > ((size_t)4 << 30)) {
        free(buf);
        return sn_error(SN_ERR_FORMAT, "%s: larger than 4 GiB", path);
    }
    sn_text_table_opts def;
    sn_text_table_opts_default(&def);
    if (!o) o = &def;
    sn_text_table_opts oo = *o;
    if (oo.format == SN_TEXT_FORMAT_AUTO) oo.format = sn_text_format_guess(path);
    st = sn_text_parse_table(out, buf, len, path, &oo);
    free(buf);
    return st;
}
