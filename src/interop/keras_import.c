/* sn_keras_import (include/seqnn/keras.h): which kind of file, where its
 * config and weights are, building the seqnn model and filling its tensors.
 *
 * Weight sources:
 *   .keras (Keras 3):  model.weights.h5 / <layer path>/vars/0, 1, ... (the
 *                      layer's variables in creation order; keras_config.c
 *                      computes the paths);
 *   legacy HDF5:       model_weights/<layer name>/, the datasets listed in
 *                      its weight_names attribute, in that order (Keras 2's
 *                      "lstm_1/kernel:0", Keras 3's "sequential/lstm/lstm_cell/kernel");
 *   weights-only HDF5: the same below the root.
 * In every layout a layer's weights come in the order of seqnn's tensors for
 * that layer (kernel, recurrent_kernel, bias; gamma, beta, moving_mean,
 * moving_variance; forward then backward for Bidirectional), with the same
 * shapes: each is checked before it is read. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/h5.h"
#include "interop/keras_internal.h"
#include "model/model_impl.h"

void sn_keras_import_opts_default(sn_keras_import_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_bytes = (size_t)4 << 30;
}

/* Where the config and the weights of the file being imported are. */
typedef struct kx_src {
    char *config;         /* config JSON text (owned) */
    size_t config_n;
    char version[32], backend[32];
    int have_version;
    sn_h5 *h5;            /* weights */
    int k3;               /* Keras 3 archive layout */
    char root[32];        /* legacy: "model_weights" or "" */
    char *metadata;       /* .keras metadata.json (owned, may be NULL) */
    size_t metadata_n;
} kx_src;

static void src_free(kx_src *s) {
    free(s->config);
    free(s->metadata);
    sn_h5_close(s->h5);
    memset(s, 0, sizeof *s);
}

static sn_status read_all(const char *path, size_t max, char **out, size_t *n) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = sn_malloc(cap, 1);
    sn_status st = buf ? SN_OK : SN_ERR_NOMEM;
    while (!st) {
        if (len + 1 >= cap) {
            char *nb = sn_realloc(buf, cap * 2, 1);
            if (!nb) {
                st = SN_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - 1 - len, fp);
        len += r;
        if (len > max) st = sn_error(SN_ERR_FORMAT, "%s: larger than the %zu bytes allowed", path, max);
        if (r == 0) {
            if (ferror(fp)) st = sn_error(SN_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(fp);
    if (st) {
        free(buf);
        return st;
    }
    buf[len] = 0;
    *out = buf;
    *n = len;
    return SN_OK;
}

/* The first bytes of path: 'z' zip, 'h' HDF5, 'j' JSON, 0 unknown. */
static sn_status sniff(const char *path, int *kind) {
    unsigned char b[8] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    static const unsigned char hdf[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    *kind = 0;
    if (n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) *kind = 'z';
    else if (n == 8 && !memcmp(b, hdf, 8)) *kind = 'h';
    else {
        size_t i = 0;
        if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) i = 3;
        while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i++;
        if (i < n && b[i] == '{') *kind = 'j';
    }
    return SN_OK;
}

/* keras_version and backend from a JSON object (metadata.json). */
static void json_version(kx_src *s, const char *text, size_t n) {
    sn_json_doc d;
    if (sn_json_parse(&d, text, n, NULL) != SN_OK) return;
    const char *v = sn_json_str(sn_json_get(d.root, "keras_version"), NULL);
    if (v) {
        snprintf(s->version, sizeof s->version, "%s", v);
        s->have_version = 1;
    }
    sn_json_free(&d);
}

/* keras_version / backend attributes of an HDF5 object (absent is fine). */
static sn_status h5_version(kx_src *s, const char *obj) {
    char *v = NULL;
    sn_status st;
    if (sn_h5_has_attr(s->h5, obj, "keras_version")) {
        if ((st = sn_h5_attr_str(s->h5, obj, "keras_version", &v))) return st;
        snprintf(s->version, sizeof s->version, "%s", v);
        s->have_version = 1;
        free(v);
    }
    if (sn_h5_has_attr(s->h5, obj, "backend")) {
        if ((st = sn_h5_attr_str(s->h5, obj, "backend", &v))) return st;
        snprintf(s->backend, sizeof s->backend, "%s", v);
        free(v);
    }
    return SN_OK;
}

static sn_status open_source(kx_src *s, const char *path, const sn_keras_import_opts *o) {
    memset(s, 0, sizeof *s);
    int kind;
    sn_status st = sniff(path, &kind);
    if (st) return st;
    if (o->weights_path) {
        if (kind != 'j') return sn_error(SN_ERR_FORMAT, "%s: with a weights file the model file must be a JSON config", path);
        if ((st = read_all(path, o->max_bytes, &s->config, &s->config_n))) return st;
        int wk;
        if ((st = sniff(o->weights_path, &wk))) return st;
        if (wk != 'h') return sn_error(SN_ERR_FORMAT, "%s: not an HDF5 file", o->weights_path);
        if ((st = sn_h5_open(&s->h5, o->weights_path))) return st;
        if (sn_h5_is_group(s->h5, "model_weights")) snprintf(s->root, sizeof s->root, "model_weights");
        return h5_version(s, s->root[0] ? s->root : "/");
    }
    if (kind == 'z') {
        kx_archive a;
        if ((st = kx_archive_read(&a, path, o->max_bytes))) return st;
        char nm[600];
        snprintf(nm, sizeof nm, "%.500s:model.weights.h5", path);
        st = sn_h5_open_image(&s->h5, a.weights, a.weights_n, nm);
        s->config = a.config;
        s->config_n = a.config_n;
        s->metadata = a.metadata;
        s->metadata_n = a.metadata_n;
        a.config = a.metadata = NULL;
        kx_archive_free(&a);
        if (st) return st;
        s->k3 = 1;
        if (s->metadata) json_version(s, s->metadata, s->metadata_n);
        return SN_OK;
    }
    if (kind == 'h') {
        if ((st = sn_h5_open(&s->h5, path))) return st;
        if (!sn_h5_has_attr(s->h5, "/", "model_config"))
            return sn_error(SN_ERR_FORMAT, "%s: an HDF5 file without a model_config attribute (weights only?): give the "
                                           "architecture JSON with --config and this file with --weights", path);
        if ((st = sn_h5_attr_str(s->h5, "/", "model_config", &s->config))) return st;
        s->config_n = strlen(s->config);
        snprintf(s->root, sizeof s->root, "model_weights");
        if (!sn_h5_is_group(s->h5, "model_weights"))
            return sn_error(SN_ERR_FORMAT, "%s: no model_weights group (a model saved without weights?)", path);
        if ((st = h5_version(s, "/"))) return st;
        return SN_OK;
    }
    if (kind == 'j')
        return sn_error(SN_ERR_ARG, "%s: a JSON architecture holds no weights: give the weights HDF5 too (--weights)", path);
    return sn_error(SN_ERR_FORMAT, "%s: not a Keras model (.keras zip, HDF5 or JSON)", path);
}

/* ---- building ---- */

/* Appends L's call with name="..." to the spec. */
static sn_status spec_add(char **spec, size_t *len, size_t *cap, const kx_layer *L) {
    size_t sl = strlen(L->spec), need = *len + sl + strlen(L->name) + 16;
    if (need > *cap) {
        size_t nc = need * 2;
        char *ns = sn_realloc(*spec, nc, 1);
        if (!ns) return SN_ERR_NOMEM;
        *spec = ns;
        *cap = nc;
    }
    char *p = *spec + *len;
    if (*len) p += sprintf(p, ", ");
    memcpy(p, L->spec, sl - 1); /* without the closing ')' */
    p += sl - 1;
    p += sprintf(p, "%sname=\"%s\")", L->spec[sl - 2] == '(' ? "" : ", ", L->name);
    *len = (size_t)(p - *spec);
    return SN_OK;
}

/* The input shape: the file's, with open dims from opts. */
static sn_status input_opts(const kx_model *km, const sn_keras_import_opts *o, sn_model_opts *mo, const char *what) {
    memset(mo, 0, sizeof *mo);
    int rank = km->in_rank, d[2] = {km->in_shape[0], km->in_shape[1]};
    if (rank == 0) {
        if (!o->input_rank)
            return sn_error(SN_ERR_SHAPE, "%s: the file does not give the input shape: give it (--input-shape T,C)", what);
        rank = o->input_rank;
        d[0] = d[1] = -1;
    } else if (o->input_rank && o->input_rank != rank) {
        return sn_error(SN_ERR_SHAPE, "%s: the model's input has rank %d, the given shape rank %d", what, rank, o->input_rank);
    }
    for (int i = 0; i < rank; i++) {
        if (o->input_rank && d[i] > 0 && o->input_shape[i] != d[i])
            return sn_error(SN_ERR_SHAPE, "%s: input dimension %d is %d in the file, %d given", what, i + 1, d[i],
                            o->input_shape[i]);
        if (d[i] < 0) {
            if (!o->input_rank)
                return sn_error(SN_ERR_SHAPE, "%s: input dimension %d is open (None) in the file; seqnn models have a "
                                              "fixed shape: give it (--input-shape)", what, i + 1);
            d[i] = o->input_shape[i];
        }
    }
    mo->input_rank = rank;
    mo->input_shape[0] = d[0];
    mo->input_shape[1] = rank == 2 ? d[1] : 0;
    return SN_OK;
}

/* Parameters the spec would have, from building its layers alone: lets
 * max_params refuse a huge model before its buffers are allocated. */
static sn_status count_params(const char *spec, const sn_model_opts *mo, size_t *total) {
    sn_spec sp;
    *total = 0;
    sn_status st = sn_spec_parse(&sp, spec);
    if (st) return st;
    sn_shape cur = {mo->input_rank, {mo->input_shape[0], mo->input_shape[1], 0}, SN_REP_DENSE};
    for (int i = 0; i < sp.n_calls && !st; i++) {
        sn_spec_call *c = sp.calls[i];
        for (int k = 0; k < c->n_args; k++)
            if (!strcmp(c->args[k].key, "name")) c->args[k].used = 1;
        sn_layer *L = sn_layer_create(c);
        if (!L) {
            st = SN_ERR_PARSE;
            break;
        }
        st = sn_layer_build(L, &cur);
        *total += L->n_params;
        cur = L->out;
        sn_layer_free(L);
    }
    sn_spec_free(&sp);
    return st;
}

sn_status kx_build(sn_model **out, const kx_model *km, const sn_keras_import_opts *o, const char *what) {
    *out = NULL;
    sn_model_opts mo;
    sn_status st = input_opts(km, o, &mo, what);
    if (st) return st;
    char *spec = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < km->n && !st; i++)
        if (km->L[i].spec[0]) st = spec_add(&spec, &len, &cap, &km->L[i]);
    if (!st && !spec) st = sn_error(SN_ERR_FORMAT, "%s: the model has no layers besides its input", what);
    size_t np = 0;
    if (!st && o->max_params && (st = count_params(spec, &mo, &np)) == SN_OK && np > o->max_params)
        st = sn_error(SN_ERR_UNSUPPORTED, "%s: %zu parameters, more than the %zu allowed", what, np, o->max_params);
    if (!st) st = sn_model_build_from_spec(out, spec, &mo, 0);
    if (st) sn_error_prefix(st, "%s: as seqnn `%s`", what, spec ? spec : "");
    free(spec);
    for (int i = 0; i < km->n && !st; i++)
        if (km->L[i].spec[0] && !km->L[i].trainable) st = sn_model_set_trainable(*out, km->L[i].name, 0);
    if (st) {
        sn_model_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- weights ---- */

static void shape_text(char *buf, size_t n, int rank, const int64_t *d) {
    int k = snprintf(buf, n, "(");
    for (int i = 0; i < rank && k > 0 && (size_t)k < n; i++)
        k += snprintf(buf + k, n - (size_t)k, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (k > 0 && (size_t)k < n) snprintf(buf + k, n - (size_t)k, "%s)", rank == 1 ? "," : "");
}

/* The dataset paths holding kx layer L's weights, in order. */
static sn_status weight_paths(kx_src *s, const kx_layer *L, char ***out, size_t *n, const char *what) {
    *out = NULL;
    *n = 0;
    sn_status st = SN_OK;
    if (s->k3) {
        char **all = NULL;
        size_t cnt = 0;
        for (int p = 0; p < L->n_k3path && !st; p++) {
            char g[400];
            snprintf(g, sizeof g, "%s/vars", L->k3path[p]);
            if (!sn_h5_is_group(s->h5, g)) {
                char alt[440]; /* tf.keras 2.13+ archives */
                snprintf(alt, sizeof alt, "_layer_checkpoint_dependencies%s", g + 6);
                if (!strncmp(g, "layers/", 7) && sn_h5_is_group(s->h5, alt)) snprintf(g, sizeof g, "%.399s", alt);
                else continue; /* no variables (Keras 3 writes no group for them) */
            }
            char **v;
            size_t k;
            if ((st = sn_h5_list(s->h5, g, &v, &k))) break;
            char **na = sn_realloc(all, cnt + k + 1, sizeof *all);
            if (!na) {
                sn_h5_strs_free(v, k);
                st = SN_ERR_NOMEM;
                break;
            }
            all = na;
            /* members "0", "1", ...: in numeric order, each present */
            for (size_t i = 0; i < k && !st; i++) {
                char want[24];
                snprintf(want, sizeof want, "%zu", i);
                size_t j;
                for (j = 0; j < k; j++)
                    if (!strcmp(v[j], want)) break;
                if (j == k) {
                    st = sn_error(SN_ERR_FORMAT, "%s: %s: variables are not numbered 0..%zu", sn_h5_name(s->h5), g, k - 1);
                    break;
                }
                all[cnt] = sn_malloc(strlen(g) + strlen(want) + 2, 1);
                if (!all[cnt]) {
                    st = SN_ERR_NOMEM;
                    break;
                }
                sprintf(all[cnt++], "%s/%s", g, want);
            }
            sn_h5_strs_free(v, k);
        }
        if (st) {
            sn_h5_strs_free(all, cnt);
            return st;
        }
        *out = all;
        *n = cnt;
        return SN_OK;
    }
    char g[320];
    snprintf(g, sizeof g, "%s%s%s", s->root, s->root[0] ? "/" : "", L->name);
    if (!sn_h5_is_group(s->h5, g)) return SN_OK; /* no group: no weights (checked by the caller) */
    char **names;
    size_t k;
    if (!sn_h5_has_attr(s->h5, g, "weight_names")) return SN_OK;
    if ((st = sn_h5_attr_strs(s->h5, g, "weight_names", &names, &k))) return st;
    for (size_t i = 0; i < k && !st; i++) {
        char *full = sn_malloc(strlen(g) + strlen(names[i]) + 2, 1);
        if (!full) {
            st = SN_ERR_NOMEM;
            break;
        }
        sprintf(full, "%s/%s", g, names[i]);
        free(names[i]);
        names[i] = full;
    }
    (void)what;
    if (st) {
        sn_h5_strs_free(names, k);
        return st;
    }
    *out = names;
    *n = k;
    return SN_OK;
}

/* Reverses a Conv1D kernel (K, C, F) along K. */
static void flip_k(float *w, int K, size_t row) {
    for (int a = 0, b = K - 1; a < b; a++, b--)
        for (size_t i = 0; i < row; i++) {
            float t = w[(size_t)a * row + i];
            w[(size_t)a * row + i] = w[(size_t)b * row + i];
            w[(size_t)b * row + i] = t;
        }
}

static sn_status load_layer(kx_src *s, const kx_layer *K, sn_layer *L, const char *what) {
    char **paths;
    size_t n;
    sn_status st = weight_paths(s, K, &paths, &n, what);
    if (st) return sn_error_prefix(st, "layer '%s' (%s)", K->name, K->cls);
    if (n != (size_t)L->n_tensors)
        st = sn_error(SN_ERR_FORMAT, "%s: layer '%s' (%s): the file has %zu weight arrays, the layer needs %d", what,
                      K->name, K->cls, n, L->n_tensors);
    for (size_t i = 0; i < n && !st; i++) {
        const sn_tensor_info *t = &L->tensors[i];
        int rank;
        int64_t d[SN_H5_MAX_RANK];
        if ((st = sn_h5_shape(s->h5, paths[i], &rank, d))) break;
        int same = rank == t->rank;
        for (int k = 0; same && k < rank; k++) same = d[k] == t->dims[k];
        if (!same) {
            char a[128], b[128];
            int64_t e[4];
            for (int k = 0; k < t->rank; k++) e[k] = t->dims[k];
            shape_text(a, sizeof a, rank, d);
            shape_text(b, sizeof b, t->rank, e);
            st = sn_error(SN_ERR_FORMAT, "%s: layer '%s' (%s): weight %s has shape %s, %s needs %s", what, K->name,
                          K->cls, paths[i], a, t->name, b);
            break;
        }
        float *w = L->w + t->offset;
        if ((st = sn_h5_read_f32(s->h5, paths[i], w, t->numel))) break;
        for (size_t k = 0; k < t->numel; k++)
            if (!isfinite(w[k])) {
                st = sn_error(SN_ERR_FORMAT, "%s: layer '%s' (%s): weight %s holds a non-finite value at element %zu",
                              what, K->name, K->cls, paths[i], k);
                break;
            }
        if (!st && K->flip_kernel && i == 0 && t->rank == 3) flip_k(w, t->dims[0], (size_t)t->dims[1] * t->dims[2]);
    }
    sn_h5_strs_free(paths, n);
    return st;
}

static sn_status load_weights(kx_src *s, const kx_model *km, sn_model *m, const char *what) {
    int j = 0;
    for (int i = 0; i < km->n; i++) {
        if (!km->L[i].spec[0]) continue;
        SN_ASSERT(j < m->n_layers);
        sn_status st = load_layer(s, &km->L[i], m->layers[j++], what);
        if (st) return st;
    }
    return SN_OK;
}

/* seqnn's own block in metadata.json (written by sn_keras_export): seed,
 * RNG states and metadata blobs, so that a round trip is exact. */
sn_status kx_restore_seqnn(sn_model *m, const char *metadata, size_t n, const char *what);

sn_status sn_keras_import(sn_model **out, const char *path, const sn_keras_import_opts *o) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_keras_import: NULL argument");
    *out = NULL;
    sn_keras_import_opts def;
    if (!o) {
        sn_keras_import_opts_default(&def);
        o = &def;
    }
    sn_keras_import_opts oo = *o;
    if (!oo.max_bytes) oo.max_bytes = (size_t)4 << 30;
    kx_src s;
    sn_status st = open_source(&s, path, &oo);
    if (st) {
        src_free(&s);
        return st;
    }
    sn_json_doc doc = {0};
    sn_json_opts jo;
    sn_json_opts_default(&jo);
    jo.allow_nonfinite = 1;
    if ((st = sn_json_parse(&doc, s.config, s.config_n, &jo)))
        sn_error_prefix(st, "%s: %s", path, s.k3 ? "config.json" : oo.weights_path ? "JSON config" : "model_config");
    kx_model km = {0};
    if (!st) st = kx_translate(&km, doc.root, s.have_version ? s.version : NULL, s.backend[0] ? s.backend : NULL, path);
    sn_model *m = NULL;
    if (!st) st = kx_build(&m, &km, &oo, path);
    if (!st) st = load_weights(&s, &km, m, path);
    if (!st && s.metadata) st = kx_restore_seqnn(m, s.metadata, s.metadata_n, path);
    sn_json_free(&doc);
    kx_model_free(&km);
    src_free(&s);
    if (st) {
        sn_model_free(m);
        return st;
    }
    *out = m;
    return SN_OK;
}
