/* JSON (RFC 8259) reader and writer, private to the library.
 *
 * Reader: sn_json_parse turns a buffer (with its length; it need not be
 * NUL-terminated and may hold NUL bytes) into a tree of sn_json values
 * allocated from one arena owned by an sn_json_doc; sn_json_free releases
 * all of it. The parser is iterative (an explicit stack, no recursion), so
 * hostile nesting cannot overflow the C stack; depth, input size and memory
 * are bounded by sn_json_opts. Errors are SN_ERR_FORMAT (SN_ERR_NOMEM for a
 * memory limit) with "line L, column C: what was expected" (columns count
 * characters, both from 1); the caller adds the file name with
 * sn_error_prefix.
 *
 * Strict by default: exactly one value, no comments, no trailing commas,
 * strings valid UTF-8 with no raw control characters and no lone surrogate
 * (also not through \uXXXX). Liberties, all like Python's json.loads on
 * bytes: a leading UTF-8 byte-order mark is skipped; a number too large for a double
 * reads as +-inf (its text is kept); duplicate keys are kept in document
 * order and lookup returns the last. The tokens NaN, Infinity and -Infinity
 * (written by Python's json.dumps, met in Keras configs) are accepted only
 * with opts.allow_nonfinite.
 *
 *   sn_json_doc doc;
 *   if (sn_json_parse(&doc, buf, len, NULL) != SN_OK)
 *       return sn_error_prefix(SN_ERR_FORMAT, "%s", path);
 *   const sn_json *layers = sn_json_get(sn_json_get(doc.root, "config"), "layers");
 *   for (size_t i = 0; i < sn_json_len(layers); i++) ... sn_json_at(layers, i) ...
 *   sn_json_free(&doc);
 *
 * Every accessor takes NULL (and values of the wrong type) and answers with
 * its "absent" result, so lookups chain without checks in between. */
#ifndef SEQNN_JSON_H
#define SEQNN_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

typedef enum sn_json_type {
    SN_JSON_NULL = 0,
    SN_JSON_BOOL = 1,
    SN_JSON_NUMBER = 2,
    SN_JSON_STRING = 3,
    SN_JSON_ARRAY = 4,
    SN_JSON_OBJECT = 5
} sn_json_type;

/* One value. Everything it points to lives in the document's arena. */
typedef struct sn_json sn_json;
struct sn_json {
    sn_json_type type;
    int boolean;          /* BOOL: 0 or 1 */
    int is_int;           /* NUMBER: written as an integer literal (no '.', no exponent) */
    int int_ok;           /* NUMBER: is_int and the value fits int64 (then `ival` holds it) */
    uint32_t line, col;   /* where the value starts (1-based; col in characters) */
    const char *key;      /* member of an object: its key (decoded, NUL-terminated); else NULL */
    size_t key_len;       /* bytes of key (keys may contain NUL) */
    const char *str;      /* STRING: decoded UTF-8, NUL-terminated, may contain NUL;
                             NUMBER: the literal as written ("1e5", "-0", "NaN") */
    size_t len;           /* STRING / NUMBER: bytes of str; ARRAY / OBJECT: element count */
    double num;           /* NUMBER: value (correctly rounded; +-inf when out of range) */
    int64_t ival;         /* NUMBER: exact value when int_ok */
    sn_json *kids;        /* ARRAY / OBJECT: the `len` elements / members, in document order */
};

/* Options; a field left 0 takes its default. */
typedef struct sn_json_opts {
    int allow_nonfinite;  /* 1: accept NaN, Infinity, -Infinity (default 0: strict) */
    int max_depth;        /* nesting limit; default 512 (at most 100000) */
    size_t max_input;     /* bytes; default 1 GiB */
    size_t max_memory;    /* bytes of tree the parse may allocate; default 4 GiB */
} sn_json_opts;

void sn_json_opts_default(sn_json_opts *o);

struct sn_json_arena;
typedef struct sn_json_doc {
    const sn_json *root;          /* the document's value; NULL after a failed parse */
    struct sn_json_arena *arena;  /* owns every value and string */
} sn_json_doc;

/* Parses buf[0..len) (one JSON text, surrounding whitespace allowed) into
 * *doc. On error *doc is empty (root NULL, nothing to free, though
 * sn_json_free is harmless) and the message names line and column.
 * opts NULL = defaults. */
sn_status sn_json_parse(sn_json_doc *doc, const char *buf, size_t len, const sn_json_opts *opts);
/* Releases everything the document holds; leaves it empty. NULL is a no-op. */
void sn_json_free(sn_json_doc *doc);

/* ---- Access (all NULL-safe) ---- */
/* Member of an object by key (the last one when a key repeats); NULL when
 * v is not an object or has no such member. sn_json_getn takes a key with
 * its length (for keys holding NUL). */
const sn_json *sn_json_get(const sn_json *v, const char *key);
const sn_json *sn_json_getn(const sn_json *v, const char *key, size_t key_len);
/* Element i of an array, member i of an object (document order); NULL when
 * out of range or v is neither. */
const sn_json *sn_json_at(const sn_json *v, size_t i);
/* Element / member count of an array / object; 0 for anything else. */
size_t sn_json_len(const sn_json *v);
/* Type tests. */
int sn_json_is(const sn_json *v, sn_json_type t);
/* Typed getters: the value, or `def` when v is NULL or of another type.
 * sn_json_int answers only for integer literals that fit int64 (3.0 and 1e3
 * are not integers; use sn_json_num). sn_json_str's length, when wanted,
 * is v->len. */
double sn_json_num(const sn_json *v, double def);
int64_t sn_json_int(const sn_json *v, int64_t def);
int sn_json_bool(const sn_json *v, int def);
const char *sn_json_str(const sn_json *v, const char *def);
/* Name of a type for messages ("object", "array", ...). */
const char *sn_json_type_name(sn_json_type t);

/* ---- Writer: appends JSON text to a growable buffer. The first error
 * (out of memory, invalid UTF-8 in a string, a non-finite number without
 * allow_nonfinite) sticks: later calls do nothing and sn_json_w_finish
 * returns it. The caller places structural characters with sn_json_w_raw
 * ("{", ",", ":" ...). ---- */
typedef struct sn_json_w {
    char *buf;            /* buf[0..len) is the text so far, NUL-terminated; owned */
    size_t len, cap;
    sn_status err;        /* first error, SN_OK while none */
    int allow_nonfinite;  /* 1: write NaN / Infinity / -Infinity as Python does */
    char msg[256];        /* message of err */
} sn_json_w;

void sn_json_w_init(sn_json_w *w);
void sn_json_w_free(sn_json_w *w);
/* Returns the sticky status (with its message in sn_error_last()). */
sn_status sn_json_w_finish(const sn_json_w *w);
/* Appends text as is. */
void sn_json_w_raw(sn_json_w *w, const char *s, size_t n);
void sn_json_w_rawz(sn_json_w *w, const char *s);
/* Appends s[0..n) as a quoted JSON string: UTF-8 kept, '"' '\\' and the
 * control characters escaped (\n \t ... or \u00XX). Invalid UTF-8 is an
 * error (SN_ERR_ARG). */
void sn_json_w_str(sn_json_w *w, const char *s, size_t n);
void sn_json_w_strz(sn_json_w *w, const char *s);
/* Appends a double as Python's repr writes it: the shortest text that reads
 * back to the same double ("0.1", "100.0", "1e-07", "-0.0"). */
void sn_json_w_num(sn_json_w *w, double x);
void sn_json_w_int(sn_json_w *w, int64_t x);
void sn_json_w_bool(sn_json_w *w, int b);
void sn_json_w_null(sn_json_w *w);
/* Appends a whole value, compact (no spaces); numbers keep their literal
 * text, so parse + write round-trips number text exactly. */
void sn_json_w_value(sn_json_w *w, const sn_json *v);

/* Length (1..4) of the valid UTF-8 sequence at p (p < end), 0 when invalid:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
int sn_json_utf8_len(const unsigned char *p, const unsigned char *end);

/* ---- JSON Lines: one JSON value per line; blank lines (only spaces, tabs,
 * '\r') are skipped; "\r\n" endings are fine; a leading byte-order mark is
 * skipped. Errors name the line of the buffer: "line 12, column 5: ...". ---- */
typedef struct sn_jsonl {
    const char *buf;
    size_t len, pos;
    uint32_t line;        /* line number of the value last returned */
    sn_json_opts opts;
    sn_json_doc doc;      /* holds the value last returned */
} sn_jsonl;

/* buf must stay valid while the iterator is used. opts NULL = defaults. */
void sn_jsonl_init(sn_jsonl *it, const char *buf, size_t len, const sn_json_opts *opts);
/* Parses the next non-blank line: *out = its value (valid until the next
 * call or sn_jsonl_free), or NULL at the end of the buffer. */
sn_status sn_jsonl_next(sn_jsonl *it, const sn_json **out);
void sn_jsonl_free(sn_jsonl *it);

#endif
