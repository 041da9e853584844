/* ParallelConv1D: the convolution block of Kim 2014 ("Convolutional Neural
 * Networks for Sentence Classification") as one layer of a Sequential model:
 *
 *   parallelconv1d(filters, kernel_sizes=(3, 4, 5), activation=linear,
 *                  use_bias=true, kernel_initializer=glorot_uniform,
 *                  bias_initializer=zeros)
 *
 * For each width k_j one Conv1D(filters, k_j, padding=valid, activation)
 * over the same input (T, C), then each filter's maximum over time; the
 * maxima are concatenated, widths in the order given:
 *
 *   y[b, j·filters + f] = max_t conv_j(x)[b, t, f],   output (n_widths · filters)
 *
 * which is the functional Keras graph Concatenate()([GlobalMaxPooling1D()(
 * Conv1D(filters, k)(x)) for k in kernel_sizes]). The branches are Conv1D
 * layers (conv1d.c, its kernels and initialisation) owned by this one;
 * tensors "conv1d_<k>/kernel" (k, C, filters) and "conv1d_<k>/bias", in
 * width order. Backward sends dy[b, j·filters + f] to the first step that
 * attained the maximum (as torch.max / tf.reduce_max's gradient through a
 * unique argmax; ties go to the first), then through the branch's Conv1D
 * backward, whose input gradients add up in dx. The mask is dropped (Keras
 * Conv1D does not support masking); T must be at least the widest kernel. */
#include <stdio.h>
#include <string.h>

#include "layers/layer.h"

extern const sn_layer_ops sn_conv1d_ops;

#define PC_MAX_WIDTHS SN_SPEC_MAX_TUPLE

typedef struct pc_cfg {
    int filters, n, widths[PC_MAX_WIDTHS];
    char act[32], kinit[32], binit[32];
    int use_bias;
    sn_layer *branch[PC_MAX_WIDTHS];
    int t_out[PC_MAX_WIDTHS];
} pc_cfg;

static void pc_destroy(sn_layer *L) {
    pc_cfg *cf = L->cfg;
    for (int j = 0; cf && j < cf->n; j++) sn_layer_free(cf->branch[j]);
    free(cf);
}

/* A Conv1D branch of width k from spec text built here. */
static sn_layer *make_branch(const pc_cfg *cf, int k, const sn_spec_call *c) {
    char text[512];
    snprintf(text, sizeof text, "conv1d(%d, %d, activation=%s, use_bias=%s, kernel_initializer=%s, bias_initializer=%s)",
             cf->filters, k, cf->act, cf->use_bias ? "true" : "false", cf->kinit, cf->binit);
    sn_spec s;
    sn_layer *b = NULL;
    if (sn_spec_parse(&s, text) == SN_OK) {
        b = s.n_calls == 1 ? sn_layer_new(&sn_conv1d_ops, s.calls[0]) : NULL;
        sn_spec_free(&s);
    }
    if (!b) {
        char why[512]; /* the branch's message, copied: sn_spec_error rewrites the buffer */
        snprintf(why, sizeof why, "%s", sn_error_last());
        sn_spec_error(c, "%s", why);
        return NULL;
    }
    snprintf(b->name, sizeof b->name, "conv1d_%d", k);
    return b;
}

static sn_status pc_configure(sn_layer *L, const sn_spec_call *c) {
    pc_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    long filters;
    sn_status st = sn_arg_int(c, 0, "filters", -1, &filters);
    if (st) return st;
    if (filters < 1 || filters > (1 << 20)) return sn_spec_error(c, "parallelconv1d needs filters >= 1");
    cf->filters = (int)filters;
    if ((st = sn_arg_ints(c, 1, "kernel_sizes", cf->widths, PC_MAX_WIDTHS, &cf->n))) return st;
    if (cf->n == 0) {
        cf->n = 3;
        cf->widths[0] = 3;
        cf->widths[1] = 4;
        cf->widths[2] = 5;
    }
    for (int j = 0; j < cf->n; j++) {
        if (cf->widths[j] < 1 || cf->widths[j] > 1024)
            return sn_spec_error(c, "kernel_sizes must be in [1, 1024], got %d", cf->widths[j]);
        for (int i = 0; i < j; i++)
            if (cf->widths[i] == cf->widths[j]) return sn_spec_error(c, "kernel size %d is given twice", cf->widths[j]);
    }
    if ((st = sn_arg_str(c, 2, "activation", "linear", cf->act, sizeof cf->act))) return st;
    if ((st = sn_arg_bool(c, -1, "use_bias", 1, &cf->use_bias))) return st;
    if ((st = sn_arg_str(c, -1, "kernel_initializer", "glorot_uniform", cf->kinit, sizeof cf->kinit))) return st;
    if ((st = sn_arg_str(c, -1, "bias_initializer", "zeros", cf->binit, sizeof cf->binit))) return st;
    for (int j = 0; j < cf->n; j++)
        if (!(cf->branch[j] = make_branch(cf, cf->widths[j], c))) return SN_ERR_PARSE;
    return SN_OK;
}

static sn_status pc_build(sn_layer *L) {
    pc_cfg *cf = L->cfg;
    if (L->in.rep != SN_REP_DENSE || L->in.rank != 2) {
        char s[64];
        sn_shape_str(&L->in, s, sizeof s);
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, T, C), got %s", L->name, s);
    }
    size_t off = 0;
    for (int j = 0; j < cf->n; j++) {
        sn_layer *b = cf->branch[j];
        b->trainable = L->trainable;
        sn_status st = sn_layer_build(b, &L->in);
        if (st) return sn_error_prefix(st, "%s", L->name);
        for (int i = 0; i < b->n_tensors; i++) {
            const sn_tensor_info *t = &b->tensors[i];
            char nm[48];
            snprintf(nm, sizeof nm, "%.20s/%.26s", b->name, t->name);
            size_t o = sn_layer_add_tensor(L, nm, t->rank, t->dims, t->trainable);
            SN_ASSERT(o == off + t->offset);
        }
        off += b->n_params;
        cf->t_out[j] = b->out.d[0];
    }
    L->out.rank = 1;
    L->out.d[0] = cf->n * cf->filters;
    L->out.rep = SN_REP_DENSE;
    return SN_OK;
}

static void pc_bind(sn_layer *L) {
    pc_cfg *cf = L->cfg;
    size_t off = 0;
    for (int j = 0; j < cf->n; j++) {
        cf->branch[j]->w = L->w + off;
        cf->branch[j]->g = L->g + off;
        off += cf->branch[j]->n_params;
    }
}

static sn_status pc_init(sn_layer *L, sn_rng *r) {
    pc_cfg *cf = L->cfg;
    pc_bind(L);
    for (int j = 0; j < cf->n; j++) {
        sn_status st = cf->branch[j]->ops->init(cf->branch[j], r);
        if (st) return st;
    }
    return SN_OK;
}

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Cache, per branch j: its own cache | its output (B, T_j, filters) | the
 * arg-max step of each (b, f) as a float (B, filters). *where (n) receives
 * each branch's offset; returns the total. */
static size_t pc_layout(const sn_layer *L, int B, size_t *where) {
    const pc_cfg *cf = L->cfg;
    size_t o = 0;
    for (int j = 0; j < cf->n; j++) {
        if (where) where[j] = o;
        o += up16(cf->branch[j]->ops->cache_floats(cf->branch[j], B));
        o += up16((size_t)B * (size_t)cf->t_out[j] * (size_t)cf->filters);
        o += up16((size_t)B * (size_t)cf->filters);
    }
    return o;
}

static size_t pc_cache_floats(const sn_layer *L, int B) { return pc_layout(L, B, NULL); }

/* Scratch: dz of the largest branch | the branches' own scratch. */
static size_t pc_scratch_floats(const sn_layer *L, int B) {
    const pc_cfg *cf = L->cfg;
    size_t dz = 0, inner = 0;
    for (int j = 0; j < cf->n; j++) {
        dz = SN_MAX(dz, (size_t)B * (size_t)cf->t_out[j] * (size_t)cf->filters);
        inner = SN_MAX(inner, cf->branch[j]->ops->scratch_floats(cf->branch[j], B));
    }
    return up16(dz) + inner;
}

/* Pointers into branch j's part of the cache. */
static void pc_parts(const sn_layer *L, int B, int j, float *cache, float **bc, float **yj, float **am) {
    const pc_cfg *cf = L->cfg;
    size_t where[PC_MAX_WIDTHS];
    pc_layout(L, B, where);
    *bc = cache + where[j];
    *yj = *bc + up16(cf->branch[j]->ops->cache_floats(cf->branch[j], B));
    *am = *yj + up16((size_t)B * (size_t)cf->t_out[j] * (size_t)cf->filters);
}

static void pc_forward(sn_layer *L, sn_fwd *f) {
    pc_cfg *cf = L->cfg;
    const int B = f->B, F = cf->filters, W = cf->n * F;
    for (int j = 0; j < cf->n; j++) {
        sn_layer *br = cf->branch[j];
        float *bc, *yj, *am;
        pc_parts(L, B, j, f->cache, &bc, &yj, &am);
        br->threads = L->threads;
        sn_fwd ff = *f;
        ff.y = yj;
        ff.cache = bc;
        br->ops->forward(br, &ff);
        const int T = cf->t_out[j];
        for (int b = 0; b < B; b++) {
            const float *z = yj + (size_t)b * T * F;
            float *y = f->y + (size_t)b * W + (size_t)j * F, *a = am + (size_t)b * F;
            for (int c = 0; c < F; c++) {
                y[c] = z[c];
                a[c] = 0;
            }
            for (int t = 1; t < T; t++)
                for (int c = 0; c < F; c++)
                    if (z[(size_t)t * F + c] > y[c]) {
                        y[c] = z[(size_t)t * F + c];
                        a[c] = (float)t;
                    }
        }
    }
    f->mask_out = NULL;
}

static void pc_backward(sn_layer *L, sn_bwd *bw) {
    pc_cfg *cf = L->cfg;
    const int B = bw->B, F = cf->filters, W = cf->n * F;
    size_t dzmax = 0;
    for (int j = 0; j < cf->n; j++) dzmax = SN_MAX(dzmax, (size_t)B * (size_t)cf->t_out[j] * (size_t)F);
    float *dz = bw->scratch;
    for (int j = 0; j < cf->n; j++) {
        sn_layer *br = cf->branch[j];
        float *bc, *yj, *am;
        pc_parts(L, B, j, bw->cache, &bc, &yj, &am);
        const int T = cf->t_out[j];
        memset(dz, 0, (size_t)B * T * F * sizeof *dz);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < F; c++) {
                size_t t = (size_t)am[(size_t)b * F + c];
                dz[((size_t)b * T + t) * F + c] = bw->dy[(size_t)b * W + (size_t)j * F + c];
            }
        br->threads = L->threads;
        sn_bwd bb = *bw;
        bb.y = yj;
        bb.dy = dz;
        bb.cache = bc;
        bb.scratch = bw->scratch + up16(dzmax);
        br->ops->backward(br, &bb);
    }
}

static int pc_describe(const sn_layer *L, char *buf, size_t n) {
    const pc_cfg *cf = L->cfg;
    char ks[128] = "";
    size_t k = 0;
    for (int j = 0; j < cf->n; j++) k += (size_t)snprintf(ks + k, sizeof ks - k, "%s%d", j ? ", " : "", cf->widths[j]);
    char extra[256] = "";
    size_t e = 0;
#define ADD(...) e += (size_t)snprintf(extra + e, sizeof extra - e, __VA_ARGS__)
    if (strcmp(cf->act, "linear")) ADD(", activation=%s", cf->act);
    if (!cf->use_bias) ADD(", use_bias=false");
    if (strcmp(cf->kinit, "glorot_uniform")) ADD(", kernel_initializer=%s", cf->kinit);
    if (strcmp(cf->binit, "zeros")) ADD(", bias_initializer=%s", cf->binit);
#undef ADD
    return snprintf(buf, n, "parallelconv1d(%d, kernel_sizes=(%s%s)%s)", cf->filters, ks, cf->n == 1 ? "," : "", extra);
}

const sn_layer_ops sn_parallelconv1d_ops = {
    .kind = "parallelconv1d", .class_name = "ParallelConv1D", .mask_policy = SN_MASK_DROP,
    .configure = pc_configure, .build = pc_build, .bind = pc_bind, .init = pc_init,
    .cache_floats = pc_cache_floats, .scratch_floats = pc_scratch_floats,
    .forward = pc_forward, .backward = pc_backward, .describe = pc_describe, .destroy = pc_destroy,
};
