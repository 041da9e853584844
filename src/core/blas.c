/* Which OpenBLAS kernel set seqnn's GEMMs run (sn_blas_prepare, sn_blas_info_get).
 *
 * A DYNAMIC_ARCH OpenBLAS carries one kernel set ("core") per CPU kind and
 * picks one when it loads, from a table of CPU family/model numbers. A CPU
 * that table does not know gets its generic SSE3 "Prescott" kernels, about
 * 5x slower than the AVX-512 ones (Debian 12's 0.3.21 on an Intel Xeon family
 * 6 model 207; docs/performance.md), and nothing says so. seqnn therefore
 * chooses the core from the instructions it uses itself, the active vector
 * path (sn_isa_get), one core per path:
 *
 *   avx512  SkylakeX
 *   avx2    Haswell
 *   sse2    Prescott when the path was forced below the CPU's best; on a CPU
 *           whose best path is sse2 but that has AVX, Sandybridge; on one
 *           without SSE3, OpenBLAS's own pick
 *
 * Exactly one core per path, rather than any core of the path's class
 * (OpenBLAS picks Cooperlake on this AMD Zen 5, Zen on Zen 2/3): the same
 * path then runs the same BLAS kernels, with the same fixed blocking, on
 * every CPU, so results agree across CPUs of one path as far as OpenBLAS
 * is concerned (docs/performance.md); measured, Cooperlake's sgemm is
 * SkylakeX's, and Zen was slower than Haswell on every seed shape here.
 *
 * An OPENBLAS_CORETYPE the user set is honoured (OpenBLAS read it at load);
 * a warning says when it runs below the active path. The switch uses
 * OpenBLAS's own mechanism: set OPENBLAS_CORETYPE, gotoblas_dynamic_quit(),
 * gotoblas_dynamic_init() (which re-reads it), then the environment is put
 * back. It happens once, under a lock, before the first GEMM, and again when
 * the active path changes (sn_isa_set). The OpenBLAS symbols are weak: with
 * another CBLAS, or an OpenBLAS built for one CPU, nothing is switched and
 * the report (and a warning where the kernel is below the path) says so. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/core.h"
#include "core/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef SN_HAVE_OPENBLAS
extern char *openblas_get_corename(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
#endif

/* Instruction class of a kernel set: 0 SSE, 1 AVX, 2 AVX2 + FMA, 3 AVX-512. */
enum { CLS_SSE = 0, CLS_AVX = 1, CLS_AVX2 = 2, CLS_AVX512 = 3 };

static int core_class(const char *core) {
    static const struct { const char *name; int cls; } t[] = {
        {"SkylakeX", CLS_AVX512},  {"Cooperlake", CLS_AVX512}, {"SapphireRapids", CLS_AVX512},
        {"Haswell", CLS_AVX2},     {"Zen", CLS_AVX2},          {"Sandybridge", CLS_AVX},
        {"Bulldozer", CLS_AVX},    {"Piledriver", CLS_AVX},    {"Steamroller", CLS_AVX},
        {"Excavator", CLS_AVX},
    };
    for (size_t i = 0; core && i < sizeof t / sizeof *t; i++)
        if (!strcasecmp(core, t[i].name)) return t[i].cls;
    return CLS_SSE; /* Prescott, Core2, Nehalem, Opteron, Barcelona, ... */
}

static int cpu_has(const char *feature) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!strcmp(feature, "avx")) return __builtin_cpu_supports("avx");
    if (!strcmp(feature, "sse3")) return __builtin_cpu_supports("sse3");
#endif
    (void)feature;
    return 0;
}

/* The class the path wants, and the core to switch to for it ("" = keep). */
static int wanted_class(sn_isa isa, const char **target) {
    switch (isa) {
    case SN_ISA_AVX512: *target = "SkylakeX"; return CLS_AVX512;
    case SN_ISA_AVX2: *target = "Haswell"; return CLS_AVX2;
    default: break;
    }
    if (sn_isa_detect() == SN_ISA_SSE2 && cpu_has("avx")) { /* an AVX-only CPU at its best path */
        *target = "Sandybridge";
        return CLS_AVX;
    }
    *target = cpu_has("sse3") ? "Prescott" : "";
    return CLS_SSE;
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_chosen_for = -1; /* vector path the current choice was made for */
static int g_first_done;
static char g_own[32];      /* OpenBLAS's own choice, seen before any switch */
static char g_user[64];     /* $OPENBLAS_CORETYPE as the user set it ("" none) */
static char g_reason[96];

static void copy_str(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

#ifdef SN_HAVE_OPENBLAS
/* Switches OpenBLAS to `core`; 1 when it runs it afterwards. Caller holds g_mu. */
static int switch_core(const char *core) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE"); /* the user had not set it (else no switch) */
    return !strcasecmp(openblas_get_corename(), core);
}
#endif

/* Makes the choice for `isa`. Caller holds g_mu. */
static void choose(sn_isa isa) {
#ifdef SN_HAVE_OPENBLAS
    if (!openblas_get_corename) {
        copy_str(g_reason, sizeof g_reason, "a CBLAS other than OpenBLAS: its kernel is not known");
        return;
    }
    if (!g_first_done) {
        copy_str(g_own, sizeof g_own, openblas_get_corename());
        copy_str(g_user, sizeof g_user, getenv("OPENBLAS_CORETYPE"));
        g_first_done = 1;
    }
    const char *target = "", *cur = openblas_get_corename();
    int want = wanted_class(isa, &target);
    if (g_user[0]) {
        snprintf(g_reason, sizeof g_reason, "OPENBLAS_CORETYPE=%.40s (set by the user)", g_user);
        if (core_class(cur) < want)
            sn_log(SN_LOG_WARN, "BLAS: OPENBLAS_CORETYPE=%s runs OpenBLAS's %s kernels, below vector path %s",
                   g_user, cur, sn_isa_name(isa));
        return;
    }
    if (!target[0]) { /* an x86-64 without SSE3: OpenBLAS's table knows every such CPU */
        copy_str(g_reason, sizeof g_reason, "OpenBLAS's own choice (CPU without SSE3)");
        return;
    }
    if (!strcasecmp(cur, target)) {
        snprintf(g_reason, sizeof g_reason, "the kernel of vector path %s (OpenBLAS's own choice too)", sn_isa_name(isa));
        return;
    }
    char before[32];
    copy_str(before, sizeof before, cur);
    if (switch_core(target)) {
        snprintf(g_reason, sizeof g_reason, "matches vector path %s (OpenBLAS chose %.24s)", sn_isa_name(isa), g_own);
        sn_log(SN_LOG_DEBUG, "BLAS: OpenBLAS kernel %s -> %s for vector path %s", before, target, sn_isa_name(isa));
        return;
    }
    cur = openblas_get_corename();
    snprintf(g_reason, sizeof g_reason, "OpenBLAS cannot switch to %s (not a DYNAMIC_ARCH build?)", target);
    if (core_class(cur) < want)
        sn_log(SN_LOG_WARN, "BLAS: OpenBLAS runs its %s kernels and cannot switch to %s for vector path %s: GEMMs may "
               "run several times below this CPU's speed", cur, target, sn_isa_name(isa));
    else
        sn_log(SN_LOG_DEBUG, "BLAS: OpenBLAS runs %s and cannot switch to %s (same instruction class)", cur, target);
#else
    (void)isa;
    copy_str(g_reason, sizeof g_reason, "built without BLAS: portable GEMM");
#endif
}

void sn_blas_prepare(void) {
    int isa = (int)sn_isa_get();
    if (atomic_load_explicit(&g_chosen_for, memory_order_acquire) == isa) return;
    pthread_mutex_lock(&g_mu);
    if (atomic_load_explicit(&g_chosen_for, memory_order_relaxed) != isa) {
        choose((sn_isa)isa);
        atomic_store_explicit(&g_chosen_for, isa, memory_order_release);
    }
    pthread_mutex_unlock(&g_mu);
}

void sn_blas_info_get(sn_blas_info *out) {
    memset(out, 0, sizeof *out);
    sn_blas_prepare();
    pthread_mutex_lock(&g_mu);
#ifdef SN_HAVE_OPENBLAS
    if (openblas_get_config) copy_str(out->library, sizeof out->library, openblas_get_config());
    else copy_str(out->library, sizeof out->library, "CBLAS (not OpenBLAS)");
    if (openblas_get_corename) copy_str(out->core, sizeof out->core, openblas_get_corename());
#else
    copy_str(out->library, sizeof out->library, "none (portable GEMM)");
#endif
    copy_str(out->own_core, sizeof out->own_core, g_own);
    copy_str(out->reason, sizeof out->reason, g_reason);
    pthread_mutex_unlock(&g_mu);
}
