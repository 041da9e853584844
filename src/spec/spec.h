/* Model spec text: a comma-separated list of Keras-style calls,
 *   conv1d(8, 24, activation=relu), maxpooling1d(2), bidirectional(lstm(16)), dense(1)
 * Names are case-insensitive; underscores in layer names are optional
 * ("max_pooling1d" = "maxpooling1d"). Values: integers, floats, true/false,
 * bare words or quoted strings, tuples "(2, 2)", and nested calls. */
#ifndef SEQNN_SPEC_H
#define SEQNN_SPEC_H

#include "seqnn/core.h"

typedef struct sn_spec_call sn_spec_call;

typedef enum sn_spec_vkind { SN_V_NUMBER = 0, SN_V_WORD, SN_V_STRING, SN_V_BOOL, SN_V_CALL, SN_V_TUPLE } sn_spec_vkind;

#define SN_SPEC_MAX_ARGS 24
#define SN_SPEC_MAX_TUPLE 8

typedef struct sn_spec_arg {
    char key[48];              /* "" for a positional argument */
    sn_spec_vkind kind;
    double num;                /* SN_V_NUMBER / SN_V_BOOL (0/1) */
    int is_int;                /* number written without '.' or exponent */
    char str[256];             /* SN_V_WORD / SN_V_STRING text */
    sn_spec_call *call;        /* SN_V_CALL (owned) */
    int n_tuple;               /* SN_V_TUPLE */
    double tuple[SN_SPEC_MAX_TUPLE];
    int used;                  /* set by sn_arg_* when consumed */
    int text_off, text_len;    /* where the argument stands in the spec text */
} sn_spec_arg;

struct sn_spec_call {
    char name[48];             /* normalised: lower case, no underscores */
    int n_args;
    sn_spec_arg args[SN_SPEC_MAX_ARGS];
    const char *text;          /* whole spec text (owned by the sn_spec) */
    int text_off, text_len;    /* this call's span in text */
};

typedef struct sn_spec {
    char *text;                /* copy of the source */
    int n_calls;
    sn_spec_call **calls;      /* top-level calls in order */
} sn_spec;

/* Parses `text` into `out` (to be released with sn_spec_free). Errors quote
 * the offending text with its column: `spec column 12: expected ')' near "…"`. */
sn_status sn_spec_parse(sn_spec *out, const char *text);
void sn_spec_free(sn_spec *s);

/* Argument accessors for configure(): look up positional index `pos` (-1 =
 * none) or keyword `key`; mark it used. Absent → *out = def and SN_OK. A value
 * of the wrong kind → SN_ERR_PARSE quoting the call. Giving an argument both
 * positionally and by keyword is an error. */
sn_status sn_arg_int(const sn_spec_call *c, int pos, const char *key, long def, long *out);
sn_status sn_arg_float(const sn_spec_call *c, int pos, const char *key, double def, double *out);
sn_status sn_arg_bool(const sn_spec_call *c, int pos, const char *key, int def, int *out);
/* Word or string value (e.g. activation=relu). out receives def when absent. */
sn_status sn_arg_str(const sn_spec_call *c, int pos, const char *key, const char *def, char *out, size_t n);
/* Tuple or single integer (pool_size=2 or (2,)). */
sn_status sn_arg_ints(const sn_spec_call *c, int pos, const char *key, int *out, int max, int *n_out);
/* For readers of a spec that was already configured (the exporters): the
 * argument at positional index `pos` (counting positional arguments only) or
 * keyword `key`, without marking it used and without checks; NULL when
 * absent. _num gives a number or bool's value, _word a word or string's
 * text, `def` when the argument is absent or of another kind. */
const sn_spec_arg *sn_spec_arg_find(const sn_spec_call *c, int pos, const char *key);
double sn_spec_arg_num(const sn_spec_call *c, int pos, const char *key, double def);
const char *sn_spec_arg_word(const sn_spec_call *c, int pos, const char *key, const char *def);
/* Nested call (bidirectional(lstm(16))); *out NULL when absent. */
sn_status sn_arg_call(const sn_spec_call *c, int pos, const char *key, const sn_spec_call **out);
/* After configure: SN_ERR_PARSE naming the first argument nobody consumed. */
sn_status sn_spec_check_used(const sn_spec_call *c);
/* Error helper: formats "<msg> in `lstm(16, foo=1)`" for call c. */
sn_status sn_spec_error(const sn_spec_call *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
