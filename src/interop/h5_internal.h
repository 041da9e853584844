/* Internals of seqnn's own HDF5 reader and writer (src/interop/h5*.c; the
 * interface is h5.h). Written from the HDF5 File Format Specification
 * Version 3.0; only what h5py / libhdf5 write for Keras files is read.
 *
 * The whole file is held in memory (f->buf, f->n). Every structure is read
 * through a bounds-checked cursor (h5_cur): a read past its end yields 0
 * and marks the cursor bad, and the parser checks the mark before it uses
 * what it read. Addresses in the file are relative to the base address
 * (where the superblock was found); h5_at() turns (address, length) into a
 * pointer after checking both against the file size.
 *
 * Hostile input: besides the bounds checks, every public call gets a work
 * budget proportional to the file size (h5_spend): each node, heap block,
 * record or chunk visited costs a unit, so loops and DAGs that revisit
 * structures end with an error instead of running forever. Recursion is
 * depth-limited and levels must strictly decrease.
 *
 * Object files (no cycles between them; each uses only those above it):
 *   h5_util.c    cursor, bounds, errors, budget, Jenkins lookup3
 *   h5_ohdr.c    object headers v1 / v2 with continuation chunks
 *   h5_btree.c   version 1 and version 2 B-tree walks
 *   h5_heap.c    local heap, global heap, fractal heap
 *   h5_type.c    datatypes, dataspaces, fill values, conversion to float
 *   h5_filter.c  filter pipeline: deflate, shuffle, fletcher32
 *   h5_link.c    groups: symbol tables, compact and dense links
 *   h5_attr.c    attributes (compact and dense) and string decoding
 *   h5_chunk.c   chunk indexes (v1 B-tree, single, implicit, fixed and
 *                extensible arrays, v2 B-tree)
 *   h5_data.c    dataset layouts and reading as float32
 *   h5_read.c    the public reading calls of h5.h, superblock, paths
 *   h5_write.c   the writer (h5.h's writing calls) */
#ifndef SEQNN_INTEROP_H5_INTERNAL_H
#define SEQNN_INTEROP_H5_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "interop/h5.h"

#define H5_UNDEF UINT64_MAX /* the undefined address (all bits set) */
#define H5_MAX_DEPTH 32     /* B-tree levels, heap indirection, path components */
#define H5_MAX_SPACE_RANK 32

/* Message types used here (spec IV.A.2). */
enum {
    H5M_NIL = 0x00, H5M_DATASPACE = 0x01, H5M_LINFO = 0x02, H5M_DTYPE = 0x03, H5M_FILL_OLD = 0x04,
    H5M_FILL = 0x05, H5M_LINK = 0x06, H5M_LAYOUT = 0x08, H5M_GINFO = 0x0A, H5M_FILTERS = 0x0B,
    H5M_ATTR = 0x0C, H5M_CONT = 0x10, H5M_STAB = 0x11, H5M_AINFO = 0x15
};

typedef struct h5w h5w; /* writer state (h5_write.c) */

/* An indexed global heap collection (h5_heap.c): object index -> bytes. */
typedef struct h5_gcol {
    uint64_t addr;     /* H5_UNDEF: slot unused */
    size_t n;          /* objects */
    uint32_t *idx;     /* (n) object indices */
    const uint8_t **p; /* (n) object data, into f->buf */
    uint64_t *len;     /* (n) object sizes */
} h5_gcol;

#define H5_GCOL_CACHE 4

struct sn_h5 {
    char name[512];
    /* reading */
    uint8_t *buf;      /* the whole file (owned) */
    size_t n;
    uint64_t base;     /* absolute offset of the superblock */
    int so, sl;        /* sizes of offsets and of lengths, bytes */
    int sb_version;
    uint64_t root;     /* root group object header address */
    const char *where; /* object path of the current call, for messages */
    uint64_t budget;   /* work units left in the current call */
    uint64_t fh_ok;    /* last fractal heap direct block whose checksum was verified */
    h5_gcol gc[H5_GCOL_CACHE];
    int gc_next;
    /* writing */
    h5w *w;
};

/* ---- h5_util.c ---- */

/* A bounds-checked little-endian reader over [p, end). */
typedef struct h5_cur {
    const uint8_t *p, *end;
    int bad; /* set by any read past end */
} h5_cur;

h5_cur h5_cur_make(const uint8_t *p, size_t n);
uint64_t h5_u(h5_cur *c, int nbytes);  /* unsigned, 1..8 bytes */
const uint8_t *h5_take(h5_cur *c, size_t n); /* NULL (and bad) when short */
void h5_skip(h5_cur *c, size_t n);
size_t h5_left(const h5_cur *c);
uint64_t h5_addr(const sn_h5 *f, h5_cur *c); /* size-of-offsets; all ones -> H5_UNDEF */
uint64_t h5_len(const sn_h5 *f, h5_cur *c);  /* size-of-lengths */
uint64_t h5_le(const uint8_t *p, int nbytes);

/* SN_ERR_FORMAT "<file>: <object path>: <message>". */
sn_status h5_bad(sn_h5 *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Points *p at `len` bytes at file address addr, or fails saying `what`
 * points past the end of the file. */
sn_status h5_at(sn_h5 *f, uint64_t addr, uint64_t len, const uint8_t **p, const char *what);
/* Charges the work budget; an error once it is spent. */
sn_status h5_spend(sn_h5 *f, uint64_t units);
/* Starts a public call on path (messages name it) with a fresh budget. */
void h5_begin(sn_h5 *f, const char *path);
/* Checks that the 4 bytes at p+len hold lookup3(p[0..len)). */
sn_status h5_check_sum(sn_h5 *f, const uint8_t *p, size_t len, const char *what);
uint32_t h5_lookup3(const void *key, size_t len, uint32_t init);
/* 1 when the 4 bytes at p are the signature s. */
int h5_sig(const uint8_t *p, const char *s);
/* floor(log2(v)) for v > 0; 1 when v is a power of two (v > 0). */
int h5_log2(uint64_t v);
int h5_pow2(uint64_t v);
/* a * b, or 0 with *ovf set when it overflows. */
uint64_t h5_mul(uint64_t a, uint64_t b, int *ovf);

/* ---- h5_ohdr.c ---- */

typedef struct h5_msg {
    uint16_t type;
    uint8_t flags;       /* bit 1: shared (not supported by the readers) */
    uint32_t size;
    const uint8_t *data; /* into f->buf */
} h5_msg;

typedef struct h5_obj {
    uint64_t addr;
    int version; /* 1 or 2 */
    h5_msg *m;
    size_t n, cap;
} h5_obj;

/* Parses the object header at addr with all its continuation chunks. */
sn_status h5_obj_read(sn_h5 *f, uint64_t addr, h5_obj *o);
void h5_obj_free(h5_obj *o);
/* The first message of `type`, or NULL. */
const h5_msg *h5_obj_msg(const h5_obj *o, int type);
int h5_obj_is_group(const h5_obj *o);
int h5_obj_is_dataset(const h5_obj *o);

/* ---- h5_btree.c ---- */

/* Version 1 B-tree, group nodes (type 0): calls cb for every symbol table
 * node address at the leaves. */
typedef sn_status (*h5_bt1_cb)(sn_h5 *f, void *ctx, const uint8_t *key, const uint8_t *next_key, uint64_t child);
/* Walks the version 1 B-tree at addr of node type `type` (0 groups,
 * 1 chunks with key_size bytes per key) calling cb(left key, right key,
 * child) for each leaf entry. */
sn_status h5_bt1_walk(sn_h5 *f, uint64_t addr, int type, size_t key_size, h5_bt1_cb cb, void *ctx);

/* Version 2 B-tree: calls cb for every record (rec_size bytes) in key
 * order; cb returns 1 to stop early, 0 to go on, or an error. */
typedef sn_status (*h5_bt2_cb)(sn_h5 *f, void *ctx, const uint8_t *rec, size_t rec_size);
sn_status h5_bt2_walk(sn_h5 *f, uint64_t addr, int type, h5_bt2_cb cb, void *ctx);
#define H5_STOP ((sn_status)1) /* a callback's "found it, stop" (not an error) */

/* ---- h5_heap.c ---- */

/* The NUL-terminated string at `off` in the local heap at heap_addr. */
sn_status h5_lheap_str(sn_h5 *f, uint64_t heap_addr, uint64_t off, const char **s, size_t *len);
/* Object `index` of the global heap collection at addr. */
sn_status h5_gheap_get(sn_h5 *f, uint64_t addr, uint32_t index, const uint8_t **p, uint64_t *len);
void h5_gheap_free(sn_h5 *f);

typedef struct h5_fheap {
    uint64_t addr;
    unsigned id_len, flags;
    uint32_t max_man;
    uint64_t huge_bt;
    unsigned width;
    uint64_t start_block, max_direct;
    unsigned max_heap_bits, cur_rows;
    uint64_t root;
    int filtered;
    int max_direct_rows, first_row_bits, off_size, len_size, blk_off_size;
} h5_fheap;

sn_status h5_fheap_open(sn_h5 *f, uint64_t addr, h5_fheap *h);
/* The object named by heap ID id[0..id_len): a pointer into the file. */
sn_status h5_fheap_get(sn_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **p, size_t *len);

/* ---- h5_type.c ---- */

enum { H5T_INT = 0, H5T_FLOAT = 1, H5T_STRING = 3, H5T_VLEN = 9 };

typedef struct h5_dtype {
    int cls;       /* H5T_INT, H5T_FLOAT, H5T_STRING, H5T_VLEN (others: parsed as "other") */
    uint32_t size; /* bytes per element */
    int be;        /* big-endian numbers */
    int sign;      /* integers */
    int pad;       /* strings: 0 null-terminated, 1 null-padded, 2 space-padded */
    int vlen_str;  /* a variable-length string */
    int numeric;   /* an integer or IEEE float this reader converts */
} h5_dtype;

typedef struct h5_space {
    int rank;      /* 0 scalar */
    int null;      /* the null dataspace: no elements */
    uint64_t dims[H5_MAX_SPACE_RANK];
    uint64_t maxd[H5_MAX_SPACE_RANK]; /* H5_UNDEF: unlimited; = dims when not stored */
} h5_space;

sn_status h5_dtype_parse(sn_h5 *f, const uint8_t *p, size_t n, h5_dtype *t);
sn_status h5_space_parse(sn_h5 *f, const uint8_t *p, size_t n, h5_space *s);
/* Elements of s (0 for null); an error when the count overflows. */
sn_status h5_space_numel(sn_h5 *f, const h5_space *s, uint64_t *numel);
/* Fill value of a dataset (fill messages, else zeros) into fill[0..size). */
sn_status h5_fill_value(sn_h5 *f, const h5_obj *o, uint32_t size, uint8_t *fill);
/* Converts n elements of numeric type t at src to float32. */
void h5_to_f32(const h5_dtype *t, const uint8_t *src, float *dst, size_t n);
/* "integer", "float", "string", ... for messages. */
const char *h5_class_name(int cls);

/* ---- h5_filter.c ---- */

#define H5_MAX_FILTERS 32
typedef struct h5_pipeline {
    int n;
    struct {
        uint16_t id;
        uint16_t flags;
        uint32_t cd[4];
        int ncd;
    } f[H5_MAX_FILTERS];
} h5_pipeline;

sn_status h5_pipeline_parse(sn_h5 *f, const h5_obj *o, h5_pipeline *pl);
/* Undoes the pipeline (skipping filters whose bit is set in mask) on
 * in[0..in_n), giving exactly out_n bytes in out. */
sn_status h5_pipeline_undo(sn_h5 *f, const h5_pipeline *pl, uint32_t mask, const uint8_t *in, size_t in_n, uint8_t *out,
                           size_t out_n);

/* ---- h5_link.c ---- */

/* Calls cb for every link of the group whose header is g: name (not
 * NUL-terminated), and the object address (H5_UNDEF for soft or external
 * links). cb returns H5_STOP to stop, SN_OK to go on, or an error. */
typedef sn_status (*h5_link_cb)(sn_h5 *f, void *ctx, const char *name, size_t nlen, uint64_t addr);
sn_status h5_links(sn_h5 *f, const h5_obj *g, h5_link_cb cb, void *ctx);
/* Finds link name[0..len) of group g: *addr, *found. */
sn_status h5_link_find(sn_h5 *f, const h5_obj *g, const char *name, size_t len, uint64_t *addr, int *found);

/* ---- h5_attr.c ---- */

typedef struct h5_attr {
    const char *name; /* not NUL-terminated: nlen bytes */
    size_t nlen;
    h5_dtype t;
    h5_space s;
    const uint8_t *data; /* into f->buf */
    size_t data_n;
} h5_attr;

/* Finds attribute `name` on the object o (compact or dense storage). */
sn_status h5_attr_find(sn_h5 *f, const h5_obj *o, const char *name, h5_attr *a, int *found);
/* Appends the attribute's strings (scalar or 1-D, fixed or variable
 * length) to (*v, *k); an attribute with no elements adds none. */
sn_status h5_attr_strings(sn_h5 *f, const h5_attr *a, char ***v, size_t *k);

/* ---- h5_chunk.c ---- */

typedef struct h5_chunked {
    int rank;                       /* dataset rank (chunk dims exclude the element size) */
    uint64_t cdims[H5_MAX_SPACE_RANK];
    uint32_t esize;
    uint64_t chunk_bytes;           /* bytes of one decoded chunk */
    int version;                    /* layout message version */
    int index;                      /* 1 single, 2 implicit, 3 fixed array, 4 extensible array, 5 v2 B-tree; 0 v1 B-tree */
    uint64_t addr;                  /* index address */
    unsigned flags;                 /* v4: bit 0 partial edge chunks unfiltered, bit 1 filtered single chunk */
    uint64_t single_size;           /* filtered single chunk: size and mask */
    uint32_t single_mask;
    const h5_space *space;
    int filtered;                   /* the dataset has a filter pipeline */
} h5_chunked;

/* One stored chunk: its first element's coordinates, address, stored size
 * and filter mask. The callback decodes and places it. */
typedef sn_status (*h5_chunk_cb)(sn_h5 *f, void *ctx, const uint64_t *origin, uint64_t addr, uint64_t size,
                                 uint32_t mask);
sn_status h5_chunks(sn_h5 *f, const h5_chunked *c, h5_chunk_cb cb, void *ctx);

/* ---- h5_data.c ---- */

/* The numeric dataset whose header is o: type and shape. */
sn_status h5_dataset_info(sn_h5 *f, const h5_obj *o, h5_dtype *t, h5_space *s);
/* Reads all numel elements as float32 into out. */
sn_status h5_dataset_read(sn_h5 *f, const h5_obj *o, float *out, size_t numel);

/* ---- h5_write.c ---- */

void h5w_free(h5w *w);

#endif
