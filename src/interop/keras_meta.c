/* The "seqnn" block of a .keras archive's metadata.json (written by
 * keras_export.c): the model's seed and RNG states (the model's dropout
 * stream and every layer-owned stream) and its metadata blobs (base64), so
 * that importing an exported model gives back the same model file. Absent
 * in archives Keras wrote: then nothing changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/keras_internal.h"
#include "model/model_impl.h"

sn_status kx_restore_seqnn(sn_model *m, const char *metadata, size_t n, const char *what);

static int hex64(const sn_json *v, uint64_t *out) {
    const char *s = sn_json_str(v, NULL);
    if (!s || strlen(s) != 16) return 0;
    uint64_t r = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        r = r << 4 | (uint64_t)d;
    }
    *out = r;
    return 1;
}

static int rng_of(const sn_json *v, sn_rng *r) {
    if (sn_json_len(v) != 4) return 0;
    for (int i = 0; i < 4; i++)
        if (!hex64(sn_json_at(v, (size_t)i), &r->s[i])) return 0;
    return 1;
}

static int b64v(char c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 text s[0..n) into a malloc'd buffer. */
static sn_status unb64(const char *s, size_t n, unsigned char **out, size_t *len) {
    *out = NULL;
    if (n % 4) return SN_ERR_FORMAT;
    unsigned char *b = sn_malloc(n / 4 * 3 + 1, 1);
    if (!b) return SN_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) v[j] = s[i + j] == '=' && i + 4 == n && j >= 2 ? -2 : b64v(s[i + j]);
        if (v[0] < 0 || v[1] < 0 || v[2] == -1 || v[3] == -1 || (v[2] == -2 && v[3] != -2)) {
            free(b);
            return SN_ERR_FORMAT;
        }
        unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (v[2] >= 0 ? (unsigned)v[2] << 6 : 0) |
                     (v[3] >= 0 ? (unsigned)v[3] : 0);
        b[k++] = (unsigned char)(x >> 16);
        if (v[2] >= 0) b[k++] = (unsigned char)(x >> 8);
        if (v[3] >= 0) b[k++] = (unsigned char)x;
    }
    *out = b;
    *len = k;
    return SN_OK;
}

sn_status kx_restore_seqnn(sn_model *m, const char *metadata, size_t n, const char *what) {
    sn_json_doc d;
    if (sn_json_parse(&d, metadata, n, NULL) != SN_OK)
        return sn_error_prefix(SN_ERR_FORMAT, "%s: metadata.json", what);
    const sn_json *s = sn_json_get(d.root, "seqnn");
    sn_status st = SN_OK;
    if (!s) goto done;
    uint64_t seed;
    sn_rng r;
    if (!hex64(sn_json_get(s, "seed"), &seed) || !rng_of(sn_json_get(s, "rng"), &r)) {
        st = sn_error(SN_ERR_FORMAT, "%s: metadata.json: seqnn.seed / seqnn.rng malformed", what);
        goto done;
    }
    m->seed = seed;
    m->rng = r;
    const sn_json *lr = sn_json_get(s, "layer_rng");
    for (size_t i = 0; i < sn_json_len(lr) && !st; i++) {
        const sn_json *e = sn_json_at(lr, i);
        sn_layer *L = NULL;
        for (int k = 0; k < m->n_layers; k++)
            if (e->key && !strcmp(m->layers[k]->name, e->key)) L = m->layers[k];
        sn_rng *streams[16];
        int ns = L && L->ops->rng_streams ? L->ops->rng_streams(L, streams, 16) : 0;
        if (!L || ns != (int)sn_json_len(e)) {
            st = sn_error(SN_ERR_FORMAT, "%s: metadata.json: seqnn.layer_rng names layer '%s' wrongly", what,
                          e->key ? e->key : "?");
            break;
        }
        for (int k = 0; k < ns && !st; k++)
            if (!rng_of(sn_json_at(e, (size_t)k), streams[k]))
                st = sn_error(SN_ERR_FORMAT, "%s: metadata.json: seqnn.layer_rng.%s malformed", what, e->key);
    }
    const sn_json *mt = sn_json_get(s, "meta");
    for (size_t i = 0; i < sn_json_len(mt) && !st; i++) {
        const sn_json *e = sn_json_at(mt, i);
        const char *k = sn_json_str(sn_json_at(e, 0), NULL);
        const sn_json *v = sn_json_at(e, 1);
        unsigned char *b = NULL;
        size_t bl = 0;
        if (!k || !sn_json_is(v, SN_JSON_STRING) || unb64(v->str, v->len, &b, &bl)) {
            st = sn_error(SN_ERR_FORMAT, "%s: metadata.json: seqnn.meta entry %zu malformed", what, i);
            break;
        }
        st = sn_model_set_meta(m, k, b, bl);
        free(b);
    }
done:
    sn_json_free(&d);
    return st;
}
