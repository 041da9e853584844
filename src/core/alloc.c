/* Checked allocation: every size multiplication is overflow-checked and a
 * failure leaves a message for sn_error_last(). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include "core/internal.h"

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
    void *p = malloc(total ? total : 1);
    if (!p) sn_error(SN_ERR_NOMEM, "out of memory allocating %zu bytes", total);
    return p;
}

void *sn_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) sn_error(SN_ERR_NOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *sn_realloc(void *p, size_t n, size_t size) {
    size_t total;
    if (mul_overflows(n, size, &total)) {
        sn_error(SN_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *q = realloc(p, total ? total : 1);
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
    if (posix_memalign(&p, 64, total ? total : 64) != 0) {
        sn_error(SN_ERR_NOMEM, "out of memory allocating %zu aligned bytes", total);
        return NULL;
    }
    memset(p, 0, total ? total : 64);
    return p;
}
