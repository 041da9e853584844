/* libFuzzer: arbitrary bytes as a .keras archive through the importer (the
 * zip reader, then config and weights when they parse). */
#include "fuzz_common.h"
#include "seqnn.h"

/* libhdf5 trusts lengths in corrupt metadata and asks malloc for them (seen:
 * 3e15 bytes from H5C_protect); outside ASan that malloc returns NULL and
 * libhdf5 fails the call, which seqnn reports. Let ASan return NULL too
 * instead of aborting: seqnn's own allocations are bounded before they
 * happen (max_bytes, max_params, attribute limits). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
/* libhdf5 1.10 leaks small blocks on some of its own error paths (seen: 112
 * bytes from H5Fopen of a corrupt image); not seqnn's memory. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\nleak:libhdf5.so\n"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    o.max_bytes = 1 << 20;
    o.max_params = 1 << 18;
    sn_model *m = NULL;
    if (sn_keras_import(&m, fuzz_write_tmp(data, size, ".keras"), &o) == SN_OK) sn_model_free(m);
    return 0;
}
