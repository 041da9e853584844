/* Flatten, Reshape and Activation: layers without parameters that reshape
 * or map elementwise.
 *
 *   flatten():        (T,C) → (T·C), row-major, element t·C + c (Keras
 *                     Flatten); (C) stays (C). The mask is dropped.
 *   reshape((a, b)):  the same row-major elements as (a, b) or (a,); one
 *                     dimension may be -1 (inferred). The mask is dropped
 *                     (Keras Reshape does not support masking).
 *   activation(relu): y = act(x) elementwise (softmax over the last axis);
 *                     the mask passes through (Keras Activation supports it).
 * Reference: keras/src/layers/reshaping/flatten.py, keras/src/layers/core/activation.py. */
#include <string.h>

#include "layers/layer.h"

static sn_status need_dense(const sn_layer *L) {
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank < 1 || L->in.rank > 2)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, C) or (None, T, C), got %s%s", L->name, s,
                        L->in.rep == SN_REP_IDS ? " (one-hot ids)" : L->in.rep == SN_REP_SPARSE ? " (sparse)" : "");
    return SN_OK;
}

static size_t zero_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

static sn_status no_init(sn_layer *L, sn_rng *r) {
    (void)L; (void)r;
    return SN_OK;
}

/* ---- Flatten ---- */
static sn_status flatten_configure(sn_layer *L, const sn_spec_call *c) {
    char df[32];
    sn_status st = sn_arg_str(c, 0, "data_format", "channels_last", df, sizeof df);
    if (st) return st;
    if (strcmp(df, "channels_last") && strcmp(df, "none"))
        return sn_spec_error(c, "only data_format=channels_last is supported, got '%s'", df);
    L->cfg = NULL;
    return SN_OK;
}

static sn_status flatten_build(sn_layer *L) {
    sn_status st = need_dense(L);
    if (st) return st;
    L->out.rank = 1;
    L->out.d[0] = (int)sn_shape_numel(&L->in);
    L->out.rep = SN_REP_DENSE;
    return SN_OK;
}

static void flatten_forward(sn_layer *L, sn_fwd *f) {
    memcpy(f->y, f->x, (size_t)f->B * sn_shape_numel(&L->in) * sizeof(float));
}

static void flatten_backward(sn_layer *L, sn_bwd *b) {
    if (!b->dx) return;
    size_t n = (size_t)b->B * sn_shape_numel(&L->in);
    for (size_t i = 0; i < n; i++) b->dx[i] += b->dy[i];
}

static int flatten_describe(const sn_layer *L, char *buf, size_t n) {
    (void)L;
    return snprintf(buf, n, "flatten()");
}

const sn_layer_ops sn_flatten_ops = {
    .kind = "flatten",
    .class_name = "Flatten",
    .mask_policy = SN_MASK_DROP,
    .configure = flatten_configure,
    .build = flatten_build,
    .init = no_init,
    .cache_floats = zero_floats,
    .scratch_floats = zero_floats,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .describe = flatten_describe,
};

/* ---- Reshape ---- */
typedef struct reshape_cfg {
    int n, d[2]; /* target shape as given (-1: inferred) */
} reshape_cfg;

static sn_status reshape_configure(sn_layer *L, const sn_spec_call *c) {
    reshape_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    int v[3], n = 0;
    sn_status st = sn_arg_ints(c, 0, "target_shape", v, 3, &n);
    if (st) return st;
    if (n < 1 || n > 2) return sn_spec_error(c, "reshape needs a target_shape of 1 or 2 dimensions, e.g. reshape((4, 3))");
    int unknown = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] == -1) unknown++;
        else if (v[i] < 1 || v[i] > (1 << 26)) return sn_spec_error(c, "target_shape dimensions must be positive or -1");
        cf->d[i] = v[i];
    }
    if (unknown > 1) return sn_spec_error(c, "at most one target_shape dimension can be -1");
    cf->n = n;
    return SN_OK;
}

static sn_status reshape_build(sn_layer *L) {
    sn_status st = need_dense(L);
    if (st) return st;
    const reshape_cfg *cf = L->cfg;
    size_t total = sn_shape_numel(&L->in), known = 1;
    for (int i = 0; i < cf->n; i++)
        if (cf->d[i] > 0) known *= (size_t)cf->d[i];
    L->out.rank = cf->n;
    L->out.rep = SN_REP_DENSE;
    for (int i = 0; i < cf->n; i++) L->out.d[i] = cf->d[i] > 0 ? cf->d[i] : (int)(total / known);
    if (sn_shape_numel(&L->out) != total) {
        char a[64], b[64];
        sn_shape_str(&L->in, a, sizeof a);
        snprintf(b, sizeof b, "(%d%s%d)", cf->d[0], cf->n == 2 ? ", " : ",", cf->n == 2 ? cf->d[1] : 0);
        if (cf->n == 1) snprintf(b, sizeof b, "(%d,)", cf->d[0]);
        return sn_error(SN_ERR_SHAPE, "%s: cannot reshape %s (%zu elements) to %s", L->name, a, total, b);
    }
    return SN_OK;
}

static int reshape_describe(const sn_layer *L, char *buf, size_t n) {
    const reshape_cfg *cf = L->cfg;
    if (cf->n == 1) return snprintf(buf, n, "reshape((%d,))", cf->d[0]);
    return snprintf(buf, n, "reshape((%d, %d))", cf->d[0], cf->d[1]);
}

const sn_layer_ops sn_reshape_ops = {
    .kind = "reshape",
    .class_name = "Reshape",
    .mask_policy = SN_MASK_DROP,
    .configure = reshape_configure,
    .build = reshape_build,
    .init = no_init,
    .cache_floats = zero_floats,
    .scratch_floats = zero_floats,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .describe = reshape_describe,
};

/* ---- Activation ---- */
typedef struct act_cfg {
    sn_act act;
} act_cfg;

static sn_status activation_configure(sn_layer *L, const sn_spec_call *c) {
    act_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    char a[32];
    sn_status st = sn_arg_str(c, 0, "activation", "", a, sizeof a);
    if (st) return st;
    if (!a[0]) return sn_spec_error(c, "activation needs a function name (relu, tanh, ...)");
    if (!sn_act_parse(a, &cfg->act))
        return sn_spec_error(c, "activation must be linear, relu, tanh, sigmoid, softmax, hard_sigmoid, hard_sigmoid_keras2, softsign, softplus, elu or selu, got '%s'", a);
    return SN_OK;
}

static sn_status activation_build(sn_layer *L) {
    sn_status st = need_dense(L);
    if (st) return st;
    L->out = L->in;
    return SN_OK;
}

static size_t activation_scratch(const sn_layer *L, int B) { return (size_t)B * sn_shape_numel(&L->in); }

static void activation_forward(sn_layer *L, sn_fwd *f) {
    const act_cfg *cfg = L->cfg;
    size_t C = (size_t)L->in.d[L->in.rank - 1], rows = (size_t)f->B * sn_shape_numel(&L->in) / C;
    memcpy(f->y, f->x, rows * C * sizeof(float));
    sn_act_forward(cfg->act, f->y, rows, C);
}

static void activation_backward(sn_layer *L, sn_bwd *b) {
    if (!b->dx) return;
    const act_cfg *cfg = L->cfg;
    size_t C = (size_t)L->in.d[L->in.rank - 1], rows = (size_t)b->B * sn_shape_numel(&L->in) / C, n = rows * C;
    /* dz = dy ⊙ act'(y) into scratch, then dx += dz. */
    sn_act_backward(cfg->act, b->scratch, b->y, b->dy, rows, C);
    for (size_t i = 0; i < n; i++) b->dx[i] += b->scratch[i];
}

static int activation_describe(const sn_layer *L, char *buf, size_t n) {
    const act_cfg *cfg = L->cfg;
    return snprintf(buf, n, "activation(%s)", sn_act_name(cfg->act));
}

const sn_layer_ops sn_activation_ops = {
    .kind = "activation",
    .class_name = "Activation",
    .mask_policy = SN_MASK_PASS,
    .configure = activation_configure,
    .build = activation_build,
    .init = no_init,
    .cache_floats = zero_floats,
    .scratch_floats = activation_scratch,
    .forward = activation_forward,
    .backward = activation_backward,
    .describe = activation_describe,
};
