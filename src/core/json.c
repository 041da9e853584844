/* JSON reader (iterative, arena-backed), accessors and JSON Lines; the
 * writer is json_write.c. The contract is in json.h.
 *
 * Parsing keeps two explicit stacks instead of recursing: `fr`, one frame per
 * open array / object (the container's own node and where its elements start
 * on the value stack), and `stk`, the value stack, where finished elements
 * wait until their container closes and they are copied, contiguous, into the
 * arena. Hostile input can therefore only exhaust the limits of sn_json_opts,
 * never the C stack. */
#define _POSIX_C_SOURCE 200809L
#include "core/json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

#define JSON_MAX_DEPTH_CAP 100000
#define JSON_BLOCK (64u << 10)

/* ---------------------------------------------------------------------
 * Arena: a list of blocks; allocations are bumped and 8-byte aligned.
 * --------------------------------------------------------------------- */
typedef struct blk {
    struct blk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} blk;

struct sn_json_arena {
    blk *head;
    size_t total;    /* bytes of all blocks */
    size_t limit;    /* opts.max_memory */
    size_t first;    /* size of the first block */
};

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* NULL when the limit (or malloc) says no; the caller reports it. */
static void *arena_alloc(struct sn_json_arena *a, size_t n) {
    if (n > SIZE_MAX / 2) return NULL;
    n = round8(n ? n : 1);
    blk *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->first ? n : a->first;
        if (a->total > a->limit || cap > a->limit - a->total) return NULL;
        b = malloc(sizeof(blk) + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->cap = cap;
        b->used = 0;
        a->head = b;
        a->total += cap;
        a->first = a->first < JSON_BLOCK ? a->first * 2 : JSON_BLOCK;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

/* Gives back the tail of the last allocation p (old_n bytes -> new_n). */
static void arena_trim(struct sn_json_arena *a, void *p, size_t old_n, size_t new_n) {
    blk *b = a->head;
    if (b && (unsigned char *)p + round8(old_n ? old_n : 1) == b->data + b->used)
        b->used -= round8(old_n ? old_n : 1) - round8(new_n ? new_n : 1);
}

void sn_json_free(sn_json_doc *doc) {
    if (!doc) return;
    if (doc->arena) {
        blk *b = doc->arena->head;
        while (b) {
            blk *n = b->next;
            free(b);
            b = n;
        }
        free(doc->arena);
    }
    doc->arena = NULL;
    doc->root = NULL;
}

void sn_json_opts_default(sn_json_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_depth = 512;
    o->max_input = (size_t)1 << 30;
    o->max_memory = sizeof(size_t) > 4 ? (size_t)4 << 30 : (size_t)1 << 30;
}

/* ---------------------------------------------------------------------
 * Parser state and errors
 * --------------------------------------------------------------------- */
typedef struct frame {
    sn_json node;    /* the container being filled (type, position, key) */
    size_t start;    /* its first element on the value stack */
} frame;

typedef struct jp {
    const unsigned char *p, *end;
    const unsigned char *line_start, *cpos;  /* cpos/ccol: column cache */
    uint32_t line, ccol;
    int allow_nonfinite, max_depth;
    struct sn_json_arena *a;
    sn_json *stk;
    size_t n, cap;
    frame *fr;
    int depth, fr_cap;
    const char *key;  /* pending member key, taken by the next value */
    size_t key_len;
} jp;

static uint32_t col_of(jp *s, const unsigned char *at) {
    if (s->cpos < s->line_start || s->cpos > at) {
        s->cpos = s->line_start;
        s->ccol = 1;
    }
    for (; s->cpos < at; s->cpos++)
        if ((*s->cpos & 0xC0) != 0x80) s->ccol++;
    return s->ccol;
}

static sn_status jerr_st(jp *s, sn_status st, const unsigned char *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static sn_status jerr_st(jp *s, sn_status st, const unsigned char *at, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_error(st, "line %u, column %u: %s", (unsigned)s->line, (unsigned)col_of(s, at), msg);
}
#define jerr(s, at, ...) jerr_st(s, SN_ERR_FORMAT, at, __VA_ARGS__)

static sn_status nomem(jp *s) {
    return jerr_st(s, SN_ERR_NOMEM, s->p, "document needs more than %zu bytes of memory (max_memory)",
                   s->a->limit);
}

/* "'x'" for a printable character, "byte 0xNN" otherwise, "end of input" at the end. */
static const char *what(jp *s, const unsigned char *at, char *buf, size_t n) {
    if (at >= s->end) snprintf(buf, n, "end of input");
    else if (*at >= 0x20 && *at < 0x7f) snprintf(buf, n, "'%c'", *at);
    else snprintf(buf, n, "byte 0x%02X", *at);
    return buf;
}

static void skip_ws(jp *s) {
    const unsigned char *p = s->p;
    for (; p < s->end; p++) {
        if (*p == '\n') {
            s->line++;
            s->line_start = p + 1;
        } else if (*p != ' ' && *p != '\t' && *p != '\r') {
            break;
        }
    }
    s->p = p;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
int sn_json_utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (!n || end - p < n) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;
    if (c == 0xED && p[1] >= 0xA0) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;
    if (c == 0xF4 && p[1] >= 0x90) return 0;
    return n;
}

static int put_utf8(unsigned char *o, unsigned long cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned long *cp) {
    if (end - p < 4) return 0;
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        int d = c >= '0' && c <= '9' ? (int)c - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
              : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v * 16 + (unsigned long)d;
    }
    *cp = v;
    return 1;
}

/* One escape sequence at p (p[0] == '\\'): the code point and its length. */
static sn_status escape(jp *s, const unsigned char *p, unsigned long *cp, int *used) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (p + 1 >= s->end) return jerr(s, p, "unterminated escape in string");
    const char *k = p[1] ? strchr(from, p[1]) : NULL;
    if (k) {
        *cp = (unsigned char)to[k - from];
        *used = 2;
        return SN_OK;
    }
    if (p[1] != 'u') {
        char w[24];
        return jerr(s, p, "invalid escape '\\' followed by %s in string", what(s, p + 1, w, sizeof w));
    }
    if (!hex4(p + 2, s->end, cp)) return jerr(s, p, "expected 4 hex digits after \\u");
    *used = 6;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return jerr(s, p, "lone low surrogate \\u%04lX in string", *cp);
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        unsigned long lo;
        if (s->end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, s->end, &lo) || lo < 0xDC00 ||
            lo > 0xDFFF)
            return jerr(s, p, "lone high surrogate \\u%04lX in string (no low surrogate follows)", *cp);
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
        *used = 12;
    }
    return SN_OK;
}

/* The string at s->p (an opening quote): decoded into the arena. */
static sn_status parse_string(jp *s, const char **out, size_t *out_len) {
    const unsigned char *q = s->p + 1, *open = s->p;
    while (q < s->end && *q != '"') q += *q == '\\' && s->end - q > 1 ? 2 : 1;
    if (q >= s->end) return jerr(s, open, "unterminated string (no closing '\"')");
    size_t raw = (size_t)(q - open - 1);  /* decoded text is never longer */
    unsigned char *o = arena_alloc(s->a, raw + 1), *o0 = o;
    if (!o) return nomem(s);
    for (const unsigned char *p = open + 1; p < q;) {
        if (*p == '\\') {
            unsigned long cp;
            int used;
            sn_status st = escape(s, p, &cp, &used);
            if (st) return st;
            o += put_utf8(o, cp);
            p += used;
        } else if (*p < 0x20) {
            return jerr(s, p, "unescaped control character U+%04X in string", *p);
        } else {
            int n = sn_json_utf8_len(p, q);
            if (!n) return jerr(s, p, "invalid UTF-8 in string (byte 0x%02X)", *p);
            memcpy(o, p, (size_t)n);
            o += n;
            p += n;
        }
    }
    *o = 0;
    *out = (const char *)o0;
    *out_len = (size_t)(o - o0);
    arena_trim(s->a, o0, raw + 1, *out_len + 1);
    s->p = q + 1;
    return SN_OK;
}

/* strtod independent of the C locale's decimal point. */
static double to_double(const char *txt, size_t n) {
    char dp = localeconv()->decimal_point[0];
    const char *dot = memchr(txt, '.', n);
    if (dp == '.' || !dot) return strtod(txt, NULL);
    char *tmp = malloc(n + 1);
    if (!tmp) return strtod(txt, NULL);
    memcpy(tmp, txt, n + 1);
    tmp[dot - txt] = dp;
    double v = strtod(tmp, NULL);
    free(tmp);
    return v;
}

static int is_digit(const unsigned char *p, const unsigned char *end) { return p < end && *p >= '0' && *p <= '9'; }

static int match(jp *s, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)(s->end - s->p) >= n && !memcmp(s->p, lit, n);
}

/* A number (or NaN / Infinity / -Infinity when allowed) at s->p into v. */
static sn_status parse_number(jp *s, sn_json *v) {
    const unsigned char *p = s->p, *b = p, *e = s->end;
    int neg = *p == '-';
    if (neg) p++;
    if (s->allow_nonfinite && (e - p >= 8 && !memcmp(p, "Infinity", 8))) {
        p += 8;
        v->num = neg ? -INFINITY : INFINITY;
    } else if (!neg && s->allow_nonfinite && match(s, "NaN")) {
        p += 3;
        v->num = NAN;
    } else {
        char w[24];
        if (!is_digit(p, e))
            return jerr(s, p, neg ? "expected a digit after '-', got %s" : "expected a value, got %s",
                        what(s, p, w, sizeof w));
        uint64_t mag = 0;
        int over = 0;
        if (*p == '0' && is_digit(p + 1, e)) return jerr(s, p, "leading zeros are not allowed in numbers");
        for (; is_digit(p, e); p++) {
            unsigned d = *p - '0';
            if (mag > (UINT64_MAX - d) / 10) over = 1;
            else mag = mag * 10 + d;
        }
        v->is_int = 1;
        if (p < e && *p == '.') {
            v->is_int = 0;
            if (!is_digit(++p, e)) return jerr(s, p, "expected a digit after '.', got %s", what(s, p, w, sizeof w));
            while (is_digit(p, e)) p++;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
            v->is_int = 0;
            if (++p < e && (*p == '+' || *p == '-')) p++;
            if (!is_digit(p, e)) return jerr(s, p, "expected a digit in the exponent, got %s", what(s, p, w, sizeof w));
            while (is_digit(p, e)) p++;
        }
        if (v->is_int && !over && mag <= (uint64_t)INT64_MAX + (uint64_t)neg) {
            v->int_ok = 1;
            v->ival = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        }
    }
    size_t n = (size_t)(p - b);
    char *txt = arena_alloc(s->a, n + 1);
    if (!txt) return nomem(s);
    memcpy(txt, b, n);
    txt[n] = 0;
    if (b[neg] >= '0' && b[neg] <= '9') v->num = to_double(txt, n);
    v->str = txt;
    v->len = n;
    s->p = p;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Tree building
 * --------------------------------------------------------------------- */
/* A new value on the value stack, taking the pending key. NULL: memory. */
static sn_json *push(jp *s, sn_json_type t, const unsigned char *at) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        if (nc > (s->a->limit - s->a->total) / sizeof(sn_json)) return NULL;
        sn_json *q = realloc(s->stk, nc * sizeof *q);
        if (!q) return NULL;
        s->stk = q;
        s->cap = nc;
    }
    sn_json *v = &s->stk[s->n++];
    memset(v, 0, sizeof *v);
    v->type = t;
    v->line = s->line;
    v->col = col_of(s, at);
    v->key = s->key;
    v->key_len = s->key_len;
    s->key = NULL;
    s->key_len = 0;
    return v;
}

static sn_status parse_scalar(jp *s) {
    const unsigned char *at = s->p;
    char w[24];
    if (at >= s->end) return jerr(s, at, "expected a value, got end of input");
    unsigned c = *at;
    sn_json *v = push(s, SN_JSON_NULL, at);
    if (!v) return nomem(s);
    if (c == '"') {
        v->type = SN_JSON_STRING;
        return parse_string(s, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9') || (s->allow_nonfinite && (c == 'N' || c == 'I'))) {
        v->type = SN_JSON_NUMBER;
        return parse_number(s, v);
    }
    if (match(s, "true") || match(s, "false")) {
        v->type = SN_JSON_BOOL;
        v->boolean = c == 't';
        s->p += c == 't' ? 4 : 5;
        return SN_OK;
    }
    if (match(s, "null")) {
        s->p += 4;
        return SN_OK;
    }
    if (match(s, "NaN") || match(s, "Infinity"))
        return jerr(s, at, "NaN and Infinity are not JSON numbers (accepted only with allow_nonfinite)");
    return jerr(s, at, "expected a value, got %s", what(s, at, w, sizeof w));
}

static sn_status open_container(jp *s, sn_json_type t) {
    if (s->depth >= s->max_depth)
        return jerr(s, s->p, "nesting deeper than %d levels (max_depth)", s->max_depth);
    if (s->depth == s->fr_cap) {
        int nc = s->fr_cap ? SN_MIN(s->fr_cap * 2, s->max_depth) : SN_MIN(32, s->max_depth);
        frame *q = realloc(s->fr, (size_t)nc * sizeof *q);
        if (!q) return nomem(s);
        s->fr = q;
        s->fr_cap = nc;
    }
    frame *f = &s->fr[s->depth++];
    memset(&f->node, 0, sizeof f->node);
    f->node.type = t;
    f->node.line = s->line;
    f->node.col = col_of(s, s->p);
    f->node.key = s->key;
    f->node.key_len = s->key_len;
    f->start = s->n;
    s->key = NULL;
    s->key_len = 0;
    s->p++;
    return SN_OK;
}

/* Closes the innermost container: its elements move into the arena. */
static sn_status close_container(jp *s) {
    frame *f = &s->fr[--s->depth];
    size_t n = s->n - f->start;
    sn_json node = f->node, *kids = NULL;
    if (n) {
        if (!(kids = arena_alloc(s->a, n * sizeof *kids))) return nomem(s);
        memcpy(kids, s->stk + f->start, n * sizeof *kids);
    }
    s->n = f->start;
    sn_json *v = push(s, node.type, s->p);
    if (!v) return nomem(s);
    *v = node;
    v->kids = kids;
    v->len = n;
    s->p++;
    return SN_OK;
}

static sn_status parse_key(jp *s, int first) {
    char w[24];
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return jerr(s, s->p, first ? "expected a string key or '}', got %s" : "expected a string key after ',', got %s",
                    what(s, s->p, w, sizeof w));
    sn_status st = parse_string(s, &s->key, &s->key_len);
    if (st) return st;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return jerr(s, s->p, "expected ':' after object key, got %s", what(s, s->p, w, sizeof w));
    s->p++;
    return SN_OK;
}

/* The value loop: need_value = 1 while a value must come next. */
static sn_status parse_tree(jp *s) {
    int need_value = 1;
    sn_status st;
    for (;;) {
        skip_ws(s);
        if (need_value) {
            unsigned c = s->p < s->end ? *s->p : 0;
            if (c == '[' || c == '{') {
                int obj = c == '{';
                if ((st = open_container(s, obj ? SN_JSON_OBJECT : SN_JSON_ARRAY))) return st;
                skip_ws(s);
                if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
                    if ((st = close_container(s))) return st;
                    need_value = 0;
                } else if (obj && (st = parse_key(s, 1))) {
                    return st;
                }
                continue;
            }
            if ((st = parse_scalar(s))) return st;
            need_value = 0;
            continue;
        }
        if (s->depth == 0) return SN_OK;
        int obj = s->fr[s->depth - 1].node.type == SN_JSON_OBJECT;
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            if (obj && (st = parse_key(s, 0))) return st;
            need_value = 1;
        } else if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
            if ((st = close_container(s))) return st;
        } else {
            char w[24];
            return jerr(s, s->p, obj ? "expected ',' or '}' after object member, got %s"
                                     : "expected ',' or ']' after array element, got %s",
                        what(s, s->p, w, sizeof w));
        }
    }
}

static sn_status parse_impl(sn_json_doc *doc, const char *buf, size_t len, const sn_json_opts *opts,
                            uint32_t line0) {
    sn_json_opts o;
    sn_json_opts_default(&o);
    if (opts) {
        o.allow_nonfinite = opts->allow_nonfinite;
        if (opts->max_depth > 0) o.max_depth = SN_MIN(opts->max_depth, JSON_MAX_DEPTH_CAP);
        if (opts->max_input) o.max_input = opts->max_input;
        if (opts->max_memory) o.max_memory = opts->max_memory;
    }
    doc->root = NULL;
    doc->arena = NULL;
    if (!buf && len) return sn_error(SN_ERR_ARG, "sn_json_parse: NULL buffer");
    if (len > o.max_input)
        return sn_error(SN_ERR_NOMEM, "JSON input of %zu bytes exceeds the limit of %zu bytes (max_input)", len,
                        o.max_input);
    struct sn_json_arena *a = calloc(1, sizeof *a);
    if (!a) return sn_error(SN_ERR_NOMEM, "out of memory starting a JSON parse");
    a->limit = o.max_memory;
    a->first = len < 4096 ? round8(len * 4 + 256) : 16384;
    jp s;
    memset(&s, 0, sizeof s);
    s.p = s.line_start = s.cpos = (const unsigned char *)buf;
    s.end = s.p + len;
    s.line = line0;
    s.ccol = 1;
    s.allow_nonfinite = o.allow_nonfinite;
    s.max_depth = o.max_depth;
    s.a = a;
    sn_status st = parse_tree(&s);
    char w[24];
    if (!st && (skip_ws(&s), s.p < s.end))
        st = jerr(&s, s.p, "unexpected %s after the JSON value", what(&s, s.p, w, sizeof w));
    sn_json *root = NULL;
    if (!st && !(root = arena_alloc(a, sizeof *root))) st = nomem(&s);
    if (!st) *root = s.stk[0];
    free(s.stk);
    free(s.fr);
    doc->arena = a;
    if (st) {
        sn_json_free(doc);
        return st;
    }
    doc->root = root;
    return SN_OK;
}

sn_status sn_json_parse(sn_json_doc *doc, const char *buf, size_t len, const sn_json_opts *opts) {
    if (!doc) return sn_error(SN_ERR_ARG, "sn_json_parse: NULL document");
    if (!buf && !len) buf = "";
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
        buf += 3;
        len -= 3;
    }
    return parse_impl(doc, buf, len, opts, 1);
}

/* ---------------------------------------------------------------------
 * Access
 * --------------------------------------------------------------------- */
const sn_json *sn_json_getn(const sn_json *v, const char *key, size_t key_len) {
    if (!v || v->type != SN_JSON_OBJECT || (!key && key_len)) return NULL;
    for (size_t i = v->len; i-- > 0;) {
        const sn_json *m = &v->kids[i];
        if (m->key_len == key_len && (!key_len || !memcmp(m->key, key, key_len))) return m;
    }
    return NULL;
}

const sn_json *sn_json_get(const sn_json *v, const char *key) {
    return key ? sn_json_getn(v, key, strlen(key)) : NULL;
}

const sn_json *sn_json_at(const sn_json *v, size_t i) {
    if (!v || (v->type != SN_JSON_ARRAY && v->type != SN_JSON_OBJECT) || i >= v->len) return NULL;
    return &v->kids[i];
}

size_t sn_json_len(const sn_json *v) {
    return v && (v->type == SN_JSON_ARRAY || v->type == SN_JSON_OBJECT) ? v->len : 0;
}

int sn_json_is(const sn_json *v, sn_json_type t) { return v && v->type == t; }
double sn_json_num(const sn_json *v, double def) { return sn_json_is(v, SN_JSON_NUMBER) ? v->num : def; }
int64_t sn_json_int(const sn_json *v, int64_t def) {
    return sn_json_is(v, SN_JSON_NUMBER) && v->int_ok ? v->ival : def;
}
int sn_json_bool(const sn_json *v, int def) { return sn_json_is(v, SN_JSON_BOOL) ? v->boolean : def; }
const char *sn_json_str(const sn_json *v, const char *def) { return sn_json_is(v, SN_JSON_STRING) ? v->str : def; }

const char *sn_json_type_name(sn_json_type t) {
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "unknown";
}

/* ---------------------------------------------------------------------
 * JSON Lines
 * --------------------------------------------------------------------- */
void sn_jsonl_init(sn_jsonl *it, const char *buf, size_t len, const sn_json_opts *opts) {
    memset(it, 0, sizeof *it);
    it->buf = buf ? buf : "";
    it->len = buf ? len : 0;
    if (opts) it->opts = *opts;
    if (it->len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) it->pos = 3;
}

sn_status sn_jsonl_next(sn_jsonl *it, const sn_json **out) {
    *out = NULL;
    sn_json_free(&it->doc);
    while (it->pos < it->len) {
        const char *b = it->buf + it->pos;
        const char *nl = memchr(b, '\n', it->len - it->pos);
        size_t n = nl ? (size_t)(nl - b) : it->len - it->pos, k = 0;
        it->pos += n + (nl != NULL);
        it->line++;
        while (k < n && (b[k] == ' ' || b[k] == '\t' || b[k] == '\r')) k++;
        if (k == n) continue;
        sn_status st = parse_impl(&it->doc, b, n, &it->opts, it->line);
        if (st) return st;
        *out = it->doc.root;
        return SN_OK;
    }
    return SN_OK;
}

void sn_jsonl_free(sn_jsonl *it) { sn_json_free(&it->doc); }
