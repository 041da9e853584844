/* libFuzzer: TextVectorization (adapt + every encoding) on arbitrary bytes,
 * and the vectorizer blob loader. */
#include <string.h>
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    /* Blob loader on the raw bytes. */
    sn_vectorizer *b = NULL;
    if (sn_vectorizer_load_blob(&b, data, size) == SN_OK) sn_vectorizer_free(b);
    /* First byte picks options; the rest is two texts split at a NUL. */
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    const char *texts[2] = {s, s + strlen(s) / 2};
    sn_vectorizer_opts o;
    sn_vectorizer_opts_default(&o);
    o.ngrams = 1 + (data[0] & 3);
    o.output_mode = (sn_output_mode)((data[0] >> 2) & 3);
    o.split = (data[0] & 16) ? SN_SPLIT_CHARACTER : SN_SPLIT_WHITESPACE;
    o.stem = (data[0] & 32) != 0;
    o.strip_html = (data[0] & 64) != 0;
    o.utf8_lower = (data[0] & 128) != 0;
    o.max_tokens = 50;
    o.output_sequence_length = o.output_mode == SN_OUTPUT_INT ? 16 : 0;
    sn_vectorizer *v = NULL;
    if (sn_vectorizer_init(&v, &o) == SN_OK && sn_vectorizer_adapt(v, texts, 2) == SN_OK) {
        if (o.output_mode == SN_OUTPUT_INT) {
            float ids[16];
            sn_vectorizer_encode_int(v, s, ids);
        } else {
            int32_t idx[64];
            float val[64];
            size_t nnz;
            sn_vectorizer_encode_sparse(v, s, idx, val, 64, &nnz);
        }
        void *blob;
        size_t n;
        if (sn_vectorizer_save_blob(v, &blob, &n) == SN_OK) {
            sn_vectorizer *w = NULL;
            if (sn_vectorizer_load_blob(&w, blob, n) != SN_OK) abort(); /* round trip must hold */
            sn_vectorizer_free(w);
            free(blob);
        }
    }
    sn_vectorizer_free(v);
    free(s);
    return 0;
}
