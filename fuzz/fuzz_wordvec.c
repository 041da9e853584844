/* libFuzzer: word-vector loaders (auto-detected text / binary / GloVe), plain
 * or compressed (the stream reader; the corpus seeds gzip and xz). */
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/wordvec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = fuzz_write_tmp(data, size, ".vec");
    sn_wordvec *wv = NULL;
    sn_wordvec_format fmts[] = {SN_WORDVEC_AUTO, SN_WORDVEC_W2V_BINARY};
    if (sn_wordvec_load(&wv, p, fmts[size % 2], 0) == SN_OK) {
        sn_wordvec_hit h[3];
        int n;
        if (wv->n) sn_wordvec_similar(wv, wv->words[0], 3, h, &n);
        sn_wordvec_free(wv);
    }
    return 0;
}
