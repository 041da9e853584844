/* sn_cexport: a model as one standalone C99 file and its header
 * (include/seqnn/cexport.h). The generator walks the model's layers (their
 * canonical spec arguments, shapes and tensors), writes the weights as
 * static const arrays, pastes the runtime pieces the layers need
 * (cexport_rt.c), and writes PREFIX_predict (the whole sequence, layer by
 * layer, through two ping-pong buffers in the caller's PREFIX_work) and,
 * for models that can run step by step, PREFIX_step (one time step through
 * every layer, recurrent states in the caller's PREFIX_state). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/cexport_internal.h"
#include "model/model_impl.h"
#include "seqnn/cexport.h"
#include "spec/spec.h"

void sn_cexport_opts_default(sn_cexport_opts *o) { memset(o, 0, sizeof *o); }

/* ---- a growable text buffer ---- */
typedef struct sb {
    char *p;
    size_t n, cap;
    int oom;
} sb;

static void sb_add(sb *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_add(sb *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap + (size_t)k + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

/* ---- the plan ---- */
enum { NEED_FAST, NEED_ACT, NEED_MV, NEED_MVADD, NEED_DENSE, NEED_CELL, NEED_RNN, NEED_CONV, NEED_POOL, NEED_GAP,
       NEED_GMP, NEED_NORM, NEED_LN, NEED_EMBED, NEED_MASKING, NEED_BIDI, NEED_N };

typedef struct cx {
    const sn_model *m;
    sn_spec sp;
    int int8;
    char P[64], PU[64], hname[256];
    sb c;                     /* the .c text: weights and structs */
    sb f;                     /* the .c text: runtime and functions */
    sb h;                     /* the .h text */
    int need[NEED_N];
    size_t maxact, maxaux, maxT, maxC, maxW, maxH;
    int steppable;
} cx;

/* Activation ids of the generated code (SNX_*), -1 for one it lacks. */
static int act_id(const char *a) {
    static const char *const n[] = {"linear",   "relu",     "tanh", "sigmoid", "softmax", "hard_sigmoid",
                                    "hard_sigmoid_keras2", "softsign", "softplus", "elu", "selu"};
    for (int i = 0; i < 11; i++)
        if (!strcmp(a, n[i])) return i;
    return -1;
}

static int tensor(const sn_layer *L, const char *name) {
    for (int i = 0; i < L->n_tensors; i++)
        if (!strcmp(L->tensors[i].name, name)) return i;
    return -1;
}

static sn_status need_act(const sn_layer *L, const char *a, int *id) {
    *id = act_id(a);
    if (*id < 0)
        return sn_error(SN_ERR_UNSUPPORTED, "C export: layer '%s': activation %s is not in the C runtime", L->name, a);
    return SN_OK;
}

void snx_quant_scales(const float *w, size_t R, size_t N, float *s) {
    for (size_t j = 0; j < N; j++) {
        float mx = 0;
        for (size_t r = 0; r < R; r++) mx = fmaxf(mx, fabsf(w[r * N + j]));
        s[j] = mx > 0 ? mx / 127.0f : 1.0f;
    }
}

int snx_quant(float w, float s) {
    long q = lrintf(w / s);
    return (int)(q > 127 ? 127 : q < -127 ? -127 : q);
}

int snx_quantized(const char *tensor) {
    size_t n = strlen(tensor);
    return (n >= 6 && !strcmp(tensor + n - 6, "kernel")) || !strcmp(tensor, "embeddings");
}

/* Float literal that reads back as v exactly. */
static void flit(char *buf, size_t n, float v) {
    snprintf(buf, n, "%.9g", (double)v);
    if (!strpbrk(buf, ".en")) strncat(buf, ".0", n - strlen(buf) - 1);
    strncat(buf, "f", n - strlen(buf) - 1);
}

/* Writes tensor k of layer i: float, or (matrix && int8) int8 + per-column scales
 * over the last dimension. Names: P_l<i>_t<k>[, _s]. */
static sn_status emit_tensor(cx *x, int i, int k, int matrix) {
    const sn_layer *L = x->m->layers[i];
    const sn_tensor_info *t = &L->tensors[k];
    const float *w = L->w + t->offset;
    for (size_t e = 0; e < t->numel; e++)
        if (!isfinite(w[e]))
            return sn_error(SN_ERR_NUMERIC, "C export: layer '%s': %s holds a non-finite value", L->name, t->name);
    char lit[48];
    if (!(matrix && x->int8)) {
        sb_add(&x->c, "static const float %s_l%d_t%d[%zu] = {", x->P, i, k, t->numel);
        for (size_t e = 0; e < t->numel; e++) {
            flit(lit, sizeof lit, w[e]);
            sb_add(&x->c, "%s%s", e % 8 ? " " : "\n    ", lit);
            if (e + 1 < t->numel) sb_add(&x->c, ",");
        }
        sb_add(&x->c, "};\n");
        return SN_OK;
    }
    size_t N = (size_t)t->dims[t->rank - 1], R = t->numel / N;
    float *s = malloc(N * sizeof *s);
    if (!s) return SN_ERR_NOMEM;
    snx_quant_scales(w, R, N, s);
    sb_add(&x->c, "static const signed char %s_l%d_t%d[%zu] = {", x->P, i, k, t->numel);
    for (size_t e = 0; e < t->numel; e++)
        sb_add(&x->c, "%s%d%s", e % 16 ? " " : "\n    ", snx_quant(w[e], s[e % N]), e + 1 < t->numel ? "," : "");
    sb_add(&x->c, "};\nstatic const float %s_l%d_t%d_s[%zu] = {", x->P, i, k, N);
    for (size_t j = 0; j < N; j++) {
        flit(lit, sizeof lit, s[j]);
        sb_add(&x->c, "%s%s%s", j % 8 ? " " : "\n    ", lit, j + 1 < N ? "," : "");
    }
    sb_add(&x->c, "};\n");
    free(s);
    return SN_OK;
}

/* "P_l3_t0" and its scale ("P_l3_t0_s" or "0"). */
static void wname(const cx *x, int i, int k, char *w, char *s, size_t n) {
    snprintf(w, n, "%s_l%d_t%d", x->P, i, k);
    if (x->int8) snprintf(s, n, "%s_l%d_t%d_s", x->P, i, k);
    else snprintf(s, n, "0");
}

static void grow(size_t *v, size_t n) {
    if (n > *v) *v = n;
}

/* One recurrent part (a layer, or a Bidirectional half): its static
 * snx_rnn struct P_r<i>_<part> from spec call c and tensors prefix pre. */
static sn_status emit_rnn_struct(cx *x, int i, int part, const sn_spec_call *c, const char *pre) {
    const sn_layer *L = x->m->layers[i];
    char nk[64], nr[64], nb[64];
    snprintf(nk, sizeof nk, "%skernel", pre);
    snprintf(nr, sizeof nr, "%srecurrent_kernel", pre);
    snprintf(nb, sizeof nb, "%sbias", pre);
    int tk = tensor(L, nk), tr = tensor(L, nr), tb = tensor(L, nb);
    if (tk < 0 || tr < 0) return sn_error(SN_ERR_STATE, "C export: layer '%s' lacks %s", L->name, nk);
    int kind = !strcmp(c->name, "lstm") ? 1 : !strcmp(c->name, "gru") ? 2 : 0;
    int act, ract = 3, ra = kind == 2 && sn_spec_arg_num(c, -1, "reset_after", 1) != 0;
    sn_status st = need_act(L, sn_spec_arg_word(c, -1, "activation", "tanh"), &act);
    if (!st && kind) st = need_act(L, sn_spec_arg_word(c, -1, "recurrent_activation", "sigmoid"), &ract);
    if (!st && (act == 4 || ract == 4))
        st = sn_error(SN_ERR_UNSUPPORTED, "C export: layer '%s': softmax in a cell", L->name);
    if (st) return st;
    if ((st = emit_tensor(x, i, tk, 1)) || (st = emit_tensor(x, i, tr, 1)) ||
        (tb >= 0 && (st = emit_tensor(x, i, tb, 0))))
        return st;
    int C = L->tensors[tk].dims[0], H = L->tensors[tr].dims[0];
    char w[96], ws[96], u[96], us[96];
    wname(x, i, tk, w, ws, sizeof w);
    wname(x, i, tr, u, us, sizeof u);
    sb_add(&x->c, "static const snx_rnn %s_r%d_%d = {%d, %d, %d, %d, %d, %d, %s, %s, %s, %s, ", x->P, i, part, kind, C,
           H, act, ract, ra, w, u, ws, us);
    if (tb >= 0 && ra)
        sb_add(&x->c, "%s_l%d_t%d, %s_l%d_t%d + %d};\n", x->P, i, tb, x->P, i, tb, L->tensors[tr].dims[1]);
    else if (tb >= 0)
        sb_add(&x->c, "%s_l%d_t%d, 0};\n", x->P, i, tb);
    else sb_add(&x->c, "0, 0};\n");
    grow(&x->maxH, (size_t)H);
    x->need[NEED_CELL] = 1;
    return SN_OK;
}

/* Weights and structs of layer i, and the sizes its calls need. */
static sn_status plan_layer(cx *x, int i) {
    const sn_layer *L = x->m->layers[i];
    const sn_spec_call *c = x->sp.calls[i];
    const char *cls = L->ops->class_name;
    sn_status st = SN_OK;
    int T = L->in.rank == 2 ? L->in.d[0] : L->in.rep == SN_REP_IDS ? L->in.d[0] : 1;
    grow(&x->maxact, sn_shape_phys(&L->in));
    grow(&x->maxact, sn_shape_phys(&L->out));
    grow(&x->maxW, (size_t)L->in.d[L->in.rank - 1]);
    grow(&x->maxW, (size_t)L->out.d[L->out.rank - 1]);
    grow(&x->maxT, (size_t)T);
    int id;
    if (!strcmp(cls, "Dense")) {
        if ((st = need_act(L, sn_spec_arg_word(c, 1, "activation", "linear"), &id))) return st;
        st = emit_tensor(x, i, 0, 1);
        if (!st && L->n_tensors > 1) st = emit_tensor(x, i, 1, 0);
        x->need[NEED_DENSE] = x->need[NEED_ACT] = x->need[NEED_MV] = 1;
    } else if (!strcmp(cls, "Activation")) {
        st = need_act(L, sn_spec_arg_word(c, 0, "activation", "linear"), &id);
        x->need[NEED_ACT] = 1;
    } else if (!strcmp(cls, "Conv1D")) {
        if ((st = need_act(L, sn_spec_arg_word(c, -1, "activation", "linear"), &id))) return st;
        st = emit_tensor(x, i, 0, 1);
        if (!st && L->n_tensors > 1) st = emit_tensor(x, i, 1, 0);
        x->need[NEED_CONV] = x->need[NEED_ACT] = 1;
    } else if (!strcmp(cls, "MaxPooling1D")) {
        x->need[NEED_POOL] = 1;
    } else if (!strcmp(cls, "GlobalMaxPooling1D")) {
        x->need[NEED_GMP] = 1;
    } else if (!strcmp(cls, "GlobalAveragePooling1D")) {
        x->need[NEED_GAP] = 1;
        grow(&x->maxC, (size_t)L->in.d[1]);
    } else if (!strcmp(cls, "BatchNormalization")) {
        int tm = tensor(L, "moving_mean"), tv = tensor(L, "moving_variance");
        double eps = sn_spec_arg_num(c, -1, "epsilon", 1e-3);
        const float *mv = L->w + L->tensors[tv].offset;
        char lit[48];
        for (int k = 0; k < L->n_tensors && !st; k++)
            if (k != tv) st = emit_tensor(x, i, k, 0);
        sb_add(&x->c, "static const float %s_l%d_inv[%zu] = {", x->P, i, L->tensors[tv].numel);
        for (size_t e = 0; e < L->tensors[tv].numel; e++) {
            flit(lit, sizeof lit, (float)(1.0 / sqrt((double)mv[e] + eps)));
            sb_add(&x->c, "%s%s%s", e % 8 ? " " : "\n    ", lit, e + 1 < L->tensors[tv].numel ? "," : "");
        }
        sb_add(&x->c, "};\n");
        (void)tm;
        x->need[NEED_NORM] = 1;
    } else if (!strcmp(cls, "LayerNormalization")) {
        for (int k = 0; k < L->n_tensors && !st; k++) st = emit_tensor(x, i, k, 0);
        x->need[NEED_LN] = 1;
    } else if (!strcmp(cls, "Embedding")) {
        st = emit_tensor(x, i, 0, 1);
        x->need[NEED_EMBED] = 1;
    } else if (!strcmp(cls, "Masking")) {
        x->need[NEED_MASKING] = 1;
    } else if (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU")) {
        if (sn_spec_arg_num(c, -1, "go_backwards", 0) != 0) x->steppable = 0;
        st = emit_rnn_struct(x, i, 0, c, "");
        x->need[NEED_RNN] = 1;
        grow(&x->maxaux, 12 * (size_t)c->args[0].num);
    } else if (!strcmp(cls, "Bidirectional")) {
        const sn_spec_arg *in = sn_spec_arg_find(c, 0, "layer"), *bw = sn_spec_arg_find(c, -1, "backward_layer");
        char pf[64], pb[64];
        snprintf(pf, sizeof pf, "forward_%s/", in->call->name);
        snprintf(pb, sizeof pb, "backward_%s/", in->call->name);
        st = emit_rnn_struct(x, i, 0, in->call, pf);
        if (!st) st = emit_rnn_struct(x, i, 1, bw && bw->kind == SN_V_CALL ? bw->call : in->call, pb);
        size_t H = (size_t)in->call->args[0].num,
               To = sn_spec_arg_num(in->call, -1, "return_sequences", 0) != 0 ? (size_t)T : 1;
        grow(&x->maxaux, 2 * To * H + 12 * H);
        x->need[NEED_RNN] = x->need[NEED_BIDI] = 1;
        x->steppable = 0;
    } else if (!strcmp(cls, "Flatten") || !strcmp(cls, "Reshape") || !strcmp(cls, "Dropout")) {
        if (strcmp(cls, "Dropout") && L->in.rank == 2) x->steppable = 0;
    } else {
        return sn_error(SN_ERR_UNSUPPORTED, "C export: layer '%s' (%s) is not in the C runtime", L->name, cls);
    }
    if (!strcmp(cls, "Conv1D") || !strcmp(cls, "MaxPooling1D") || !strncmp(cls, "Global", 6)) x->steppable = 0;
    return st;
}

/* Conv / pool left padding from the shapes (Keras: valid 0, causal d(K-1),
 * same floor of the total over 2). */
static int pad_left(const char *pad, int Lin, int lout, int st, int span) {
    if (!strcmp(pad, "causal")) return span - 1;
    if (!strcmp(pad, "same")) {
        int P = (lout - 1) * st + span - Lin;
        return P > 0 ? P / 2 : 0;
    }
    return 0;
}

/* The call of layer i in predict: reads `in`, writes `o` (or passes in on). */
static void emit_predict_layer(cx *x, int i) {
    const sn_layer *L = x->m->layers[i];
    const sn_spec_call *c = x->sp.calls[i];
    const char *cls = L->ops->class_name, *P = x->P;
    sb *b = &x->f;
    int T = L->in.d[0], C = L->in.d[L->in.rank - 1], rows = L->in.rank == 2 ? L->in.d[0] : 1;
    char w[96], s[96];
    wname(x, i, 0, w, s, sizeof w);
    sb_add(b, "    /* %s (%s) */\n    o = in == w->b0 ? w->b1 : w->b0;\n", L->name, cls);
    if (!strcmp(cls, "Dense")) {
        int n = L->out.d[L->out.rank - 1];
        sb_add(b, "    snx_dense(o, in, %d, %d, %d, %s, %s, ", rows, C, n, w, s);
        if (L->n_tensors > 1) sb_add(b, "%s_l%d_t1", P, i);
        else sb_add(b, "0");
        sb_add(b, ", %d);\n", act_id(sn_spec_arg_word(c, 1, "activation", "linear")));
    } else if (!strcmp(cls, "Activation")) {
        sb_add(b, "    for (k = 0; k < %zu; k++) o[k] = in[k];\n    snx_act(%d, o, %d, %d);\n", sn_shape_phys(&L->in),
               act_id(sn_spec_arg_word(c, 0, "activation", "linear")), rows, C);
    } else if (!strcmp(cls, "Dropout") || !strcmp(cls, "Flatten") || !strcmp(cls, "Reshape")) {
        sb_add(b, "    /* the data passes unchanged */\n");
        if (strcmp(cls, "Dropout")) sb_add(b, "    mask = 0;\n");
        return;
    } else if (!strcmp(cls, "Conv1D")) {
        int K = (int)sn_spec_arg_num(c, 1, "kernel_size", 1), st = (int)sn_spec_arg_num(c, -1, "strides", 1),
            d = (int)sn_spec_arg_num(c, -1, "dilation_rate", 1);
        int lout = L->out.d[0], F = L->out.d[1];
        sb_add(b, "    snx_conv1d(o, in, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, ", T, C, F, K, st, d,
               pad_left(sn_spec_arg_word(c, -1, "padding", "valid"), T, lout, st, d * (K - 1) + 1), lout, w, s);
        if (L->n_tensors > 1) sb_add(b, "%s_l%d_t1", P, i);
        else sb_add(b, "0");
        sb_add(b, ", %d);\n    mask = 0;\n", act_id(sn_spec_arg_word(c, -1, "activation", "linear")));
    } else if (!strcmp(cls, "MaxPooling1D")) {
        int p = (int)sn_spec_arg_num(c, 0, "pool_size", 2), st = (int)sn_spec_arg_num(c, -1, "strides", p),
            lout = L->out.d[0];
        sb_add(b, "    snx_maxpool(o, in, %d, %d, %d, %d, %d, %d);\n    mask = 0;\n", T, C, p, st,
               pad_left(sn_spec_arg_word(c, -1, "padding", "valid"), T, lout, st, p), lout);
    } else if (!strcmp(cls, "GlobalAveragePooling1D")) {
        sb_add(b, "    snx_gap(o, in, %d, %d, mask);\n    mask = 0;\n", T, C);
    } else if (!strcmp(cls, "GlobalMaxPooling1D")) {
        sb_add(b, "    snx_gmp(o, in, %d, %d);\n    mask = 0;\n", T, C);
    } else if (!strcmp(cls, "BatchNormalization") || !strcmp(cls, "LayerNormalization")) {
        int tg = tensor(L, "gamma"), tb = tensor(L, "beta");
        char g[96] = "0", be[96] = "0";
        if (tg >= 0) snprintf(g, sizeof g, "%s_l%d_t%d", P, i, tg);
        if (tb >= 0) snprintf(be, sizeof be, "%s_l%d_t%d", P, i, tb);
        if (cls[0] == 'B')
            sb_add(b, "    snx_bn(o, in, %d, %d, %s, %s, %s_l%d_t%d, %s_l%d_inv);\n", rows, C, g, be, P, i,
                   tensor(L, "moving_mean"), P, i);
        else
            sb_add(b, "    snx_ln(o, in, %d, %d, %s, %s, %.17g);\n", rows, C, g, be,
                   sn_spec_arg_num(c, -1, "epsilon", 1e-3));
    } else if (!strcmp(cls, "Embedding")) {
        int mz = sn_spec_arg_num(c, -1, "mask_zero", 0) != 0;
        sb_add(b, "    snx_embedding(o, in, %d, %d, %d, %s, %s, %s);\n    mask = %s;\n", T, L->tensors[0].dims[0],
               L->tensors[0].dims[1], w, s, mz ? "w->mask" : "0", mz ? "w->mask" : "0");
    } else if (!strcmp(cls, "Masking")) {
        char lit[48];
        flit(lit, sizeof lit, (float)sn_spec_arg_num(c, 0, "mask_value", 0));
        sb_add(b, "    snx_masking(o, in, %d, %d, %s, w->mask);\n    mask = w->mask;\n", T, C, lit);
    } else if (!strcmp(cls, "Bidirectional")) {
        const sn_spec_arg *in = sn_spec_arg_find(c, 0, "layer"), *bw = sn_spec_arg_find(c, -1, "backward_layer");
        const sn_spec_call *bc = bw && bw->kind == SN_V_CALL ? bw->call : in->call;
        int rs = sn_spec_arg_num(in->call, -1, "return_sequences", 0) != 0, H = (int)in->call->args[0].num,
            To = rs ? T : 1;
        int gf = sn_spec_arg_num(in->call, -1, "go_backwards", 0) != 0,
            gb = bw && bw->kind == SN_V_CALL ? sn_spec_arg_num(bc, -1, "go_backwards", 0) != 0 : !gf;
        const char *mm = sn_spec_arg_word(c, -1, "merge_mode", "concat");
        int mode = !strcmp(mm, "sum") ? 1 : !strcmp(mm, "mul") ? 2 : !strcmp(mm, "ave") ? 3 : 0;
        sb_add(b, "    snx_rnn_seq(&%s_r%d_0, %d, %d, %d, %d, in, mask, w->aux, w->aux + %d);\n", P, i, T, gf, rs, rs,
               2 * To * H);
        sb_add(b, "    snx_rnn_seq(&%s_r%d_1, %d, %d, %d, %d, in, mask, w->aux + %d, w->aux + %d);\n", P, i, T, gb, rs,
               rs, To * H, 2 * To * H);
        sb_add(b, "    snx_merge(o, w->aux, w->aux + %d, %d, %d, %d);\n", To * H, To, H, mode);
        if (!rs) sb_add(b, "    mask = 0;\n");
    } else { /* SimpleRNN, LSTM, GRU */
        int rs = sn_spec_arg_num(c, -1, "return_sequences", 0) != 0;
        sb_add(b, "    snx_rnn_seq(&%s_r%d_0, %d, %d, %d, 0, in, mask, o, w->aux);\n", P, i, T,
               sn_spec_arg_num(c, -1, "go_backwards", 0) != 0, rs);
        if (!rs) sb_add(b, "    mask = 0;\n");
    }
    sb_add(b, "    in = o;\n");
}

/* One step of layer i in PREFIX_step (only for steppable models). */
static void emit_step_layer(cx *x, int i) {
    const sn_layer *L = x->m->layers[i];
    const sn_spec_call *c = x->sp.calls[i];
    const char *cls = L->ops->class_name, *P = x->P;
    sb *b = &x->f;
    int C = L->in.d[L->in.rank - 1];
    char w[96], s[96];
    wname(x, i, 0, w, s, sizeof w);
    sb_add(b, "    /* %s (%s) */\n    o = in == s->a ? s->b : s->a;\n", L->name, cls);
    if (!strcmp(cls, "Dense")) {
        sb_add(b, "    snx_dense(o, in, 1, %d, %d, %s, %s, ", C, L->out.d[L->out.rank - 1], w, s);
        if (L->n_tensors > 1) sb_add(b, "%s_l%d_t1", P, i);
        else sb_add(b, "0");
        sb_add(b, ", %d);\n", act_id(sn_spec_arg_word(c, 1, "activation", "linear")));
    } else if (!strcmp(cls, "Activation")) {
        sb_add(b, "    for (k = 0; k < %d; k++) o[k] = in[k];\n    snx_act(%d, o, 1, %d);\n", C,
               act_id(sn_spec_arg_word(c, 0, "activation", "linear")), C);
    } else if (!strcmp(cls, "Dropout") || !strcmp(cls, "Flatten") || !strcmp(cls, "Reshape")) {
        return;
    } else if (!strcmp(cls, "BatchNormalization") || !strcmp(cls, "LayerNormalization")) {
        int tg = tensor(L, "gamma"), tb = tensor(L, "beta");
        char g[96] = "0", be[96] = "0";
        if (tg >= 0) snprintf(g, sizeof g, "%s_l%d_t%d", P, i, tg);
        if (tb >= 0) snprintf(be, sizeof be, "%s_l%d_t%d", P, i, tb);
        if (cls[0] == 'B')
            sb_add(b, "    snx_bn(o, in, 1, %d, %s, %s, %s_l%d_t%d, %s_l%d_inv);\n", C, g, be, P, i,
                   tensor(L, "moving_mean"), P, i);
        else
            sb_add(b, "    snx_ln(o, in, 1, %d, %s, %s, %.17g);\n", C, g, be, sn_spec_arg_num(c, -1, "epsilon", 1e-3));
    } else if (!strcmp(cls, "Embedding")) {
        sb_add(b, "    snx_embedding(o, in, 1, %d, %d, %s, %s, 0);\n", L->tensors[0].dims[0], L->tensors[0].dims[1], w,
               s);
        if (sn_spec_arg_num(c, -1, "mask_zero", 0) != 0) sb_add(b, "    valid = (long)(in[0] + 0.5f) != 0;\n");
    } else if (!strcmp(cls, "Masking")) {
        char lit[48];
        flit(lit, sizeof lit, (float)sn_spec_arg_num(c, 0, "mask_value", 0));
        sb_add(b,
               "    {\n        unsigned char m1;\n        snx_masking(o, in, 1, %d, %s, &m1);\n        valid = m1;\n   "
               " }\n",
               C, lit);
    } else { /* a forward recurrent layer: the state is the output */
        int lstm = !strcmp(cls, "LSTM"), H = L->out.d[L->out.rank - 1];
        char cp[32];
        snprintf(cp, sizeof cp, lstm ? "s->c%d" : "s->aux", i);
        sb_add(b,
               "    if (valid) {\n        snx_cell(&%s_r%d_0, in, s->h%d, %s, s->aux, s->aux + %d, s->aux + %d, s->aux "
               "+ %d);\n",
               P, i, i, cp, H, 2 * H, 6 * H);
        if (lstm) sb_add(b, "        for (k = 0; k < %d; k++) s->c%d[k] = s->aux[%d + k];\n", H, i, H);
        sb_add(b, "        for (k = 0; k < %d; k++) s->h%d[k] = s->aux[k];\n    }\n    o = s->h%d;\n", H, i, i);
        if (sn_spec_arg_num(c, -1, "return_sequences", 0) == 0) sb_add(b, "    valid = 1;\n");
    }
    sb_add(b, "    in = o;\n");
}

static void emit_runtime(cx *x) {
    static const char *const *const parts[NEED_N] = {
        &snx_rt_fast, &snx_rt_act, &snx_rt_mv, &snx_rt_mvadd, &snx_rt_dense, &snx_rt_cell, &snx_rt_rnn, &snx_rt_conv,
        &snx_rt_pool, &snx_rt_gap, &snx_rt_gmp, &snx_rt_norm, &snx_rt_ln, &snx_rt_embed, &snx_rt_masking, &snx_rt_bidi};
    if (x->need[NEED_RNN]) x->need[NEED_CELL] = 1;
    if (x->need[NEED_CELL]) x->need[NEED_MVADD] = x->need[NEED_FAST] = 1;
    if (x->need[NEED_CELL] || x->need[NEED_DENSE]) x->need[NEED_MV] = 1;
    if (x->need[NEED_DENSE] || x->need[NEED_CONV]) x->need[NEED_ACT] = 1;
    sb_add(&x->f, "\n/* ---- runtime (seqnn's inference arithmetic in plain C99) ---- */\n");
    if (x->need[NEED_ACT] || x->need[NEED_FAST]) sb_add(&x->f, "%s", snx_rt_elem);
    for (int k = 0; k < NEED_N; k++)
        if (x->need[k]) sb_add(&x->f, "%s", *parts[k]);
}

/* The header: sizes, the work and state structs, the functions. */
static void emit_header(cx *x) {
    const sn_model *m = x->m;
    sb *h = &x->h;
    const char *P = x->P, *U = x->PU;
    sb_add(
        h,
        "/* Generated by seqnn %s (seqnn export --c): the model\n *   %s\n * as plain C99 (needs only <math.h>; "
        "no allocation). See include/seqnn/cexport.h of seqnn\n * for the contract. */\n#ifndef %s_H\n#define %s_H\n\n",
        SEQNN_VERSION, m->spec, U, U);
    sb_add(h, "#define %s_IN %zu  /* input floats per sample%s */\n", U, sn_shape_phys(&m->in_shape),
           m->layers[0]->ops->class_name[0] == 'E' ? " (token ids as floats)" : "");
    sb_add(h, "#define %s_OUT %zu /* output floats per sample */\n\n", U, sn_model_output_numel(m));
    sb_add(h, "/* Scratch for %s_predict: any storage (static, stack, heap), one per thread. */\n", P);
    sb_add(
        h,
        "typedef struct %s_work {\n    float b0[%zu], b1[%zu], aux[%zu];\n    unsigned char mask[%zu];\n} %s_work;\n\n",
        P, x->maxact, x->maxact, x->maxaux ? x->maxaux : 1, x->maxT, P);
    sb_add(h,
           "/* y (%s_OUT) = the model's output for one sample x (%s_IN). */\nvoid %s_predict(%s_work *w, const float "
           "*x, float *y);\n",
           U, U, P, P);
    if (x->steppable) {
        sb_add(h, "\n#define %s_STEP_IN %d /* floats per time step */\n", U,
               m->in_shape.rank == 2 ? m->in_shape.d[1] : 1);
        sb_add(h, "/* The recurrent states of one stream: clear with %s_reset. */\ntypedef struct %s_state {\n", P, P);
        for (int i = 0; i < m->n_layers; i++) {
            const char *cls = m->layers[i]->ops->class_name;
            int H = m->layers[i]->out.d[m->layers[i]->out.rank - 1];
            if (!strcmp(cls, "LSTM")) sb_add(h, "    float h%d[%d], c%d[%d];\n", i, H, i, H);
            else if (!strcmp(cls, "GRU") || !strcmp(cls, "SimpleRNN")) sb_add(h, "    float h%d[%d];\n", i, H);
        }
        sb_add(h, "    float a[%zu], b[%zu], aux[%zu];\n} %s_state;\n", x->maxW, x->maxW, 12 * (x->maxH ? x->maxH : 1),
               P);
        sb_add(h, "void %s_reset(%s_state *s);\n/* Feeds one time step x (%s_STEP_IN); y (%s_OUT) = the output for the "
                  "sequence so far. */\nvoid %s_step(%s_state *s, const float *x, float *y);\n", P, P, U, U, P, P);
    }
    sb_add(h, "\n#endif\n");
}

static void emit_functions(cx *x) {
    const sn_model *m = x->m;
    const char *P = x->P, *U = x->PU;
    sb *b = &x->f;
    sb_add(b, "\nvoid %s_predict(%s_work *w, const float *x, float *y) {\n    const float *in = x;\n    float *o;\n"
              "    const unsigned char *mask = 0;\n    int k;\n", P, P);
    for (int i = 0; i < m->n_layers; i++) {
        emit_predict_layer(x, i);
    }
    sb_add(b, "    for (k = 0; k < %s_OUT; k++) y[k] = in[k];\n    (void)o;\n    (void)mask;\n}\n", U);
    if (!x->steppable) return;
    sb_add(b, "\nvoid %s_reset(%s_state *s) {\n    int k;\n", P, P);
    for (int i = 0; i < m->n_layers; i++) {
        const char *cls = m->layers[i]->ops->class_name;
        int H = m->layers[i]->out.d[m->layers[i]->out.rank - 1];
        if (!strcmp(cls, "LSTM")) sb_add(b, "    for (k = 0; k < %d; k++) s->h%d[k] = s->c%d[k] = 0.0f;\n", H, i, i);
        else if (!strcmp(cls, "GRU") || !strcmp(cls, "SimpleRNN"))
            sb_add(b, "    for (k = 0; k < %d; k++) s->h%d[k] = 0.0f;\n", H, i);
    }
    sb_add(b, "    (void)k;\n    (void)s;\n}\n");
    sb_add(b, "\nvoid %s_step(%s_state *s, const float *x, float *y) {\n    const float *in = x;\n    float *o;\n"
              "    int valid = 1, k;\n", P, P);
    for (int i = 0; i < m->n_layers; i++) {
        emit_step_layer(x, i);
    }
    sb_add(b, "    for (k = 0; k < %s_OUT; k++) y[k] = in[k];\n    (void)o;\n    (void)valid;\n}\n", U);
}

/* PREFIX from opts or the file's base name: a C identifier. */
static sn_status make_prefix(cx *x, const char *path, const char *given) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char tmp[64];
    if (given) {
        snprintf(tmp, sizeof tmp, "%s", given);
    } else {
        size_t n = strcspn(base, ".");
        snprintf(tmp, sizeof tmp, "%.*s", (int)(n < 63 ? n : 63), base);
    }
    if (!tmp[0]) snprintf(tmp, sizeof tmp, "model");
    for (char *p = tmp; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            if (given) return sn_error(SN_ERR_ARG, "C export: prefix '%s' is not a C identifier", given);
            *p = '_';
        }
    if (tmp[0] >= '0' && tmp[0] <= '9') {
        if (given) return sn_error(SN_ERR_ARG, "C export: prefix '%s' starts with a digit", given);
        memmove(tmp + 1, tmp, strlen(tmp) + 1 < 63 ? strlen(tmp) + 1 : 62);
        tmp[0] = '_';
    }
    snprintf(x->P, sizeof x->P, "%s", tmp);
    for (size_t i = 0; i <= strlen(tmp); i++) x->PU[i] = (char)(tmp[i] >= 'a' && tmp[i] <= 'z' ? tmp[i] - 32 : tmp[i]);
    return SN_OK;
}

sn_status sn_cexport(const sn_model *m, const char *path, const sn_cexport_opts *o) {
    if (!m || !path) return sn_error(SN_ERR_ARG, "sn_cexport: NULL argument");
    sn_cexport_opts def;
    if (!o) {
        sn_cexport_opts_default(&def);
        o = &def;
    }
    if (m->in_shape.rep == SN_REP_SPARSE)
        return sn_error(SN_ERR_UNSUPPORTED, "C export: sparse (CSR) inputs are not supported");
    cx x;
    memset(&x, 0, sizeof x);
    x.m = m;
    x.int8 = o->int8 != 0;
    size_t pl = strlen(path);
    char cpath[4096], hpath[4096];
    int has_c = pl > 2 && !strcmp(path + pl - 2, ".c");
    if (pl + 3 >= sizeof cpath) return sn_error(SN_ERR_ARG, "C export: path too long");
    snprintf(cpath, sizeof cpath, "%s%s", path, has_c ? "" : ".c");
    snprintf(hpath, sizeof hpath, "%.*s.h", (int)(has_c ? pl - 2 : pl), path);
    const char *hb = strrchr(hpath, '/');
    snprintf(x.hname, sizeof x.hname, "%.255s", hb ? hb + 1 : hpath);
    sn_status st = make_prefix(&x, cpath, o->prefix);
    if (st) return st;
    if ((st = sn_spec_parse(&x.sp, m->spec))) return sn_error_prefix(st, "C export: the model's spec");
    /* steppable: a time axis, and every layer acts per step (plan_layer clears it) */
    x.steppable = m->in_shape.rank == 2 || !strcmp(m->layers[0]->ops->class_name, "Embedding");
    sb_add(&x.c, "\n/* ---- weights ---- */\n");
    for (int i = 0; i < m->n_layers && !st; i++) st = plan_layer(&x, i);
    sb out = {0};
    if (!st) {
        emit_runtime(&x);
        emit_functions(&x);
        emit_header(&x);
        sb_add(
            &out,
            "/* Generated by seqnn %s (seqnn export --c%s) from the model\n *   %s\n * Weights %s. Compile with "
            "any C99 compiler; link with -lm. */\n#include <math.h>\n\n#include \"%s\"\n\n#define SNX_Q8 %d\n"
            "#define SNX_MAXC %zu\nenum { SNX_LINEAR, SNX_RELU, SNX_TANH, SNX_SIGMOID, SNX_SOFTMAX, SNX_HARD_SIGMOID,\n"
            "       SNX_HARD_SIGMOID_KERAS2, SNX_SOFTSIGN, SNX_SOFTPLUS, SNX_ELU, SNX_SELU };\n%s%s%s",
            SEQNN_VERSION, x.int8 ? " --int8" : "", m->spec,
            x.int8 ? "as int8 with one float scale per output column" : "as float32", x.hname, x.int8,
            x.maxC ? x.maxC : 1, snx_rt_head, x.c.p ? x.c.p : "", x.f.p ? x.f.p : "");
        if (x.c.oom || x.f.oom || x.h.oom || out.oom) st = SN_ERR_NOMEM;
    }
    free(x.c.p);
    free(x.f.p);
    x.c = out;
    if (!st) st = sn_file_write_atomic(hpath, x.h.p, x.h.n);
    if (!st) st = sn_file_write_atomic(cpath, x.c.p, x.c.n);
    free(x.c.p);
    free(x.h.p);
    sn_spec_free(&x.sp);
    return st;
}
