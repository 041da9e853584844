/* The byte-stream reader declared in data/stream.h: one decoder choice by
 * magic bytes, raw and windowed reads, archive members. */
#define _POSIX_C_SOURCE 200809L
#include "data/stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/internal.h"

/* Window of the buffered reads: 4 MiB for files of 1 MiB and more (large
 * reads), else it starts at 64 KiB and doubles while a line does not fit, up
 * to 4 MiB, so that a line of up to 2 MiB always fits after the unread bytes
 * are moved to its start. */
#define SN_STREAM_WINDOW0 ((size_t)64 << 10)
#define SN_STREAM_WINDOW ((size_t)4 << 20)
#define SN_STREAM_MAX_MAX_LINE ((size_t)2 << 20)

static const char *codec_name(sn_codec c) {
    switch (c) {
    case SN_CODEC_PLAIN: return "plain";
    case SN_CODEC_GZIP: return "gzip";
    case SN_CODEC_XZ: return "xz";
    case SN_CODEC_BZIP2: return "bzip2";
    case SN_CODEC_ZSTD: return "zstd";
    case SN_CODEC_ZIP: return "zip";
    case SN_CODEC_ARCHIVE: return "archive";
    }
    return "?";
}

/* libarchive's last message, or a placeholder. */
static const char *ar_msg(struct archive *a) {
    const char *m = a ? archive_error_string(a) : NULL;
    return m ? m : "unreadable data";
}

void sn_stream_close(sn_stream *s) {
    if (s->fp) fclose(s->fp);
    if (s->gz) gzclose((gzFile)s->gz);
    if (s->ar) archive_read_free(s->ar);
    free(s->win);
    memset(s, 0, sizeof *s);
}

uint64_t sn_stream_size_bound(const sn_stream *s) {
    if (s->codec == SN_CODEC_PLAIN) return s->file_size;
    if (s->codec == SN_CODEC_GZIP && s->file_size <= UINT64_MAX / 1032) return s->file_size * 1032;
    return UINT64_MAX;
}

/* Does member name nm end in suf (any case), and is it not macOS metadata? */
static int member_wanted(const char *nm, const char *suf) {
    if (!nm) return 0;
    if (strncmp(nm, "__MACOSX/", 9) == 0 || strstr(nm, "/._") || strncmp(nm, "._", 2) == 0) return 0;
    if (!suf) return 1;
    size_t ln = strlen(nm), ls = strlen(suf);
    if (ln < ls) return 0;
    for (size_t i = 0; i < ls; i++)
        if (tolower((unsigned char)nm[ln - ls + i]) != tolower((unsigned char)suf[i])) return 0;
    return 1;
}

/* xz, bzip2, zstd (one raw stream) or one member of a zip, through libarchive. */
static sn_status open_libarchive(sn_stream *s, const char *zip_suffix) {
    int is_zip = s->codec == SN_CODEC_ZIP;
    struct archive *a = archive_read_new();
    if (!a) return sn_error(SN_ERR_NOMEM, "%s: cannot create an archive reader", s->path);
    s->ar = a;
    archive_read_support_filter_all(a);
    if (is_zip) archive_read_support_format_zip(a);
    else archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, s->path, 1 << 16) != ARCHIVE_OK)
        return sn_error(SN_ERR_FORMAT, "%s: cannot open as %s: %s", s->path, is_zip ? "zip" : "compressed file",
                        ar_msg(a));
    struct archive_entry *ent;
    int r;
    while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
        if (!is_zip) return SN_OK;
        if (archive_entry_filetype(ent) != AE_IFREG) continue;
        if (member_wanted(archive_entry_pathname(ent), zip_suffix)) {
            s->member = archive_entry_pathname(ent);
            return SN_OK;
        }
    }
    if (r != ARCHIVE_EOF) return sn_error(SN_ERR_FORMAT, "%s: %s", s->path, ar_msg(a));
    if (zip_suffix) return sn_error(SN_ERR_FORMAT, "%s: no %s file in the archive", s->path, zip_suffix);
    return sn_error(SN_ERR_FORMAT, "%s: no file in the archive", s->path);
}

/* The decoder for the first bytes of a file. */
static sn_codec sniff(const unsigned char *m, size_t n) {
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return SN_CODEC_GZIP;
    if (n >= 4 && !memcmp(m, "PK\x03\x04", 4)) return SN_CODEC_ZIP;
    if (n >= 6 && !memcmp(m, "\xFD" "7zXZ\0", 6)) return SN_CODEC_XZ;
    if (n >= 3 && !memcmp(m, "BZh", 3)) return SN_CODEC_BZIP2;
    if (n >= 4 && !memcmp(m, "\x28\xB5\x2F\xFD", 4)) return SN_CODEC_ZSTD;
    return SN_CODEC_PLAIN;
}

int sn_file_compressed(const char *path, const unsigned char *head, size_t n) {
    unsigned char m[6] = {0};
    if (!head) {
        FILE *f = path ? fopen(path, "rb") : NULL;
        if (!f) return -1;
        n = fread(m, 1, sizeof m, f);
        fclose(f);
        head = m;
    }
    return sniff(head, n) != SN_CODEC_PLAIN;
}

sn_status sn_stream_open(sn_stream *s, const char *path, const sn_stream_opts *o) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->max_line = o && o->max_line ? o->max_line : SN_STREAM_MAX_LINE;
    SN_ASSERT(s->max_line <= SN_STREAM_MAX_MAX_LINE);
    struct stat sb;
    if (stat(path, &sb) != 0) return sn_error(SN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return sn_error(SN_ERR_IO, "%s: is a directory", path);
    s->file_size = (uint64_t)sb.st_size;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_error(SN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[6] = {0, 0, 0, 0, 0, 0};
    size_t nm = o && o->raw ? 0 : fread(magic, 1, sizeof magic, fp);
    s->codec = sniff(magic, nm);
    if (s->codec == SN_CODEC_PLAIN) {
        if (fseek(fp, 0, SEEK_SET) != 0) {
            int e = errno;
            fclose(fp);
            return sn_error(SN_ERR_IO, "%s: cannot seek: %s", path, strerror(e));
        }
        s->fp = fp;
        return SN_OK;
    }
    fclose(fp);
    sn_status st;
    if (s->codec == SN_CODEC_GZIP) {
        s->gz = gzopen(path, "rb");
        if (!s->gz) st = sn_error(SN_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib failure");
        else {
            gzbuffer((gzFile)s->gz, 1u << 18);
            st = SN_OK;
        }
    } else {
        st = open_libarchive(s, o ? o->zip_suffix : NULL);
    }
    if (st != SN_OK) sn_stream_close(s);
    return st;
}

/* zlib's message without the "path: " it starts with. */
static const char *gz_msg(const sn_stream *s, const char *m) {
    size_t n = strlen(s->path);
    if (m && strncmp(m, s->path, n) == 0 && m[n] == ':' && m[n + 1] == ' ') return m + n + 2;
    return m ? m : "?";
}

/* Stream offset of the next raw byte, for messages. */
static uint64_t raw_offset(const sn_stream *s) { return s->base + s->end; }

static sn_status corrupt(const sn_stream *s, const char *why) {
    if (s->member && s->codec == SN_CODEC_ARCHIVE)
        return sn_error(SN_ERR_FORMAT, "%s:%s: corrupt or truncated data: %s", s->path, s->member, why);
    return sn_error(SN_ERR_FORMAT, "%s: corrupt or truncated %s data after byte %llu: %s", s->path,
                    codec_name(s->codec), (unsigned long long)raw_offset(s), why);
}

/* One raw read, without offset bookkeeping. */
static sn_status read_raw(sn_stream *s, void *dst, size_t cap, size_t *got) {
    *got = 0;
    if (s->fp) {
        size_t n = fread(dst, 1, cap, s->fp);
        if (n == 0 && ferror(s->fp)) return sn_error(SN_ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
        *got = n;
        return SN_OK;
    }
    if (s->gz) {
        gzFile gz = (gzFile)s->gz;
        int r = gzread(gz, dst, (unsigned)SN_MIN(cap, (size_t)1 << 30));
        int zerr = Z_OK;
        const char *msg = gzerror(gz, &zerr);
        if (r < 0 || (r == 0 && zerr != Z_OK && zerr != Z_STREAM_END)) {
            if (zerr == Z_ERRNO) return sn_error(SN_ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
            return corrupt(s, gz_msg(s, msg));
        }
        *got = (size_t)r;
        return SN_OK;
    }
    if (s->ar) {
        la_ssize_t r = archive_read_data(s->ar, dst, cap);
        if (r < 0) return corrupt(s, ar_msg(s->ar));
        *got = (size_t)r;
        return SN_OK;
    }
    return sn_error(SN_ERR_STATE, "%s: stream is not open", s->path ? s->path : "?");
}

sn_status sn_stream_read(sn_stream *s, void *dst, size_t cap, size_t *got) {
    SN_ASSERT(!s->win);
    sn_status st = read_raw(s, dst, cap, got);
    s->end += *got; /* raw reads keep base = 0 and end = bytes read */
    return st;
}

sn_status sn_stream_read_all(sn_stream *s, size_t cap, char **out, size_t *len) {
    sn_buf b = {0};
    sn_status st = SN_OK;
    size_t want_total = cap < SIZE_MAX - 1 ? cap + 1 : cap;
    while (st == SN_OK && b.n < want_total) {
        size_t chunk = SN_MIN(want_total - b.n, b.n < 4096 ? (size_t)4096 : b.n);
        if ((st = sn_buf_reserve(&b, chunk)) != SN_OK) break;
        size_t got = 0;
        st = sn_stream_read(s, b.p + b.n, chunk, &got);
        b.n += got;
        if (got == 0) break;
    }
    if (st == SN_OK) st = sn_buf_reserve(&b, 0);
    if (st != SN_OK) {
        sn_buf_free(&b);
        return st;
    }
    /* the reads grow the buffer in steps (at least 8 KiB): a corpus of many
     * small files keeps each text at its own size, not the step's */
    if (b.cap > b.n + 1) {
        char *p = sn_realloc(b.p, b.n + 1, 1);
        if (p) {
            b.p = p;
            b.cap = b.n + 1;
        }
    }
    *len = b.n;
    *out = sn_buf_cstr(&b);
    return SN_OK;
}

/* ---- buffered reads ---- */

/* Moves the unread bytes to the window's start and reads more after them.
 * At the end of the data sets s->eof. */
static sn_status refill(sn_stream *s) {
    if (!s->win) SN_ASSERT(s->end == 0); /* no raw read before */
    if (!s->win || (s->beg == 0 && s->end == s->win_cap)) { /* none yet, or full of one line: grow */
        size_t first = s->file_size >= SN_STREAM_WINDOW / 4 ? SN_STREAM_WINDOW : SN_STREAM_WINDOW0;
        size_t nc = s->win ? SN_MIN(2 * s->win_cap, SN_STREAM_WINDOW) : first;
        SN_ASSERT(nc > s->win_cap);
        char *w = sn_realloc(s->win, nc + 1, 1); /* + 1: room for getline's NUL after the last byte */
        if (!w) return SN_ERR_NOMEM;
        s->win = w;
        s->win_cap = nc;
    }
    size_t avail = s->end - s->beg;
    memmove(s->win, s->win + s->beg, avail);
    s->base += s->beg;
    s->beg = 0;
    s->end = avail;
    size_t got = 0;
    sn_status st = read_raw(s, s->win + s->end, s->win_cap - s->end, &got);
    if (st != SN_OK) return st;
    if (got == 0) s->eof = 1;
    s->end += got;
    return SN_OK;
}

sn_status sn_stream_getline(sn_stream *s, char **line, size_t *len, int *got) {
    *got = 0;
    for (;;) {
        char *p = s->win ? s->win + s->beg : NULL;
        size_t avail = s->end - s->beg;
        char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (!nl && !s->eof) {
            if (avail > s->max_line) break;
            sn_status st = refill(s);
            if (st != SN_OK) return st;
            continue;
        }
        if (avail == 0) return SN_OK;
        char *le = nl ? nl : s->win + s->end;
        s->lineno++;
        if ((size_t)(le - p) > s->max_line)
            return sn_error(SN_ERR_FORMAT, "%s:%zu: line longer than %zu bytes", s->path, s->lineno, s->max_line);
        s->beg = nl ? (size_t)(nl + 1 - s->win) : s->end;
        if (le > p && le[-1] == '\r') le--;
        *le = '\0'; /* the '\n', the '\r', or the window's spare last byte */
        *line = p;
        *len = (size_t)(le - p);
        *got = 1;
        return SN_OK;
    }
    s->lineno++;
    return sn_error(SN_ERR_FORMAT, "%s:%zu: line longer than %zu bytes", s->path, s->lineno, s->max_line);
}

int sn_stream_getc(sn_stream *s, sn_status *st) {
    if (s->beg == s->end) {
        if (s->eof) return -1;
        if ((*st = refill(s)) != SN_OK || s->beg == s->end) return -1;
    }
    return (unsigned char)s->win[s->beg++];
}

size_t sn_stream_get(sn_stream *s, void *dst, size_t n, sn_status *st) {
    unsigned char *d = dst;
    size_t done = 0;
    while (done < n) {
        if (s->beg == s->end) {
            if (s->eof || (*st = refill(s)) != SN_OK || s->beg == s->end) break;
        }
        size_t take = SN_MIN(n - done, s->end - s->beg);
        memcpy(d + done, s->win + s->beg, take);
        s->beg += take;
        done += take;
    }
    return done;
}

/* ---- archives ---- */

sn_status sn_archive_open(sn_stream *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->codec = SN_CODEC_ARCHIVE;
    struct archive *a = archive_read_new();
    if (!a) return sn_error(SN_ERR_NOMEM, "%s: cannot create an archive reader", path);
    s->ar = a;
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        sn_status st = sn_error(SN_ERR_IO, "%s: %s", path, ar_msg(a));
        sn_stream_close(s);
        return st;
    }
    return SN_OK;
}

sn_status sn_archive_next(sn_stream *s, const char **name, int *is_dir, int *is_file, int *got) {
    *got = 0;
    s->member = NULL;
    s->base = s->beg = s->end = 0;
    struct archive_entry *ae;
    int rc = archive_read_next_header(s->ar, &ae);
    if (rc == ARCHIVE_EOF) return SN_OK;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return sn_error(SN_ERR_FORMAT, "%s: %s", s->path, ar_msg(s->ar));
    s->member = archive_entry_pathname(ae);
    *name = s->member;
    *is_dir = archive_entry_filetype(ae) == AE_IFDIR;
    *is_file = archive_entry_filetype(ae) == AE_IFREG;
    *got = 1;
    return SN_OK;
}
