/* libFuzzer: arbitrary bytes as an HDF5 file — through the HDF5 layer
 * (open from memory, walk groups, read every string attribute and small
 * dataset) and through the importer (a legacy Keras HDF5 model). */
#include <string.h>
#include "fuzz_common.h"
#include "interop/h5.h"
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

static void walk(sn_h5 *h, const char *path, int depth) {
    if (depth > 6) return;
    static const char *const attrs[] = {"model_config", "keras_version", "backend", "layer_names", "weight_names", "name"};
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
        char **v;
        size_t n;
        if (sn_h5_has_attr(h, path, attrs[a]) && sn_h5_attr_strs(h, path, attrs[a], &v, &n) == SN_OK) sn_h5_strs_free(v, n);
    }
    char **names;
    size_t n;
    if (sn_h5_list(h, path, &names, &n) != SN_OK) return;
    for (size_t i = 0; i < n && i < 64; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        if (sn_h5_is_group(h, p)) {
            walk(h, p, depth + 1);
        } else if (sn_h5_is_dataset(h, p)) {
            int rank;
            int64_t d[SN_H5_MAX_RANK];
            if (sn_h5_shape(h, p, &rank, d) == SN_OK) {
                size_t numel = 1;
                for (int k = 0; k < rank && numel <= 65536; k++) numel *= (size_t)d[k];
                if (numel <= 65536) {
                    float *buf = malloc((numel ? numel : 1) * sizeof *buf);
                    if (buf) sn_h5_read_f32(h, p, buf, numel);
                    free(buf);
                }
            }
        }
    }
    sn_h5_strs_free(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_h5 *h = NULL;
    if (sn_h5_open_image(&h, data, size, "fuzz.h5") == SN_OK) {
        walk(h, "", 0);
        sn_h5_close(h);
    }
    sn_keras_import_opts o;
    sn_keras_import_opts_default(&o);
    o.max_bytes = 1 << 20;
    o.max_params = 1 << 18;
    o.input_rank = 0;
    sn_model *m = NULL;
    if (sn_keras_import(&m, fuzz_write_tmp(data, size, ".h5"), &o) == SN_OK) sn_model_free(m);
    return 0;
}
