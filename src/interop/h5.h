/* seqnn's HDF5 layer (internal to src/interop): what the Keras reader and
 * writer need and nothing more, read and written by seqnn's own code
 * (h5_*.c, see h5_internal.h; no libhdf5).
 *
 * Reading: open a file by path or a file image held in memory (the
 * model.weights.h5 member of a .keras zip), test whether a path names a
 * group or a dataset, list a group's members, read string attributes
 * (scalar or 1-D, fixed or variable length, and Keras's chunked form
 * "name0", "name1", ... for attributes beyond HDF5's 64 KiB header limit),
 * read a numeric dataset as float32 into a caller's buffer after checking
 * its shape. What h5py / libhdf5 write is read: superblocks 0-3, both
 * object header versions, old (symbol table) and new (compact or dense)
 * groups and attribute storage, compact / contiguous / chunked data with
 * every chunk index of the 1.10 format, deflate / shuffle / fletcher32.
 * Writing: create an in-memory file, groups (with their parents),
 * float32 datasets and string attributes, then take the file image
 * (superblock 2, compact groups, contiguous data, variable-length UTF-8
 * strings). Created objects carry no times, so the same content gives the
 * same bytes.
 *
 * The whole file is held in memory. Untrusted input is expected: every
 * offset, length and count is checked against the file, work per call is
 * bounded relative to the file's size, and nothing is allocated beyond a
 * bound derived from the file or the caller. A handle must not be used by
 * two threads at once; separate handles are independent. Errors are
 * SN_ERR_FORMAT (malformed or unexpected content, naming the file and the
 * HDF5 path: "m.h5: /model_weights/lstm/kernel:0: a chunk points past the
 * end of the file ..."), SN_ERR_UNSUPPORTED (valid HDF5 seqnn does not read:
 * other filters, virtual datasets, external files), SN_ERR_IO,
 * SN_ERR_NOMEM. */
#ifndef SEQNN_INTEROP_H5_H
#define SEQNN_INTEROP_H5_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

typedef struct sn_h5 sn_h5;

#define SN_H5_MAX_RANK 8

/* Opens the HDF5 file at path read-only. *out is NULL on error. */
sn_status sn_h5_open(sn_h5 **out, const char *path);
/* Opens buf[0..n) (a whole HDF5 file) read-only; `name` is what messages
 * call it. The bytes are copied; buf may be freed afterwards. */
sn_status sn_h5_open_image(sn_h5 **out, const void *buf, size_t n, const char *name);
/* Creates an empty in-memory file for writing. */
sn_status sn_h5_create_image(sn_h5 **out, const char *name);
/* Closes the file and frees everything it holds. NULL is a no-op. */
void sn_h5_close(sn_h5 *f);
/* The name messages use (the path, or the given name). */
const char *sn_h5_name(const sn_h5 *f);

/* 1 when every component of `path` exists and the last one is a group
 * (respectively a dataset), else 0. "" and "/" name the root group. */
int sn_h5_is_group(sn_h5 *f, const char *path);
int sn_h5_is_dataset(sn_h5 *f, const char *path);

/* The member names of group `path` in HDF5's name order (*names malloc'd,
 * each name malloc'd; free with sn_h5_strs_free). */
sn_status sn_h5_list(sn_h5 *f, const char *path, char ***names, size_t *n);
void sn_h5_strs_free(char **s, size_t n);

/* Whether the attribute (or its chunked form name0, name1, ...) exists on
 * the object at path. */
int sn_h5_has_attr(sn_h5 *f, const char *path, const char *attr);
/* A scalar string attribute (or a 1-element array) as a malloc'd
 * NUL-terminated string. Absent: SN_ERR_FORMAT naming it. */
sn_status sn_h5_attr_str(sn_h5 *f, const char *path, const char *attr, char **out);
/* A string-array attribute (1-D, or the chunked form) as malloc'd strings
 * (free with sn_h5_strs_free). */
sn_status sn_h5_attr_strs(sn_h5 *f, const char *path, const char *attr, char ***out, size_t *n);

/* Shape of the numeric dataset at path: *rank (0 for a scalar) and dims. */
sn_status sn_h5_shape(sn_h5 *f, const char *path, int *rank, int64_t dims[SN_H5_MAX_RANK]);
/* Reads the numeric (float or integer) dataset at path, converted to
 * float32, into out[0..numel); numel must equal the dataset's element count
 * (callers check the shape first with sn_h5_shape). */
sn_status sn_h5_read_f32(sn_h5 *f, const char *path, float *out, size_t numel);

/* Writing (files from sn_h5_create_image): creates group `path` and its
 * missing parents; a float32 dataset (rank 0..SN_H5_MAX_RANK); a
 * variable-length UTF-8 string attribute on the object at path. */
sn_status sn_h5_make_group(sn_h5 *f, const char *path);
sn_status sn_h5_write_f32(sn_h5 *f, const char *path, int rank, const int64_t *dims, const float *data);
sn_status sn_h5_set_attr_str(sn_h5 *f, const char *path, const char *attr, const char *value);
/* Flushes and copies the file image into a malloc'd buffer. */
sn_status sn_h5_image(sn_h5 *f, void **buf, size_t *n);

#endif
