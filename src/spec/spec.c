/* Model spec parser: "conv1d(8, 24, activation=relu), maxpooling1d(2), dense(1)".
 *
 * Grammar (recursive descent over the text, whitespace and `#` comments to
 * the end of a line are skipped between tokens):
 *   spec  := call { (',' | ';') call } [',' | ';']
 *   call  := name [ '(' [ arg { ',' arg } ] ')' ]        nesting depth <= 4
 *   arg   := [ key '=' ] value                           positional args first
 *   value := number | word | true | false | None | 'str' | "str"
 *          | '(' number { ',' number } ')'               at most 8 numbers
 *          | call                                        (a name followed by '(')
 * Names are normalised (lower case, underscores dropped); keywords are lower
 * cased. A number is an integer when written without '.', 'e' or 'E'.
 *
 * Every error quotes the text around the offending column. The argument
 * accessors (sn_arg_*) mark what configure() consumed, so that an unknown
 * keyword is reported (sn_spec_check_used) instead of silently ignored. */
#include "spec/spec.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

typedef struct parser {
    const char *s;
    int pos;
    int depth;
} parser;

static void skip_ws(parser *p) {
    for (;;) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p->pos++;
        } else if (c == '#') {
            while (p->s[p->pos] && p->s[p->pos] != '\n') p->pos++;
        } else {
            break;
        }
    }
}

static sn_status perr(const parser *p, int at, const char *what) {
    int len = (int)strlen(p->s);
    int from = at > 20 ? at - 20 : 0;
    int to = at + 20 < len ? at + 20 : len;
    return sn_error(SN_ERR_PARSE, "model spec column %d: %s near \"%.*s\"", at + 1, what, to - from, p->s + from);
}

static int is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }

static sn_status parse_call(parser *p, sn_spec_call **out);

static sn_status parse_ident(parser *p, char *buf, size_t n) {
    int start = p->pos;
    if (!is_ident_start(p->s[p->pos])) return perr(p, p->pos, "expected a name");
    while (is_ident(p->s[p->pos])) p->pos++;
    int len = p->pos - start;
    if ((size_t)len >= n) return perr(p, start, "name too long");
    memcpy(buf, p->s + start, (size_t)len);
    buf[len] = 0;
    return SN_OK;
}

static sn_status parse_number(parser *p, double *v, int *is_int) {
    const char *start = p->s + p->pos;
    char *end;
    *v = strtod(start, &end);
    if (end == start) return perr(p, p->pos, "expected a number");
    *is_int = 1;
    for (const char *q = start; q < end; q++)
        if (*q == '.' || *q == 'e' || *q == 'E') *is_int = 0;
    if (!isfinite(*v)) return perr(p, p->pos, "number is not finite");
    p->pos += (int)(end - start);
    return SN_OK;
}

static sn_status parse_value(parser *p, sn_spec_arg *a) {
    char c = p->s[p->pos];
    if (c == '"' || c == '\'') {
        int start = ++p->pos;
        while (p->s[p->pos] && p->s[p->pos] != c) p->pos++;
        if (!p->s[p->pos]) return perr(p, start - 1, "unterminated string");
        int len = p->pos - start;
        if ((size_t)len >= sizeof a->str) return perr(p, start, "string too long");
        memcpy(a->str, p->s + start, (size_t)len);
        a->str[len] = 0;
        a->kind = SN_V_STRING;
        p->pos++;
        return SN_OK;
    }
    if (c == '(') {
        p->pos++;
        a->kind = SN_V_TUPLE;
        a->n_tuple = 0;
        skip_ws(p);
        while (p->s[p->pos] != ')') {
            if (a->n_tuple >= SN_SPEC_MAX_TUPLE) return perr(p, p->pos, "tuple too long");
            int dummy;
            sn_status st = parse_number(p, &a->tuple[a->n_tuple], &dummy);
            if (st) return st;
            a->n_tuple++;
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                skip_ws(p);
            } else if (p->s[p->pos] != ')') {
                return perr(p, p->pos, "expected ',' or ')' in tuple");
            }
        }
        p->pos++;
        return SN_OK;
    }
    if (isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.') {
        a->kind = SN_V_NUMBER;
        return parse_number(p, &a->num, &a->is_int);
    }
    if (is_ident_start(c)) {
        /* A word, a boolean, or a nested call. */
        int save = p->pos;
        char word[256];
        sn_status st = parse_ident(p, word, sizeof word);
        if (st) return st;
        int after = p->pos;
        skip_ws(p);
        if (p->s[p->pos] == '(') {
            p->pos = save;
            a->kind = SN_V_CALL;
            return parse_call(p, &a->call);
        }
        p->pos = after;
        if (!strcmp(word, "true") || !strcmp(word, "True")) {
            a->kind = SN_V_BOOL;
            a->num = 1;
        } else if (!strcmp(word, "false") || !strcmp(word, "False")) {
            a->kind = SN_V_BOOL;
            a->num = 0;
        } else if (!strcmp(word, "None") || !strcmp(word, "none") || !strcmp(word, "null")) {
            a->kind = SN_V_WORD;
            strcpy(a->str, "none");
        } else {
            a->kind = SN_V_WORD;
            strcpy(a->str, word);
        }
        return SN_OK;
    }
    return perr(p, p->pos, "expected a value");
}

static void free_call(sn_spec_call *c) {
    if (!c) return;
    for (int i = 0; i < c->n_args; i++) free_call(c->args[i].call);
    free(c);
}

static sn_status parse_call(parser *p, sn_spec_call **out) {
    *out = NULL;
    if (++p->depth > 4) return perr(p, p->pos, "layers nested too deeply");
    sn_spec_call *c = sn_calloc(1, sizeof *c);
    if (!c) return SN_ERR_NOMEM;
    c->text = p->s;
    c->text_off = p->pos;
    char raw[sizeof c->name]; /* normalisation only shortens: fits c->name */
    sn_status st = parse_ident(p, raw, sizeof raw);
    if (st) goto fail;
    /* Normalise: lower case, no underscores ("MaxPooling1D", "max_pooling1d" → "maxpooling1d"). */
    int k = 0;
    for (int i = 0; raw[i]; i++)
        if (raw[i] != '_') c->name[k++] = (char)tolower((unsigned char)raw[i]);
    c->name[k] = 0;
    skip_ws(p);
    if (p->s[p->pos] == '(') {
        p->pos++;
        skip_ws(p);
        while (p->s[p->pos] != ')') {
            if (!p->s[p->pos]) {
                st = perr(p, c->text_off, "missing ')' for this layer");
                goto fail;
            }
            if (c->n_args >= SN_SPEC_MAX_ARGS) {
                st = perr(p, p->pos, "too many arguments");
                goto fail;
            }
            sn_spec_arg *a = &c->args[c->n_args];
            a->text_off = p->pos;
            /* keyword? */
            int save = p->pos;
            if (is_ident_start(p->s[p->pos])) {
                char key[64];
                if (parse_ident(p, key, sizeof key) == SN_OK) {
                    skip_ws(p);
                    if (p->s[p->pos] == '=') {
                        p->pos++;
                        skip_ws(p);
                        if (strlen(key) >= sizeof a->key) {
                            st = perr(p, save, "keyword too long");
                            goto fail;
                        }
                        for (int i = 0; key[i]; i++) a->key[i] = (char)tolower((unsigned char)key[i]);
                    } else {
                        p->pos = save;
                    }
                } else {
                    p->pos = save;
                }
            }
            st = parse_value(p, a);
            c->n_args++; /* count it even on failure so free_call sees nested calls */
            if (st) goto fail;
            if (!a->key[0]) {
                for (int i = 0; i < c->n_args - 1; i++)
                    if (c->args[i].key[0]) {
                        st = perr(p, a->text_off, "positional argument after keyword argument");
                        goto fail;
                    }
            } else {
                for (int i = 0; i < c->n_args - 1; i++)
                    if (!strcmp(c->args[i].key, a->key)) {
                        st = perr(p, a->text_off, "argument given twice");
                        goto fail;
                    }
            }
            a->text_len = p->pos - a->text_off;
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                skip_ws(p);
            } else if (p->s[p->pos] != ')') {
                st = perr(p, p->pos, "expected ',' or ')'");
                goto fail;
            }
        }
        p->pos++;
    }
    c->text_len = p->pos - c->text_off;
    p->depth--;
    *out = c;
    return SN_OK;
fail:
    free_call(c);
    return st;
}

/* Parses `text` (at most 1 MiB) into *out: a private copy of the text and
 * its top-level calls in order, each owning its nested calls. Errors:
 * SN_ERR_ARG for NULL arguments, SN_ERR_PARSE quoting the text near the
 * offending column ("model spec column 12: expected ',' or ')' near ..."),
 * SN_ERR_NOMEM. On error *out is empty and needs no sn_spec_free; on success
 * the caller releases it with sn_spec_free. Calls and arguments point into
 * *out and live until then. */
sn_status sn_spec_parse(sn_spec *out, const char *text) {
    if (!out || !text) return sn_error(SN_ERR_ARG, "sn_spec_parse: NULL argument");
    memset(out, 0, sizeof *out);
    size_t len = strlen(text);
    if (len > (1u << 20)) return sn_error(SN_ERR_PARSE, "model spec longer than 1 MiB");
    out->text = sn_malloc(len + 1, 1);
    if (!out->text) return SN_ERR_NOMEM;
    memcpy(out->text, text, len + 1);
    parser p = {out->text, 0, 0};
    int cap = 0;
    skip_ws(&p);
    if (!p.s[p.pos]) {
        sn_spec_free(out);
        return sn_error(SN_ERR_PARSE, "model spec is empty");
    }
    while (p.s[p.pos]) {
        sn_spec_call *c;
        sn_status st = parse_call(&p, &c);
        if (st) {
            sn_spec_free(out);
            return st;
        }
        if (out->n_calls == cap) {
            cap = cap ? cap * 2 : 8;
            sn_spec_call **nc = sn_realloc(out->calls, (size_t)cap, sizeof *nc);
            if (!nc) {
                free_call(c);
                sn_spec_free(out);
                return SN_ERR_NOMEM;
            }
            out->calls = nc;
        }
        out->calls[out->n_calls++] = c;
        skip_ws(&p);
        if (p.s[p.pos] == ',' || p.s[p.pos] == ';') {
            p.pos++;
            skip_ws(&p);
        } else if (p.s[p.pos]) {
            sn_status e = perr(&p, p.pos, "expected ',' between layers");
            sn_spec_free(out);
            return e;
        }
    }
    return SN_OK;
}

/* Releases everything sn_spec_parse allocated and empties *s (calling it
 * again, or on an empty or NULL spec, is harmless). */
void sn_spec_free(sn_spec *s) {
    if (!s) return;
    for (int i = 0; i < s->n_calls; i++) free_call(s->calls[i]);
    free(s->calls);
    free(s->text);
    memset(s, 0, sizeof *s);
}

/* Raises SN_ERR_PARSE with the printf-style message followed by the call's
 * text (" in `lstm(16, foo=1)`", cut at 200 characters) and returns it;
 * without a call (c NULL) the message alone. For configure() errors. */
sn_status sn_spec_error(const sn_spec_call *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c && c->text)
        return sn_error(SN_ERR_PARSE, "%s in `%.*s`", msg, c->text_len > 200 ? 200 : c->text_len, c->text + c->text_off);
    return sn_error(SN_ERR_PARSE, "%s", msg);
}

/* Finds the argument at position pos or with keyword key; NULL if absent. */
static sn_status find_arg(const sn_spec_call *c, int pos, const char *key, sn_spec_arg **out) {
    sn_spec_call *mc = (sn_spec_call *)c; /* `used` marks are bookkeeping, not content */
    sn_spec_arg *byp = NULL, *byk = NULL;
    int npos = 0;
    for (int i = 0; i < mc->n_args; i++) {
        sn_spec_arg *a = &mc->args[i];
        if (!a->key[0]) {
            if (npos == pos) byp = a;
            npos++;
        } else if (key && !strcmp(a->key, key)) {
            byk = a;
        }
    }
    if (byp && byk) return sn_spec_error(c, "argument '%s' given both by position and by keyword", key);
    *out = byp ? byp : byk;
    if (*out) (*out)->used = 1;
    return SN_OK;
}

static const char *argname(int pos, const char *key, char *buf) {
    if (key) return key;
    sprintf(buf, "#%d", pos + 1);
    return buf;
}

/* The typed accessors below share one contract. They look up the argument
 * at positional index `pos` (-1: not accepted by position) or with keyword
 * `key` (NULL: not accepted by keyword), mark it used and convert it into
 * *out. An absent argument gives the default and SN_OK. An argument given
 * both ways, or a value of the wrong kind, is SN_ERR_PARSE quoting the call
 * and the value; the outputs are then not to be used.
 *
 * sn_arg_int: an integer literal of magnitude at most 2e9. */
sn_status sn_arg_int(const sn_spec_call *c, int pos, const char *key, long def, long *out) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    if (!a) {
        *out = def;
        return SN_OK;
    }
    if (a->kind != SN_V_NUMBER || !a->is_int || fabs(a->num) > 2e9)
        return sn_spec_error(c, "argument '%s' must be an integer, got `%.*s`", argname(pos, key, nb), a->text_len,
                             c->text + a->text_off);
    *out = (long)a->num;
    return SN_OK;
}

/* sn_arg_float: any number (integers included). */
sn_status sn_arg_float(const sn_spec_call *c, int pos, const char *key, double def, double *out) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    if (!a) {
        *out = def;
        return SN_OK;
    }
    if (a->kind != SN_V_NUMBER)
        return sn_spec_error(c, "argument '%s' must be a number, got `%.*s`", argname(pos, key, nb), a->text_len,
                             c->text + a->text_off);
    *out = a->num;
    return SN_OK;
}

/* sn_arg_bool: true / false / True / False, or the integers 0 and 1. */
sn_status sn_arg_bool(const sn_spec_call *c, int pos, const char *key, int def, int *out) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    if (!a) {
        *out = def;
        return SN_OK;
    }
    if (a->kind == SN_V_BOOL || (a->kind == SN_V_NUMBER && a->is_int && (a->num == 0 || a->num == 1))) {
        *out = a->num != 0;
        return SN_OK;
    }
    return sn_spec_error(c, "argument '%s' must be true or false, got `%.*s`", argname(pos, key, nb), a->text_len,
                         c->text + a->text_off);
}

/* sn_arg_str: a bare word or a quoted string, copied into out (n bytes,
 * NUL included; longer is an error). None / none / null read as "none";
 * an absent argument copies def ("" when def is NULL). */
sn_status sn_arg_str(const sn_spec_call *c, int pos, const char *key, const char *def, char *out, size_t n) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    const char *v = def ? def : "";
    if (a) {
        if (a->kind != SN_V_WORD && a->kind != SN_V_STRING)
            return sn_spec_error(c, "argument '%s' must be a name, got `%.*s`", argname(pos, key, nb), a->text_len,
                                 c->text + a->text_off);
        v = a->str;
    }
    if (strlen(v) >= n) return sn_spec_error(c, "argument '%s' is too long", argname(pos, key, nb));
    strcpy(out, v);
    return SN_OK;
}

/* sn_arg_ints: one integer (pool_size=2) or a tuple of at most `max`
 * integers (pool_size=(2,)) into out[0..*n_out); absent: *n_out = 0. */
sn_status sn_arg_ints(const sn_spec_call *c, int pos, const char *key, int *out, int max, int *n_out) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    *n_out = 0;
    if (!a) return SN_OK;
    if (a->kind == SN_V_NUMBER && a->is_int) {
        out[0] = (int)a->num;
        *n_out = 1;
        return SN_OK;
    }
    if (a->kind == SN_V_TUPLE && a->n_tuple <= max) {
        for (int i = 0; i < a->n_tuple; i++) {
            if (a->tuple[i] != floor(a->tuple[i]))
                return sn_spec_error(c, "argument '%s' must hold integers", argname(pos, key, nb));
            out[i] = (int)a->tuple[i];
        }
        *n_out = a->n_tuple;
        return SN_OK;
    }
    return sn_spec_error(c, "argument '%s' must be an integer or a tuple of at most %d integers, got `%.*s`",
                         argname(pos, key, nb), max, a->text_len, c->text + a->text_off);
}

/* sn_arg_call: a nested call (bidirectional(lstm(16))); *out points into
 * the spec (do not free), NULL when absent. */
sn_status sn_arg_call(const sn_spec_call *c, int pos, const char *key, const sn_spec_call **out) {
    sn_spec_arg *a;
    char nb[16];
    sn_status st = find_arg(c, pos, key, &a);
    if (st) return st;
    *out = NULL;
    if (!a) return SN_OK;
    if (a->kind != SN_V_CALL)
        return sn_spec_error(c, "argument '%s' must be a layer, got `%.*s`", argname(pos, key, nb), a->text_len,
                             c->text + a->text_off);
    *out = a->call;
    return SN_OK;
}

/* After configure(): SN_OK when every argument of c was consumed by an
 * accessor, else SN_ERR_PARSE naming the first unknown keyword or unexpected
 * positional argument, with the call's text. Nested calls are checked by the
 * layer that configures them. */
sn_status sn_spec_check_used(const sn_spec_call *c) {
    for (int i = 0; i < c->n_args; i++) {
        const sn_spec_arg *a = &c->args[i];
        if (!a->used) {
            if (a->key[0]) return sn_spec_error(c, "unknown argument '%s'", a->key);
            return sn_spec_error(c, "unexpected positional argument `%.*s`", a->text_len, c->text + a->text_off);
        }
    }
    return SN_OK;
}

const sn_spec_arg *sn_spec_arg_find(const sn_spec_call *c, int pos, const char *key) {
    int p = 0;
    for (int i = 0; i < c->n_args; i++) {
        const sn_spec_arg *a = &c->args[i];
        if (a->key[0] ? !strcmp(a->key, key) : p++ == pos) return a;
    }
    return NULL;
}

double sn_spec_arg_num(const sn_spec_call *c, int pos, const char *key, double def) {
    const sn_spec_arg *a = sn_spec_arg_find(c, pos, key);
    return a && (a->kind == SN_V_NUMBER || a->kind == SN_V_BOOL) ? a->num : def;
}

const char *sn_spec_arg_word(const sn_spec_call *c, int pos, const char *key, const char *def) {
    const sn_spec_arg *a = sn_spec_arg_find(c, pos, key);
    return a && (a->kind == SN_V_WORD || a->kind == SN_V_STRING) ? a->str : def;
}
