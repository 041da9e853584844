/* The growable byte buffer declared in core/buf.h. */
#include "core/buf.h"

#include <stdint.h>
#include <string.h>
#include "core/internal.h"

sn_status sn_buf_reserve(sn_buf *b, size_t extra) {
    if (extra > SIZE_MAX - 1 - b->n) return sn_error(SN_ERR_NOMEM, "byte buffer: %zu + %zu bytes overflow", b->n, extra);
    size_t need = b->n + extra + 1;
    if (need <= b->cap) return SN_OK;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *p = sn_realloc(b->p, nc, 1);
    if (!p) return SN_ERR_NOMEM;
    b->p = p;
    b->cap = nc;
    return SN_OK;
}

sn_status sn_buf_append(sn_buf *b, const void *src, size_t len) {
    if (len == 0) return SN_OK;
    sn_status st = sn_buf_reserve(b, len);
    if (st != SN_OK) return st;
    memcpy(b->p + b->n, src, len);
    b->n += len;
    return SN_OK;
}

char *sn_buf_cstr(sn_buf *b) {
    if (!b->p) return NULL;
    b->p[b->n] = '\0';
    return b->p;
}

void sn_buf_free(sn_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}
