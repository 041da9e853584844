/* Internal helpers shared by the library's modules (not installed). */
#ifndef SEQNN_INTERNAL_H
#define SEQNN_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include "seqnn/core.h"

/* Always-on invariant check: an internal bug, never a user error. Prints
 * file:line and aborts (the one place the library may stop the process). */
#define SN_ASSERT(cond)                                                                          \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "seqnn internal error: %s:%d: assertion `%s` failed\n", __FILE__,    \
                    __LINE__, #cond);                                                            \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define SN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Checked allocation helpers: return NULL and set sn_error_last on failure
 * (including n*size overflow). Memory is zeroed by sn_calloc. */
void *sn_malloc(size_t n, size_t size);
void *sn_calloc(size_t n, size_t size);
void *sn_realloc(void *p, size_t n, size_t size);
/* 64-byte aligned, zeroed; free with free(). */
void *sn_aligned_calloc(size_t n, size_t size);

#endif
