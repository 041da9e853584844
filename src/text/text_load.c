/* Corpus loading like keras.utils.text_dataset_from_directory (labels
 * "inferred"), from a directory tree or from an archive read by libarchive
 * in a single streaming pass (several sub-folders at once, so the IMDB
 * .tar.xz is decompressed once for train and test).
 *
 * Keras's order (docs/keras-semantics.md §12): classes in sorted order (or the
 * explicit list), then for each class os.walk sorted by directory path, then
 * file names sorted. We collect (class, dir, name) keys and sort them, so a
 * directory and an archive give the same corpus whatever the member order.
 *
 * Decisions (documented in text.h): files are kept as raw bytes (no UTF-8
 * validation), NUL bytes become ' ' so texts are C strings, files over the
 * size cap are an error by default (or skipped / truncated on request). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "core/internal.h"
#include "data/stream.h"
#include "seqnn/text.h"

#define SN_TEXT_DEFAULT_CAP ((size_t)10 << 20)
#define SN_TEXT_MAX_DEPTH 64

void sn_text_load_opts_default(sn_text_load_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_file_bytes = SN_TEXT_DEFAULT_CAP;
    o->oversize = SN_TEXT_OVERSIZE_ERROR;
}

/* ---- small helpers ---- */

static char *dup_n(const char *s, size_t n) {
    char *d = sn_malloc(n + 1, 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static int ends_with_txt(const char *name) {
    size_t n = strlen(name);
    if (n < 4) return 0;
    const char *e = name + n - 4;
    return e[0] == '.' && (e[1] | 32) == 't' && (e[2] | 32) == 'x' && (e[3] | 32) == 't';
}

static int cmp_bytes(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One file found: key (class name, dir within class, file name) and contents. */
typedef struct entry {
    char *cls;
    char *dir;
    char *name;
    char *data;
    size_t len;
    int label;
} entry;

/* Per-request state. */
typedef struct request {
    const sn_text_load_opts *o;
    char subdir[1024]; /* normalised: no leading "./", no trailing '/' */
    size_t subdir_len;
    int subdir_seen;
    entry *e;
    size_t n, cap;
    char **classes; /* immediate sub-folders seen */
    int n_classes, cap_classes;
    size_t max_bytes;
} request;

static void request_free(request *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->e[i].cls);
        free(r->e[i].dir);
        free(r->e[i].name);
        free(r->e[i].data);
    }
    free(r->e);
    for (int k = 0; k < r->n_classes; k++) free(r->classes[k]);
    free(r->classes);
    memset(r, 0, sizeof *r);
}

static sn_status note_class(request *r, const char *name, size_t n) {
    for (int k = 0; k < r->n_classes; k++)
        if (strlen(r->classes[k]) == n && memcmp(r->classes[k], name, n) == 0) return SN_OK;
    if (r->n_classes == r->cap_classes) {
        int nc = r->cap_classes ? 2 * r->cap_classes : 8;
        char **p = sn_realloc(r->classes, (size_t)nc, sizeof *p);
        if (!p) return SN_ERR_NOMEM;
        r->classes = p;
        r->cap_classes = nc;
    }
    r->classes[r->n_classes] = dup_n(name, n);
    if (!r->classes[r->n_classes]) return SN_ERR_NOMEM;
    r->n_classes++;
    return SN_OK;
}

/* Is class `name` selected by this request? (before the class list is final:
 * explicit list membership, or inferred and not hidden) */
static int class_wanted(const request *r, const char *name, size_t n) {
    if (r->o->class_names) {
        for (int k = 0; k < r->o->n_class_names; k++)
            if (strlen(r->o->class_names[k]) == n && memcmp(r->o->class_names[k], name, n) == 0) return 1;
        return 0;
    }
    return n > 0 && name[0] != '.';
}

static sn_status push_entry(request *r, const char *cls, size_t cls_n, const char *dir, size_t dir_n,
                            const char *name, const char *data, size_t len, int take_data, char *owned) {
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 256;
        entry *p = sn_realloc(r->e, nc, sizeof *p);
        if (!p) return SN_ERR_NOMEM;
        r->e = p;
        r->cap = nc;
    }
    entry *e = &r->e[r->n];
    memset(e, 0, sizeof *e);
    e->cls = dup_n(cls, cls_n);
    e->dir = dup_n(dir, dir_n);
    e->name = dup_n(name, strlen(name));
    if (take_data) {
        e->data = owned;
    } else {
        e->data = dup_n(data, len);
    }
    e->len = len;
    r->n++;
    if (!e->cls || !e->dir || !e->name || !e->data) return SN_ERR_NOMEM;
    return SN_OK;
}

/* Applies the per-request size policy to a buffer of `len` bytes (the
 * reader stops at cap+1, so len > cap means oversize). Returns 0 = keep,
 * 1 = skip, or an error status (< 0). */
static int size_policy(const request *r, const char *where, size_t *len) {
    if (*len > r->max_bytes) {
        switch (r->o->oversize) {
        case SN_TEXT_OVERSIZE_SKIP:
            sn_log(SN_LOG_WARN, "%s: larger than %zu bytes, skipped", where, r->max_bytes);
            return 1;
        case SN_TEXT_OVERSIZE_TRUNCATE:
            *len = r->max_bytes;
            break;
        default:
            return sn_error(SN_ERR_FORMAT, "%s: file larger than the %zu-byte cap (max_file_bytes)", where,
                            r->max_bytes);
        }
    }
    if (r->o->max_length && *len > r->o->max_length) *len = r->o->max_length;
    return 0;
}

static void clean_nul(char *d, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (d[i] == 0) d[i] = ' ';
    d[len] = 0;
}

/* ---- assembling a corpus from collected entries ---- */

static int cmp_entry(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    int c = strcmp(a->dir, b->dir);
    if (c) return c;
    return strcmp(a->name, b->name);
}

static sn_status finish(request *r, const char *where, sn_text_corpus *out) {
    const sn_text_load_opts *o = r->o;
    if (!r->subdir_seen) return sn_error(SN_ERR_ARG, "%s: folder '%s' not found", where, r->subdir);
    /* final class list */
    char **names = NULL;
    int nc = 0;
    if (o->class_names) {
        if (o->n_class_names <= 0) return sn_error(SN_ERR_ARG, "%s: empty class_names list", where);
        for (int k = 0; k < o->n_class_names; k++) {
            int found = 0;
            for (int j = 0; j < r->n_classes; j++) found |= strcmp(r->classes[j], o->class_names[k]) == 0;
            for (int j = 0; j < k; j++)
                if (strcmp(o->class_names[j], o->class_names[k]) == 0)
                    return sn_error(SN_ERR_ARG, "%s: class '%s' listed twice", where, o->class_names[k]);
            if (!found)
                return sn_error(SN_ERR_ARG, "%s: class '%s' is not a sub-folder of '%s'", where, o->class_names[k],
                                r->subdir[0] ? r->subdir : ".");
        }
        nc = o->n_class_names;
        names = sn_calloc((size_t)nc, sizeof *names);
        if (!names) return SN_ERR_NOMEM;
        for (int k = 0; k < nc; k++) names[k] = dup_n(o->class_names[k], strlen(o->class_names[k]));
    } else {
        for (int j = 0; j < r->n_classes; j++) nc += r->classes[j][0] != '.';
        if (nc == 0)
            return sn_error(SN_ERR_ARG, "%s: no class sub-folder under '%s'", where, r->subdir[0] ? r->subdir : ".");
        names = sn_calloc((size_t)nc, sizeof *names);
        if (!names) return SN_ERR_NOMEM;
        int k = 0;
        for (int j = 0; j < r->n_classes; j++)
            if (r->classes[j][0] != '.') names[k++] = dup_n(r->classes[j], strlen(r->classes[j]));
        qsort(names, (size_t)nc, sizeof *names, cmp_bytes);
    }
    sn_status st = SN_OK;
    for (int k = 0; k < nc; k++)
        if (!names[k]) st = SN_ERR_NOMEM;
    /* labels */
    for (size_t i = 0; i < r->n && st == SN_OK; i++) {
        r->e[i].label = -1;
        for (int k = 0; k < nc; k++)
            if (strcmp(r->e[i].cls, names[k]) == 0) r->e[i].label = k;
        SN_ASSERT(r->e[i].label >= 0);
    }
    if (st == SN_OK && r->n > 1) qsort(r->e, r->n, sizeof *r->e, cmp_entry);
    sn_text_corpus c = {0};
    c.n_classes = nc;
    c.class_names = names;
    if (st == SN_OK && r->n) {
        c.texts = sn_calloc(r->n, sizeof *c.texts);
        c.paths = sn_calloc(r->n, sizeof *c.paths);
        c.lengths = sn_calloc(r->n, sizeof *c.lengths);
        c.labels = sn_calloc(r->n, sizeof *c.labels);
        if (!c.texts || !c.paths || !c.lengths || !c.labels) st = SN_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->n && st == SN_OK; i++) {
        entry *e = &r->e[i];
        size_t pl = strlen(e->cls) + strlen(e->dir) + strlen(e->name) + 3;
        char *p = sn_malloc(pl, 1);
        if (!p) {
            st = SN_ERR_NOMEM;
            break;
        }
        if (e->dir[0])
            snprintf(p, pl, "%s/%s/%s", e->cls, e->dir, e->name);
        else
            snprintf(p, pl, "%s/%s", e->cls, e->name);
        c.texts[i] = e->data;
        e->data = NULL;
        c.paths[i] = p;
        c.lengths[i] = e->len;
        c.labels[i] = e->label;
        c.n = i + 1;
    }
    if (st != SN_OK) {
        if (!c.texts) c.n = 0;
        sn_text_corpus_free(&c);
        return st;
    }
    *out = c;
    return SN_OK;
}

/* ---- archive reading ---- */

/* Strips "./" prefixes and repeated '/'. Writes into buf (cap). */
static const char *norm_member(const char *p, char *buf, size_t cap) {
    while (p[0] == '.' && p[1] == '/') p += 2;
    while (p[0] == '/') p++;
    size_t j = 0;
    for (size_t i = 0; p[i] && j + 1 < cap; i++) {
        if (p[i] == '/' && j > 0 && buf[j - 1] == '/') continue;
        buf[j++] = p[i];
    }
    buf[j] = 0;
    return buf;
}

static sn_status load_archive(request *rq, int nr, const char *path) {
    sn_stream a;
    sn_status st = sn_archive_open(&a, path);
    if (st != SN_OK) return st;
    char nb[4096], where[4600];
    for (;;) {
        const char *raw = NULL;
        int is_dir, is_reg, got;
        if ((st = sn_archive_next(&a, &raw, &is_dir, &is_reg, &got)) != SN_OK || !got) break;
        if (!raw) continue;
        const char *m = norm_member(raw, nb, sizeof nb);
        char *data = NULL;
        size_t dlen = 0;
        for (int q = 0; q < nr && st == SN_OK; q++) {
            request *r = &rq[q];
            const char *rest;
            if (r->subdir_len == 0) {
                rest = m;
                r->subdir_seen = 1;
            } else {
                if (strncmp(m, r->subdir, r->subdir_len) != 0) continue;
                if (m[r->subdir_len] == 0) {
                    r->subdir_seen |= is_dir;
                    continue;
                }
                if (m[r->subdir_len] != '/') continue;
                r->subdir_seen = 1;
                rest = m + r->subdir_len + 1;
            }
            const char *slash = strchr(rest, '/');
            if (!slash) {
                /* a top-level file is ignored; a top-level folder is a class */
                if (is_dir && rest[0]) st = note_class(r, rest, strlen(rest));
                continue;
            }
            size_t cls_n = (size_t)(slash - rest);
            if (cls_n == 0) continue;
            st = note_class(r, rest, cls_n);
            if (st != SN_OK || !is_reg) continue;
            const char *rel = slash + 1;
            const char *base = strrchr(rel, '/');
            const char *name = base ? base + 1 : rel;
            size_t dir_n = base ? (size_t)(base - rel) : 0;
            if (!ends_with_txt(name) || !class_wanted(r, rest, cls_n)) continue;
            snprintf(where, sizeof where, "%s:%s", path, m);
            if (!data) {
                /* read once at the largest cap any request needs */
                size_t cap = 0;
                for (int j = 0; j < nr; j++) cap = SN_MAX(cap, rq[j].max_bytes);
                st = sn_stream_read_all(&a, cap, &data, &dlen);
                if (st != SN_OK) break;
                clean_nul(data, dlen);
            }
            size_t len = dlen;
            int pol = size_policy(r, where, &len);
            if (pol < 0) {
                st = (sn_status)pol;
                break;
            }
            if (pol == 1) continue;
            /* the buffer is shared by every request matching this member:
             * each keeps its own copy of its first `len` bytes */
            st = push_entry(r, rest, cls_n, rel, dir_n, name, data, len, 0, NULL);
        }
        free(data);
        if (st != SN_OK) break;
    }
    sn_stream_close(&a);
    return st;
}

/* ---- directory reading ---- */

/* The first cap + 1 bytes of file fp, as they are on disk. */
static sn_status read_file_capped(const char *fp, size_t cap, char **out, size_t *len) {
    sn_stream s;
    sn_stream_opts o = {1, NULL, 0};
    sn_status st = sn_stream_open(&s, fp, &o);
    if (st == SN_OK) st = sn_stream_read_all(&s, cap, out, len);
    sn_stream_close(&s);
    return st;
}

/* dst = a "/" b; an error naming the path when it does not fit. */
static sn_status join_path(char *dst, size_t cap, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap) return sn_error(SN_ERR_ARG, "%s/%s: path longer than %zu bytes", a, b, cap - 1);
    memcpy(dst, a, la);
    dst[la] = '/';
    memcpy(dst + la + 1, b, lb + 1);
    return SN_OK;
}

static int is_dir_path(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Lists the names in a directory (no "." / ".."), sorted. */
static sn_status list_dir(const char *p, char ***names, size_t *n) {
    DIR *d = opendir(p);
    if (!d) return sn_error(SN_ERR_IO, "%s: cannot open folder: %s", p, strerror(errno));
    char **v = NULL;
    size_t k = 0, cap = 0;
    sn_status st = SN_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (k == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = sn_realloc(v, cap, sizeof *nv);
            if (!nv) {
                st = SN_ERR_NOMEM;
                break;
            }
            v = nv;
        }
        v[k] = dup_n(de->d_name, strlen(de->d_name));
        if (!v[k]) {
            st = SN_ERR_NOMEM;
            break;
        }
        k++;
    }
    closedir(d);
    if (st != SN_OK) {
        for (size_t i = 0; i < k; i++) free(v[i]);
        free(v);
        return st;
    }
    if (k > 1) qsort(v, k, sizeof *v, cmp_bytes);
    *names = v;
    *n = k;
    return SN_OK;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Walks class folder `base`/`rel` recursively collecting *.txt files. */
static sn_status walk_class(request *r, const char *cls, const char *base, const char *rel, int depth) {
    if (depth > SN_TEXT_MAX_DEPTH)
        return sn_error(SN_ERR_ARG, "%s/%s: folders nested deeper than %d (symlink loop?)", base, rel,
                        SN_TEXT_MAX_DEPTH);
    char dp[4096];
    sn_status st = rel[0] ? join_path(dp, sizeof dp, base, rel) : join_path(dp, sizeof dp, base, "");
    if (st != SN_OK) return st;
    if (!rel[0]) dp[strlen(base)] = 0;
    char **names;
    size_t n;
    st = list_dir(dp, &names, &n);
    if (st != SN_OK) return st;
    char fp[4096], sub[4096];
    /* files of this folder first (Keras: sorted roots, "" < "x") */
    for (size_t i = 0; i < n && st == SN_OK; i++) {
        st = join_path(fp, sizeof fp, dp, names[i]);
        if (st != SN_OK) break;
        struct stat sb;
        if (stat(fp, &sb) != 0 || !S_ISREG(sb.st_mode) || !ends_with_txt(names[i])) continue;
        char *data = NULL;
        size_t dlen = 0;
        if (r->o->index_only) { /* the size the capped read would see; the text stays "" */
            dlen = SN_MIN((size_t)sb.st_size, r->max_bytes + 1);
            if (!(data = dup_n("", 0))) st = SN_ERR_NOMEM;
        } else
            st = read_file_capped(fp, r->max_bytes, &data, &dlen);
        if (st != SN_OK) break;
        size_t len = dlen;
        int pol = size_policy(r, fp, &len);
        if (pol != 0) {
            free(data);
            if (pol < 0) st = (sn_status)pol;
            continue;
        }
        if (r->o->index_only) len = 0;
        else {
            clean_nul(data, dlen);
            data[len] = 0;
        }
        st = push_entry(r, cls, strlen(cls), rel, strlen(rel), names[i], NULL, len, 1, data);
    }
    for (size_t i = 0; i < n && st == SN_OK; i++) {
        st = join_path(fp, sizeof fp, dp, names[i]);
        if (st != SN_OK) break;
        if (!is_dir_path(fp)) continue;
        st = rel[0] ? join_path(sub, sizeof sub, rel, names[i]) : join_path(sub, sizeof sub, names[i], "");
        if (st != SN_OK) break;
        if (!rel[0]) sub[strlen(names[i])] = 0;
        st = walk_class(r, cls, base, sub, depth + 1);
    }
    free_names(names, n);
    return st;
}

static sn_status load_dir(request *r, const char *path) {
    char root[4096];
    sn_status st = join_path(root, sizeof root, path, r->subdir);
    if (st != SN_OK) return st;
    if (!r->subdir_len) root[strlen(path)] = 0;
    if (!is_dir_path(root)) return SN_OK; /* finish() reports the missing folder */
    r->subdir_seen = 1;
    char **names;
    size_t n;
    st = list_dir(root, &names, &n);
    if (st != SN_OK) return st;
    char cp[4096];
    for (size_t i = 0; i < n && st == SN_OK; i++) {
        st = join_path(cp, sizeof cp, root, names[i]);
        if (st != SN_OK) break;
        if (!is_dir_path(cp)) continue;
        st = note_class(r, names[i], strlen(names[i]));
        if (st == SN_OK && class_wanted(r, names[i], strlen(names[i]))) st = walk_class(r, names[i], cp, "", 0);
    }
    free_names(names, n);
    return st;
}

/* ---- public entry points ---- */

sn_status sn_text_load_multi(sn_text_corpus *out, const char *path, const sn_text_load_opts *opts, int n) {
    if (!out || !path || n <= 0) return sn_error(SN_ERR_ARG, "sn_text_load: NULL output or path, or n <= 0");
    for (int i = 0; i < n; i++) memset(&out[i], 0, sizeof out[i]);
    sn_text_load_opts defaults;
    sn_text_load_opts_default(&defaults);
    request *rq = sn_calloc((size_t)n, sizeof *rq);
    if (!rq) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    for (int i = 0; i < n && st == SN_OK; i++) {
        request *r = &rq[i];
        r->o = opts ? &opts[i] : &defaults;
        const char *s = r->o->subdir ? r->o->subdir : "";
        norm_member(s, r->subdir, sizeof r->subdir);
        r->subdir_len = strlen(r->subdir);
        while (r->subdir_len && r->subdir[r->subdir_len - 1] == '/') r->subdir[--r->subdir_len] = 0;
        r->max_bytes = r->o->max_file_bytes ? r->o->max_file_bytes : SN_TEXT_DEFAULT_CAP;
        if ((unsigned)r->o->oversize > SN_TEXT_OVERSIZE_TRUNCATE)
            st = sn_error(SN_ERR_ARG, "sn_text_load: invalid oversize policy %d", (int)r->o->oversize);
        if (r->o->class_names && r->o->n_class_names <= 0)
            st = sn_error(SN_ERR_ARG, "sn_text_load: class_names given with n_class_names %d", r->o->n_class_names);
        for (int k = 0; st == SN_OK && r->o->class_names && k < r->o->n_class_names; k++)
            if (!r->o->class_names[k] || !r->o->class_names[k][0])
                st = sn_error(SN_ERR_ARG, "sn_text_load: class_names[%d] is NULL or empty", k);
    }
    struct stat sb;
    if (st == SN_OK && stat(path, &sb) != 0) st = sn_error(SN_ERR_IO, "%s: %s", path, strerror(errno));
    if (st == SN_OK) {
        if (S_ISDIR(sb.st_mode)) {
            for (int i = 0; i < n && st == SN_OK; i++) st = load_dir(&rq[i], path);
        } else if (rq[0].o->index_only) {
            st = sn_error(SN_ERR_UNSUPPORTED, "%s is an archive: it cannot be read in parts", path);
        } else {
            st = load_archive(rq, n, path);
        }
    }
    for (int i = 0; i < n && st == SN_OK; i++) st = finish(&rq[i], path, &out[i]);
    if (st != SN_OK)
        for (int i = 0; i < n; i++) sn_text_corpus_free(&out[i]);
    for (int i = 0; i < n; i++) request_free(&rq[i]);
    free(rq);
    return st;
}

sn_status sn_text_load(sn_text_corpus *out, const char *path, const sn_text_load_opts *opts) {
    return sn_text_load_multi(out, path, opts, 1);
}

sn_status sn_text_folder_read(sn_text_corpus *c, size_t lo, size_t hi, const char *path, const sn_text_load_opts *o) {
    if (!c || !path || !o) return sn_error(SN_ERR_ARG, "sn_text_folder_read: NULL argument");
    if (lo > hi || hi > c->n || (hi > lo && !c->paths))
        return sn_error(SN_ERR_ARG, "sn_text_folder_read: documents [%zu, %zu) of %zu", lo, hi, c->n);
    request r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.max_bytes = o->max_file_bytes ? o->max_file_bytes : SN_TEXT_DEFAULT_CAP;
    char root[4096], fp[4096];
    sn_status st = o->subdir && o->subdir[0] ? join_path(root, sizeof root, path, o->subdir) : SN_OK;
    if (!(o->subdir && o->subdir[0])) snprintf(root, sizeof root, "%s", path);
    for (size_t i = lo; i < hi && st == SN_OK; i++) {
        if ((st = join_path(fp, sizeof fp, root, c->paths[i]))) break;
        char *data = NULL;
        size_t dlen = 0;
        if ((st = read_file_capped(fp, r.max_bytes, &data, &dlen))) break;
        size_t len = dlen;
        int pol = size_policy(&r, fp, &len);
        if (pol != 0) {
            free(data);
            st = pol < 0 ? (sn_status)pol
                         : sn_error(SN_ERR_FORMAT, "%s: now larger than %zu bytes (the file changed?)", fp, r.max_bytes);
            break;
        }
        clean_nul(data, dlen);
        data[len] = 0;
        free(c->texts[i]);
        c->texts[i] = data;
        c->lengths[i] = len;
    }
    return st;
}
