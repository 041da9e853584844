/* The .keras zip: reading its three members and writing an archive
 * (keras_internal.h), through libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/keras_internal.h"

void kx_archive_free(kx_archive *a) {
    if (!a) return;
    free(a->config);
    free(a->metadata);
    free(a->weights);
    memset(a, 0, sizeof *a);
}

/* Reads the current entry's data into a malloc'd, NUL-terminated buffer. */
static sn_status read_member(struct archive *ar, struct archive_entry *e, const char *path, const char *name,
                             size_t max, char **out, size_t *n) {
    if (archive_entry_size_is_set(e) && (archive_entry_size(e) < 0 || (uint64_t)archive_entry_size(e) > max))
        return sn_error(SN_ERR_FORMAT, "%s: member %s declares %lld bytes, more than the %zu allowed", path, name,
                        (long long)archive_entry_size(e), max);
    size_t cap = archive_entry_size_is_set(e) ? (size_t)archive_entry_size(e) + 1 : 1 << 16, len = 0;
    char *buf = sn_malloc(cap, 1);
    if (!buf) return SN_ERR_NOMEM;
    for (;;) {
        if (len + 1 >= cap) {
            size_t nc = cap * 2;
            char *nb = sn_realloc(buf, nc, 1);
            if (!nb) {
                free(buf);
                return SN_ERR_NOMEM;
            }
            buf = nb;
            cap = nc;
        }
        la_ssize_t r = archive_read_data(ar, buf + len, cap - 1 - len);
        if (r < 0) {
            sn_status st = sn_error(SN_ERR_FORMAT, "%s: member %s is corrupt or truncated: %s", path, name,
                                    archive_error_string(ar) ? archive_error_string(ar) : "read error");
            free(buf);
            return st;
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len > max) {
            free(buf);
            return sn_error(SN_ERR_FORMAT, "%s: member %s is larger than the %zu bytes allowed", path, name, max);
        }
    }
    if (archive_entry_size_is_set(e) && (int64_t)len != archive_entry_size(e)) {
        free(buf);
        return sn_error(SN_ERR_FORMAT, "%s: member %s holds %zu bytes, its header says %lld (truncated)", path, name,
                        len, (long long)archive_entry_size(e));
    }
    buf[len] = 0;
    *out = buf;
    *n = len;
    return SN_OK;
}

sn_status kx_archive_read(kx_archive *a, const char *path, size_t max_bytes) {
    memset(a, 0, sizeof *a);
    struct archive *ar = archive_read_new();
    if (!ar) return SN_ERR_NOMEM;
    archive_read_support_format_zip(ar);
    sn_status st = SN_OK;
    int npz = 0;
    if (archive_read_open_filename(ar, path, 1 << 16) != ARCHIVE_OK) {
        st = sn_error(SN_ERR_FORMAT, "%s: not a readable zip archive: %s", path,
                      archive_error_string(ar) ? archive_error_string(ar) : "open failed");
    } else {
        struct archive_entry *e;
        int r;
        while (!st && (r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
            const char *nm = archive_entry_pathname(e);
            if (!nm) continue;
            if (!strcmp(nm, "config.json")) {
                if (a->config) st = sn_error(SN_ERR_FORMAT, "%s: config.json appears twice", path);
                else st = read_member(ar, e, path, nm, max_bytes, &a->config, &a->config_n);
            } else if (!strcmp(nm, "metadata.json")) {
                if (a->metadata) st = sn_error(SN_ERR_FORMAT, "%s: metadata.json appears twice", path);
                else st = read_member(ar, e, path, nm, max_bytes, &a->metadata, &a->metadata_n);
            } else if (!strcmp(nm, "model.weights.h5")) {
                char *w = NULL;
                if (a->weights) st = sn_error(SN_ERR_FORMAT, "%s: model.weights.h5 appears twice", path);
                else st = read_member(ar, e, path, nm, max_bytes, &w, &a->weights_n);
                a->weights = w;
            } else if (!strcmp(nm, "model.weights.npz")) {
                npz = 1;
            }
        }
        if (!st && r != ARCHIVE_EOF)
            st = sn_error(SN_ERR_FORMAT, "%s: corrupt or truncated zip archive: %s", path,
                          archive_error_string(ar) ? archive_error_string(ar) : "read error");
    }
    archive_read_free(ar);
    if (!st && !a->config) st = sn_error(SN_ERR_FORMAT, "%s: no config.json in the archive (not a .keras file)", path);
    if (!st && !a->weights)
        st = npz ? sn_error(SN_ERR_UNSUPPORTED, "%s: the weights are in model.weights.npz; seqnn reads model.weights.h5 "
                                                "(re-save with Keras's default)", path)
                 : sn_error(SN_ERR_FORMAT, "%s: no model.weights.h5 in the archive", path);
    if (st) kx_archive_free(a);
    return st;
}

typedef struct membuf {
    char *p;
    size_t n, cap;
    int oom;
} membuf;

static la_ssize_t mem_write(struct archive *ar, void *user, const void *buf, size_t n) {
    (void)ar;
    membuf *m = user;
    if (m->n + n > m->cap) {
        size_t nc = (m->n + n) * 2;
        char *np = sn_realloc(m->p, nc, 1);
        if (!np) {
            m->oom = 1;
            return -1;
        }
        m->p = np;
        m->cap = nc;
    }
    memcpy(m->p + m->n, buf, n);
    m->n += n;
    return (la_ssize_t)n;
}

sn_status kx_archive_write(const char *path, const char *const *names, const void *const *data, const size_t *sizes,
                           int n) {
    membuf mb = {0};
    struct archive *ar = archive_write_new();
    if (!ar) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    if (archive_write_set_format_zip(ar) != ARCHIVE_OK || archive_write_set_options(ar, "zip:compression=store") != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(ar, 0) != ARCHIVE_OK ||
        archive_write_open(ar, &mb, NULL, mem_write, NULL) != ARCHIVE_OK)
        st = sn_error(SN_ERR_IO, "%s: cannot start the zip: %s", path, archive_error_string(ar) ? archive_error_string(ar) : "?");
    for (int i = 0; i < n && !st; i++) {
        struct archive_entry *e = archive_entry_new();
        if (!e) {
            st = SN_ERR_NOMEM;
            break;
        }
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_size(e, (la_int64_t)sizes[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 315705600, 0); /* 1980-01-03: fixed, so the same model gives the same bytes */
        if (archive_write_header(ar, e) != ARCHIVE_OK ||
            (sizes[i] && archive_write_data(ar, data[i], sizes[i]) != (la_ssize_t)sizes[i]))
            st = mb.oom ? SN_ERR_NOMEM
                        : sn_error(SN_ERR_IO, "%s: cannot write %s into the zip: %s", path, names[i],
                                   archive_error_string(ar) ? archive_error_string(ar) : "?");
        archive_entry_free(e);
    }
    if (archive_write_close(ar) != ARCHIVE_OK && !st)
        st = mb.oom ? SN_ERR_NOMEM : sn_error(SN_ERR_IO, "%s: cannot finish the zip", path);
    archive_write_free(ar);
    if (!st) st = sn_file_write_atomic(path, mb.p, mb.n);
    free(mb.p);
    return st;
}
