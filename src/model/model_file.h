/* The model file's byte codec and section framing (internal), shared by the
 * model file (model_io.c) and the training-state file (src/fit/train_state.c),
 * which is a model file with one more section. The format is described once,
 * in docs/format.md. */
#ifndef SEQNN_MODEL_FILE_H
#define SEQNN_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "model/model_impl.h"

/* CRC-32 of n bytes (zlib's crc32_z: size_t lengths, no 4 GiB limit). */
uint32_t sn_file_crc32(const void *p, size_t n);

/* ---- Writer (file_codec.c): a growable byte buffer; integers and floats
 * are stored little-endian whatever the host (docs/format.md). After an allocation
 * failure every write is a no-op and `oom` stays set; the caller checks it
 * once at the end (sn_wbuf_finish). ---- */
typedef struct sn_wbuf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} sn_wbuf;

void sn_w_bytes(sn_wbuf *b, const void *d, size_t n);
void sn_w_u32(sn_wbuf *b, uint32_t v);
void sn_w_u64(sn_wbuf *b, uint64_t v);
void sn_w_f64(sn_wbuf *b, double v);
/* n float32 values: x (n). */
void sn_w_f32s(sn_wbuf *b, const float *x, size_t n);
/* u32 length, then the bytes (no terminator). */
void sn_w_str(sn_wbuf *b, const char *s);
/* Opens a section: writes the 4-byte tag and a length placeholder; returns
 * the payload's start for sn_w_section_end. */
size_t sn_w_section_begin(sn_wbuf *b, const char *tag);
/* Closes the section opened at `start`: patches its length, appends the
 * payload's CRC-32 and counts it in *count. */
void sn_w_section_end(sn_wbuf *b, size_t start, uint32_t *count);
/* Writes magic, version and a section-count placeholder. */
void sn_w_file_begin(sn_wbuf *b);
/* Patches the section count, writes the buffer to `path` atomically
 * (sn_file_write_atomic) and frees it. Errors: SN_ERR_NOMEM naming the path
 * when a write ran out of memory, else what the atomic write returns. */
sn_status sn_w_file_finish(sn_wbuf *b, uint32_t count, const char *path);

/* ---- Reader (file_codec.c): a cursor over one section's payload. Reads
 * past the end set `bad`, report "truncated" with the section and offset,
 * and return zeros; later reads are no-ops. ---- */
typedef struct sn_rbuf {
    const unsigned char *p;
    size_t n, off;
    const char *path;
    const char *sec;   /* section tag for messages */
    int bad;
} sn_rbuf;

/* Sets `bad` and raises SN_ERR_FORMAT "path: section S at offset N: what". */
sn_status sn_r_fail(sn_rbuf *r, const char *what);
/* Copies n bytes into d; 0 (and `bad`) when fewer remain. */
int sn_r_bytes(sn_rbuf *r, void *d, size_t n);
uint32_t sn_r_u32(sn_rbuf *r);
uint64_t sn_r_u64(sn_rbuf *r);
double sn_r_f64(sn_rbuf *r);
/* n float32 values into x (n); 0 when truncated. */
int sn_r_f32s(sn_rbuf *r, float *x, size_t n);
/* A length-prefixed string into buf (at most n-1 bytes, NUL-terminated);
 * 0 when truncated or longer ("string too long"). */
int sn_r_str(sn_rbuf *r, char *buf, size_t n);

/* ---- Whole files ---- */
#define SN_FILE_MAX_SECTIONS 32

typedef struct sn_file_section {
    char tag[5];
    const unsigned char *p;   /* payload, points into sn_model_file.data */
    size_t n;                 /* payload bytes */
    size_t file_off;          /* payload offset in the file (messages) */
} sn_file_section;

/* A model file read into memory and split into its sections. */
typedef struct sn_model_file {
    const char *path;
    unsigned char *data;      /* the file's bytes (owned, freed by sn_model_file_close) */
    size_t n;
    sn_file_section sec[SN_FILE_MAX_SECTIONS];
    int n_sec;
    int missing;              /* set when the file does not exist */
} sn_model_file;

/* Reads `path` whole and checks magic, version, section framing and every
 * section's CRC. Errors: SN_ERR_IO (cannot open or read; f->missing = 1 when
 * it does not exist), SN_ERR_FORMAT naming the file and the offset. On
 * success the caller closes f; on error nothing needs closing. */
sn_status sn_model_file_open(sn_model_file *f, const char *path);
void sn_model_file_close(sn_model_file *f);
/* The first section with `tag`, or NULL. Points into f. */
const sn_file_section *sn_model_file_find(const sn_model_file *f, const char *tag);
/* A reader over one section's payload. */
sn_rbuf sn_rbuf_of(const sn_file_section *s, const char *path);

/* ---- The model's sections (model_io.c) ---- */
/* Writes the sections of a model (ARCH, TENS, OPTM when compiled, RNGS,
 * LRNG when a layer owns RNG streams, META when set), counting them in
 * *count. */
void sn_model_write_sections(sn_wbuf *b, const sn_model *m, uint32_t *count);
/* Builds the model an opened file describes: architecture, trainable flags,
 * weights, and optimizer, RNG and metadata when present. Errors name the
 * file and section; *out is NULL then. The caller frees *out. */
sn_status sn_model_from_file(sn_model **out, const sn_model_file *f);
/* Copies what training changes from `src` into `dst` (same spec): weights,
 * optimizer slots and step count (when both are compiled alike), the
 * dropout RNG and every layer's own RNG streams. */
void sn_model_copy_state(sn_model *dst, const sn_model *src);

#endif
