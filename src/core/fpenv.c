/* Denormal flushing for seqnn's compute threads (internal.h: sn_fp_enter /
 * sn_fp_leave; core.h: sn_denormals_set). On x86-64 the mode lives in MXCSR:
 * bit 15 FTZ (results that would be denormal become 0), bit 6 DAZ (denormal
 * inputs read as 0). Other architectures: no-ops. */
#include "seqnn/core.h"
#include "core/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define SN_FP_FLUSH_BITS 0x8040u /* FTZ | DAZ */
#define SN_HAVE_MXCSR 1
#endif

/* -1: not read yet ($SEQNN_FLUSH_DENORMALS), else 0 / 1. Set by
 * sn_denormals_set (not while seqnn runs) or on first use, which may come
 * from several compute threads at once: atomic. */
static atomic_int g_flush = -1;

void sn_denormals_set(int flush) { atomic_store(&g_flush, flush ? 1 : 0); }

int sn_denormals_get(void) {
    int v = atomic_load_explicit(&g_flush, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("SEQNN_FLUSH_DENORMALS");
        int want = !(e && (!strcmp(e, "0") || !strcmp(e, "off") || !strcmp(e, "no")));
        atomic_compare_exchange_strong(&g_flush, &v, want); /* keeps a concurrent sn_denormals_set */
        v = atomic_load(&g_flush);
    }
    return v;
}

/* Per thread: seqnn enters active on it, and whether seqnn has seen it. */
static _Thread_local int t_depth, t_seen;
/* Threads whose mode seqnn changed at their outermost enter (callers in a
 * public entry point, or a region's master): while one is, a thread seen
 * for the first time with the bits already set got them by being created
 * inside seqnn's flushed work (threads inherit MXCSR from their creator),
 * not from the application. */
static atomic_int g_active;

sn_fp_state sn_fp_enter(void) {
    sn_fp_state s = {0, 0, 0, 0};
#ifdef SN_HAVE_MXCSR
    if (!sn_denormals_get()) return s;
    unsigned csr = _mm_getcsr();
    int first = !t_seen, outer = t_depth == 0;
    t_seen = 1;
    t_depth++;
    s.entered = 1;
    s.csr = csr;
    if ((csr & SN_FP_FLUSH_BITS) != SN_FP_FLUSH_BITS) {
        _mm_setcsr(csr | SN_FP_FLUSH_BITS);
        s.restore = 1;
        if (outer) {
            s.outer = 1;
            atomic_fetch_add(&g_active, 1);
        }
    } else if (outer && first && atomic_load(&g_active) > 0) {
        s.csr = csr & ~SN_FP_FLUSH_BITS; /* inherited: leave clears the bits */
        s.restore = 1;
    }
#endif
    return s;
}

void sn_fp_leave(sn_fp_state s) {
#ifdef SN_HAVE_MXCSR
    if (!s.entered) return;
    t_depth--;
    if (s.restore) _mm_setcsr((_mm_getcsr() & ~SN_FP_FLUSH_BITS) | (s.csr & SN_FP_FLUSH_BITS));
    if (s.outer) atomic_fetch_sub(&g_active, 1);
#else
    (void)s;
#endif
}
