/* libFuzzer: arbitrary bytes as a Keras model config (JSON): translation
 * into a seqnn spec, then the model built from it (open input dimensions
 * filled, at most 2^18 parameters), its summary and one prediction. */
#include <string.h>
#include "fuzz_common.h"
#include "interop/keras_internal.h"
#include "seqnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_json_doc d;
    sn_json_opts jo;
    sn_json_opts_default(&jo);
    jo.allow_nonfinite = 1;
    if (sn_json_parse(&d, (const char *)data, size, &jo) != SN_OK) return 0;
    kx_model km;
    if (kx_translate(&km, d.root, NULL, NULL, "fuzz") == SN_OK) {
        sn_keras_import_opts o;
        sn_keras_import_opts_default(&o);
        o.max_params = 1 << 18;
        o.input_rank = km.in_rank ? km.in_rank : 2;
        o.input_shape[0] = km.in_shape[0] > 0 ? km.in_shape[0] : 5;
        o.input_shape[1] = km.in_shape[1] > 0 ? km.in_shape[1] : 3;
        sn_model *m = NULL;
        if ((km.in_shape[0] <= 64 && km.in_shape[1] <= 64) && kx_build(&m, &km, &o, "fuzz") == SN_OK) {
            char *s = sn_model_summary(m, SN_SUMMARY_KERAS3);
            free(s);
            size_t in = sn_model_input_numel(m), on = sn_model_output_numel(m);
            float *x = calloc(in ? in : 1, sizeof *x), *y = calloc(on ? on : 1, sizeof *y);
            sn_dataset ds;
            if (x && y && sn_dataset_from_arrays(&ds, x, NULL, 1, in, 0) == SN_OK) {
                sn_model_predict(m, &ds, 1, y);
                sn_dataset_free(&ds);
            }
            free(x), free(y);
            sn_model_free(m);
        }
        kx_model_free(&km);
    }
    sn_json_free(&d);
    return 0;
}
