/* Checked allocation: every size multiplication is overflow-checked and a
 * failure leaves a message for sn_error_last(). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include "core/internal.h"

/* Test hook (sn_alloc_fail_after): allocations left before every one fails;
 * negative (the default) never fails. */
static long g_alloc_budget = -1;

void sn_alloc_fail_after(long n) { g_alloc_budget = n; }

static int injected_failure(void) {
    if (g_alloc_budget < 0) return 0;
    if (g_alloc_budget == 0) return 1;
    g_alloc_budget--;
    return 0;
}

static int mul_overflows(size_t n, size_t size, size_t *out) {
    if (size && n > SIZE_MAX / size) return 1;
    *out = n * size;
    return 0;
}

void *sn_malloc(size_t n, size_t size) {
    size_t total;
    if (mul_overflows(n, size, &total)) {
        sn_error(SN_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = injected_failure() ? NULL : malloc(total ? total : 1);
    if (!p) sn_error(SN_ERR_NOMEM, "out of memory allocating %zu bytes", total);
    return p;
}

void *sn_calloc(size_t n, size_t size) {
    void *p = injected_failure() ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p) sn_error(SN_ERR_NOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *sn_realloc(void *p, size_t n, size_t size) {
    size_t total;
    if (mul_overflows(n, size, &total)) {
        sn_error(SN_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *q = injected_failure() ? NULL : realloc(p, total ? total : 1);
    if (!q) sn_error(SN_ERR_NOMEM, "out of memory allocating %zu bytes", total);
    return q;
}

void *sn_aligned_calloc(size_t n, size_t size) {
    size_t total;
    if (mul_overflows(n, size, &total) || total > SIZE_MAX - 64) {
        sn_error(SN_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    total = (total + 63) & ~(size_t)63;
    void *p = NULL;
    if (injected_failure() || posix_memalign(&p, 64, total ? total : 64) != 0) {
        sn_error(SN_ERR_NOMEM, "out of memory allocating %zu aligned bytes", total);
        return NULL;
    }
    memset(p, 0, total ? total : 64);
    return p;
}
