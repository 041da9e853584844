/* The Keras-style standardizer and splitter declared in text/tokenize.h. */
#include "text/tokenize.h"

#include <stdint.h>
#include <string.h>

/* The 32 ASCII punctuation characters of Keras's DEFAULT_STRIP_REGEX. */
static int is_punct(unsigned char c) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

static int is_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

/* Lowercase of code point cp in Latin-1 Supplement, Latin Extended-A, Greek
 * and Cyrillic (a small rule table, no library); cp itself when none. Every
 * mapping keeps the UTF-8 length (2 bytes -> 2 bytes). U+0130 (I with dot)
 * is left alone because its lowercase is two code points. */
static uint32_t lower_cp(uint32_t cp) {
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp >= 0x100 && cp <= 0x137) return (cp != 0x130 && !(cp & 1)) ? cp + 1 : cp;
    if (cp >= 0x139 && cp <= 0x148) return (cp & 1) ? cp + 1 : cp;
    if (cp >= 0x14A && cp <= 0x177) return (cp & 1) ? cp : cp + 1;
    if (cp == 0x178) return 0xFF;
    if (cp >= 0x179 && cp <= 0x17E) return (cp & 1) ? cp + 1 : cp;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x460 && cp <= 0x481) return (cp & 1) ? cp : cp + 1;
    if (cp >= 0x48A && cp <= 0x4BF) return (cp & 1) ? cp : cp + 1;
    if (cp == 0x4C0) return 0x4CF;
    if (cp >= 0x4C1 && cp <= 0x4CE) return (cp & 1) ? cp + 1 : cp;
    if (cp >= 0x4D0 && cp <= 0x52F) return (cp & 1) ? cp : cp + 1;
    return cp;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid / truncated. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

static int match_br(const char *s) {
    if (s[0] != '<' || (s[1] | 32) != 'b' || (s[2] | 32) != 'r') return 0;
    if (s[3] == '>') return 4;
    if (s[3] == '/' && s[4] == '>') return 5;
    if (s[3] == ' ' && s[4] == '/' && s[5] == '>') return 6;
    return 0;
}

sn_tok_rules sn_tok_rules_of(const sn_vectorizer_opts *o) {
    sn_tok_rules r;
    r.lower = o->standardize == SN_STANDARDIZE_LOWER || o->standardize == SN_STANDARDIZE_LOWER_AND_STRIP_PUNCTUATION;
    r.strip_punct = o->standardize == SN_STANDARDIZE_STRIP_PUNCTUATION ||
                    o->standardize == SN_STANDARDIZE_LOWER_AND_STRIP_PUNCTUATION;
    r.utf8_lower = o->utf8_lower;
    r.br = o->strip_html ? SN_TOK_BR_ANY : SN_TOK_BR_KEEP;
    r.split = o->split;
    return r;
}

/* Length of a line break at s under rule br, or 0. */
static int br_len(sn_tok_br br, const char *s) {
    if (br == SN_TOK_BR_ANY) return match_br(s);
    if (br == SN_TOK_BR_EXACT) return strncmp(s, "<br />", 6) == 0 ? 6 : 0;
    return 0;
}

size_t sn_tok_standardize(const sn_tok_rules *r, const char *text, size_t n, char *out) {
    const int lower = r->lower, strip = r->strip_punct;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)text[i];
        if (c == '<' && r->br) {
            int m = br_len(r->br, text + i);
            if (m) {
                out[j++] = ' ';
                i += (size_t)m;
                continue;
            }
        }
        if (c < 0x80) {
            if (strip && is_punct(c)) {
                i++;
                continue;
            }
            out[j++] = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        if (lower && r->utf8_lower && c >= 0xC2 && c <= 0xDF && i + 1 < n &&
            ((unsigned char)text[i + 1] & 0xC0) == 0x80) {
            uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | ((unsigned char)text[i + 1] & 0x3F);
            uint32_t lc = lower_cp(cp);
            out[j++] = (char)(0xC0 | (lc >> 6));
            out[j++] = (char)(0x80 | (lc & 0x3F));
            i += 2;
            continue;
        }
        out[j++] = (char)c; /* other bytes, valid or not, pass through */
        i++;
    }
    out[j] = 0;
    return j;
}

int sn_tok_next(const sn_tok_rules *r, const char *s, size_t m, size_t *pos, size_t *start, size_t *len) {
    size_t i = *pos;
    if (r->split == SN_SPLIT_WHITESPACE) {
        while (i < m && is_space((unsigned char)s[i])) i++;
        if (i >= m) return 0;
        *start = i;
        while (i < m && !is_space((unsigned char)s[i])) i++;
        *len = i - *start;
    } else if (r->split == SN_SPLIT_CHARACTER) {
        if (i >= m) return 0;
        int l = utf8_len((const unsigned char *)s + i);
        if (l == 0 || i + (size_t)l > m) l = 1;
        *start = i;
        *len = (size_t)l;
        i += (size_t)l;
    } else {
        if (i > 0 || m == 0) return 0;
        *start = 0;
        *len = m;
        i = m;
    }
    *pos = i;
    return 1;
}
