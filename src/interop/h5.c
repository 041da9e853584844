/* The HDF5 layer over libhdf5: see h5.h. */
#define _POSIX_C_SOURCE 200809L
#include "interop/h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#ifndef SN_HAVE_HDF5

static sn_status no_hdf5_for(const char *what) {
    return sn_error(SN_ERR_UNSUPPORTED, "%s%sthis seqnn was built without HDF5 (install libhdf5-dev, e.g. with "
                                        "scripts/install-deps.sh, and rebuild): Keras .h5 and .keras files need it",
                    what ? what : "", what ? ": " : "");
}
static sn_status no_hdf5(void) { return no_hdf5_for(NULL); }
sn_status sn_h5_open(sn_h5 **out, const char *path) {
    *out = NULL;
    return no_hdf5_for(path);
}
sn_status sn_h5_open_image(sn_h5 **out, const void *buf, size_t n, const char *name) {
    (void)buf, (void)n;
    *out = NULL;
    return no_hdf5_for(name);
}
sn_status sn_h5_create_image(sn_h5 **out, const char *name) {
    (void)name;
    *out = NULL;
    return no_hdf5();
}
void sn_h5_close(sn_h5 *f) { (void)f; }
const char *sn_h5_name(const sn_h5 *f) { return (void)f, ""; }
int sn_h5_is_group(sn_h5 *f, const char *path) { return (void)f, (void)path, 0; }
int sn_h5_is_dataset(sn_h5 *f, const char *path) { return (void)f, (void)path, 0; }
sn_status sn_h5_list(sn_h5 *f, const char *path, char ***names, size_t *n) {
    (void)f, (void)path, *names = NULL, *n = 0;
    return no_hdf5();
}
void sn_h5_strs_free(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}
int sn_h5_has_attr(sn_h5 *f, const char *path, const char *attr) { return (void)f, (void)path, (void)attr, 0; }
sn_status sn_h5_attr_str(sn_h5 *f, const char *path, const char *attr, char **out) {
    (void)f, (void)path, (void)attr, *out = NULL;
    return no_hdf5();
}
sn_status sn_h5_attr_strs(sn_h5 *f, const char *path, const char *attr, char ***out, size_t *n) {
    (void)f, (void)path, (void)attr, *out = NULL, *n = 0;
    return no_hdf5();
}
sn_status sn_h5_shape(sn_h5 *f, const char *path, int *rank, int64_t dims[SN_H5_MAX_RANK]) {
    (void)f, (void)path, (void)dims, *rank = 0;
    return no_hdf5();
}
sn_status sn_h5_read_f32(sn_h5 *f, const char *path, float *out, size_t numel) {
    (void)f, (void)path, (void)out, (void)numel;
    return no_hdf5();
}
sn_status sn_h5_make_group(sn_h5 *f, const char *path) { return (void)f, (void)path, no_hdf5(); }
sn_status sn_h5_write_f32(sn_h5 *f, const char *path, int rank, const int64_t *dims, const float *data) {
    (void)f, (void)path, (void)rank, (void)dims, (void)data;
    return no_hdf5();
}
sn_status sn_h5_set_attr_str(sn_h5 *f, const char *path, const char *attr, const char *value) {
    (void)f, (void)path, (void)attr, (void)value;
    return no_hdf5();
}
sn_status sn_h5_image(sn_h5 *f, void **buf, size_t *n) {
    (void)f, *buf = NULL, *n = 0;
    return no_hdf5();
}

#else /* SN_HAVE_HDF5 */

#include <hdf5.h>
#include <pthread.h>
#include <sys/stat.h>

/* Largest attribute payload read (Keras model configs are a few hundred KiB),
 * and most strings in one attribute (layer and weight name lists are short):
 * a corrupt dataspace can claim billions of variable-length elements, each
 * a global-heap lookup for libhdf5, so the count is checked before the read.
 * (This bounds seqnn's part only: libhdf5 1.10 itself can loop on a corrupt
 * global heap, see docs/deployment.md.) */
#define H5_MAX_ATTR_BYTES ((size_t)64 << 20)
#define H5_MAX_ATTR_STRINGS ((size_t)1 << 20)
/* Variable-length strings cost a global-heap read each, a slow one on a
 * corrupt heap: far fewer of them (h5py writes Keras's name lists as
 * fixed-length strings; the variable-length ones are single config strings). */
#define H5_MAX_ATTR_VLEN 4096

struct sn_h5 {
    hid_t fid;
    int writable;
    char name[512];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_quiet;

static void lock(void) {
    pthread_mutex_lock(&g_lock);
    if (!g_quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* libhdf5 must not print */
        g_quiet = 1;
    }
}
static void unlock(void) { pthread_mutex_unlock(&g_lock); }

/* The innermost description on libhdf5's error stack (the most specific
 * one, e.g. "truncated file: eof = ..."), for messages. */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    char *buf = data;
    if (n == 0 && e->desc) snprintf(buf, 200, "%s", e->desc);
    return 0;
}
static const char *h5_why(char buf[200]) {
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf[0] ? buf : "libhdf5 gave no reason";
}

static sn_status h5_fail(sn_h5 *f, sn_status st, const char *what, const char *path) {
    char why[200];
    return sn_error(st, "%s: %s%s%s: %s", f ? f->name : "?", path ? path : "", path ? ": " : "", what, h5_why(why));
}

static sn_h5 *h5_new(const char *name) {
    sn_h5 *f = sn_calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fid = H5I_INVALID_HID;
    snprintf(f->name, sizeof f->name, "%s", name ? name : "<memory>");
    return f;
}

sn_status sn_h5_open(sn_h5 **out, const char *path) {
    *out = NULL;
    if (!path) return sn_error(SN_ERR_ARG, "sn_h5_open: NULL path");
    struct stat sb;
    if (stat(path, &sb) != 0) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    if (!S_ISREG(sb.st_mode)) return sn_error(SN_ERR_IO, "%s: not a regular file", path);
    sn_h5 *f = h5_new(path);
    if (!f) return SN_ERR_NOMEM;
    lock();
    f->fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    sn_status st = SN_OK;
    if (f->fid < 0) st = h5_fail(f, SN_ERR_FORMAT, "not a readable HDF5 file", NULL);
    unlock();
    if (st) {
        free(f);
        return st;
    }
    *out = f;
    return SN_OK;
}

/* A process-unique name for an in-memory file (the core driver keys open
 * files by name). */
static void mem_name(char *buf, size_t n) {
    static unsigned long counter;
    snprintf(buf, n, "seqnn-mem-%lu.h5", ++counter);
}

sn_status sn_h5_open_image(sn_h5 **out, const void *buf, size_t n, const char *name) {
    *out = NULL;
    if (!buf || n == 0) return sn_error(SN_ERR_FORMAT, "%s: empty HDF5 file", name ? name : "<memory>");
    sn_h5 *f = h5_new(name);
    if (!f) return SN_ERR_NOMEM;
    lock();
    sn_status st = SN_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    char mn[64];
    mem_name(mn, sizeof mn);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_file_image(fapl, (void *)buf, n) < 0)
        st = h5_fail(f, SN_ERR_NOMEM, "cannot set up an in-memory file", NULL);
    else if ((f->fid = H5Fopen(mn, H5F_ACC_RDONLY, fapl)) < 0)
        st = h5_fail(f, SN_ERR_FORMAT, "not a readable HDF5 file", NULL);
    if (fapl >= 0) H5Pclose(fapl);
    unlock();
    if (st) {
        free(f);
        return st;
    }
    *out = f;
    return SN_OK;
}

sn_status sn_h5_create_image(sn_h5 **out, const char *name) {
    *out = NULL;
    sn_h5 *f = h5_new(name);
    if (!f) return SN_ERR_NOMEM;
    lock();
    sn_status st = SN_OK;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    char mn[64];
    mem_name(mn, sizeof mn);
    if (fapl < 0 || fcpl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_obj_track_times(fcpl, 0) < 0)
        st = h5_fail(f, SN_ERR_NOMEM, "cannot set up an in-memory file", NULL);
    else if ((f->fid = H5Fcreate(mn, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
        st = h5_fail(f, SN_ERR_IO, "cannot create an in-memory HDF5 file", NULL);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    unlock();
    if (st) {
        free(f);
        return st;
    }
    f->writable = 1;
    *out = f;
    return SN_OK;
}

void sn_h5_close(sn_h5 *f) {
    if (!f) return;
    lock();
    if (f->fid >= 0) H5Fclose(f->fid);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    free(f);
}

const char *sn_h5_name(const sn_h5 *f) { return f ? f->name : ""; }

/* "" and "/" are the root group. */
static const char *rel(const char *path) { return (!path || !path[0]) ? "/" : path; }

/* Opens the object at path when it is a group (kind 0) or a dataset (kind
 * 1), else returns a negative id. Each component must exist as a link
 * first (H5Lexists on a missing parent is an error, not a 0). */
static hid_t open_kind(sn_h5 *f, const char *path, int kind) {
    const char *p = rel(path);
    if (strcmp(p, "/")) {
        char part[1024];
        size_t len = strlen(p);
        if (len >= sizeof part) return H5I_INVALID_HID;
        for (size_t i = 1; i <= len; i++)
            if (p[i] == '/' || p[i] == 0) {
                memcpy(part, p, i);
                part[i] = 0;
                if (H5Lexists(f->fid, part, H5P_DEFAULT) <= 0) {
                    H5Eclear2(H5E_DEFAULT);
                    return H5I_INVALID_HID;
                }
            }
    }
    /* Opening as the wanted kind fails cleanly for the other kind (no
     * H5Oget_info: its signature differs between 1.10 and 1.12). */
    hid_t id = kind == 0 ? H5Gopen2(f->fid, p, H5P_DEFAULT) : H5Dopen2(f->fid, p, H5P_DEFAULT);
    if (id >= 0) return id;
    H5Eclear2(H5E_DEFAULT);
    return H5I_INVALID_HID;
}

int sn_h5_is_group(sn_h5 *f, const char *path) {
    lock();
    hid_t g = open_kind(f, path, 0);
    if (g >= 0) H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return g >= 0;
}

int sn_h5_is_dataset(sn_h5 *f, const char *path) {
    lock();
    hid_t d = open_kind(f, path, 1);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return d >= 0;
}

void sn_h5_strs_free(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

sn_status sn_h5_list(sn_h5 *f, const char *path, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    lock();
    sn_status st = SN_OK;
    char **v = NULL;
    size_t k = 0;
    hid_t g = open_kind(f, path, 0);
    H5G_info_t gi;
    if (g < 0) {
        st = sn_error(SN_ERR_FORMAT, "%s: %s: no such group", f->name, rel(path));
        goto done;
    }
    if (H5Gget_info(g, &gi) < 0) {
        st = h5_fail(f, SN_ERR_FORMAT, "cannot read the group", rel(path));
        goto done;
    }
    if (gi.nlinks > 1000000) {
        st = sn_error(SN_ERR_FORMAT, "%s: %s: %llu members is implausible", f->name, rel(path),
                      (unsigned long long)gi.nlinks);
        goto done;
    }
    v = sn_calloc(gi.nlinks ? gi.nlinks : 1, sizeof *v);
    if (!v) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    for (k = 0; k < gi.nlinks; k++) {
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, NULL, 0, H5P_DEFAULT);
        if (len < 0 || len > 65536) {
            st = h5_fail(f, SN_ERR_FORMAT, "cannot read a member name", rel(path));
            break;
        }
        v[k] = sn_malloc((size_t)len + 1, 1);
        if (!v[k]) {
            st = SN_ERR_NOMEM;
            break;
        }
        if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, v[k], (size_t)len + 1, H5P_DEFAULT) < 0) {
            free(v[k]);
            st = h5_fail(f, SN_ERR_FORMAT, "cannot read a member name", rel(path));
            break;
        }
    }
done:
    if (g >= 0) H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    if (st) {
        sn_h5_strs_free(v, k);
        return st;
    }
    *names = v;
    *n = k;
    return SN_OK;
}

/* Reads attribute `attr` of the object at path as strings: every element of
 * a scalar or 1-D string attribute, fixed or variable length. Trailing NUL
 * (and, for space-padded types, space) bytes are dropped. Appends to
 * (*v, *k) (capacity managed here). 0 when absent (SN_OK and nothing added,
 * *found 0). */
static sn_status read_attr_strings(sn_h5 *f, const char *path, const char *attr, char ***v, size_t *k, int *found) {
    *found = 0;
    htri_t ex = H5Aexists_by_name(f->fid, rel(path), attr, H5P_DEFAULT);
    if (ex <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return SN_OK;
    }
    *found = 1;
    sn_status st = SN_OK;
    hid_t a = H5Aopen_by_name(f->fid, rel(path), attr, H5P_DEFAULT, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID, sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    hid_t mt = H5I_INVALID_HID;
    char *raw = NULL;
    char **vl = NULL;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (a < 0 || ft < 0 || sp < 0 || np < 0 || nd < 0) {
        st = h5_fail(f, SN_ERR_FORMAT, "cannot read attribute", attr);
        goto done;
    }
    if (np == 0) goto done; /* an empty list, of whatever type (Keras 2 writes float64 [] for no weights) */
    if (H5Tget_class(ft) != H5T_STRING || nd > 1) {
        st = sn_error(SN_ERR_FORMAT, "%s: %s: attribute %s is not a string or a list of strings", f->name, rel(path),
                      attr);
        goto done;
    }
    size_t cnt = (size_t)np;
    if (cnt > H5_MAX_ATTR_STRINGS - *k) {
        st = sn_error(SN_ERR_FORMAT, "%s: %s: attribute %s claims %zu strings, more than the %zu allowed", f->name,
                      rel(path), attr, cnt, H5_MAX_ATTR_STRINGS);
        goto done;
    }
    char **nv = sn_realloc(*v, *k + cnt + 1, sizeof **v);
    if (!nv) {
        st = SN_ERR_NOMEM;
        goto done;
    }
    *v = nv;
    htri_t var = H5Tis_variable_str(ft);
    if (var < 0) {
        st = h5_fail(f, SN_ERR_FORMAT, "cannot read attribute", attr);
        goto done;
    }
    if (var) {
        if (cnt > H5_MAX_ATTR_VLEN) {
            st = sn_error(SN_ERR_FORMAT, "%s: %s: attribute %s claims %zu variable-length strings, more than the %d allowed",
                          f->name, rel(path), attr, cnt, H5_MAX_ATTR_VLEN);
            goto done;
        }
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
            !(vl = sn_calloc(cnt ? cnt : 1, sizeof *vl)) || H5Aread(a, mt, vl) < 0) {
            st = vl ? h5_fail(f, SN_ERR_FORMAT, "cannot read attribute", attr) : SN_ERR_NOMEM;
            goto done;
        }
        size_t total = 0;
        for (size_t i = 0; i < cnt && !st; i++) {
            size_t len = vl[i] ? strlen(vl[i]) : 0;
            total += len;
            if (total > H5_MAX_ATTR_BYTES) st = sn_error(SN_ERR_FORMAT, "%s: attribute %s is too large", f->name, attr);
            else if (!((*v)[*k] = sn_malloc(len + 1, 1)))
                st = SN_ERR_NOMEM;
            else {
                memcpy((*v)[*k], vl[i] ? vl[i] : "", len + 1);
                (*k)++;
            }
        }
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, sp, H5P_DEFAULT, vl);
#else
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, vl);
#endif
    } else {
        size_t sz = H5Tget_size(ft);
        if (sz == 0 || (cnt && sz > H5_MAX_ATTR_BYTES / cnt)) {
            st = sn_error(SN_ERR_FORMAT, "%s: attribute %s is too large", f->name, attr);
            goto done;
        }
        H5T_str_t pad = H5Tget_strpad(ft);
        mt = H5Tcopy(ft);
        raw = sn_calloc(cnt * sz + 1, 1);
        if (mt < 0 || !raw) {
            st = SN_ERR_NOMEM;
            goto done;
        }
        if (H5Aread(a, mt, raw) < 0) {
            st = h5_fail(f, SN_ERR_FORMAT, "cannot read attribute", attr);
            goto done;
        }
        for (size_t i = 0; i < cnt; i++) {
            const char *s = raw + i * sz;
            size_t len = 0;
            while (len < sz && s[len]) len++;
            if (pad == H5T_STR_SPACEPAD)
                while (len > 0 && s[len - 1] == ' ') len--;
            if (!((*v)[*k] = sn_malloc(len + 1, 1))) {
                st = SN_ERR_NOMEM;
                break;
            }
            memcpy((*v)[*k], s, len);
            (*v)[*k][len] = 0;
            (*k)++;
        }
    }
done:
    free(raw);
    free(vl);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* The attribute itself, or Keras's chunked form attr0, attr1, ... (written
 * when the list exceeds the object-header limit), concatenated. */
static sn_status read_attr_all(sn_h5 *f, const char *path, const char *attr, char ***out, size_t *n, int *found) {
    char **v = NULL;
    size_t k = 0;
    sn_status st = read_attr_strings(f, path, attr, &v, &k, found);
    if (!st && !*found) {
        for (int c = 0; c < 100000; c++) {
            char nm[300];
            int one;
            snprintf(nm, sizeof nm, "%.250s%d", attr, c);
            if ((st = read_attr_strings(f, path, nm, &v, &k, &one)) || !one) break;
            *found = 1;
        }
    }
    if (st) {
        sn_h5_strs_free(v, k);
        return st;
    }
    *out = v;
    *n = k;
    return SN_OK;
}

int sn_h5_has_attr(sn_h5 *f, const char *path, const char *attr) {
    lock();
    char nm[300];
    snprintf(nm, sizeof nm, "%.250s0", attr);
    int r = H5Aexists_by_name(f->fid, rel(path), attr, H5P_DEFAULT) > 0 ||
            H5Aexists_by_name(f->fid, rel(path), nm, H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return r;
}

sn_status sn_h5_attr_strs(sn_h5 *f, const char *path, const char *attr, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    lock();
    int found;
    sn_status st = read_attr_all(f, path, attr, out, n, &found);
    unlock();
    if (!st && !found) {
        sn_h5_strs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return sn_error(SN_ERR_FORMAT, "%s: %s: missing attribute %s", f->name, rel(path), attr);
    }
    return st;
}

sn_status sn_h5_attr_str(sn_h5 *f, const char *path, const char *attr, char **out) {
    *out = NULL;
    char **v;
    size_t n;
    sn_status st = sn_h5_attr_strs(f, path, attr, &v, &n);
    if (st) return st;
    if (n != 1) {
        sn_h5_strs_free(v, n);
        return sn_error(SN_ERR_FORMAT, "%s: %s: attribute %s holds %zu strings, expected one", f->name, rel(path),
                        attr, n);
    }
    *out = v[0];
    free(v);
    return SN_OK;
}

/* Opens the dataset at path and checks it is numeric with a simple (or
 * scalar) dataspace of rank <= SN_H5_MAX_RANK. */
static sn_status open_numeric(sn_h5 *f, const char *path, hid_t *d, hid_t *sp, int *rank, int64_t *dims) {
    *d = open_kind(f, path, 1);
    *sp = H5I_INVALID_HID;
    if (*d < 0) return sn_error(SN_ERR_FORMAT, "%s: %s: no such dataset", f->name, rel(path));
    hid_t t = H5Dget_type(*d);
    H5T_class_t cl = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (t >= 0) H5Tclose(t);
    if (cl != H5T_FLOAT && cl != H5T_INTEGER)
        return sn_error(SN_ERR_FORMAT, "%s: %s: dataset is not numeric", f->name, rel(path));
    *sp = H5Dget_space(*d);
    int nd = *sp >= 0 ? H5Sget_simple_extent_ndims(*sp) : -1;
    if (nd < 0) return h5_fail(f, SN_ERR_FORMAT, "cannot read the dataset's shape", rel(path));
    if (nd > SN_H5_MAX_RANK)
        return sn_error(SN_ERR_FORMAT, "%s: %s: rank %d is more than %d", f->name, rel(path), nd, SN_H5_MAX_RANK);
    hsize_t hd[SN_H5_MAX_RANK];
    if (H5Sget_simple_extent_dims(*sp, hd, NULL) < 0)
        return h5_fail(f, SN_ERR_FORMAT, "cannot read the dataset's shape", rel(path));
    *rank = nd;
    for (int i = 0; i < nd; i++) {
        if (hd[i] > ((hsize_t)1 << 40)) return sn_error(SN_ERR_FORMAT, "%s: %s: dimension too large", f->name, rel(path));
        dims[i] = (int64_t)hd[i];
    }
    return SN_OK;
}

sn_status sn_h5_shape(sn_h5 *f, const char *path, int *rank, int64_t dims[SN_H5_MAX_RANK]) {
    *rank = 0;
    lock();
    hid_t d, sp;
    sn_status st = open_numeric(f, path, &d, &sp, rank, dims);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

sn_status sn_h5_read_f32(sn_h5 *f, const char *path, float *out, size_t numel) {
    lock();
    hid_t d, sp;
    int rank;
    int64_t dims[SN_H5_MAX_RANK];
    sn_status st = open_numeric(f, path, &d, &sp, &rank, dims);
    if (!st) {
        size_t n = 1;
        for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
        if (n != numel)
            st = sn_error(SN_ERR_FORMAT, "%s: %s: dataset has %zu elements, expected %zu", f->name, rel(path), n, numel);
        else if (n && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
            st = h5_fail(f, SN_ERR_FORMAT, "cannot read the dataset", rel(path));
    }
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

/* ---- writing ---- */

static sn_status need_writable(sn_h5 *f) {
    return f->writable ? SN_OK : sn_error(SN_ERR_STATE, "%s: opened read-only", f->name);
}

/* Creates each missing component of path as a group without times. */
static sn_status make_groups(sn_h5 *f, const char *path, int last_too) {
    const char *p = rel(path);
    size_t len = strlen(p);
    char part[1024];
    if (len >= sizeof part) return sn_error(SN_ERR_ARG, "%s: HDF5 path too long", f->name);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0) {
        if (gcpl >= 0) H5Pclose(gcpl);
        return h5_fail(f, SN_ERR_NOMEM, "cannot make a group property list", p);
    }
    sn_status st = SN_OK;
    for (size_t i = 1; i <= len && !st; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        if (p[i] == 0 && !last_too) break;
        memcpy(part, p, i);
        part[i] = 0;
        htri_t ex = H5Lexists(f->fid, part, H5P_DEFAULT);
        if (ex > 0) continue;
        hid_t g = H5Gcreate2(f->fid, part, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        if (g < 0)
            st = h5_fail(f, SN_ERR_IO, "cannot create group", part);
        else
            H5Gclose(g);
    }
    H5Pclose(gcpl);
    return st;
}

sn_status sn_h5_make_group(sn_h5 *f, const char *path) {
    lock();
    sn_status st = need_writable(f);
    if (!st && strcmp(rel(path), "/")) st = make_groups(f, path, 1);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

sn_status sn_h5_write_f32(sn_h5 *f, const char *path, int rank, const int64_t *dims, const float *data) {
    if (rank < 0 || rank > SN_H5_MAX_RANK) return sn_error(SN_ERR_ARG, "sn_h5_write_f32: rank %d", rank);
    lock();
    sn_status st = need_writable(f);
    hid_t sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, d = H5I_INVALID_HID;
    if (!st) st = make_groups(f, path, 0);
    if (!st) {
        hsize_t hd[SN_H5_MAX_RANK];
        for (int i = 0; i < rank; i++) hd[i] = (hsize_t)dims[i];
        sp = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (sp < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)
            st = h5_fail(f, SN_ERR_NOMEM, "cannot make a dataspace", path);
        else if ((d = H5Dcreate2(f->fid, path, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
            st = h5_fail(f, SN_ERR_IO, "cannot create dataset", path);
        else if (H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            st = h5_fail(f, SN_ERR_IO, "cannot write dataset", path);
    }
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

sn_status sn_h5_set_attr_str(sn_h5 *f, const char *path, const char *attr, const char *value) {
    lock();
    sn_status st = need_writable(f);
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (!st) {
        t = H5Tcopy(H5T_C_S1);
        sp = H5Screate(H5S_SCALAR);
        if (t < 0 || sp < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)
            st = h5_fail(f, SN_ERR_NOMEM, "cannot make a string type", path);
        else if ((a = H5Acreate_by_name(f->fid, rel(path), attr, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            st = h5_fail(f, SN_ERR_IO, "cannot create attribute", attr);
        else if (H5Awrite(a, t, &value) < 0)
            st = h5_fail(f, SN_ERR_IO, "cannot write attribute", attr);
    }
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

sn_status sn_h5_image(sn_h5 *f, void **buf, size_t *n) {
    *buf = NULL;
    *n = 0;
    lock();
    sn_status st = SN_OK;
    ssize_t len = -1;
    if (H5Fflush(f->fid, H5F_SCOPE_GLOBAL) < 0 || (len = H5Fget_file_image(f->fid, NULL, 0)) <= 0)
        st = h5_fail(f, SN_ERR_IO, "cannot take the file image", NULL);
    else if (!(*buf = sn_malloc((size_t)len, 1)))
        st = SN_ERR_NOMEM;
    else if (H5Fget_file_image(f->fid, *buf, (size_t)len) != len) {
        free(*buf);
        *buf = NULL;
        st = h5_fail(f, SN_ERR_IO, "cannot take the file image", NULL);
    } else
        *n = (size_t)len;
    H5Eclear2(H5E_DEFAULT);
    unlock();
    return st;
}

#endif /* SN_HAVE_HDF5 */
