/* Bidirectional wrapper (docs/keras-semantics.md §4):
 *   bidirectional(lstm(16), merge_mode=concat|sum|mul|ave)
 *   bidirectional(lstm(16), backward_layer=lstm(16, go_backwards=true, activation=relu))
 * Owns two recurrent layers built from the same nested call: `forward_<kind>`
 * and `backward_<kind>` (a clone with go_backwards flipped), or, with
 * backward_layer= (Keras's argument), the backward one from its own call:
 * then it must read the other way (go_backwards opposite to the forward
 * layer's, as Keras requires), return sequences alike and have as many
 * units (seqnn merges halves of one width); its seed= is its own. Both get
 * zero_output_for_mask = return_sequences, see the same input and mask, and
 * draw their dropout masks independently: without seed= one after the other
 * from the model's RNG; with seed=s the forward direction owns the stream a
 * lone layer with seed=s would (sn_rng_seed(s)) and the backward direction
 * the stream derived from it by one sn_rng_split (sn_rng_seed(s), then
 * split), so the two never repeat each other's masks and the same spec
 * reproduces both. rng_streams lists forward's, then backward's.
 *
 * Parameters: forward's tensors then backward's, in one block, named
 *   "forward_lstm/kernel", "forward_lstm/recurrent_kernel", "forward_lstm/bias",
 *   "backward_lstm/kernel", ... (the kind is the inner spec name: simplernn,
 *   lstm or gru). `bind` points the inner layers' w/g into the block.
 *
 * Output: return_sequences=true flips the backward sequence back, so position
 * t of both halves belongs to input t; otherwise forward's last output and
 * backward's output after consuming x_0. concat puts forward first.
 * Mask: the input mask passes on when return_sequences=true, else none.
 */
#include "layers/rnn/rnn.h"

#include <string.h>

typedef enum bi_merge { BI_CONCAT = 0, BI_SUM, BI_MUL, BI_AVE } bi_merge;
static const char *const g_merge_names[] = {"concat", "sum", "mul", "ave"};

typedef struct bi_cfg {
    sn_layer *fw, *bw;
    int own_bw;                 /* 1: bw came from backward_layer= */
    bi_merge merge;
    int H, t_out, return_sequences; /* H inner units, t_out output steps (T or 1) */
} bi_cfg;

static void bi_destroy(sn_layer *L) {
    bi_cfg *cf = L->cfg;
    if (cf) {
        sn_layer_free(cf->fw);
        sn_layer_free(cf->bw);
    }
    free(cf);
}

static sn_status bi_configure(sn_layer *L, const sn_spec_call *c) {
    bi_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    const sn_spec_call *inner = NULL;
    char mm[32];
    sn_status st;
    if ((st = sn_arg_call(c, 0, "layer", &inner))) return st;
    if (!inner) return sn_spec_error(c, "bidirectional needs a recurrent layer, e.g. bidirectional(lstm(16))");
    if ((st = sn_arg_str(c, -1, "merge_mode", "concat", mm, sizeof mm))) return st;
    int found = 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(mm, g_merge_names[i])) {
            cf->merge = (bi_merge)i;
            found = 1;
        }
    if (!found) return sn_spec_error(c, "merge_mode must be concat, sum, mul or ave, got '%s'", mm);
    /* The inner kinds come from rnn_layer.c directly, not from the registry (which
     * lists this wrapper: the two would depend on each other). */
    const sn_layer_ops *ops = !strcmp(inner->name, sn_simplernn_ops.kind) ? &sn_simplernn_ops
                              : !strcmp(inner->name, sn_lstm_ops.kind)    ? &sn_lstm_ops
                              : !strcmp(inner->name, sn_gru_ops.kind)     ? &sn_gru_ops
                                                                          : NULL;
    if (!ops) return sn_spec_error(c, "bidirectional wraps simplernn, lstm or gru, not '%s'", inner->name);
    const sn_spec_call *back = NULL;
    if ((st = sn_arg_call(c, -1, "backward_layer", &back))) return st;
    const sn_layer_ops *bops = !back ? ops
                               : !strcmp(back->name, sn_simplernn_ops.kind) ? &sn_simplernn_ops
                               : !strcmp(back->name, sn_lstm_ops.kind)      ? &sn_lstm_ops
                               : !strcmp(back->name, sn_gru_ops.kind)       ? &sn_gru_ops
                                                                            : NULL;
    if (!bops) return sn_spec_error(c, "backward_layer must be simplernn, lstm or gru, not '%s'", back->name);
    cf->fw = sn_layer_new(ops, inner);
    if (!cf->fw) return SN_ERR_PARSE;
    cf->bw = sn_layer_new(bops, back ? back : inner);
    if (!cf->bw) return SN_ERR_PARSE;
    sn_rnn_cfg *fc = cf->fw->cfg, *bc = cf->bw->cfg;
    cf->own_bw = back != NULL;
    if (cf->own_bw) {
        if (bc->go_backwards == fc->go_backwards)
            return sn_spec_error(c, "backward_layer must read the other way: go_backwards=%s (the layer has %s)",
                                 fc->go_backwards ? "false" : "true", fc->go_backwards ? "true" : "false");
        if (bc->return_sequences != fc->return_sequences || bc->units != fc->units)
            return sn_spec_error(c, "backward_layer must have the layer's units and return_sequences");
    } else {
        bc->go_backwards = !fc->go_backwards;
    }
    if (!cf->own_bw && bc->seed >= 0) {
        /* both were seeded with the same seed: derive backward's (header) */
        sn_rng parent;
        sn_rng_seed(&parent, (uint64_t)bc->seed);
        bc->seed_rng = sn_rng_split(&parent);
    }
    fc->zero_output_for_mask = bc->zero_output_for_mask = fc->return_sequences;
    snprintf(cf->fw->name, sizeof cf->fw->name, "forward_%s", cf->fw->ops->kind);
    snprintf(cf->bw->name, sizeof cf->bw->name, "backward_%s", cf->bw->ops->kind);
    return SN_OK;
}

static sn_status bi_build(sn_layer *L) {
    bi_cfg *cf = L->cfg;
    sn_status st;
    cf->fw->trainable = cf->bw->trainable = L->trainable;
    if ((st = sn_layer_build(cf->fw, &L->in))) return sn_error_prefix(st, "%s", L->name);
    if ((st = sn_layer_build(cf->bw, &L->in))) return sn_error_prefix(st, "%s", L->name);
    const sn_layer *parts[2] = {cf->fw, cf->bw};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < parts[p]->n_tensors; i++) {
            const sn_tensor_info *t = &parts[p]->tensors[i];
            char nm[48]; /* "backward_simplernn/recurrent_kernel" (35 chars) fits */
            snprintf(nm, sizeof nm, "%.20s/%.26s", parts[p]->name, t->name);
            size_t off = sn_layer_add_tensor(L, nm, t->rank, t->dims, t->trainable);
            SN_ASSERT(off == (p ? cf->fw->n_params : 0) + t->offset);
        }
    const sn_rnn_cfg *fc = cf->fw->cfg;
    cf->H = fc->units;
    cf->return_sequences = fc->return_sequences;
    cf->t_out = cf->return_sequences ? fc->T : 1;
    L->out = cf->fw->out;
    L->out.d[L->out.rank - 1] = cf->merge == BI_CONCAT ? 2 * cf->H : cf->H;
    return SN_OK;
}

static void bi_bind(sn_layer *L) {
    bi_cfg *cf = L->cfg;
    cf->fw->w = L->w;
    cf->fw->g = L->g;
    cf->bw->w = L->w + cf->fw->n_params;
    cf->bw->g = L->g + cf->fw->n_params;
}

static sn_status bi_init(sn_layer *L, sn_rng *r) {
    bi_cfg *cf = L->cfg;
    bi_bind(L);
    sn_status st = cf->fw->ops->init(cf->fw, r);
    return st ? st : cf->bw->ops->init(cf->bw, r);
}

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Cache: fw cache | bw cache | yf (B,t_out,H) | yb (B,t_out,H). */
typedef struct bi_lay { size_t cb, yf, yb, total; } bi_lay;
static bi_lay bi_layout(const sn_layer *L, int B) {
    const bi_cfg *cf = L->cfg;
    bi_lay l;
    size_t ny = up16((size_t)B * cf->t_out * cf->H);
    l.cb = up16(cf->fw->ops->cache_floats(cf->fw, B));
    l.yf = l.cb + up16(cf->bw->ops->cache_floats(cf->bw, B));
    l.yb = l.yf + ny;
    l.total = l.yb + ny;
    return l;
}

static size_t bi_cache_floats(const sn_layer *L, int B) { return bi_layout(L, B).total; }

/* Scratch: dyf | dyb | inner scratch (shared by both inner calls). */
static size_t bi_scratch_floats(const sn_layer *L, int B) {
    const bi_cfg *cf = L->cfg;
    size_t ny = up16((size_t)B * cf->t_out * cf->H);
    size_t si = SN_MAX(cf->fw->ops->scratch_floats(cf->fw, B), cf->bw->ops->scratch_floats(cf->bw, B));
    return 2 * ny + si;
}

static void bi_forward(sn_layer *L, sn_fwd *f) {
    bi_cfg *cf = L->cfg;
    int B = f->B, H = cf->H, t_out = cf->t_out;
    bi_lay ly = bi_layout(L, B);
    size_t ny = up16((size_t)B * t_out * H);
    float *yf = f->cache + ly.yf, *yb = f->cache + ly.yb;
    cf->fw->threads = cf->bw->threads = L->threads;
    sn_fwd ff = *f;
    ff.y = yf;
    ff.cache = f->cache;
    ff.scratch = f->scratch + 2 * ny;
    cf->fw->ops->forward(cf->fw, &ff);
    ff = *f;
    ff.y = yb;
    ff.cache = f->cache + ly.cb;
    ff.scratch = f->scratch + 2 * ny;
    cf->bw->ops->forward(cf->bw, &ff);
    int width = cf->merge == BI_CONCAT ? 2 * H : H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < t_out; t++) {
            const float *a = yf + ((size_t)b * t_out + t) * H;
            const float *r = yb + ((size_t)b * t_out + (t_out - 1 - t)) * H; /* flipped back (t_out = 1: itself) */
            float *y = f->y + ((size_t)b * t_out + t) * width;
            switch (cf->merge) {
            case BI_CONCAT:
                memcpy(y, a, (size_t)H * sizeof(float));
                memcpy(y + H, r, (size_t)H * sizeof(float));
                break;
            case BI_SUM: for (int i = 0; i < H; i++) y[i] = a[i] + r[i]; break;
            case BI_MUL: for (int i = 0; i < H; i++) y[i] = a[i] * r[i]; break;
            case BI_AVE: for (int i = 0; i < H; i++) y[i] = 0.5f * (a[i] + r[i]); break;
            }
        }
    f->mask_out = cf->return_sequences ? f->mask : NULL;
}

static void bi_backward(sn_layer *L, sn_bwd *b) {
    bi_cfg *cf = L->cfg;
    int B = b->B, H = cf->H, t_out = cf->t_out;
    bi_lay ly = bi_layout(L, B);
    size_t ny = up16((size_t)B * t_out * H);
    const float *yf = b->cache + ly.yf, *yb = b->cache + ly.yb;
    float *dyf = b->scratch, *dyb = b->scratch + ny;
    int width = cf->merge == BI_CONCAT ? 2 * H : H;
    for (int s = 0; s < B; s++)
        for (int t = 0; t < t_out; t++) {
            size_t tf = (size_t)s * t_out + t, tb = (size_t)s * t_out + (t_out - 1 - t);
            const float *dy = b->dy + tf * width;
            float *df = dyf + tf * H, *db = dyb + tb * H;
            switch (cf->merge) {
            case BI_CONCAT:
                memcpy(df, dy, (size_t)H * sizeof(float));
                memcpy(db, dy + H, (size_t)H * sizeof(float));
                break;
            case BI_SUM:
                memcpy(df, dy, (size_t)H * sizeof(float));
                memcpy(db, dy, (size_t)H * sizeof(float));
                break;
            case BI_MUL:
                for (int i = 0; i < H; i++) {
                    df[i] = dy[i] * yb[tb * H + i];
                    db[i] = dy[i] * yf[tf * H + i];
                }
                break;
            case BI_AVE:
                for (int i = 0; i < H; i++) df[i] = db[i] = 0.5f * dy[i];
                break;
            }
        }
    sn_bwd bb = *b;
    bb.y = yf;
    bb.dy = dyf;
    bb.cache = b->cache;
    bb.scratch = b->scratch + 2 * ny;
    cf->fw->ops->backward(cf->fw, &bb);
    bb = *b;
    bb.y = yb;
    bb.dy = dyb;
    bb.cache = b->cache + ly.cb;
    bb.scratch = b->scratch + 2 * ny;
    cf->bw->ops->backward(cf->bw, &bb);
}

static int bi_describe(const sn_layer *L, char *buf, size_t n) {
    const bi_cfg *cf = L->cfg;
    char inner[512];
    char back[540] = "";
    cf->fw->ops->describe(cf->fw, inner, sizeof inner);
    if (cf->own_bw) {
        char b[512];
        cf->bw->ops->describe(cf->bw, b, sizeof b);
        snprintf(back, sizeof back, ", backward_layer=%s", b);
    }
    if (cf->merge == BI_CONCAT) return snprintf(buf, n, "bidirectional(%s%s)", inner, back);
    return snprintf(buf, n, "bidirectional(%s, merge_mode=%s%s)", inner, g_merge_names[cf->merge], back);
}

/* ops->rng_streams: the inner layers' streams, forward's then backward's. */
static int bi_rng_streams(sn_layer *L, sn_rng **out, int max) {
    bi_cfg *cf = L->cfg;
    int n = cf->fw->ops->rng_streams(cf->fw, out, max);
    return n + cf->bw->ops->rng_streams(cf->bw, out + SN_MIN(n, max), SN_MAX(max - n, 0));
}

void sn_bidirectional_parts(const sn_layer *L, sn_layer **fw, sn_layer **bw) {
    const bi_cfg *cf = L->cfg;
    *fw = cf->fw;
    *bw = cf->bw;
}

const sn_layer_ops sn_bidirectional_ops = {
    .kind = "bidirectional", .class_name = "Bidirectional", .mask_policy = SN_MASK_OWN,
    .configure = bi_configure, .build = bi_build, .bind = bi_bind, .init = bi_init,
    .cache_floats = bi_cache_floats, .scratch_floats = bi_scratch_floats,
    .forward = bi_forward, .backward = bi_backward, .describe = bi_describe, .destroy = bi_destroy,
    .rng_streams = bi_rng_streams,
};
