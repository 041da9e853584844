/* One Keras layer config → one seqnn spec call (kx_layer_translate).
 *
 * Each supported class has a translator that reads the config keys that
 * decide what the layer computes and writes the seqnn arguments with the
 * same meaning; keys that only matter for training Keras-side (regularizers,
 * constraints) are ignored, initializers map where seqnn has the same one.
 * A value seqnn cannot reproduce is refused naming the layer, its class and
 * the key, so nothing is imported that would compute something else.
 * Version-dependent meaning: `hard_sigmoid` is Keras 1/2's clip(0.2x + 0.5)
 * (seqnn: hard_sigmoid_keras2) or Keras 3's clip(x/6 + 0.5) (hard_sigmoid);
 * a GRU config without reset_after (Keras <= 2.1.2) is the reset-before GRU. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "interop/keras_internal.h"

/* Context for messages: "<what>: layer 'lstm_1' (LSTM)". */
typedef struct kx_ctx {
    kx_model *km;
    kx_layer *L;
    const sn_json *c;  /* the layer's config object */
    const char *what;
} kx_ctx;

static sn_status bad(const kx_ctx *x, sn_status st, const char *fmt, const char *a, const char *b) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return sn_error(st, "%s: layer '%s' (%s): %s", x->what, x->L->name, x->L->cls, msg);
}

static int absent(const sn_json *v) { return !v || sn_json_is(v, SN_JSON_NULL); }

static sn_status get_bool(const kx_ctx *x, const char *key, int def, int *out) {
    const sn_json *v = sn_json_get(x->c, key);
    *out = def;
    if (absent(v)) return SN_OK;
    if (sn_json_is(v, SN_JSON_BOOL)) {
        *out = v->boolean;
        return SN_OK;
    }
    if (sn_json_is(v, SN_JSON_NUMBER) && v->int_ok && (v->ival == 0 || v->ival == 1)) { /* Keras 2.0 wrote 0/1 */
        *out = (int)v->ival;
        return SN_OK;
    }
    return bad(x, SN_ERR_FORMAT, "%s must be true or false", key, NULL);
}

/* An integer, or a one-element list of one (kernel_size: [3]). */
static sn_status get_int(const kx_ctx *x, const char *key, long def, long lo, long hi, long *out) {
    const sn_json *v = sn_json_get(x->c, key);
    *out = def;
    if (absent(v)) return SN_OK;
    if (sn_json_is(v, SN_JSON_ARRAY)) {
        if (sn_json_len(v) != 1) return bad(x, SN_ERR_UNSUPPORTED, "%s must have one element (a 1-D layer)", key, NULL);
        v = sn_json_at(v, 0);
    }
    double d = sn_json_num(v, 0.5);
    /* range first: converting a double outside long's range (or NaN) to long is undefined */
    if (!sn_json_is(v, SN_JSON_NUMBER) || !(d >= (double)lo && d <= (double)hi) || d != (double)(long)d) {
        char r[64];
        snprintf(r, sizeof r, "[%ld, %ld]", lo, hi);
        return bad(x, SN_ERR_FORMAT, "%s must be an integer in %s", key, r);
    }
    *out = (long)d;
    return SN_OK;
}

static sn_status get_num(const kx_ctx *x, const char *key, double def, double *out) {
    const sn_json *v = sn_json_get(x->c, key);
    *out = def;
    if (absent(v)) return SN_OK;
    if (!sn_json_is(v, SN_JSON_NUMBER) || v->num != v->num) return bad(x, SN_ERR_FORMAT, "%s must be a number", key, NULL);
    *out = v->num;
    return SN_OK;
}

static sn_status get_str(const kx_ctx *x, const char *key, const char *def, const char **out) {
    const sn_json *v = sn_json_get(x->c, key);
    *out = def;
    if (absent(v)) return SN_OK;
    if (!sn_json_is(v, SN_JSON_STRING)) return bad(x, SN_ERR_FORMAT, "%s must be a string", key, NULL);
    *out = v->str;
    return SN_OK;
}

/* Refuses key unless it is absent, null, false, 0 or equal to `ok`. */
static sn_status must_be_off(const kx_ctx *x, const char *key, const char *ok) {
    const sn_json *v = sn_json_get(x->c, key);
    if (absent(v) || (sn_json_is(v, SN_JSON_BOOL) && !v->boolean) || (sn_json_is(v, SN_JSON_NUMBER) && v->num == 0) ||
        (ok && sn_json_is(v, SN_JSON_STRING) && !strcmp(v->str, ok)))
        return SN_OK;
    return bad(x, SN_ERR_UNSUPPORTED, "%s is set; seqnn does not have it", key, NULL);
}

/* Activation by name → the seqnn name. */
static sn_status act_of(const kx_ctx *x, const char *key, const char *def, char *out, size_t n) {
    const sn_json *v = sn_json_get(x->c, key);
    if (!absent(v) && !sn_json_is(v, SN_JSON_STRING))
        return bad(x, SN_ERR_UNSUPPORTED, "%s is not an activation name (a custom activation object)", key, NULL);
    const char *a = absent(v) ? def : v->str;
    static const char *const names[] = {"linear", "relu", "tanh", "sigmoid", "softmax", "softsign", "softplus", "elu", "selu"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(a, names[i])) {
            snprintf(out, n, "%s", a);
            return SN_OK;
        }
    if (!strcmp(a, "hard_sigmoid")) {
        snprintf(out, n, "%s", x->km->major >= 3 ? "hard_sigmoid" : "hard_sigmoid_keras2");
        return SN_OK;
    }
    return bad(x, SN_ERR_UNSUPPORTED,
               "%s '%s' is not one seqnn has (relu, tanh, sigmoid, hard_sigmoid, softmax, softsign, softplus, "
               "linear, elu, selu)", key, a);
}

/* Initializer object → seqnn name, or NULL when seqnn has no equal (the
 * weights are imported anyway; only re-initialisation would differ). */
static const char *init_of(const sn_json *v) {
    const char *c = sn_json_str(sn_json_get(v, "class_name"), sn_json_str(v, ""));
    const sn_json *k = sn_json_get(v, "config");
    if (!strcmp(c, "GlorotUniform") || !strcmp(c, "glorot_uniform")) return "glorot_uniform";
    if (!strcmp(c, "HeUniform") || !strcmp(c, "he_uniform")) return "he_uniform";
    if (!strcmp(c, "Zeros") || !strcmp(c, "zeros")) return "zeros";
    if (!strcmp(c, "Ones") || !strcmp(c, "ones")) return "ones";
    if (!strcmp(c, "Orthogonal") || !strcmp(c, "orthogonal"))
        return sn_json_num(sn_json_get(k, "gain"), 1.0) == 1.0 ? "orthogonal" : NULL;
    if (!strcmp(c, "RandomUniform") || !strcmp(c, "uniform"))
        return sn_json_num(sn_json_get(k, "minval"), -0.05) == -0.05 && sn_json_num(sn_json_get(k, "maxval"), 0.05) == 0.05
                   ? "uniform" : NULL;
    if (!strcmp(c, "VarianceScaling")) { /* Keras 2.0 wrote glorot/he as VarianceScaling */
        double s = sn_json_num(sn_json_get(k, "scale"), 1.0);
        const char *mode = sn_json_str(sn_json_get(k, "mode"), "fan_in");
        const char *dist = sn_json_str(sn_json_get(k, "distribution"), "truncated_normal");
        if (!strcmp(dist, "uniform") && s == 1.0 && !strcmp(mode, "fan_avg")) return "glorot_uniform";
        if (!strcmp(dist, "uniform") && s == 2.0 && !strcmp(mode, "fan_in")) return "he_uniform";
    }
    return NULL;
}

/* Appends ", key=<seqnn init>" when the config's initializer maps to one
 * and is not seqnn's default for it. */
static sn_status add_init(const kx_ctx *x, char *s, const char *key, const char *def) {
    const char *i = init_of(sn_json_get(x->c, key));
    if (!i || !strcmp(i, def)) return SN_OK;
    return kx_cat(s, KX_SPEC, ", %s=%s", key, i);
}

static sn_status check_dtype(const kx_ctx *x) {
    const sn_json *d = sn_json_get(x->c, "dtype");
    const char *s = sn_json_is(d, SN_JSON_STRING) ? d->str : sn_json_str(sn_json_get(sn_json_get(d, "config"), "name"), NULL);
    if (!s || !strcmp(s, "float32")) return SN_OK;
    if (!strcmp(x->L->cls, "InputLayer") || !strcmp(x->L->cls, "Embedding")) return SN_OK; /* int ids are fine */
    return bad(x, SN_ERR_UNSUPPORTED, "dtype '%s': seqnn computes in float32", s, NULL);
}

static sn_status channels_last(const kx_ctx *x) {
    const char *df;
    sn_status st = get_str(x, "data_format", "channels_last", &df);
    if (st) return st;
    if (strcmp(df, "channels_last")) return bad(x, SN_ERR_UNSUPPORTED, "data_format '%s': seqnn is channels_last", df, NULL);
    return SN_OK;
}

/* ---- per class ---- */

static sn_status t_input(const kx_ctx *x, char *s) {
    (void)s;
    sn_status st = must_be_off(x, "sparse", NULL);
    if (!st) st = must_be_off(x, "ragged", NULL);
    return st;
}

static sn_status t_dense(const kx_ctx *x, char *s) {
    long units;
    int bias;
    char act[32];
    sn_status st;
    if ((st = get_int(x, "units", -1, 1, 1 << 24, &units))) return st;
    if (units < 0) return bad(x, SN_ERR_FORMAT, "units is missing", NULL, NULL);
    if ((st = act_of(x, "activation", "linear", act, sizeof act)) || (st = get_bool(x, "use_bias", 1, &bias))) return st;
    if ((st = must_be_off(x, "lora_rank", NULL))) return st;
    if ((st = kx_cat(s, KX_SPEC, "dense(%ld", units))) return st;
    if (strcmp(act, "linear") && (st = kx_cat(s, KX_SPEC, ", activation=%s", act))) return st;
    if (!bias && (st = kx_cat(s, KX_SPEC, ", use_bias=false"))) return st;
    if ((st = add_init(x, s, "kernel_initializer", "glorot_uniform")) || (st = add_init(x, s, "bias_initializer", "zeros")))
        return st;
    return kx_cat(s, KX_SPEC, ")");
}

static sn_status t_activation(const kx_ctx *x, char *s) {
    char act[32];
    sn_status st = act_of(x, "activation", "linear", act, sizeof act);
    return st ? st : kx_cat(s, KX_SPEC, "activation(%s)", act);
}

static sn_status t_dropout(const kx_ctx *x, char *s) {
    double rate;
    long seed;
    char r[40];
    sn_status st = get_num(x, "rate", -1, &rate);
    if (st) return st;
    if (!(rate >= 0 && rate <= 1)) return bad(x, SN_ERR_FORMAT, "rate must be in [0, 1]", NULL, NULL);
    if ((st = must_be_off(x, "noise_shape", NULL)) || (st = get_int(x, "seed", -1, 0, 0x7fffffffL, &seed))) return st;
    kx_num(r, sizeof r, rate);
    if (seed >= 0) return kx_cat(s, KX_SPEC, "dropout(%s, seed=%ld)", r, seed);
    return kx_cat(s, KX_SPEC, "dropout(%s)", r);
}

static sn_status t_flatten(const kx_ctx *x, char *s) {
    sn_status st = channels_last(x);
    return st ? st : kx_cat(s, KX_SPEC, "flatten()");
}

static sn_status t_reshape(const kx_ctx *x, char *s) {
    const sn_json *t = sn_json_get(x->c, "target_shape");
    size_t n = sn_json_len(t);
    if (!sn_json_is(t, SN_JSON_ARRAY) || n < 1 || n > 2)
        return bad(x, SN_ERR_UNSUPPORTED, "target_shape must have 1 or 2 dimensions (seqnn's (C) or (T, C))", NULL, NULL);
    sn_status st = kx_cat(s, KX_SPEC, "reshape((");
    for (size_t i = 0; i < n && !st; i++) {
        int64_t d = sn_json_int(sn_json_at(t, i), 0);
        if (d != -1 && (d < 1 || d > (1 << 26))) return bad(x, SN_ERR_FORMAT, "target_shape holds a bad dimension", NULL, NULL);
        st = kx_cat(s, KX_SPEC, "%s%lld", i ? ", " : "", (long long)d);
    }
    return st ? st : kx_cat(s, KX_SPEC, n == 1 ? ",))" : "))");
}

static sn_status t_conv1d(const kx_ctx *x, char *s) {
    long f, k, str, dil, groups;
    int bias;
    char act[32];
    const char *pad;
    sn_status st;
    if ((st = get_int(x, "filters", -1, 1, 1 << 20, &f)) || (st = get_int(x, "kernel_size", -1, 1, 1 << 20, &k)) ||
        (st = get_int(x, "strides", 1, 1, 1 << 20, &str)) || (st = get_int(x, "dilation_rate", 1, 1, 1 << 20, &dil)) ||
        (st = get_int(x, "groups", 1, 1, 1 << 20, &groups)) || (st = get_str(x, "padding", "valid", &pad)) ||
        (st = act_of(x, "activation", "linear", act, sizeof act)) || (st = get_bool(x, "use_bias", 1, &bias)) ||
        (st = channels_last(x)))
        return st;
    if (f < 0 || k < 0) return bad(x, SN_ERR_FORMAT, "filters and kernel_size are required", NULL, NULL);
    if (groups != 1) return bad(x, SN_ERR_UNSUPPORTED, "groups != 1", NULL, NULL);
    if (strcmp(pad, "valid") && strcmp(pad, "same") && strcmp(pad, "causal"))
        return bad(x, SN_ERR_UNSUPPORTED, "padding '%s'", pad, NULL);
    x->L->flip_kernel = x->km->theano;
    if ((st = kx_cat(s, KX_SPEC, "conv1d(%ld, %ld", f, k))) return st;
    if (str != 1 && (st = kx_cat(s, KX_SPEC, ", strides=%ld", str))) return st;
    if (strcmp(pad, "valid") && (st = kx_cat(s, KX_SPEC, ", padding=%s", pad))) return st;
    if (dil != 1 && (st = kx_cat(s, KX_SPEC, ", dilation_rate=%ld", dil))) return st;
    if (strcmp(act, "linear") && (st = kx_cat(s, KX_SPEC, ", activation=%s", act))) return st;
    if (!bias && (st = kx_cat(s, KX_SPEC, ", use_bias=false"))) return st;
    if ((st = add_init(x, s, "kernel_initializer", "glorot_uniform")) || (st = add_init(x, s, "bias_initializer", "zeros")))
        return st;
    return kx_cat(s, KX_SPEC, ")");
}

static sn_status t_maxpool(const kx_ctx *x, char *s) {
    long p, str;
    const char *pad;
    sn_status st;
    if ((st = get_int(x, "pool_size", 2, 1, 1 << 20, &p)) || (st = get_int(x, "strides", -1, 1, 1 << 20, &str)) ||
        (st = get_str(x, "padding", "valid", &pad)) || (st = channels_last(x)))
        return st;
    if (strcmp(pad, "valid") && strcmp(pad, "same")) return bad(x, SN_ERR_UNSUPPORTED, "padding '%s'", pad, NULL);
    if (str < 0) str = p;
    if ((st = kx_cat(s, KX_SPEC, "maxpooling1d(%ld", p))) return st;
    if (str != p && (st = kx_cat(s, KX_SPEC, ", strides=%ld", str))) return st;
    if (!strcmp(pad, "same") && (st = kx_cat(s, KX_SPEC, ", padding=same"))) return st;
    return kx_cat(s, KX_SPEC, ")");
}

static sn_status t_global(const kx_ctx *x, char *s) {
    sn_status st = channels_last(x);
    if (!st) st = must_be_off(x, "keepdims", NULL);
    if (st) return st;
    return kx_cat(s, KX_SPEC, "%s()", !strcmp(x->L->cls, "GlobalMaxPooling1D") ? "globalmaxpooling1d" : "globalaveragepooling1d");
}

/* axis: -1, [-1] or the last axis counted from the batch. */
static sn_status last_axis(const kx_ctx *x) {
    const sn_json *a = sn_json_get(x->c, "axis");
    if (sn_json_is(a, SN_JSON_ARRAY) && sn_json_len(a) == 1) a = sn_json_at(a, 0);
    int64_t v = absent(a) ? -1 : sn_json_int(a, -99);
    if (v == -1) return SN_OK;
    if (x->km->in_rank > 0 && v == x->km->cur_rank) return SN_OK;
    return bad(x, SN_ERR_UNSUPPORTED, "axis is not the last axis; seqnn normalises over the last axis only", NULL, NULL);
}

static sn_status norm_common(const kx_ctx *x, char *args, int bn) {
    double eps, mom;
    int center, scale;
    char num[40];
    sn_status st;
    if ((st = last_axis(x)) || (st = get_num(x, "epsilon", 1e-3, &eps)) || (st = get_bool(x, "center", 1, &center)) ||
        (st = get_bool(x, "scale", 1, &scale)) || (st = get_num(x, "momentum", 0.99, &mom)))
        return st;
    if (bn && ((st = must_be_off(x, "renorm", NULL)) || (st = must_be_off(x, "virtual_batch_size", NULL)) ||
               (st = must_be_off(x, "synchronized", NULL))))
        return st;
    if (!bn && (st = must_be_off(x, "rms_scaling", NULL))) return st;
    args[0] = 0;
    if (bn && mom != 0.99) {
        kx_num(num, sizeof num, mom);
        if ((st = kx_cat(args, 256, "momentum=%s", num))) return st;
    }
    if (eps != 1e-3) {
        kx_num(num, sizeof num, eps);
        if ((st = kx_cat(args, 256, "%sepsilon=%s", args[0] ? ", " : "", num))) return st;
    }
    if (!center && (st = kx_cat(args, 256, "%scenter=false", args[0] ? ", " : ""))) return st;
    if (!scale && (st = kx_cat(args, 256, "%sscale=false", args[0] ? ", " : ""))) return st;
    return SN_OK;
}

static sn_status t_batchnorm(const kx_ctx *x, char *s) {
    char a[256];
    sn_status st = norm_common(x, a, 1);
    return st ? st : kx_cat(s, KX_SPEC, "batchnormalization(%s)", a);
}

static sn_status t_layernorm(const kx_ctx *x, char *s) {
    char a[256];
    sn_status st = norm_common(x, a, 0);
    return st ? st : kx_cat(s, KX_SPEC, "layernormalization(%s)", a);
}

static sn_status t_embedding(const kx_ctx *x, char *s) {
    long V, D;
    int mz;
    sn_status st;
    if ((st = get_int(x, "input_dim", -1, 1, 1 << 26, &V)) || (st = get_int(x, "output_dim", -1, 1, 1 << 20, &D)) ||
        (st = get_bool(x, "mask_zero", 0, &mz)) || (st = must_be_off(x, "lora_rank", NULL)) ||
        (st = must_be_off(x, "sparse", NULL)))
        return st;
    if (V < 0 || D < 0) return bad(x, SN_ERR_FORMAT, "input_dim and output_dim are required", NULL, NULL);
    if ((st = kx_cat(s, KX_SPEC, "embedding(%ld, %ld", V, D))) return st;
    if (mz && (st = kx_cat(s, KX_SPEC, ", mask_zero=true"))) return st;
    if (!x->L->trainable && (st = kx_cat(s, KX_SPEC, ", trainable=false"))) return st;
    if ((st = add_init(x, s, "embeddings_initializer", "uniform"))) return st;
    return kx_cat(s, KX_SPEC, ")");
}

static sn_status t_masking(const kx_ctx *x, char *s) {
    double v;
    char num[40];
    sn_status st = get_num(x, "mask_value", 0.0, &v);
    if (st) return st;
    if (v == 0.0) return kx_cat(s, KX_SPEC, "masking()");
    kx_num(num, sizeof num, v);
    return kx_cat(s, KX_SPEC, "masking(mask_value=%s)", num);
}

/* SimpleRNN / LSTM / GRU. flip: write go_backwards inverted (to compare a
 * Bidirectional's backward_layer with its forward layer). */
static sn_status t_rnn_flip(const kx_ctx *x, char *s, int flip) {
    const char *cls = x->L->cls;
    int lstm = !strcmp(cls, "LSTM"), gru = !strcmp(cls, "GRU");
    long units, seed;
    int bias, rs, gb, unroll, ufb, ra;
    double dr, rdr;
    char act[32], ract[32], num[40];
    sn_status st;
    if ((st = get_int(x, "units", -1, 1, 65536, &units)) || (st = act_of(x, "activation", "tanh", act, sizeof act)) ||
        (st = act_of(x, "recurrent_activation", "sigmoid", ract, sizeof ract)) ||
        (st = get_bool(x, "use_bias", 1, &bias)) || (st = get_bool(x, "return_sequences", 0, &rs)) ||
        (st = get_bool(x, "go_backwards", 0, &gb)) || (st = get_bool(x, "unroll", 0, &unroll)) ||
        (st = get_bool(x, "unit_forget_bias", 1, &ufb)) || (st = get_bool(x, "reset_after", 0, &ra)) ||
        (st = get_num(x, "dropout", 0, &dr)) || (st = get_num(x, "recurrent_dropout", 0, &rdr)) ||
        (st = get_int(x, "seed", -1, 0, 0x7fffffffL, &seed)) || (st = must_be_off(x, "return_state", NULL)) ||
        (st = must_be_off(x, "time_major", NULL)) || (st = must_be_off(x, "use_cudnn", "auto")))
        return st;
    if (units < 0) return bad(x, SN_ERR_FORMAT, "units is missing", NULL, NULL);
    if (!(dr >= 0 && dr <= 1 && rdr >= 0 && rdr <= 1)) return bad(x, SN_ERR_FORMAT, "dropout rates must be in [0, 1]", NULL, NULL);
    if (flip) gb = !gb;
    if ((st = kx_cat(s, KX_SPEC, "%s(%ld", lstm ? "lstm" : gru ? "gru" : "simplernn", units))) return st;
    if (strcmp(act, "tanh") && (st = kx_cat(s, KX_SPEC, ", activation=%s", act))) return st;
    if (strcmp(cls, "SimpleRNN") && strcmp(ract, "sigmoid") && (st = kx_cat(s, KX_SPEC, ", recurrent_activation=%s", ract)))
        return st;
    if (!bias && (st = kx_cat(s, KX_SPEC, ", use_bias=false"))) return st;
    if ((st = add_init(x, s, "kernel_initializer", "glorot_uniform")) ||
        (st = add_init(x, s, "recurrent_initializer", "orthogonal")) || (st = add_init(x, s, "bias_initializer", "zeros")))
        return st;
    if (lstm && !ufb && (st = kx_cat(s, KX_SPEC, ", unit_forget_bias=false"))) return st;
    /* seqnn's GRU default is reset_after=true (Keras 3); the key's absence means false (Keras <= 2.1.2) */
    if (gru && !ra && (st = kx_cat(s, KX_SPEC, ", reset_after=false"))) return st;
    if (rs && (st = kx_cat(s, KX_SPEC, ", return_sequences=true"))) return st;
    if (gb && (st = kx_cat(s, KX_SPEC, ", go_backwards=true"))) return st;
    if (unroll && (st = kx_cat(s, KX_SPEC, ", unroll=true"))) return st;
    if (dr > 0) {
        kx_num(num, sizeof num, dr);
        if ((st = kx_cat(s, KX_SPEC, ", dropout=%s", num))) return st;
    }
    if (rdr > 0) {
        kx_num(num, sizeof num, rdr);
        if ((st = kx_cat(s, KX_SPEC, ", recurrent_dropout=%s", num))) return st;
    }
    if (seed >= 0 && (st = kx_cat(s, KX_SPEC, ", seed=%ld", seed))) return st;
    return kx_cat(s, KX_SPEC, ")");
}

static sn_status t_rnn(const kx_ctx *x, char *s) { return t_rnn_flip(x, s, 0); }

/* A Bidirectional's inner layer config (class_name + config) in context. */
static sn_status inner_rnn(const kx_ctx *x, const sn_json *lj, const char *key, char *out, int flip) {
    kx_layer in;
    memset(&in, 0, sizeof in);
    const sn_json *c = sn_json_get(lj, "config");
    snprintf(in.cls, sizeof in.cls, "%s", sn_json_str(sn_json_get(lj, "class_name"), "?"));
    snprintf(in.name, sizeof in.name, "%.30s/%.30s", x->L->name, sn_json_str(sn_json_get(c, "name"), key));
    if (strcmp(in.cls, "LSTM") && strcmp(in.cls, "GRU") && strcmp(in.cls, "SimpleRNN"))
        return sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' (Bidirectional): %s is a %s; seqnn wraps SimpleRNN, LSTM "
                                            "and GRU", x->what, x->L->name, key, in.cls);
    if (!sn_json_is(c, SN_JSON_OBJECT)) return bad(x, SN_ERR_FORMAT, "%s has no config", key, NULL);
    kx_ctx ix = {x->km, &in, c, x->what};
    out[0] = 0;
    return t_rnn_flip(&ix, out, flip);
}

static sn_status t_bidirectional(const kx_ctx *x, char *s) {
    const char *mm;
    sn_status st = get_str(x, "merge_mode", "concat", &mm);
    if (st) return st;
    if (absent(sn_json_get(x->c, "merge_mode")) && sn_json_get(x->c, "merge_mode"))
        return bad(x, SN_ERR_UNSUPPORTED, "merge_mode None (two outputs) is not a single chain", NULL, NULL);
    if (strcmp(mm, "concat") && strcmp(mm, "sum") && strcmp(mm, "mul") && strcmp(mm, "ave"))
        return bad(x, SN_ERR_UNSUPPORTED, "merge_mode '%s'", mm, NULL);
    char fw[KX_SPEC], bw[KX_SPEC], bwf[KX_SPEC];
    if ((st = inner_rnn(x, sn_json_get(x->c, "layer"), "layer", fw, 0))) return st;
    const sn_json *bj = sn_json_get(x->c, "backward_layer");
    int own_bw = 0;
    if (!absent(bj)) {
        /* Keras 3 always writes backward_layer; it is the forward layer with
         * go_backwards switched unless the user gave a different one. */
        if (strcmp(sn_json_str(sn_json_get(bj, "class_name"), ""), sn_json_str(sn_json_get(sn_json_get(x->c, "layer"), "class_name"), "")))
            return bad(x, SN_ERR_UNSUPPORTED, "backward_layer is of another class than layer", NULL, NULL);
        if ((st = inner_rnn(x, bj, "backward_layer", bwf, 1)) || (st = inner_rnn(x, bj, "backward_layer", bw, 0))) return st;
        own_bw = strcmp(bwf, fw) != 0;
    }
    if ((st = kx_cat(s, KX_SPEC, "bidirectional(%s", fw))) return st;
    if (strcmp(mm, "concat") && (st = kx_cat(s, KX_SPEC, ", merge_mode=%s", mm))) return st;
    if (own_bw && (st = kx_cat(s, KX_SPEC, ", backward_layer=%s", bw))) return st;
    return kx_cat(s, KX_SPEC, ")");
}

typedef struct kx_class {
    const char *cls;
    sn_status (*fn)(const kx_ctx *x, char *s);
    int rank; /* output rank: 0 = as input, 1, 2, -1 = RNN (return_sequences), -2 = embedding (+1), -3 = reshape */
} kx_class;

static const kx_class g_classes[] = {
    {"InputLayer", t_input, 0},
    {"Dense", t_dense, 0},
    {"Activation", t_activation, 0},
    {"Dropout", t_dropout, 0},
    {"Flatten", t_flatten, 1},
    {"Reshape", t_reshape, -3},
    {"Conv1D", t_conv1d, 0},
    {"MaxPooling1D", t_maxpool, 0},
    {"GlobalAveragePooling1D", t_global, 1},
    {"GlobalMaxPooling1D", t_global, 1},
    {"BatchNormalization", t_batchnorm, 0},
    {"LayerNormalization", t_layernorm, 0},
    {"SimpleRNN", t_rnn, -1},
    {"LSTM", t_rnn, -1},
    {"GRU", t_rnn, -1},
    {"Bidirectional", t_bidirectional, -1},
    {"Embedding", t_embedding, -2},
    {"Masking", t_masking, 0},
};

sn_status kx_layer_translate(kx_model *km, kx_layer *L, const sn_json *lj, const char *what) {
    const sn_json *c = sn_json_get(lj, "config");
    snprintf(L->cls, sizeof L->cls, "%s", sn_json_str(sn_json_get(lj, "class_name"), "?"));
    const char *name = sn_json_str(sn_json_get(c, "name"), sn_json_str(sn_json_get(lj, "name"), NULL));
    if (!name || !name[0]) return sn_error(SN_ERR_FORMAT, "%s: a %s layer has no name", what, L->cls);
    if (strlen(name) >= 48)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' (%s): names longer than 47 characters are not supported",
                        what, name, L->cls);
    snprintf(L->name, sizeof L->name, "%s", name);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~' || strchr("\"'(),=", *p))
            return sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' (%s): seqnn layer names are printable ASCII without "
                                                "spaces, quotes, commas, '=' or parentheses", what, name, L->cls);
    if (!sn_json_is(c, SN_JSON_OBJECT))
        return sn_error(SN_ERR_FORMAT, "%s: layer '%s' (%s) has no config object", what, name, L->cls);
    const kx_class *k = NULL;
    for (size_t i = 0; i < sizeof g_classes / sizeof *g_classes; i++)
        if (!strcmp(g_classes[i].cls, L->cls)) k = &g_classes[i];
    if (!k)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' is a %s, which seqnn does not import (supported: InputLayer, "
                                            "Dense, Activation, Dropout, Flatten, Reshape, Conv1D, MaxPooling1D, "
                                            "GlobalAveragePooling1D, GlobalMaxPooling1D, BatchNormalization, "
                                            "LayerNormalization, SimpleRNN, LSTM, GRU, Bidirectional, Embedding, Masking)",
                        what, name, L->cls);
    kx_ctx x = {km, L, c, what};
    sn_status st = get_bool(&x, "trainable", 1, &L->trainable);
    if (!st) st = check_dtype(&x);
    if (!st) {
        L->spec[0] = 0;
        st = k->fn(&x, L->spec);
    }
    if (st) return st;
    /* track the rank for axis checks */
    if (k->rank == 1)
        km->cur_rank = 1;
    else if (k->rank == -1)
        km->cur_rank = strstr(L->spec, "return_sequences=true") ? 2 : 1;
    else if (k->rank == -2)
        km->cur_rank = km->cur_rank + 1;
    else if (k->rank == -3)
        km->cur_rank = (int)sn_json_len(sn_json_get(c, "target_shape"));
    return SN_OK;
}
