/* Dropout (Keras `Dropout`): inverted dropout, active only in training.
 *
 *   training:  y = x ⊙ m,  m_i = 1/(1−rate) with probability 1−rate, else 0;
 *   inference: y = x.
 *   rate 0 is the identity (no numbers drawn); rate 1 gives zeros.
 * The multiplier m (B, in) is drawn from the model's training RNG (f->rng),
 * or from the layer's own stream when `seed=` is given (Keras's seeded
 * SeedGenerator: reproducible across runs, new mask every call), and kept in
 * the cache so backward applies the very same mask: dx += dy ⊙ m. The own
 * stream is listed by rng_streams, so the model and resume files save it
 * (docs/format.md, LRNG) and load / --resume continue it.
 * The mask passes through.
 * Reference: keras/src/layers/regularization/dropout.py; docs/keras-semantics.md §9. */
#include <string.h>

#include "layers/layer.h"

typedef struct dropout_cfg {
    double rate;
    int has_seed;
    long seed;
    sn_rng rng; /* own stream when has_seed (per-layer state, advanced by forward) */
} dropout_cfg;

static sn_status dropout_configure(sn_layer *L, const sn_spec_call *c) {
    dropout_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    double rate;
    sn_status st = sn_arg_float(c, 0, "rate", -1.0, &rate);
    if (st) return st;
    if (rate == -1.0) return sn_spec_error(c, "dropout needs a rate");
    if (!(rate >= 0.0 && rate <= 1.0)) return sn_spec_error(c, "rate must be in [0, 1], got %g", rate);
    cfg->rate = rate;
    long seed;
    if ((st = sn_arg_int(c, 2, "seed", -1, &seed))) return st;
    if (seed < -1) return sn_spec_error(c, "seed must be a non-negative integer, got %ld", seed);
    cfg->has_seed = seed >= 0;
    cfg->seed = seed;
    if (cfg->has_seed) sn_rng_seed(&cfg->rng, (uint64_t)seed);
    return SN_OK;
}

static sn_status dropout_build(sn_layer *L) {
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank < 1 || L->in.rank > 2)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, C) or (None, T, C), got %s", L->name, s);
    L->out = L->in;
    return SN_OK;
}

static sn_status dropout_init(sn_layer *L, sn_rng *r) {
    (void)r;
    dropout_cfg *cfg = L->cfg;
    if (cfg->has_seed) sn_rng_seed(&cfg->rng, (uint64_t)cfg->seed);
    return SN_OK;
}

/* Cache: [0] = 1 when forward applied a mask (training), then from float 16
 * on (64-byte aligned) the multiplier (B, in). */
static size_t dropout_cache_floats(const sn_layer *L, int B) { return 16 + (size_t)B * sn_shape_numel(&L->in); }

static size_t dropout_scratch_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

static void dropout_forward(sn_layer *L, sn_fwd *f) {
    dropout_cfg *cfg = L->cfg;
    const size_t n = (size_t)f->B * sn_shape_numel(&L->in);
    if (!f->training || cfg->rate == 0.0) {
        f->cache[0] = 0.0f;
        memcpy(f->y, f->x, n * sizeof(float));
        return;
    }
    f->cache[0] = 1.0f;
    float *m = f->cache + 16;
    const float scale = cfg->rate >= 1.0 ? 0.0f : (float)(1.0 / (1.0 - cfg->rate));
    const float rate = (float)cfg->rate;
    sn_rng *r = cfg->has_seed ? &cfg->rng : f->rng;
    SN_ASSERT(r);
    /* One uniform per element, in element order (never thread-dependent). */
    for (size_t i = 0; i < n; i++) m[i] = sn_rng_uniform(r) >= rate ? scale : 0.0f;
    for (size_t i = 0; i < n; i++) f->y[i] = f->x[i] * m[i];
}

static void dropout_backward(sn_layer *L, sn_bwd *b) {
    if (!b->dx) return;
    const size_t n = (size_t)b->B * sn_shape_numel(&L->in);
    if (b->cache[0] == 0.0f) {
        for (size_t i = 0; i < n; i++) b->dx[i] += b->dy[i];
        return;
    }
    const float *m = b->cache + 16;
    for (size_t i = 0; i < n; i++) b->dx[i] += b->dy[i] * m[i];
}

/* The layer's own stream (seed= given): saved and restored by the model
 * and resume files, so load and --resume continue it. */
static int dropout_rng_streams(sn_layer *L, sn_rng **out, int max) {
    dropout_cfg *cfg = L->cfg;
    if (!cfg->has_seed) return 0;
    if (max >= 1) out[0] = &cfg->rng;
    return 1;
}

/* Shortest "%.*g" text that reads back as the same double. */
static void fmt_num(char *buf, size_t n, double v) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static int dropout_describe(const sn_layer *L, char *buf, size_t n) {
    const dropout_cfg *cfg = L->cfg;
    char r[32];
    fmt_num(r, sizeof r, cfg->rate);
    if (cfg->has_seed) return snprintf(buf, n, "dropout(%s, seed=%ld)", r, cfg->seed);
    return snprintf(buf, n, "dropout(%s)", r);
}

const sn_layer_ops sn_dropout_ops = {
    .kind = "dropout",
    .class_name = "Dropout",
    .mask_policy = SN_MASK_PASS,
    .configure = dropout_configure,
    .build = dropout_build,
    .init = dropout_init,
    .cache_floats = dropout_cache_floats,
    .scratch_floats = dropout_scratch_floats,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .describe = dropout_describe,
    .rng_streams = dropout_rng_streams,
};
