/* libFuzzer: the .npy reader on arbitrary bytes, from memory in both modes
 * (float32, int64 ids) and from a file; both readers must agree. */
#include "fuzz_common.h"
#include "seqnn.h"
#include "seqnn/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_npy_opts o = {(int)(size % 2), (size_t)1 << 28};
    sn_npy a, b;
    sn_status sm = sn_npy_read_mem(&a, data, size, "fuzz.npy", &o);
    if (sm == SN_OK) {
        volatile float s = 0;
        for (size_t i = 0; i < a.numel; i++) s += a.f32 ? a.f32[i] : (float)a.i64[i];
    }
    sn_npy_free(&a);
    if (size % 3 == 0) {
        sn_status sf = sn_npy_read(&b, fuzz_write_tmp(data, size, ".npy"), &o);
        if (sf != sm) abort();
        sn_npy_free(&b);
    }
    return 0;
}
