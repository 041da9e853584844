/* libFuzzer: the model-spec parser and model building on arbitrary text. */
#include <string.h>
#include "fuzz_common.h"
#include "seqnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    /* Sizes stay small: the parser, not the O(n^3) orthogonal initializer of
     * a 4000-unit LSTM, is what this harness explores (such inputs took
     * minutes each under ASan and stalled the run). Any run of digits
     * longer than 2 skips the input. */
    for (size_t i = 0, run = 0; i < size; i++) {
        run = (data[i] >= '0' && data[i] <= '9') ? run + 1 : 0;
        if (run > 2) return 0;
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    sn_model_opts o = {0};
    o.input_rank = 2;
    o.input_shape[0] = 12;
    o.input_shape[1] = 3;
    sn_model *m = NULL;
    if (sn_model_init(&m, s, &o) == SN_OK) {
        char *t = sn_model_summary(m, SN_SUMMARY_KERAS2);
        free(t);
        /* The canonical spec must rebuild the same model. */
        sn_model *m2 = NULL;
        if (sn_model_init(&m2, sn_model_spec(m), &o) != SN_OK) abort();
        if (sn_model_param_count(m2, NULL, NULL) != sn_model_param_count(m, NULL, NULL)) abort();
        sn_model_free(m2);
        sn_model_free(m);
    }
    free(s);
    return 0;
}
