/* libFuzzer: arbitrary bytes as a .keras archive through the importer (the
 * zip reader, then config and weights when they parse). */
#include "fuzz_common.h"
#include "seqnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    o.max_bytes = 1 << 20;
    o.max_params = 1 << 18;
    sn_model *m = NULL;
    if (sn_keras_import(&m, fuzz_write_tmp(data, size, ".keras"), &o) == SN_OK) sn_model_free(m);
    return 0;
}
