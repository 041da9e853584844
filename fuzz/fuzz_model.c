/* libFuzzer: the model file loader on arbitrary bytes; a loaded model must
 * also run a prediction without faults. */
#include <string.h>
#include "fuzz_common.h"
#include "seqnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = fuzz_write_tmp(data, size, ".seqnn");
    sn_model *m = NULL;
    if (sn_model_load(&m, p) == SN_OK) {
        size_t in = sn_model_input_numel(m);
        if (in > 0 && in < 100000) {
            float *x = calloc(in, sizeof(float)), y[1];
            sn_dataset d;
            char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
            free(s);
            (void)y;
            if (sn_dataset_from_arrays(&d, x, NULL, 1, in, 0) == SN_OK) {
                size_t on = sn_model_output_numel(m);
                float *out = calloc(on ? on : 1, sizeof(float));
                sn_model_predict(m, &d, 1, out);
                free(out);
                sn_dataset_free(&d);
            }
            free(x);
        }
        sn_model_free(m);
    }
    return 0;
}
