/* JSON writer: text appended to a growable buffer, with a sticky first
 * error (contract in json.h). Numbers are written the way Python's repr
 * writes floats, so Keras-side readers see the same literals. */
#define _POSIX_C_SOURCE 200809L
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_json_w_init(sn_json_w *w) { memset(w, 0, sizeof *w); }

void sn_json_w_free(sn_json_w *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static void werr(sn_json_w *w, sn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void werr(sn_json_w *w, sn_status st, const char *fmt, ...) {
    if (w->err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    w->err = sn_error(st, "%s", w->msg);
}

sn_status sn_json_w_finish(const sn_json_w *w) { return w->err ? sn_error(w->err, "%s", w->msg) : SN_OK; }

/* Room for n more bytes and the NUL; 0 after an error. */
static int reserve(sn_json_w *w, size_t n) {
    if (w->err) return 0;
    if (n > SIZE_MAX / 4 - w->len) {
        werr(w, SN_ERR_NOMEM, "JSON text too large");
        return 0;
    }
    if (w->len + n + 1 <= w->cap) return 1;
    size_t c = w->cap ? w->cap : 256;
    while (c < w->len + n + 1) c *= 2;
    char *b = realloc(w->buf, c);
    if (!b) {
        werr(w, SN_ERR_NOMEM, "out of memory growing JSON text to %zu bytes", c);
        return 0;
    }
    w->buf = b;
    w->cap = c;
    return 1;
}

void sn_json_w_raw(sn_json_w *w, const char *s, size_t n) {
    if (!reserve(w, n)) return;
    if (n) memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

void sn_json_w_rawz(sn_json_w *w, const char *s) { sn_json_w_raw(w, s, strlen(s)); }

void sn_json_w_str(sn_json_w *w, const char *s, size_t n) {
    if (!s) {
        s = "";
        n = 0;
    }
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (const unsigned char *q = p; q < e;) {
        int k = sn_json_utf8_len(q, e);
        if (!k) {
            werr(w, SN_ERR_ARG, "string is not valid UTF-8 (byte 0x%02X at offset %zu)", *q, (size_t)(q - p));
            return;
        }
        q += k;
    }
    if (n > SIZE_MAX / 8 || !reserve(w, 6 * n + 2)) {
        if (!w->err) werr(w, SN_ERR_NOMEM, "JSON string too large");
        return;
    }
    char *o = w->buf + w->len;
    *o++ = '"';
    for (; p < e; p++) {
        const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\t' ? "\\t"
                        : *p == '\r' ? "\\r" : *p == '\b' ? "\\b" : *p == '\f' ? "\\f" : NULL;
        if (esc) {
            memcpy(o, esc, 2);
            o += 2;
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04X", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = 0;
    w->len = (size_t)(o - w->buf);
}

void sn_json_w_strz(sn_json_w *w, const char *s) { sn_json_w_str(w, s, strlen(s)); }

/* Python's repr(float): shortest round-trip digits; fixed notation for
 * decimal exponents -4..15 (with ".0" when integral), else d.ddde+XX. */
void sn_json_w_num(sn_json_w *w, double x) {
    if (!isfinite(x)) {
        if (!w->allow_nonfinite)
            werr(w, SN_ERR_NUMERIC, "cannot write %g as JSON (allow_nonfinite writes NaN / Infinity)", x);
        else
            sn_json_w_rawz(w, isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char e[48], dig[24], out[48];
    int p;
    for (p = 1; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x) break;
    }
    if (p == 17) snprintf(e, sizeof e, "%.16e", x);
    int nd = 0, ex = 0;
    const char *c = e;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9') dig[nd++] = *c;
    dig[nd] = 0;
    if (*c == 'e') ex = atoi(c + 1);
    char *o = out;
    if (signbit(x)) *o++ = '-';
    if (ex >= -4 && ex < 16) {
        if (ex < 0) o += sprintf(o, "0.%.*s%s", -ex - 1, "0000", dig);
        else {
            for (int i = 0; i <= ex; i++) *o++ = i < nd ? dig[i] : '0';
            *o++ = '.';
            if (nd > ex + 1) o += sprintf(o, "%s", dig + ex + 1);
            else *o++ = '0';
        }
    } else {
        *o++ = dig[0];
        if (nd > 1) o += sprintf(o, ".%s", dig + 1);
        o += sprintf(o, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
    }
    sn_json_w_raw(w, out, (size_t)(o - out));
}

void sn_json_w_int(sn_json_w *w, int64_t x) {
    char b[24];
    sn_json_w_raw(w, b, (size_t)snprintf(b, sizeof b, "%lld", (long long)x));
}

void sn_json_w_bool(sn_json_w *w, int b) { sn_json_w_rawz(w, b ? "true" : "false"); }
void sn_json_w_null(sn_json_w *w) { sn_json_w_rawz(w, "null"); }

static void w_scalar(sn_json_w *w, const sn_json *v) {
    switch (v->type) {
    case SN_JSON_NULL: sn_json_w_null(w); break;
    case SN_JSON_BOOL: sn_json_w_bool(w, v->boolean); break;
    case SN_JSON_STRING: sn_json_w_str(w, v->str, v->len); break;
    case SN_JSON_NUMBER:
        if (!w->allow_nonfinite && v->len && (v->str[v->len - 1] < '0' || v->str[v->len - 1] > '9'))
            werr(w, SN_ERR_NUMERIC, "cannot write %s as JSON (allow_nonfinite writes it)", v->str);
        else
            sn_json_w_raw(w, v->str, v->len);
        break;
    default: break;
    }
}

void sn_json_w_value(sn_json_w *w, const sn_json *v) {
    struct wf { const sn_json *c; size_t i; } *st = NULL;
    size_t n = 0, cap = 0;
    if (!v) {
        werr(w, SN_ERR_ARG, "sn_json_w_value: NULL value");
        return;
    }
    while (v && !w->err) {
        if (v->type == SN_JSON_ARRAY || v->type == SN_JSON_OBJECT) {
            if (n == cap) {
                struct wf *q = realloc(st, (cap = cap ? cap * 2 : 16) * sizeof *q);
                if (!q) break;
                st = q;
            }
            st[n].c = v;
            st[n++].i = 0;
            sn_json_w_rawz(w, v->type == SN_JSON_ARRAY ? "[" : "{");
        } else {
            w_scalar(w, v);
        }
        for (v = NULL; n && !v;) {
            struct wf *t = &st[n - 1];
            if (t->i == t->c->len) {
                sn_json_w_rawz(w, t->c->type == SN_JSON_ARRAY ? "]" : "}");
                n--;
                continue;
            }
            if (t->i) sn_json_w_rawz(w, ",");
            v = &t->c->kids[t->i++];
            if (t->c->type == SN_JSON_OBJECT) {
                sn_json_w_str(w, v->key, v->key_len);
                sn_json_w_rawz(w, ":");
            }
        }
    }
    if (v && !w->err) werr(w, SN_ERR_NOMEM, "out of memory writing JSON");
    free(st);
}

