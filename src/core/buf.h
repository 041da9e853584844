/* A growable byte buffer (core/buf.c), private to the library: the one used
 * wherever bytes of unknown total length are gathered (file and archive
 * member reads, line readers, blob writers, token scratch, string arenas). */
#ifndef SEQNN_CORE_BUF_H
#define SEQNN_CORE_BUF_H

#include <stddef.h>
#include "seqnn/core.h"

/* p[0 .. n) holds the bytes; cap > n always leaves room for a terminating
 * NUL, which the functions below do not write. A zeroed struct is an empty
 * buffer; p is owned by the buffer (sn_buf_free) until taken. */
typedef struct sn_buf {
    char *p;
    size_t n;   /* bytes in use */
    size_t cap; /* bytes allocated */
} sn_buf;

/* Makes room for `extra` more bytes after p[n) plus a NUL: afterwards
 * cap >= n + extra + 1. Capacity doubles (from 256), so appending byte by
 * byte is amortised O(1); p may move. Errors: SN_ERR_NOMEM (message set, the
 * contents and p unchanged), also when the size overflows. */
sn_status sn_buf_reserve(sn_buf *b, size_t extra);

/* Appends len bytes of src (src may be NULL when len is 0). Errors as
 * sn_buf_reserve; nothing is appended on failure. */
sn_status sn_buf_append(sn_buf *b, const void *src, size_t len);

/* Appends one byte. */
static inline sn_status sn_buf_putc(sn_buf *b, char c) {
    if (b->n + 1 >= b->cap) {
        sn_status st = sn_buf_reserve(b, 1);
        if (st != SN_OK) return st;
    }
    b->p[b->n++] = c;
    return SN_OK;
}

/* Writes a NUL at p[n) (not counted in n) and returns p; the buffer must
 * have been reserved or appended to at least once (else returns NULL). */
char *sn_buf_cstr(sn_buf *b);

/* Releases the bytes and zeroes the struct. */
void sn_buf_free(sn_buf *b);

#endif
