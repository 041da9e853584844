/* Denormal flushing for seqnn's compute threads (internal.h: sn_fp_enter /
 * sn_fp_leave; core.h: sn_denormals_set). On x86-64 the mode lives in MXCSR:
 * bit 15 FTZ (results that would be denormal become 0), bit 6 DAZ (denormal
 * inputs read as 0). Other architectures: no-ops. */
#include "seqnn/core.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define SN_FP_FLUSH_BITS 0x8040u /* FTZ | DAZ */
#define SN_HAVE_MXCSR 1
#endif

/* -1: not read yet ($SEQNN_FLUSH_DENORMALS), else 0 / 1. Written before any
 * computation starts (or by sn_denormals_set, not while seqnn runs). */
static int g_flush = -1;

void sn_denormals_set(int flush) { g_flush = flush ? 1 : 0; }

int sn_denormals_get(void) {
    if (g_flush < 0) {
        const char *e = getenv("SEQNN_FLUSH_DENORMALS");
        g_flush = !(e && (!strcmp(e, "0") || !strcmp(e, "off") || !strcmp(e, "no")));
    }
    return g_flush;
}

sn_fp_state sn_fp_enter(void) {
    sn_fp_state s = {0, 0};
#ifdef SN_HAVE_MXCSR
    if (!sn_denormals_get()) return s;
    s.csr = _mm_getcsr();
    if ((s.csr & SN_FP_FLUSH_BITS) != SN_FP_FLUSH_BITS) {
        _mm_setcsr(s.csr | SN_FP_FLUSH_BITS);
        s.changed = 1;
    }
#endif
    return s;
}

void sn_fp_leave(sn_fp_state s) {
#ifdef SN_HAVE_MXCSR
    if (s.changed) _mm_setcsr(s.csr);
#else
    (void)s;
#endif
}
