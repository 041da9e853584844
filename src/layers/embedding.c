/* Embedding, Masking and OneHot layers (docs/keras-semantics.md §5).
 *
 * embedding(input_dim V, output_dim dim, mask_zero=false, trainable=true,
 *           embeddings_initializer=uniform): ids (T,) → (T,dim), y = E[id];
 *   tensor "embeddings" (V,dim). mask_zero gives the mask ids != 0 (row 0 is
 *   still looked up). Backward is a sequential scatter-add (deterministic).
 * masking(mask_value=0.0): (T,C) → (T,C); a step is masked iff all of its
 *   features equal mask_value; masked steps are zeroed; produces the mask.
 * onehot(depth V): ids (T,) → logical (T,V) one-hot in SN_REP_IDS form (the
 *   ids pass through unchanged); recurrent layers gather kernel rows from it.
 *   The input mask passes through.
 *
 * Ids arrive as floats. They must be integers in [0, V): the model checks
 * them with sn_ids_check before forward; forward only SN_ASSERTs.
 */
#include "layers/rnn/rnn.h"

#include <math.h>
#include <string.h>

sn_status sn_ids_check(const float *ids, size_t n, int vocab, const char *what) {
    for (size_t i = 0; i < n; i++) {
        float v = ids[i];
        if (!(v >= 0.0f && v < (float)vocab) || v != floorf(v))
            return sn_error(SN_ERR_ARG, "%s: token id %g at index %zu is not an integer in [0, %d)", what, (double)v, i,
                            vocab);
    }
    return SN_OK;
}

/* ---- Embedding ---- */

typedef struct emb_cfg {
    int V, dim, mask_zero;
    sn_init_kind init;
} emb_cfg;

static sn_status emb_configure(sn_layer *L, const sn_spec_call *c) {
    emb_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    long V, dim;
    int tr;
    char s[64];
    sn_status st;
    if ((st = sn_arg_int(c, 0, "input_dim", 0, &V))) return st;
    if ((st = sn_arg_int(c, 1, "output_dim", 0, &dim))) return st;
    if (V <= 0 || V > 100000000) return sn_spec_error(c, "input_dim must be in [1, 1e8], got %ld", V);
    if (dim <= 0 || dim > 1000000) return sn_spec_error(c, "output_dim must be in [1, 1e6], got %ld", dim);
    if ((double)V * (double)dim > 2e9) return sn_spec_error(c, "embedding (%ld, %ld) is too large", V, dim);
    if ((st = sn_arg_bool(c, -1, "mask_zero", 0, &cf->mask_zero))) return st;
    if ((st = sn_arg_bool(c, -1, "trainable", 1, &tr))) return st;
    if ((st = sn_arg_str(c, -1, "embeddings_initializer", "uniform", s, sizeof s))) return st;
    if (!sn_init_parse(s, &cf->init)) return sn_spec_error(c, "embeddings_initializer: unknown initializer '%s'", s);
    if (cf->mask_zero && V < 2) return sn_spec_error(c, "mask_zero=true needs input_dim >= 2 (id 0 is the padding)");
    cf->V = (int)V;
    cf->dim = (int)dim;
    L->trainable = tr;
    return SN_OK;
}

static sn_status emb_build(sn_layer *L) {
    emb_cfg *cf = L->cfg;
    char b[64];
    if (L->in.rank != 1 || L->in.rep != SN_REP_DENSE || L->in.d[0] <= 0) {
        sn_shape_str(&L->in, b, sizeof b);
        return sn_error(SN_ERR_SHAPE, "%s: expects token ids (None, T), got %s", L->name, b);
    }
    int d[2] = {cf->V, cf->dim};
    sn_layer_add_tensor(L, "embeddings", 2, d, L->trainable);
    L->out.rank = 2;
    L->out.d[0] = L->in.d[0];
    L->out.d[1] = cf->dim;
    L->out.rep = SN_REP_DENSE;
    return SN_OK;
}

static sn_status emb_init(sn_layer *L, sn_rng *r) {
    emb_cfg *cf = L->cfg;
    return sn_init_apply(cf->init, L->w, cf->V, cf->dim, cf->V, cf->dim, r);
}

static size_t zero_floats(const sn_layer *L, int B) {
    (void)L;
    (void)B;
    return 0;
}

static void emb_forward(sn_layer *L, sn_fwd *f) {
    emb_cfg *cf = L->cfg;
    int T = L->in.d[0], dim = cf->dim;
    size_t n = (size_t)f->B * T;
    for (size_t i = 0; i < n; i++) {
        float v = f->x[i];
        SN_ASSERT(v >= 0.0f && v < (float)cf->V); /* the model ran sn_ids_check */
        memcpy(f->y + i * dim, L->w + (size_t)(v + 0.5f) * dim, (size_t)dim * sizeof(float)); /* ids are integers */
    }
    if (cf->mask_zero) {
        for (size_t i = 0; i < n; i++) f->mask_buf[i] = f->x[i] != 0.0f;
        f->mask_out = f->mask_buf;
    } else {
        f->mask_out = NULL;
    }
}

static void emb_backward(sn_layer *L, sn_bwd *b) {
    emb_cfg *cf = L->cfg;
    if (!L->trainable) return;
    int T = L->in.d[0], dim = cf->dim;
    size_t n = (size_t)b->B * T;
    for (size_t i = 0; i < n; i++) {
        float *g = L->g + (size_t)(b->x[i] + 0.5f) * dim;
        const float *d = b->dy + i * dim;
        for (int j = 0; j < dim; j++) g[j] += d[j];
    }
}

static int emb_describe(const sn_layer *L, char *buf, size_t n) {
    const emb_cfg *cf = L->cfg;
    char s[256];
    int k = snprintf(s, sizeof s, "embedding(%d, %d", cf->V, cf->dim);
    if (cf->mask_zero) k += snprintf(s + k, sizeof s - (size_t)k, ", mask_zero=true");
    if (!L->trainable) k += snprintf(s + k, sizeof s - (size_t)k, ", trainable=false");
    if (cf->init != SN_INIT_UNIFORM)
        k += snprintf(s + k, sizeof s - (size_t)k, ", embeddings_initializer=%s", sn_init_name(cf->init));
    snprintf(s + k, sizeof s - (size_t)k, ")");
    return snprintf(buf, n, "%s", s);
}

const sn_layer_ops sn_embedding_ops = {
    .kind = "embedding", .class_name = "Embedding", .mask_policy = SN_MASK_OWN,
    .configure = emb_configure, .build = emb_build, .init = emb_init,
    .cache_floats = zero_floats, .scratch_floats = zero_floats,
    .forward = emb_forward, .backward = emb_backward, .describe = emb_describe,
};

/* ---- Masking ---- */

typedef struct masking_cfg { double value; } masking_cfg;

static sn_status masking_configure(sn_layer *L, const sn_spec_call *c) {
    masking_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    return sn_arg_float(c, 0, "mask_value", 0.0, &cf->value);
}

static sn_status masking_build(sn_layer *L) {
    char b[64];
    if (L->in.rank != 2 || L->in.rep != SN_REP_DENSE) {
        sn_shape_str(&L->in, b, sizeof b);
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense sequence (None, T, C), got %s", L->name, b);
    }
    L->out = L->in;
    return SN_OK;
}

static sn_status nothing_init(sn_layer *L, sn_rng *r) {
    (void)L;
    (void)r;
    return SN_OK;
}

static void masking_forward(sn_layer *L, sn_fwd *f) {
    const masking_cfg *cf = L->cfg;
    int T = L->in.d[0], C = L->in.d[1];
    float mv = (float)cf->value;
    size_t n = (size_t)f->B * T;
    for (size_t s = 0; s < n; s++) {
        const float *x = f->x + s * C;
        float *y = f->y + s * C;
        int valid = 0;
        for (int i = 0; i < C; i++) valid |= x[i] != mv;
        f->mask_buf[s] = (uint8_t)valid;
        if (valid)
            memcpy(y, x, (size_t)C * sizeof(float));
        else
            memset(y, 0, (size_t)C * sizeof(float));
    }
    f->mask_out = f->mask_buf;
}

static void masking_backward(sn_layer *L, sn_bwd *b) {
    const masking_cfg *cf = L->cfg;
    if (!b->dx) return;
    int T = L->in.d[0], C = L->in.d[1];
    float mv = (float)cf->value;
    size_t n = (size_t)b->B * T;
    for (size_t s = 0; s < n; s++) {
        const float *x = b->x + s * C;
        int valid = 0;
        for (int i = 0; i < C; i++) valid |= x[i] != mv;
        if (!valid) continue;
        for (int i = 0; i < C; i++) b->dx[s * C + i] += b->dy[s * C + i];
    }
}

static int masking_describe(const sn_layer *L, char *buf, size_t n) {
    const masking_cfg *cf = L->cfg;
    if (cf->value == 0.0) return snprintf(buf, n, "masking()");
    return snprintf(buf, n, "masking(mask_value=%.9g)", cf->value);
}

const sn_layer_ops sn_masking_ops = {
    .kind = "masking", .class_name = "Masking", .mask_policy = SN_MASK_OWN,
    .configure = masking_configure, .build = masking_build, .init = nothing_init,
    .cache_floats = zero_floats, .scratch_floats = zero_floats,
    .forward = masking_forward, .backward = masking_backward, .describe = masking_describe,
};

/* ---- OneHot ---- */

typedef struct onehot_cfg { int depth; } onehot_cfg;

static sn_status onehot_configure(sn_layer *L, const sn_spec_call *c) {
    onehot_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    long d;
    sn_status st = sn_arg_int(c, 0, "depth", 0, &d);
    if (st) return st;
    if (d <= 0 || d > 100000000) return sn_spec_error(c, "depth must be in [1, 1e8], got %ld", d);
    cf->depth = (int)d;
    return SN_OK;
}

static sn_status onehot_build(sn_layer *L) {
    const onehot_cfg *cf = L->cfg;
    char b[64];
    if (L->in.rank != 1 || L->in.rep != SN_REP_DENSE || L->in.d[0] <= 0) {
        sn_shape_str(&L->in, b, sizeof b);
        return sn_error(SN_ERR_SHAPE, "%s: expects token ids (None, T), got %s", L->name, b);
    }
    L->out.rank = 2;
    L->out.d[0] = L->in.d[0];
    L->out.d[1] = cf->depth;
    L->out.rep = SN_REP_IDS;
    return SN_OK;
}

static void onehot_forward(sn_layer *L, sn_fwd *f) {
    const onehot_cfg *cf = L->cfg;
    size_t n = (size_t)f->B * L->in.d[0];
    for (size_t i = 0; i < n; i++) SN_ASSERT(f->x[i] >= 0.0f && f->x[i] < (float)cf->depth);
    memcpy(f->y, f->x, n * sizeof(float));
}

static void onehot_backward(sn_layer *L, sn_bwd *b) {
    (void)L;
    (void)b; /* ids carry no gradient */
}

static int onehot_describe(const sn_layer *L, char *buf, size_t n) {
    return snprintf(buf, n, "onehot(%d)", ((const onehot_cfg *)L->cfg)->depth);
}

const sn_layer_ops sn_onehot_ops = {
    .kind = "onehot", .class_name = "OneHot", .mask_policy = SN_MASK_PASS,
    .configure = onehot_configure, .build = onehot_build, .init = nothing_init,
    .cache_floats = zero_floats, .scratch_floats = zero_floats,
    .forward = onehot_forward, .backward = onehot_backward, .describe = onehot_describe,
};

int sn_layer_ids_vocab(const sn_layer *L) {
    if (!L) return 0;
    if (L->ops == &sn_embedding_ops) return ((const emb_cfg *)L->cfg)->V;
    if (L->ops == &sn_onehot_ops) return ((const onehot_cfg *)L->cfg)->depth;
    return 0;
}
