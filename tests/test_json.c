/* JSON reader / writer / JSON Lines (src/core/json.h): every value type,
 * strings with escapes, surrogates and NUL, number text and exactness,
 * duplicate keys, limits, one test per error class with its line and
 * column, writer round trips, Python-repr numbers, and the fuzz regressions
 * (tests/fixtures/fuzz_regressions/json-*). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/json.h"
#include "seqnn/core.h"
#include "test.h"

static int msg_has(const char *needle) {
    if (strstr(sn_error_last(), needle)) return 1;
    fprintf(stderr, "    message was: %s\n    expected to contain: %s\n", sn_error_last(), needle);
    return 0;
}

/* Parses a NUL-free C string (as a buffer of its length). */
static sn_status parse(sn_json_doc *d, const char *s) { return sn_json_parse(d, s, strlen(s), NULL); }

TEST(json_parses_every_value_type) {
    const char *text = "{\"a\": null, \"b\": [true, false],\n"
                       "  \"n\": -12.5e1, \"i\": 42, \"s\": \"hi\", \"o\": {}, \"e\": []}";
    sn_json_doc d;
    CHECK_OK(parse(&d, text));
    const sn_json *r = d.root;
    CHECK(sn_json_is(r, SN_JSON_OBJECT) && sn_json_len(r) == 7);
    CHECK(sn_json_is(sn_json_get(r, "a"), SN_JSON_NULL));
    const sn_json *b = sn_json_get(r, "b");
    CHECK(sn_json_len(b) == 2 && sn_json_bool(sn_json_at(b, 0), 0) == 1 && sn_json_bool(sn_json_at(b, 1), 1) == 0);
    const sn_json *n = sn_json_get(r, "n");
    CHECK(n->num == -125.0 && !n->is_int && !n->int_ok && !strcmp(n->str, "-12.5e1"));
    CHECK(n->line == 2 && n->col == 8);
    const sn_json *i = sn_json_get(r, "i");
    CHECK(i->is_int && i->int_ok && i->ival == 42 && sn_json_int(i, -1) == 42 && !strcmp(i->str, "42"));
    CHECK(!strcmp(sn_json_str(sn_json_get(r, "s"), NULL), "hi"));
    CHECK(sn_json_is(sn_json_get(r, "o"), SN_JSON_OBJECT) && sn_json_len(sn_json_get(r, "o")) == 0);
    CHECK(sn_json_is(sn_json_get(r, "e"), SN_JSON_ARRAY) && sn_json_len(sn_json_get(r, "e")) == 0);
    /* members in document order, iteration by index */
    const char *order[] = {"a", "b", "n", "i", "s", "o", "e"};
    for (size_t k = 0; k < 7; k++) CHECK(!strcmp(sn_json_at(r, k)->key, order[k]));
    CHECK(sn_json_at(r, 7) == NULL);
    sn_json_free(&d);
    CHECK(d.root == NULL && d.arena == NULL);
    sn_json_free(&d); /* harmless twice */
}

TEST(json_getters_answer_defaults_for_absent_or_mistyped) {
    sn_json_doc d;
    CHECK_OK(parse(&d, "{\"x\": \"str\", \"f\": 2.0, \"big\": 1e3}"));
    const sn_json *r = d.root;
    CHECK(sn_json_num(sn_json_get(r, "x"), -1) == -1);
    CHECK(sn_json_int(sn_json_get(r, "f"), -1) == -1); /* 2.0 is not an integer literal */
    CHECK(sn_json_num(sn_json_get(r, "f"), -1) == 2.0);
    CHECK(sn_json_int(sn_json_get(r, "big"), -1) == -1);
    CHECK(sn_json_bool(sn_json_get(r, "x"), 7) == 7);
    CHECK(!strcmp(sn_json_str(sn_json_get(r, "missing"), "def"), "def"));
    /* chains through NULL and through non-containers */
    CHECK(sn_json_get(sn_json_get(sn_json_get(r, "no"), "such"), "path") == NULL);
    CHECK(sn_json_at(sn_json_get(r, "x"), 0) == NULL && sn_json_len(sn_json_get(r, "x")) == 0);
    CHECK(sn_json_get(NULL, "x") == NULL && sn_json_len(NULL) == 0 && !sn_json_is(NULL, SN_JSON_NULL));
    CHECK(!strcmp(sn_json_type_name(SN_JSON_OBJECT), "object"));
    sn_json_free(&d);
}

TEST(json_duplicate_keys_lookup_returns_the_last) {
    sn_json_doc d;
    CHECK_OK(parse(&d, "{\"k\": 1, \"j\": 2, \"k\": 3}"));
    CHECK(sn_json_len(d.root) == 3); /* all kept, in order */
    CHECK(sn_json_int(sn_json_get(d.root, "k"), 0) == 3);
    CHECK(sn_json_int(sn_json_at(d.root, 0), 0) == 1);
    sn_json_free(&d);
}

TEST(json_strings_decode_escapes_surrogates_and_nul) {
    /* \u00e9 = U+00E9 (C3 A9), \ud83d\ude00 = U+1F600 (F0 9F 98 80), \u0000 = NUL */
    const char *text = "[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\ud83d\\ude00x\\u0000y\", \"\xc3\xa9\xe2\x82\xac\"]";
    sn_json_doc d;
    CHECK_OK(parse(&d, text));
    const sn_json *s0 = sn_json_at(d.root, 0), *s1 = sn_json_at(d.root, 1), *s2 = sn_json_at(d.root, 2);
    CHECK(s0->len == 9 && !memcmp(s0->str, "a\"\\/\b\f\n\r\t", 9));
    CHECK(s1->len == 9 && !memcmp(s1->str, "\xc3\xa9\xf0\x9f\x98\x80x\0y", 9) && s1->str[9] == 0);
    CHECK(s2->len == 5 && !strcmp(s2->str, "\xc3\xa9\xe2\x82\xac"));
    sn_json_free(&d);
    /* a key holding NUL is found with sn_json_getn */
    CHECK_OK(parse(&d, "{\"a\\u0000b\": 1}"));
    CHECK(sn_json_getn(d.root, "a\0b", 3) != NULL && sn_json_get(d.root, "a") == NULL);
    sn_json_free(&d);
}

TEST(json_numbers_are_exact_and_keep_their_text) {
    const char *nums[] = {"0", "-0", "1.5", "0.1", "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308",
                          "123456789012345678901234567890", "3.14159265358979323846264338327950288", "1E+2", "1e-2"};
    for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
        sn_json_doc d;
        CHECK_OK(parse(&d, nums[k]));
        CHECK_MSG(d.root->num == strtod(nums[k], NULL), "%s", nums[k]);
        CHECK(!strcmp(d.root->str, nums[k]));
        sn_json_free(&d);
    }
    sn_json_doc d;
    CHECK_OK(parse(&d, "[9223372036854775807, -9223372036854775808, 9223372036854775808, -0, 1e400, -1e400]"));
    const sn_json *r = d.root;
    CHECK(r->kids[0].int_ok && r->kids[0].ival == INT64_MAX);
    CHECK(r->kids[1].int_ok && r->kids[1].ival == INT64_MIN);
    CHECK(r->kids[2].is_int && !r->kids[2].int_ok && r->kids[2].num == 9223372036854775808.0);
    CHECK(r->kids[3].int_ok && r->kids[3].ival == 0 && signbit(r->kids[3].num));
    CHECK(isinf(r->kids[4].num) && r->kids[4].num > 0 && isinf(r->kids[5].num) && r->kids[5].num < 0);
    sn_json_free(&d);
}

TEST(json_input_need_not_be_nul_terminated) {
    /* exact-size heap copy: ASan (make asan) flags any read past the end */
    const char *src[] = {"[1,2]", "123", "\"ab\"", "tru", "-", "1.", "{\"a\"", "\"\\u12"};
    for (size_t k = 0; k < sizeof src / sizeof *src; k++) {
        size_t n = strlen(src[k]);
        char *b = malloc(n);
        memcpy(b, src[k], n);
        sn_json_doc d;
        sn_status st = sn_json_parse(&d, b, n, NULL);
        CHECK_MSG((k < 3) == (st == SN_OK), "%s: %s", src[k], sn_error_last());
        if (st == SN_OK && k == 1) CHECK(d.root->ival == 123);
        sn_json_free(&d);
        free(b);
    }
}

TEST(json_nonfinite_tokens_only_with_the_flag) {
    const char *text = "[NaN, Infinity, -Infinity, 1]";
    sn_json_doc d;
    CHECK(parse(&d, text) == SN_ERR_FORMAT);
    CHECK(msg_has("line 1, column 2: NaN and Infinity are not JSON numbers"));
    CHECK(parse(&d, "[-Infinity]") == SN_ERR_FORMAT && msg_has("line 1, column 3: expected a digit after '-'"));
    sn_json_opts o;
    sn_json_opts_default(&o);
    o.allow_nonfinite = 1;
    CHECK_OK(sn_json_parse(&d, text, strlen(text), &o));
    CHECK(isnan(d.root->kids[0].num) && !d.root->kids[0].is_int && !strcmp(d.root->kids[0].str, "NaN"));
    CHECK(isinf(d.root->kids[1].num) && d.root->kids[1].num > 0);
    CHECK(isinf(d.root->kids[2].num) && d.root->kids[2].num < 0 && !strcmp(d.root->kids[2].str, "-Infinity"));
    sn_json_free(&d);
    CHECK(sn_json_parse(&d, "[-NaN]", 6, &o) == SN_ERR_FORMAT); /* Python refuses it too */
    CHECK(sn_json_parse(&d, "[Nope]", 6, &o) == SN_ERR_FORMAT && msg_has("column 2: expected a value"));
}

/* One case per error class: the input, where the error is, what it says. */
static const struct { const char *in; const char *where; const char *what; } bad[] = {
    {"", "line 1, column 1", "expected a value, got end of input"},
    {"   \n  ", "line 2, column 3", "expected a value, got end of input"},
    {"{\"a\": 1,\n \"b\": 2,\n \"c\": [1, 2]    \"d\": 3}", "line 3, column 17", "expected ',' or '}' after object member"},
    {"[1, 2 3]", "line 1, column 7", "expected ',' or ']' after array element, got '3'"},
    {"[1, 2,]", "line 1, column 7", "expected a value, got ']'"},
    {"{\"a\": 1,}", "line 1, column 9", "expected a string key after ','"},
    {"{a: 1}", "line 1, column 2", "expected a string key or '}', got 'a'"},
    {"{\"a\" 1}", "line 1, column 6", "expected ':' after object key, got '1'"},
    {"[1] [2]", "line 1, column 5", "unexpected '[' after the JSON value"},
    {"[\"abc", "line 1, column 2", "unterminated string"},
    {"[\"ab\\", "line 1, column 2", "unterminated string"},
    {"[\"a\tb\"]", "line 1, column 4", "unescaped control character U+0009"},
    {"[\"a\\qb\"]", "line 1, column 4", "invalid escape '\\' followed by 'q'"},
    {"[\"\\u12G4\"]", "line 1, column 3", "expected 4 hex digits after \\u"},
    {"[\"\\ud800\"]", "line 1, column 3", "lone high surrogate \\uD800"},
    {"[\"\\ud800\\u0041\"]", "line 1, column 3", "lone high surrogate"},
    {"[\"\\udc00\"]", "line 1, column 3", "lone low surrogate \\uDC00"},
    {"[\"a\xff\"]", "line 1, column 4", "invalid UTF-8 in string (byte 0xFF)"},
    {"[\"\xc0\xaf\"]", "line 1, column 3", "invalid UTF-8"},             /* overlong '/' */
    {"[\"\xed\xa0\x80\"]", "line 1, column 3", "invalid UTF-8"},         /* UTF-8-encoded surrogate */
    {"[\"\xf4\x90\x80\x80\"]", "line 1, column 3", "invalid UTF-8"},     /* above U+10FFFF */
    {"[\"\xe2\x82\"]", "line 1, column 3", "invalid UTF-8"},             /* truncated sequence */
    {"[01]", "line 1, column 2", "leading zeros are not allowed"},
    {"[1.]", "line 1, column 4", "expected a digit after '.', got ']'"},
    {"[1e+]", "line 1, column 5", "expected a digit in the exponent"},
    {"[.5]", "line 1, column 2", "expected a value, got '.'"},
    {"[+1]", "line 1, column 2", "expected a value, got '+'"},
    {"[tru]", "line 1, column 2", "expected a value, got 't'"},
    {"[1 // c\n]", "line 1, column 4", "expected ',' or ']' after array element, got '/'"},
    {"[\"\xc3\xa9\xc3\xa9\", x]", "line 1, column 8", "expected a value, got 'x'"}, /* columns count characters */
    {"\x01", "line 1, column 1", "expected a value, got byte 0x01"},
};

TEST(json_malformed_input_names_line_column_and_expectation) {
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        sn_json_doc d;
        sn_status st = parse(&d, bad[k].in);
        CHECK_MSG(st == SN_ERR_FORMAT, "case %zu accepted", k);
        CHECK_MSG(d.root == NULL && d.arena == NULL, "case %zu", k);
        char want[256];
        snprintf(want, sizeof want, "%s: %s", bad[k].where, bad[k].what);
        CHECK_MSG(msg_has(want), "case %zu", k);
    }
    /* the caller adds the file name */
    sn_json_doc d;
    sn_status st = parse(&d, bad[2].in);
    CHECK(sn_error_prefix(st, "%s", "config.json") == SN_ERR_FORMAT);
    CHECK(!strcmp(sn_error_last(),
                  "config.json: line 3, column 17: expected ',' or '}' after object member, got '\"'"));
}

TEST(json_depth_and_size_limits_hold_without_recursion) {
    size_t deep = 1000000;
    char *b = malloc(2 * deep);
    memset(b, '[', deep);
    memset(b + deep, ']', deep);
    sn_json_doc d;
    CHECK(sn_json_parse(&d, b, 2 * deep, NULL) == SN_ERR_FORMAT);
    CHECK(msg_has("line 1, column 513: nesting deeper than 512 levels"));
    CHECK_OK(sn_json_parse(&d, b + deep - 512, 1024, NULL)); /* exactly 512 */
    sn_json_free(&d);
    sn_json_opts o;
    sn_json_opts_default(&o);
    o.max_depth = 100000; /* iterative: 100000 levels need no C stack */
    CHECK_OK(sn_json_parse(&d, b + deep - 100000, 200000, &o));
    sn_json_w w;
    sn_json_w_init(&w);
    sn_json_w_value(&w, d.root);
    CHECK_OK(sn_json_w_finish(&w));
    CHECK(w.len == 200000 && !memcmp(w.buf, b + deep - 100000, 200000));
    sn_json_w_free(&w);
    sn_json_free(&d);
    free(b);
    o.max_input = 4;
    CHECK(sn_json_parse(&d, "[1, 2]", 6, &o) == SN_ERR_NOMEM && msg_has("exceeds the limit of 4 bytes"));
    sn_json_opts_default(&o);
    o.max_memory = 4096; /* an array of 1000 numbers needs about 1000 x 72 bytes */
    char big[4096] = "[";
    for (int k = 0; k < 1000; k++) strcat(big, k ? ",1" : "1");
    strcat(big, "]");
    CHECK(sn_json_parse(&d, big, strlen(big), &o) == SN_ERR_NOMEM && msg_has("max_memory"));
    CHECK(d.root == NULL && d.arena == NULL);
    CHECK_OK(sn_json_parse(&d, big, strlen(big), NULL));
    CHECK(sn_json_len(d.root) == 1000);
    sn_json_free(&d);
}

TEST(json_bom_is_skipped) {
    sn_json_doc d;
    CHECK(sn_json_parse(&d, NULL, 0, NULL) == SN_ERR_FORMAT && msg_has("line 1, column 1: expected a value"));
    CHECK_OK(sn_json_parse(&d, "\xEF\xBB\xBF{\"a\":1}", 10, NULL));
    CHECK(sn_json_int(sn_json_get(d.root, "a"), 0) == 1);
    sn_json_free(&d);
}

/* ---------------------------------------------------------------------- writer */

TEST(json_writer_round_trips_documents) {
    const char *text = "{\"name\": \"lstm_1\", \"units\": 64, \"rate\": 0.25, \"big\": 1E400,\n"
                       " \"tags\": [\"a\\u0000b\", \"\\u00e9\\ud83d\\ude00\", \"q\\\"\\\\\\n\\u001f\"],\n"
                       " \"nested\": {\"x\": [[], {}, [null, true, false]], \"x\": -0}}";
    sn_json_doc d, d2;
    CHECK_OK(parse(&d, text));
    sn_json_w w;
    sn_json_w_init(&w);
    sn_json_w_value(&w, d.root);
    CHECK_OK(sn_json_w_finish(&w));
    const char *want = "{\"name\":\"lstm_1\",\"units\":64,\"rate\":0.25,\"big\":1E400,"
                       "\"tags\":[\"a\\u0000b\",\"\xc3\xa9\xf0\x9f\x98\x80\",\"q\\\"\\\\\\n\\u001F\"],"
                       "\"nested\":{\"x\":[[],{},[null,true,false]],\"x\":-0}}";
    CHECK_MSG(!strcmp(w.buf, want), "%s", w.buf);
    /* parse(write(parse(text))) writes the same text again */
    CHECK_OK(sn_json_parse(&d2, w.buf, w.len, NULL));
    sn_json_w w2;
    sn_json_w_init(&w2);
    sn_json_w_value(&w2, d2.root);
    CHECK(w2.len == w.len && !memcmp(w2.buf, w.buf, w.len));
    CHECK(sn_json_at(d2.root, 4)->kids[0].len == 3);
    sn_json_w_free(&w2);
    sn_json_w_free(&w);
    sn_json_free(&d2);
    sn_json_free(&d);
}

TEST(json_writer_numbers_follow_python_repr) {
    /* expected texts: Python 3.11 repr() of the same doubles */
    static const struct { double x; const char *s; } t[] = {
        {0.1, "0.1"}, {100.0, "100.0"}, {1e-07, "1e-07"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
        {1.2345678901234568e17, "1.2345678901234568e+17"}, {-0.0, "-0.0"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {0.0001, "0.0001"}, {0.00001234, "1.234e-05"},
        {2.0 / 3, "0.6666666666666666"}, {123456.789, "123456.789"}, {1e22, "1e+22"}, {0.0, "0.0"},
        {-2.5e-300, "-2.5e-300"}, {3e-05, "3e-05"}, {9007199254740993.0, "9007199254740992.0"}};
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        sn_json_w w;
        sn_json_w_init(&w);
        sn_json_w_num(&w, t[k].x);
        CHECK_OK(sn_json_w_finish(&w));
        CHECK_MSG(!strcmp(w.buf, t[k].s), "%.17g: %s, want %s", t[k].x, w.buf, t[k].s);
        sn_json_w_free(&w);
    }
    /* random bit patterns: the text parses back to the same double */
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < 20000; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof x);
        if (!isfinite(x)) continue;
        sn_json_w w;
        sn_json_w_init(&w);
        sn_json_w_num(&w, x);
        sn_json_doc d;
        CHECK_OK(sn_json_parse(&d, w.buf, w.len, NULL));
        CHECK_MSG(memcmp(&d.root->num, &x, sizeof x) == 0, "%.17g -> %s", x, w.buf);
        sn_json_free(&d);
        sn_json_w_free(&w);
    }
}

TEST(json_writer_structure_escapes_and_sticky_errors) {
    sn_json_w w;
    sn_json_w_init(&w);
    sn_json_w_rawz(&w, "{");
    sn_json_w_strz(&w, "k\x01");
    sn_json_w_rawz(&w, ":[");
    sn_json_w_int(&w, INT64_MIN);
    sn_json_w_rawz(&w, ",");
    sn_json_w_bool(&w, 1);
    sn_json_w_rawz(&w, ",");
    sn_json_w_null(&w);
    sn_json_w_rawz(&w, "]}");
    CHECK_OK(sn_json_w_finish(&w));
    CHECK(!strcmp(w.buf, "{\"k\\u0001\":[-9223372036854775808,true,null]}"));
    sn_json_w_str(&w, NULL, 0);
    CHECK(!strcmp(w.buf + w.len - 2, "\"\""));
    sn_json_w_str(&w, "ab\xff", 3); /* invalid UTF-8: error sticks, nothing more is written */
    size_t len = w.len;
    sn_json_w_rawz(&w, "more");
    CHECK(w.len == len && sn_json_w_finish(&w) == SN_ERR_ARG && msg_has("not valid UTF-8 (byte 0xFF at offset 2)"));
    sn_json_w_free(&w);
    sn_json_w_init(&w);
    sn_json_w_num(&w, NAN);
    CHECK(sn_json_w_finish(&w) == SN_ERR_NUMERIC && msg_has("allow_nonfinite"));
    sn_json_w_free(&w);
    sn_json_w_init(&w);
    w.allow_nonfinite = 1;
    sn_json_w_num(&w, NAN);
    sn_json_w_num(&w, -INFINITY);
    CHECK_OK(sn_json_w_finish(&w));
    CHECK(!strcmp(w.buf, "NaN-Infinity"));
    sn_json_w_free(&w);
}

/* ---------------------------------------------------------------------- JSONL */

TEST(jsonl_iterates_lines_skipping_blanks_with_line_numbers) {
    const char *text = "\xEF\xBB\xBF{\"text\": \"good\", \"label\": 1}\r\n\n   \t\r\n[2]\n\"three\"";
    sn_jsonl it;
    sn_jsonl_init(&it, text, strlen(text), NULL);
    const sn_json *v;
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(v && it.line == 1 && sn_json_int(sn_json_get(v, "label"), 0) == 1);
    CHECK(v->col == 1);
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(v && it.line == 4 && v->line == 4 && sn_json_int(sn_json_at(v, 0), 0) == 2);
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(v && it.line == 5 && !strcmp(sn_json_str(v, ""), "three"));
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(v == NULL);
    sn_jsonl_free(&it);

    const char *broken = "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\" 3}\n";
    sn_jsonl_init(&it, broken, strlen(broken), NULL);
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(sn_jsonl_next(&it, &v) == SN_ERR_FORMAT && v == NULL);
    CHECK(msg_has("line 4, column 6: expected ':' after object key"));
    sn_jsonl_free(&it);
    /* a value must fit on its line; a BOM is only skipped at the start */
    sn_jsonl_init(&it, "[1,\n2]", 6, NULL);
    CHECK(sn_jsonl_next(&it, &v) == SN_ERR_FORMAT && msg_has("line 1, column 4: expected a value, got end of input"));
    sn_jsonl_free(&it);
    sn_jsonl_init(&it, "1\n\xEF\xBB\xBF" "2", 6, NULL);
    CHECK_OK(sn_jsonl_next(&it, &v));
    CHECK(sn_jsonl_next(&it, &v) == SN_ERR_FORMAT && msg_has("line 2, column 1: expected a value, got byte 0xEF"));
    sn_jsonl_free(&it);
}

/* ---------------------------------------------------------------------- fuzz */

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = len > 0 ? fread(b, 1, (size_t)len, fp) : 0;
    fclose(fp);
    return b;
}

/* Each json-* input the fuzzer found parses (strict and lenient) and, when
 * it parses, writes back to text that parses again. */
TEST(json_fuzz_regressions_replay_cleanly) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sn_test_path("fuzz_regressions"));
    DIR *dp = opendir(dir);
    CHECK(dp);
    struct dirent *e;
    int replayed = 0;
    while ((e = readdir(dp))) {
        if (strncmp(e->d_name, "json-", 5)) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n;
        unsigned char *b = slurp(path, &n);
        CHECK(b);
        for (int lenient = 0; lenient < 2; lenient++) {
            sn_json_opts o;
            sn_json_opts_default(&o);
            o.allow_nonfinite = lenient;
            sn_json_doc d;
            if (sn_json_parse(&d, (const char *)b, n, &o) != SN_OK) continue;
            sn_json_w w;
            sn_json_w_init(&w);
            w.allow_nonfinite = lenient;
            sn_json_w_value(&w, d.root);
            sn_json_doc d2;
            CHECK_MSG(sn_json_w_finish(&w) == SN_OK && sn_json_parse(&d2, w.buf, w.len, &o) == SN_OK, "%s: %s",
                      e->d_name, sn_error_last());
            sn_json_free(&d2);
            sn_json_w_free(&w);
            sn_json_free(&d);
        }
        free(b);
        replayed++;
    }
    closedir(dp);
    CHECK(replayed >= 3);
}
