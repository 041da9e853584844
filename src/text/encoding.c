/* Text encodings of corpora (text.h): UTF-8 validated with line and column,
 * Windows-1252 and ISO-8859-1 transcoded to UTF-8. Many classic corpora
 * (movie review polarity, 20 Newsgroups, Reuters) are 8-bit files; reading
 * them as UTF-8 would either fail or, worse, silently merge byte values
 * into wrong characters. Validation uses the JSON reader's UTF-8 rule
 * (core/json.h): overlong forms, surrogates and code points above
 * U+10FFFF are invalid. */
#include <string.h>
#include <strings.h>
#include "core/internal.h"
#include "core/json.h"
#include "seqnn/text.h"
#include "text/table_internal.h"

sn_status sn_text_encoding_parse(const char *s, sn_text_encoding *out) {
    static const struct { const char *name; sn_text_encoding e; } names[] = {
        {"utf8", SN_TEXT_ENC_UTF8},     {"utf-8", SN_TEXT_ENC_UTF8},        {"cp1252", SN_TEXT_ENC_CP1252},
        {"windows-1252", SN_TEXT_ENC_CP1252}, {"latin1", SN_TEXT_ENC_LATIN1}, {"latin-1", SN_TEXT_ENC_LATIN1},
        {"iso-8859-1", SN_TEXT_ENC_LATIN1},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof *names; i++)
        if (!strcasecmp(s, names[i].name)) {
            *out = names[i].e;
            return SN_OK;
        }
    return sn_error(SN_ERR_PARSE, "unknown encoding '%s' (expected utf8, cp1252 or latin1)", s ? s : "(null)");
}

/* Windows-1252 0x80..0x9F (WHATWG encoding standard; the five holes map to
 * the C1 controls of the same value, as browsers decode them). */
static const uint16_t g_cp1252[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Writes code point u (< 0x10000) as UTF-8 at o; returns the bytes written. */
static size_t put_utf8(char *o, unsigned u) {
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | (u >> 6));
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (u >> 12));
    o[1] = (char)(0x80 | ((u >> 6) & 0x3F));
    o[2] = (char)(0x80 | (u & 0x3F));
    return 3;
}

/* Line and byte column (both 1-based) of offset off in s. */
static void line_col(const char *s, size_t off, size_t *line, size_t *col) {
    size_t l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* SN_OK when in[0..len) is valid UTF-8, else SN_ERR_FORMAT naming the
 * line and column of the first bad byte: "name:L:C: ..." with a name,
 * "line L, column C: ..." without (table_internal.h). */
sn_status sn_text_check_utf8(const char *in, size_t len, const char *name) {
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int k = sn_json_utf8_len(p + i, end);
        if (k == 0) {
            size_t l, c;
            line_col(in, i, &l, &c);
            if (name)
                return sn_error(SN_ERR_FORMAT, "%s:%zu:%zu: invalid UTF-8 byte 0x%02X (is the file cp1252 or latin1? see --encoding)",
                                name, l, c, p[i]);
            return sn_error(SN_ERR_FORMAT,
                            "line %zu, column %zu: invalid UTF-8 byte 0x%02X (is the file cp1252 or latin1? see "
                            "--encoding)",
                            l, c, p[i]);
        }
        i += (size_t)k;
    }
    return SN_OK;
}

sn_status sn_text_decode(const char *in, size_t len, sn_text_encoding enc, char **out, size_t *out_len) {
    if (!out || !out_len || (len && !in)) return sn_error(SN_ERR_ARG, "sn_text_decode: NULL argument");
    const unsigned char *p = (const unsigned char *)in;
    if (enc == SN_TEXT_ENC_UTF8) {
        sn_status st = sn_text_check_utf8(in, len, NULL);
        if (st) return st;
    } else if (enc != SN_TEXT_ENC_CP1252 && enc != SN_TEXT_ENC_LATIN1) {
        return sn_error(SN_ERR_ARG, "sn_text_decode: unknown encoding %d", (int)enc);
    }
    /* 8-bit encodings grow to at most 3 bytes per byte (U+20AC is 3). */
    size_t cap = enc == SN_TEXT_ENC_UTF8 ? len : 3 * len;
    char *o = sn_malloc(cap + 1, 1);
    if (!o) return SN_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned b = p[i];
        if (b == 0) b = ' ';
        if (enc == SN_TEXT_ENC_UTF8 || b < 0x80) o[k++] = (char)b;
        else if (enc == SN_TEXT_ENC_CP1252 && b < 0xA0) k += put_utf8(o + k, g_cp1252[b - 0x80]);
        else k += put_utf8(o + k, b);
    }
    o[k] = 0;
    *out = o;
    *out_len = k;
    return SN_OK;
}

sn_status sn_text_corpus_decode(sn_text_corpus *c, sn_text_encoding enc, const char *what) {
    if (!c) return sn_error(SN_ERR_ARG, "sn_text_corpus_decode: NULL corpus");
    if (!what) what = "corpus";
    for (size_t i = 0; i < c->n; i++) {
        int ascii = 1;
        for (size_t j = 0; j < c->lengths[i] && ascii; j++) ascii = (unsigned char)c->texts[i][j] < 0x80;
        if (ascii) continue; /* the same bytes in every supported encoding */
        const char *name = c->paths && c->paths[i] ? c->paths[i] : "?";
        sn_status st;
        if (enc == SN_TEXT_ENC_UTF8) {
            if ((st = sn_text_check_utf8(c->texts[i], c->lengths[i], name))) return sn_error_prefix(st, "%s", what);
            continue;
        }
        char *d;
        size_t n;
        if ((st = sn_text_decode(c->texts[i], c->lengths[i], enc, &d, &n))) return sn_error_prefix(st, "%s: %s", what, name);
        free(c->texts[i]);
        c->texts[i] = d;
        c->lengths[i] = n;
    }
    return SN_OK;
}
