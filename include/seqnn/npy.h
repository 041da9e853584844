/* NumPy .npy arrays in and out.
 *
 * Reading: format versions 1.0, 2.0 and 3.0; dtypes f4 f8 i1 i2 i4 i8 u1 u2
 * u4 u8 b1 in either byte order ('<', '>', and '|' for one-byte types);
 * any rank up to 32 including 0-d (numel 1) and zero-size dimensions
 * (numel 0). Fortran-ordered files are accepted and transposed, so the data
 * handed back is always C order (row-major) with the header's shape. The
 * header, a Python dict literal ({'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }), is parsed strictly: exactly those three keys, a
 * tuple of non-negative integers, True/False. The payload must be exactly
 * numel x itemsize bytes; sizes are checked before anything is allocated.
 *
 * Values arrive as float32 by default (float64 rounds to nearest; an
 * integer that float32 cannot hold exactly, or a float64 beyond float32's
 * range, is an error naming the element), or as int64 with opts.as_int64
 * (token ids: every value must be an integer in int64 range, floats
 * included, e.g. 3.0 -> 3, 3.5 -> error).
 *
 * Writing: float32 or int64, little-endian, C order, format 1.0 (2.0 when
 * the header would not fit 1.0), the header padded with spaces to a 64-byte
 * boundary exactly as NumPy 1.24 writes it (the bytes equal np.save's for
 * the same array), through sn_file_write_atomic.
 *
 * Errors: SN_ERR_IO (open/read/write), SN_ERR_FORMAT (malformed file: the
 * message names the file and the header field, or the expected and actual
 * byte counts; also a value the target type cannot hold, naming the
 * element), SN_ERR_UNSUPPORTED (a valid .npy this reader does not take:
 * another dtype, a structured dtype, more than 32 dimensions), SN_ERR_NOMEM
 * (too large / opts.max_bytes). */
#ifndef SEQNN_NPY_H
#define SEQNN_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_NPY_MAX_DIMS 32

typedef struct sn_npy_opts {
    int as_int64;     /* 1: fill i64 instead of f32 (ids); default 0 */
    size_t max_bytes; /* refuse arrays whose data in memory would exceed this; 0 = no limit but
                         the file's own size (the default) */
} sn_npy_opts;

/* An array read from a .npy file. f32 or i64 (exactly one) is owned by the
 * struct, 64-byte aligned, never NULL after a successful read (even when
 * numel is 0), and released by sn_npy_free. */
typedef struct sn_npy {
    int ndim;                        /* 0 for a scalar */
    int64_t shape[SN_NPY_MAX_DIMS];  /* (ndim) */
    size_t numel;                    /* product of shape (1 when ndim is 0) */
    char descr[4];                   /* the file's dtype, e.g. "<f4", ">i8", "|u1" */
    int version;                     /* format major version: 1, 2 or 3 */
    int fortran_order;               /* 1: the file was Fortran-ordered (data transposed to C order) */
    float *f32;                      /* (numel) C order, unless opts.as_int64 */
    int64_t *i64;                    /* (numel) C order, with opts.as_int64 */
} sn_npy;

/* Defaults: float32, no size limit but the file's. */
SN_API void sn_npy_opts_default(sn_npy_opts *o);

/* Reads the .npy file at path (a regular file) into *a (zeroed first; on
 * error it holds nothing to free). opts NULL = defaults. */
SN_API sn_status sn_npy_read(sn_npy *a, const char *path, const sn_npy_opts *opts);

/* Same from memory: buf[0..n) is a whole .npy file; `name` (NULL: "<memory>")
 * is what messages call it, e.g. the member name inside an .npz. */
SN_API sn_status sn_npy_read_mem(sn_npy *a, const void *buf, size_t n, const char *name,
                                 const sn_npy_opts *opts);

/* Releases the data and zeroes *a. NULL is a no-op. */
SN_API void sn_npy_free(sn_npy *a);

/* Writes data (numel = product of shape[0..ndim), C order) as an '<f4' /
 * '<i8' .npy file at path, atomically (nothing changes at path on error).
 * ndim 0 writes a scalar; 0 <= ndim <= SN_NPY_MAX_DIMS, dims >= 0. */
SN_API sn_status sn_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);
SN_API sn_status sn_npy_write_i64(const char *path, const int64_t *data, int ndim, const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
