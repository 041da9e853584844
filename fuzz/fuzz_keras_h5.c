/* libFuzzer: arbitrary bytes as an HDF5 file — through seqnn's HDF5 reader
 * (src/interop/h5_*.c: open from memory, walk groups, read every Keras
 * string attribute and small dataset) and through the importer (a legacy
 * Keras HDF5 model). No allocator or leak exceptions: every allocation the
 * reader makes is bounded by the input's size or the caller's limits. */
#include <string.h>
#include "fuzz_common.h"
#include "interop/h5.h"
#include "seqnn.h"

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
