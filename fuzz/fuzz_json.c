/* libFuzzer: the JSON reader, writer and JSON Lines iterator on arbitrary
 * bytes. Whatever parses must write back to text that parses and writes to
 * the same text again (abort otherwise, so the fuzzer reports it). */
#include <string.h>
#include "fuzz_common.h"
#include "core/json.h"

static void round_trip(const sn_json *v, const sn_json_opts *o) {
    sn_json_w w, w2;
    sn_json_w_init(&w);
    sn_json_w_init(&w2);
    w.allow_nonfinite = w2.allow_nonfinite = o->allow_nonfinite;
    sn_json_w_value(&w, v);
    if (sn_json_w_finish(&w) != SN_OK) abort();
    sn_json_doc d2;
    if (sn_json_parse(&d2, w.buf, w.len, o) != SN_OK) abort();
    sn_json_w_value(&w2, d2.root);
    if (sn_json_w_finish(&w2) != SN_OK || w2.len != w.len || memcmp(w.buf, w2.buf, w.len)) abort();
    sn_json_free(&d2);
    sn_json_w_free(&w2);
    sn_json_w_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_json_opts o;
    sn_json_opts_default(&o);
    o.allow_nonfinite = size % 2;
    o.max_depth = 64;
    sn_json_doc d;
    if (sn_json_parse(&d, (const char *)data, size, &o) == SN_OK) {
        round_trip(d.root, &o);
        (void)sn_json_get(d.root, "config");
        (void)sn_json_at(d.root, 0);
        sn_json_free(&d);
    }
    sn_jsonl it;
    sn_jsonl_init(&it, (const char *)data, size, &o);
    const sn_json *v;
    while (sn_jsonl_next(&it, &v) == SN_OK && v) round_trip(v, &o);
    sn_jsonl_free(&it);
    return 0;
}
