/* Vector-path detection and selection (sn_isa_*). The AVX2 path needs AVX2
 * and FMA, the AVX-512 path AVX-512 F, BW, DQ and VL (every AVX-512 CPU
 * since Skylake-SP). */
#include "seqnn/core.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const g_isa_names[] = {"sse2", "avx2", "avx512"};

sn_isa sn_isa_detect(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return SN_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SN_ISA_AVX2;
#endif
    return SN_ISA_SSE2;
}

const char *sn_isa_name(sn_isa isa) {
    return (unsigned)isa < sizeof g_isa_names / sizeof *g_isa_names ? g_isa_names[isa] : "unknown";
}

sn_status sn_isa_parse(const char *s, sn_isa *out) {
    for (int i = 0; s && i < (int)(sizeof g_isa_names / sizeof *g_isa_names); i++)
        if (!strcmp(s, g_isa_names[i])) {
            *out = (sn_isa)i;
            return SN_OK;
        }
    return sn_error(SN_ERR_PARSE, "unknown vector path '%s' (expected sse2, avx2 or avx512)", s ? s : "(null)");
}

static int g_isa_set; /* 0: not chosen yet */
static sn_isa g_isa;

sn_status sn_isa_set(sn_isa isa) {
    if ((unsigned)isa > SN_ISA_AVX512) return sn_error(SN_ERR_ARG, "vector path %d out of range", (int)isa);
    sn_isa best = sn_isa_detect();
    if (isa > best)
        return sn_error(SN_ERR_UNSUPPORTED, "vector path %s needs instructions this CPU lacks (it runs up to %s)",
                        sn_isa_name(isa), sn_isa_name(best));
    g_isa = isa;
    g_isa_set = 1;
    return SN_OK;
}

sn_status sn_isa_env_check(void) {
    const char *e = getenv("SEQNN_ISA");
    if (!e || !*e) return SN_OK;
    sn_isa isa;
    sn_status st = sn_isa_parse(e, &isa);
    if (st == SN_OK) st = sn_isa_set(isa);
    return st ? sn_error_prefix(st, "SEQNN_ISA") : SN_OK;
}

sn_isa sn_isa_get(void) {
    if (!g_isa_set) {
        if (sn_isa_env_check() != SN_OK) {
            sn_log(SN_LOG_WARN, "%s; using %s", sn_error_last(), sn_isa_name(sn_isa_detect()));
            g_isa = sn_isa_detect();
        } else if (!g_isa_set) {
            g_isa = sn_isa_detect();
        }
        g_isa_set = 1;
    }
    return g_isa;
}
