/* SimpleRNN, LSTM and GRU layers: configuration, shapes, initialization,
 * description and the ops tables (Keras 3
 * semantics, docs/keras-semantics.md §1-§3). The passes are in
 * rnn_forward.c and rnn_backward.c, the row kernels in rnn_kern_*.h; the
 * file map is in rnn_internal.h. */
#include "layers/rnn/rnn_internal.h"

#include <string.h>

/* ---- configuration ---- */

static const char *rnn_kind_name(sn_rnn_kind k) {
    return k == SN_RNN_LSTM ? "lstm" : k == SN_RNN_GRU ? "gru" : "simplernn";
}

static sn_status parse_act(const sn_spec_call *c, const char *key, const char *def, sn_act *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_act_parse(s, out) || *out == SN_ACT_SOFTMAX)
        return sn_spec_error(c, "%s must be tanh, sigmoid, relu, linear, hard_sigmoid, hard_sigmoid_keras2, softsign, "
                                "softplus, elu or selu, got '%s'", key, s);
    return SN_OK;
}

static sn_status parse_init(const sn_spec_call *c, const char *key, const char *def, sn_init_kind *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_init_parse(s, out))
        return sn_spec_error(
            c, "%s: unknown initializer '%s' (glorot_uniform, he_uniform, orthogonal, zeros, ones, uniform)", key, s);
    return SN_OK;
}

static sn_status parse_rate(const sn_spec_call *c, const char *key, double *out) {
    sn_status st = sn_arg_float(c, -1, key, 0.0, out);
    if (st) return st;
    if (!(*out >= 0.0 && *out <= 1.0)) return sn_spec_error(c, "%s must be in [0, 1], got %g", key, *out);
    return SN_OK;
}

static sn_status rnn_configure_kind(sn_layer *L, const sn_spec_call *c, sn_rnn_kind kind) {
    sn_rnn_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    cf->kind = kind;
    long units = 0;
    sn_status st;
    if ((st = sn_arg_int(c, 0, "units", 0, &units))) return st;
    if (units <= 0 || units > 65536) return sn_spec_error(c, "units must be in [1, 65536], got %ld", units);
    cf->units = (int)units;
    if ((st = parse_act(c, "activation", "tanh", &cf->act))) return st;
    if ((st = parse_act(c, "recurrent_activation", "sigmoid", &cf->recurrent_act))) return st;
    if ((st = sn_arg_bool(c, -1, "use_bias", 1, &cf->use_bias))) return st;
    if ((st = parse_init(c, "kernel_initializer", "glorot_uniform", &cf->kernel_init))) return st;
    if ((st = parse_init(c, "recurrent_initializer", "orthogonal", &cf->recurrent_init))) return st;
    if ((st = parse_init(c, "bias_initializer", "zeros", &cf->bias_init))) return st;
    cf->unit_forget_bias = 0;
    if (kind == SN_RNN_LSTM && (st = sn_arg_bool(c, -1, "unit_forget_bias", 1, &cf->unit_forget_bias))) return st;
    cf->reset_after = 0;
    if (kind == SN_RNN_GRU && (st = sn_arg_bool(c, -1, "reset_after", 1, &cf->reset_after))) return st;
    if ((st = sn_arg_bool(c, -1, "return_sequences", 0, &cf->return_sequences))) return st;
    if ((st = sn_arg_bool(c, -1, "return_state", 0, &cf->return_state))) return st;
    if (cf->return_state)
        return sn_spec_error(c, "return_state=true is not supported: in a Sequential model only the output "
                                "continues (final states are readable through sn_rnn_final_states)");
    if ((st = sn_arg_bool(c, -1, "go_backwards", 0, &cf->go_backwards))) return st;
    if ((st = sn_arg_bool(c, -1, "unroll", 0, &cf->unroll))) return st;
    if ((st = parse_rate(c, "dropout", &cf->dropout))) return st;
    if ((st = parse_rate(c, "recurrent_dropout", &cf->recurrent_dropout))) return st;
    if ((st = sn_arg_int(c, -1, "seed", -1, &cf->seed))) return st;
    if (cf->seed < -1) return sn_spec_error(c, "seed must be >= 0, got %ld", cf->seed);
    if (cf->seed >= 0) sn_rng_seed(&cf->seed_rng, (uint64_t)cf->seed);
    cf->n_gates = kind == SN_RNN_LSTM ? 4 : kind == SN_RNN_GRU ? 3 : 1;
    return SN_OK;
}

static sn_status simplernn_configure(sn_layer *L, const sn_spec_call *c) {
    return rnn_configure_kind(L, c, SN_RNN_SIMPLE);
}
static sn_status lstm_configure(sn_layer *L, const sn_spec_call *c) { return rnn_configure_kind(L, c, SN_RNN_LSTM); }
static sn_status gru_configure(sn_layer *L, const sn_spec_call *c) { return rnn_configure_kind(L, c, SN_RNN_GRU); }

int sn_rnn_is_recurrent(const sn_layer *L) {
    return L && (L->ops == &sn_simplernn_ops || L->ops == &sn_lstm_ops || L->ops == &sn_gru_ops);
}

static sn_status rnn_build(sn_layer *L) {
    sn_rnn_cfg *cf = L->cfg;
    char b[64];
    if (L->in.rank != 2 || L->in.rep == SN_REP_SPARSE || L->in.d[0] <= 0 || L->in.d[1] <= 0) {
        sn_shape_str(&L->in, b, sizeof b);
        return sn_error(SN_ERR_SHAPE, "%s: expects a sequence input (None, T, C), got %s", L->name, b);
    }
    cf->T = L->in.d[0];
    cf->C = L->in.d[1];
    cf->ids_input = L->in.rep == SN_REP_IDS;
    int H = cf->units, gate_cols = cf->n_gates * H;
    if ((double)cf->C * gate_cols > 1e9 || (double)H * gate_cols > 1e9)
        return sn_error(SN_ERR_SHAPE, "%s: kernel (%d, %d) is too large", L->name, cf->C, gate_cols);
    int dk[2] = {cf->C, gate_cols}, dr[2] = {H, gate_cols};
    cf->off_kernel = sn_layer_add_tensor(L, "kernel", 2, dk, L->trainable);
    cf->off_recurrent = sn_layer_add_tensor(L, "recurrent_kernel", 2, dr, L->trainable);
    if (cf->use_bias) {
        if (cf->kind == SN_RNN_GRU && cf->reset_after) {
            int db[2] = {2, gate_cols};
            cf->off_bias = sn_layer_add_tensor(L, "bias", 2, db, L->trainable);
        } else {
            int db[1] = {gate_cols};
            cf->off_bias = sn_layer_add_tensor(L, "bias", 1, db, L->trainable);
        }
    }
    L->out.rep = SN_REP_DENSE;
    if (cf->return_sequences) {
        L->out.rank = 2;
        L->out.d[0] = cf->T;
        L->out.d[1] = H;
    } else {
        L->out.rank = 1;
        L->out.d[0] = H;
    }
    return SN_OK;
}

static sn_status rnn_init(sn_layer *L, sn_rng *r) {
    sn_rnn_cfg *cf = L->cfg;
    int H = cf->units, gate_cols = cf->n_gates * H;
    sn_status st;
    /* Keras fans: kernel (C, gate_cols) → fan_in C, fan_out gate_cols (§6). */
    if ((st = sn_init_apply(cf->kernel_init, L->w + cf->off_kernel, cf->C, gate_cols, cf->C, gate_cols, r))) return st;
    if ((st = sn_init_apply(cf->recurrent_init, L->w + cf->off_recurrent, H, gate_cols, H, gate_cols, r))) return st;
    if (!cf->use_bias) return SN_OK;
    float *b = L->w + cf->off_bias;
    if (cf->kind == SN_RNN_LSTM && cf->unit_forget_bias) {
        /* [init(H), ones(H), init(2H)] */
        if ((st = sn_init_apply(cf->bias_init, b, 1, H, H, H, r))) return st;
        sn_init_const(b + H, (size_t)H, 1.0f);
        return sn_init_apply(cf->bias_init, b + 2 * H, 1, 2 * H, 2 * H, 2 * H, r);
    }
    if (cf->kind == SN_RNN_GRU && cf->reset_after)
        return sn_init_apply(cf->bias_init, b, 2, gate_cols, 2, gate_cols, r);
    return sn_init_apply(cf->bias_init, b, 1, gate_cols, gate_cols, gate_cols, r);
}


/* ---- sizes the model plans (layouts in rnn_layout.c) ---- */

static size_t rnn_cache_floats(const sn_layer *L, int B) { return sn_rnn_cache_layout(L->cfg, B).total; }
static size_t rnn_scratch_floats(const sn_layer *L, int B) { return sn_rnn_scratch_layout(L->cfg, B).total; }

sn_status sn_rnn_final_states(const sn_layer *L, const float *cache, int B, const float **h, const float **c) {
    if (!sn_rnn_is_recurrent(L) || !cache || B <= 0)
        return sn_error(SN_ERR_ARG, "sn_rnn_final_states: not a recurrent layer");
    const sn_rnn_cfg *cf = L->cfg;
    rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
    size_t last = (size_t)cf->T * B * cf->units;
    if (h) *h = cache + ly.h_states + last;
    if (c) *c = cf->kind == SN_RNN_LSTM ? cache + ly.c_states + last : NULL;
    return SN_OK;
}

static int rnn_describe(const sn_layer *L, char *buf, size_t n) {
    const sn_rnn_cfg *cf = L->cfg;
    char s[512];
    int k = snprintf(s, sizeof s, "%s(%d", rnn_kind_name(cf->kind), cf->units);
#define ADD(...) k += snprintf(s + k, sizeof s - (size_t)k, __VA_ARGS__)
    if (cf->act != SN_ACT_TANH) ADD(", activation=%s", sn_act_name(cf->act));
    if (cf->recurrent_act != SN_ACT_SIGMOID) ADD(", recurrent_activation=%s", sn_act_name(cf->recurrent_act));
    if (!cf->use_bias) ADD(", use_bias=false");
    if (cf->kernel_init != SN_INIT_GLOROT_UNIFORM) ADD(", kernel_initializer=%s", sn_init_name(cf->kernel_init));
    if (cf->recurrent_init != SN_INIT_ORTHOGONAL) ADD(", recurrent_initializer=%s", sn_init_name(cf->recurrent_init));
    if (cf->bias_init != SN_INIT_ZEROS) ADD(", bias_initializer=%s", sn_init_name(cf->bias_init));
    if (cf->kind == SN_RNN_LSTM && !cf->unit_forget_bias) ADD(", unit_forget_bias=false");
    if (cf->kind == SN_RNN_GRU && !cf->reset_after) ADD(", reset_after=false");
    if (cf->return_sequences) ADD(", return_sequences=true");
    if (cf->go_backwards) ADD(", go_backwards=true");
    if (cf->unroll) ADD(", unroll=true");
    if (cf->dropout > 0) ADD(", dropout=%g", cf->dropout);
    if (cf->recurrent_dropout > 0) ADD(", recurrent_dropout=%g", cf->recurrent_dropout);
    if (cf->seed >= 0) ADD(", seed=%ld", cf->seed);
    ADD(")");
#undef ADD
    return snprintf(buf, n, "%s", s);
}

/* ops->rng_streams: the layer's own dropout stream when it was given seed=. */
static int rnn_rng_streams(sn_layer *L, sn_rng **out, int max) {
    sn_rnn_cfg *cf = L->cfg;
    if (cf->seed < 0) return 0;
    if (max >= 1) out[0] = &cf->seed_rng;
    return 1;
}

const sn_layer_ops sn_simplernn_ops = {
    .kind = "simplernn", .class_name = "SimpleRNN", .mask_policy = SN_MASK_OWN,
    .configure = simplernn_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = sn_rnn_forward, .backward = sn_rnn_backward, .describe = rnn_describe,
    .rng_streams = rnn_rng_streams,
};
const sn_layer_ops sn_lstm_ops = {
    .kind = "lstm", .class_name = "LSTM", .mask_policy = SN_MASK_OWN,
    .configure = lstm_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = sn_rnn_forward, .backward = sn_rnn_backward, .describe = rnn_describe,
    .rng_streams = rnn_rng_streams,
};
const sn_layer_ops sn_gru_ops = {
    .kind = "gru", .class_name = "GRU", .mask_policy = SN_MASK_OWN,
    .configure = gru_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = sn_rnn_forward, .backward = sn_rnn_backward, .describe = rnn_describe,
    .rng_streams = rnn_rng_streams,
};
