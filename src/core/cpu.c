/* Vector-path detection and selection (sn_isa_*) and the CPU's identity
 * (sn_cpu_info_get). The AVX2 path needs AVX2 and FMA, the AVX-512 path
 * AVX-512 F, BW, DQ and VL (every AVX-512 CPU since Skylake-SP). */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/core.h"
#include "core/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

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

/* The active path: -1 until chosen (by sn_isa_set or, on first use, from
 * $SEQNN_ISA). Atomic: the first use may come from several compute threads. */
static atomic_int g_isa = -1;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;

sn_status sn_isa_set(sn_isa isa) {
    if ((unsigned)isa > SN_ISA_AVX512) return sn_error(SN_ERR_ARG, "vector path %d out of range", (int)isa);
    sn_isa best = sn_isa_detect();
    if (isa > best)
        return sn_error(SN_ERR_UNSUPPORTED, "vector path %s needs instructions this CPU lacks (it runs up to %s)",
                        sn_isa_name(isa), sn_isa_name(best));
    atomic_store(&g_isa, (int)isa);
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

static void isa_first_use(void) {
    if (atomic_load(&g_isa) >= 0) return; /* sn_isa_set came first */
    if (sn_isa_env_check() != SN_OK) sn_log(SN_LOG_WARN, "%s; using %s", sn_error_last(), sn_isa_name(sn_isa_detect()));
    int unset = -1;
    atomic_compare_exchange_strong(&g_isa, &unset, (int)sn_isa_detect());
}

sn_isa sn_isa_get(void) {
    int v = atomic_load_explicit(&g_isa, memory_order_acquire);
    if (v >= 0) return (sn_isa)v;
    pthread_once(&g_isa_once, isa_first_use);
    return (sn_isa)atomic_load(&g_isa);
}

void sn_cpu_info_get(sn_cpu_info *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->vendor, sizeof out->vendor, "unknown");
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d, r[12];
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(out->vendor, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);
    out->vendor[12] = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        int fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
        out->stepping = a & 0xf;
        /* display family / model (Intel SDM and AMD APM, CPUID leaf 1) */
        out->family = fam == 0xf ? fam + (int)((a >> 20) & 0xff) : fam;
        out->model = fam == 0x6 || fam == 0xf ? mod | (int)((a >> 12) & 0xf0) : mod;
    }
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        char name[49];
        memcpy(name, r, 48);
        name[48] = 0;
        const char *p = name;
        while (*p == ' ') p++; /* some brand strings are right-aligned */
        snprintf(out->model_name, sizeof out->model_name, "%s", p);
        for (size_t n = strlen(out->model_name); n && out->model_name[n - 1] == ' ';) out->model_name[--n] = 0;
    }
#endif
}
