/* The one byte-stream reader of the library (data/stream.c), private to it:
 * every file seqnn reads for data — CSV tables, word-vector files, text
 * corpora — comes through here, so every reader accepts the same
 * compressions and reports damage the same way.
 *
 * A stream is one of:
 *  - a single file, decoded by its magic bytes (never its name): plain,
 *    gzip (zlib), xz / bzip2 / zstd (libarchive's raw format), or a zip
 *    archive, of which one member is read (sn_stream_open);
 *  - the members of an archive of any format libarchive reads (tar, tar.gz,
 *    tar.xz, zip, ...), one after another (sn_archive_open / sn_archive_next).
 *
 * Reading is either raw (sn_stream_read, sn_stream_read_all) or buffered
 * through a window of at most 4 MiB (sn_stream_getline, sn_stream_getc,
 * sn_stream_get):
 * a stream uses one style or the other, never both. The window is never
 * the whole file: memory stays bounded whatever the file's size.
 *
 * Errors name the path (and the member of an archive):
 *   SN_ERR_IO      cannot open (a missing file, a directory) or read;
 *   SN_ERR_FORMAT  corrupt or truncated compressed data, an unreadable
 *                  archive, a zip without the wanted member, a line longer
 *                  than max_line. */
#ifndef SEQNN_DATA_STREAM_H
#define SEQNN_DATA_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "seqnn/core.h"

/* How the bytes on disk are encoded. */
typedef enum sn_codec {
    SN_CODEC_PLAIN = 0,
    SN_CODEC_GZIP,
    SN_CODEC_XZ,
    SN_CODEC_BZIP2,
    SN_CODEC_ZSTD,
    SN_CODEC_ZIP,    /* one member of a zip archive */
    SN_CODEC_ARCHIVE /* members of an archive (sn_archive_open) */
} sn_codec;

/* Options of sn_stream_open; NULL means all zero. */
typedef struct sn_stream_opts {
    int raw;                /* 1: the bytes as on disk, no decoding (a text file is a text file) */
    const char *zip_suffix; /* zip: read the first regular member whose name ends in this (any case,
                               e.g. ".csv"); NULL: the first regular member. macOS metadata
                               ("__MACOSX/", "._*") is skipped either way. */
    size_t max_line;        /* sn_stream_getline: longest line in bytes; 0 = 1 MiB; at most 2 MiB */
} sn_stream_opts;

/* Longest line sn_stream_getline accepts by default. */
#define SN_STREAM_MAX_LINE ((size_t)1 << 20)

typedef struct sn_stream {
    const char *path;   /* as given (borrowed: must outlive the stream) */
    sn_codec codec;
    uint64_t file_size; /* bytes on disk */
    size_t lineno;      /* 1-based number of the last line sn_stream_getline returned */
    /* private */
    FILE *fp;
    void *gz;           /* gzFile */
    struct archive *ar;
    const char *member; /* current archive member (points into libarchive's entry) */
    char *win;          /* buffered reads: window of win_cap (+ 1) bytes */
    size_t win_cap;
    size_t beg, end;    /* unread window bytes [beg, end) */
    uint64_t base;      /* stream offset of win[0] */
    int eof;
    size_t max_line;
} sn_stream;

/* Opens `path` as one stream (see above). On error the stream is closed
 * (sn_stream_close is still safe). */
sn_status sn_stream_open(sn_stream *s, const char *path, const sn_stream_opts *o);

/* Closes whatever is open and zeroes the stream; safe on a zeroed or closed one. */
void sn_stream_close(sn_stream *s);

/* 1 when the bytes are decoded (offsets in messages are then offsets into
 * the decoded data). */
static inline int sn_stream_is_compressed(const sn_stream *s) { return s->codec != SN_CODEC_PLAIN; }

/* An upper bound on the decoded size, for rejecting a forged header before
 * anything is allocated: the file size (plain), 1032 times it (gzip: deflate
 * inflates at most 1032:1), or UINT64_MAX where no useful bound exists
 * (xz, bzip2, zstd, zip members). */
uint64_t sn_stream_size_bound(const sn_stream *s);

/* ---- raw reads ---- */

/* Reads up to cap bytes into dst; *got = 0 at the end of the stream (or of
 * the current archive member). */
sn_status sn_stream_read(sn_stream *s, void *dst, size_t cap, size_t *got);

/* Reads the rest of the stream (or member), stopping after cap + 1 bytes so
 * that an oversized input is detectable without reading all of it. *out is a
 * fresh NUL-terminated buffer of *len bytes (free it); on error nothing is
 * allocated. */
sn_status sn_stream_read_all(sn_stream *s, size_t cap, char **out, size_t *len);

/* ---- buffered reads ---- */

/* The next line, blank ones included: *line points to its bytes in the
 * window, without the '\n' and a '\r' before it, NUL-terminated (*len bytes
 * before the NUL); valid until the next call. *got = 0 at the end. A line
 * over max_line bytes is SN_ERR_FORMAT "path:N: line longer than M bytes",
 * N being that line's number (also left in s->lineno). */
sn_status sn_stream_getline(sn_stream *s, char **line, size_t *len, int *got);

/* The next byte, or -1 at the end (*st = SN_OK) or on an error (*st set). */
int sn_stream_getc(sn_stream *s, sn_status *st);

/* Reads up to n bytes into dst and returns how many (fewer only at the end
 * or on an error, *st set then). */
size_t sn_stream_get(sn_stream *s, void *dst, size_t n, sn_status *st);

/* Offset in the (decoded) stream of the next byte a buffered read returns. */
static inline uint64_t sn_stream_offset(const sn_stream *s) { return s->base + s->beg; }

/* ---- archives ---- */

/* Opens `path` as an archive of any format and compression libarchive
 * knows. Errors: SN_ERR_NOMEM, SN_ERR_IO "path: <libarchive's reason>". */
sn_status sn_archive_open(sn_stream *s, const char *path);

/* Moves to the next member: *name (member path as stored, valid until the
 * next call) and *is_dir / *is_file for its type. *got = 0 after the last.
 * Then sn_stream_read / sn_stream_read_all read that member's bytes.
 * Errors: SN_ERR_FORMAT "path: <libarchive's reason>" (e.g. truncated). */
sn_status sn_archive_next(sn_stream *s, const char **name, int *is_dir, int *is_file, int *got);

#endif
