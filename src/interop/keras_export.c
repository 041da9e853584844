/* sn_keras_export (include/seqnn/keras.h): a seqnn model as a Keras 3
 * archive. The layer configs are written from the model's canonical spec
 * (every non-default argument is in it), with Keras 3's keys and
 * serialization shapes (module / class_name / config / registered_name);
 * the weights go to model.weights.h5 at the paths Keras 3's saving_lib
 * reads: /vars (the model's own, empty), layers/<snake class>[_N]/vars/<i>,
 * recurrent cells below .../cell/, Bidirectional's below
 * .../forward_layer/cell/ and .../backward_layer/cell/. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interop/h5.h"
#include "interop/keras_internal.h"
#include "model/model_impl.h"
#include "spec/spec.h"

typedef struct kw {
    sn_json_w *w;
    int first;
} kw;

static void key(kw *k, const char *name) {
    sn_json_w_rawz(k->w, k->first ? "" : ", ");
    k->first = 0;
    sn_json_w_strz(k->w, name);
    sn_json_w_rawz(k->w, ": ");
}
static void k_str(kw *k, const char *n, const char *v) {
    key(k, n);
    sn_json_w_strz(k->w, v);
}
static void k_int(kw *k, const char *n, long v) {
    key(k, n);
    sn_json_w_int(k->w, v);
}
static void k_num(kw *k, const char *n, double v) {
    key(k, n);
    sn_json_w_num(k->w, v);
}
static void k_bool(kw *k, const char *n, int v) {
    key(k, n);
    sn_json_w_bool(k->w, v);
}
static void k_null(kw *k, const char *n) {
    key(k, n);
    sn_json_w_null(k->w);
}
static void k_ints(kw *k, const char *n, const long *v, int cnt) {
    key(k, n);
    sn_json_w_rawz(k->w, "[");
    for (int i = 0; i < cnt; i++) {
        if (i) sn_json_w_rawz(k->w, ", ");
        sn_json_w_int(k->w, v[i]);
    }
    sn_json_w_rawz(k->w, "]");
}

/* {"module": "keras.initializers", "class_name": ..., "config": {...}, "registered_name": null} */
static void k_init(kw *k, const char *n, const char *seqnn_name) {
    static const struct { const char *s, *cls, *cfg; } t[] = {
        {"glorot_uniform", "GlorotUniform", "{\"seed\": null}"},
        {"he_uniform", "HeUniform", "{\"seed\": null}"},
        {"orthogonal", "Orthogonal", "{\"gain\": 1.0, \"seed\": null}"},
        {"zeros", "Zeros", "{}"},
        {"ones", "Ones", "{}"},
        {"uniform", "RandomUniform", "{\"minval\": -0.05, \"maxval\": 0.05, \"seed\": null}"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(t[i].s, seqnn_name)) {
            key(k, n);
            sn_json_w_rawz(k->w, "{\"module\": \"keras.initializers\", \"class_name\": ");
            sn_json_w_strz(k->w, t[i].cls);
            sn_json_w_rawz(k->w, ", \"config\": ");
            sn_json_w_rawz(k->w, t[i].cfg);
            sn_json_w_rawz(k->w, ", \"registered_name\": null}");
            return;
        }
}

static const char *const g_dtype = "{\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \"config\": {\"name\": "
                                   "\"float32\"}, \"registered_name\": null}";

static void k_common(kw *k, const char *name, int trainable) {
    k_str(k, "name", name);
    k_bool(k, "trainable", trainable);
    key(k, "dtype");
    sn_json_w_rawz(k->w, g_dtype);
}

/* activation=... as a Keras 3 name; SN_ERR_UNSUPPORTED for seqnn-only ones. */
static sn_status k_act(kw *k, const char *n, const char *a, const char *layer) {
    if (!strcmp(a, "hard_sigmoid_keras2"))
        return sn_error(SN_ERR_UNSUPPORTED,
                        "layer '%s': activation hard_sigmoid_keras2 (clip(0.2x + 0.5)) has no Keras 3 "
                        "equivalent (Keras 3's hard_sigmoid is clip(x/6 + 0.5))",
                        layer);
    k_str(k, n, a);
    return SN_OK;
}

static sn_status rnn_config(kw *k, const sn_spec_call *c, const char *name, int trainable, int flip) {
    int lstm = !strcmp(c->name, "lstm"), gru = !strcmp(c->name, "gru");
    k_common(k, name, trainable);
    k_bool(k, "return_sequences", sn_spec_arg_num(c, -1, "return_sequences", 0) != 0);
    k_bool(k, "return_state", 0);
    k_bool(k, "go_backwards", (sn_spec_arg_num(c, -1, "go_backwards", 0) != 0) != flip);
    k_bool(k, "stateful", 0);
    k_bool(k, "unroll", sn_spec_arg_num(c, -1, "unroll", 0) != 0);
    k_bool(k, "zero_output_for_mask", 0);
    k_int(k, "units", (long)sn_spec_arg_num(c, 0, "units", 1));
    sn_status st = k_act(k, "activation", sn_spec_arg_word(c, -1, "activation", "tanh"), name);
    if (!st && strcmp(c->name, "simplernn"))
        st = k_act(k, "recurrent_activation", sn_spec_arg_word(c, -1, "recurrent_activation", "sigmoid"), name);
    if (st) return st;
    k_bool(k, "use_bias", sn_spec_arg_num(c, -1, "use_bias", 1) != 0);
    k_init(k, "kernel_initializer", sn_spec_arg_word(c, -1, "kernel_initializer", "glorot_uniform"));
    k_init(k, "recurrent_initializer", sn_spec_arg_word(c, -1, "recurrent_initializer", "orthogonal"));
    k_init(k, "bias_initializer", sn_spec_arg_word(c, -1, "bias_initializer", "zeros"));
    if (lstm) k_bool(k, "unit_forget_bias", sn_spec_arg_num(c, -1, "unit_forget_bias", 1) != 0);
    if (gru) k_bool(k, "reset_after", sn_spec_arg_num(c, -1, "reset_after", 1) != 0);
    k_num(k, "dropout", sn_spec_arg_num(c, -1, "dropout", 0));
    k_num(k, "recurrent_dropout", sn_spec_arg_num(c, -1, "recurrent_dropout", 0));
    if (sn_spec_arg_find(c, -1, "seed")) k_int(k, "seed", (long)sn_spec_arg_num(c, -1, "seed", 0));
    else k_null(k, "seed");
    return SN_OK;
}

static const char *rnn_class(const char *kind) {
    return !strcmp(kind, "lstm") ? "LSTM" : !strcmp(kind, "gru") ? "GRU" : "SimpleRNN";
}

/* The "config" object of layer L (spec call c). */
static sn_status layer_config(kw *k, const sn_layer *L, const sn_spec_call *c) {
    const char *kind = c->name, *nm = L->name;
    sn_status st = SN_OK;
    k_common(k, nm, L->trainable);
    if (!strcmp(kind, "dense")) {
        k_int(k, "units", (long)sn_spec_arg_num(c, 0, "units", 1));
        st = k_act(k, "activation", sn_spec_arg_word(c, 1, "activation", "linear"), nm);
        k_bool(k, "use_bias", sn_spec_arg_num(c, 2, "use_bias", 1) != 0);
        k_init(k, "kernel_initializer", sn_spec_arg_word(c, -1, "kernel_initializer", "glorot_uniform"));
        k_init(k, "bias_initializer", sn_spec_arg_word(c, -1, "bias_initializer", "zeros"));
    } else if (!strcmp(kind, "activation")) {
        st = k_act(k, "activation", sn_spec_arg_word(c, 0, "activation", "linear"), nm);
    } else if (!strcmp(kind, "dropout")) {
        k_num(k, "rate", sn_spec_arg_num(c, 0, "rate", 0));
        k_null(k, "noise_shape");
        if (sn_spec_arg_find(c, -1, "seed")) k_int(k, "seed", (long)sn_spec_arg_num(c, -1, "seed", 0));
        else k_null(k, "seed");
    } else if (!strcmp(kind, "flatten")) {
        k_str(k, "data_format", "channels_last");
    } else if (!strcmp(kind, "reshape")) {
        const sn_spec_arg *a = sn_spec_arg_find(c, 0, "target_shape");
        long v[SN_SPEC_MAX_TUPLE];
        int n = a && a->kind == SN_V_TUPLE ? a->n_tuple : 0;
        for (int i = 0; i < n; i++) v[i] = (long)a->tuple[i];
        k_ints(k, "target_shape", v, n);
    } else if (!strcmp(kind, "conv1d")) {
        long f = (long)sn_spec_arg_num(c, 0, "filters", 1), K = (long)sn_spec_arg_num(c, 1, "kernel_size", 1);
        long s = (long)sn_spec_arg_num(c, -1, "strides", 1), d = (long)sn_spec_arg_num(c, -1, "dilation_rate", 1);
        k_int(k, "filters", f);
        k_ints(k, "kernel_size", &K, 1);
        k_ints(k, "strides", &s, 1);
        k_str(k, "padding", sn_spec_arg_word(c, -1, "padding", "valid"));
        k_str(k, "data_format", "channels_last");
        k_ints(k, "dilation_rate", &d, 1);
        k_int(k, "groups", 1);
        st = k_act(k, "activation", sn_spec_arg_word(c, -1, "activation", "linear"), nm);
        k_bool(k, "use_bias", sn_spec_arg_num(c, -1, "use_bias", 1) != 0);
        k_init(k, "kernel_initializer", sn_spec_arg_word(c, -1, "kernel_initializer", "glorot_uniform"));
        k_init(k, "bias_initializer", sn_spec_arg_word(c, -1, "bias_initializer", "zeros"));
    } else if (!strcmp(kind, "maxpooling1d")) {
        long p = (long)sn_spec_arg_num(c, 0, "pool_size", 2), s = (long)sn_spec_arg_num(c, -1, "strides", (double)p);
        k_ints(k, "pool_size", &p, 1);
        k_ints(k, "strides", &s, 1);
        k_str(k, "padding", sn_spec_arg_word(c, -1, "padding", "valid"));
        k_str(k, "data_format", "channels_last");
    } else if (!strcmp(kind, "globalaveragepooling1d") || !strcmp(kind, "globalmaxpooling1d")) {
        k_str(k, "data_format", "channels_last");
        k_bool(k, "keepdims", 0);
    } else if (!strcmp(kind, "batchnormalization") || !strcmp(kind, "layernormalization")) {
        int bn = kind[0] == 'b';
        k_int(k, "axis", -1);
        if (bn) k_num(k, "momentum", sn_spec_arg_num(c, -1, "momentum", 0.99));
        k_num(k, "epsilon", sn_spec_arg_num(c, -1, "epsilon", 1e-3));
        k_bool(k, "center", sn_spec_arg_num(c, -1, "center", 1) != 0);
        k_bool(k, "scale", sn_spec_arg_num(c, -1, "scale", 1) != 0);
        if (!bn) k_bool(k, "rms_scaling", 0);
    } else if (!strcmp(kind, "embedding")) {
        k_int(k, "input_dim", (long)sn_spec_arg_num(c, 0, "input_dim", 1));
        k_int(k, "output_dim", (long)sn_spec_arg_num(c, 1, "output_dim", 1));
        k_init(k, "embeddings_initializer", sn_spec_arg_word(c, -1, "embeddings_initializer", "uniform"));
        k_bool(k, "mask_zero", sn_spec_arg_num(c, -1, "mask_zero", 0) != 0);
    } else if (!strcmp(kind, "masking")) {
        k_num(k, "mask_value", sn_spec_arg_num(c, 0, "mask_value", 0));
    } else {
        return sn_error(SN_ERR_UNSUPPORTED, "layer '%s' (%s) has no Keras layer to export to", nm, L->ops->class_name);
    }
    return st;
}

/* {"module": "keras.layers", "class_name": CLS, "config": {RNN config}, "registered_name": null} */
static sn_status rnn_object(sn_json_w *w, const sn_spec_call *c, const char *name, int trainable, int flip) {
    sn_json_w_rawz(w, "{\"module\": \"keras.layers\", \"class_name\": ");
    sn_json_w_strz(w, rnn_class(c->name));
    sn_json_w_rawz(w, ", \"config\": {");
    kw k = {w, 1};
    sn_status st = rnn_config(&k, c, name, trainable, flip);
    sn_json_w_rawz(w, "}, \"registered_name\": null}");
    return st;
}

static sn_status bi_config(kw *k, const sn_layer *L, const sn_spec_call *c) {
    const sn_spec_arg *in = sn_spec_arg_find(c, 0, "layer"), *bw = sn_spec_arg_find(c, -1, "backward_layer");
    if (!in || in->kind != SN_V_CALL) return sn_error(SN_ERR_STATE, "layer '%s': no inner layer in the spec", L->name);
    k_common(k, L->name, L->trainable);
    k_str(k, "merge_mode", sn_spec_arg_word(c, -1, "merge_mode", "concat"));
    char nf[64], nb[64], base[48];
    kx_snake(rnn_class(in->call->name), base, sizeof base);
    snprintf(nf, sizeof nf, "forward_%s", base);
    snprintf(nb, sizeof nb, "backward_%s", base);
    key(k, "layer");
    sn_status st = rnn_object(k->w, in->call, nf, L->trainable, 0);
    if (st) return st;
    key(k, "backward_layer");
    if (bw && bw->kind == SN_V_CALL) return rnn_object(k->w, bw->call, nb, L->trainable, 0);
    return rnn_object(k->w, in->call, nb, L->trainable, 1);
}

static const char *keras_class(const sn_layer *L) { return L->ops->class_name; }

static void shape_list(sn_json_w *w, const sn_shape *s) {
    sn_json_w_rawz(w, "[null");
    for (int i = 0; i < s->rank; i++) {
        sn_json_w_rawz(w, ", ");
        sn_json_w_int(w, s->d[i]);
    }
    sn_json_w_rawz(w, "]");
}

/* One entry of config.layers. */
static sn_status layer_entry(sn_json_w *w, const sn_layer *L, const sn_spec_call *c) {
    const char *kind = c->name;
    int rnn = !strcmp(kind, "lstm") || !strcmp(kind, "gru") || !strcmp(kind, "simplernn");
    sn_json_w_rawz(w, ", {\"module\": \"keras.layers\", \"class_name\": ");
    sn_json_w_strz(w, keras_class(L));
    sn_json_w_rawz(w, ", \"config\": {");
    kw k = {w, 1};
    sn_status st;
    if (rnn)
        st = rnn_config(&k, c, L->name, L->trainable, 0);
    else if (!strcmp(kind, "bidirectional"))
        st = bi_config(&k, L, c);
    else
        st = layer_config(&k, L, c);
    sn_json_w_rawz(w, "}, \"registered_name\": null, \"build_config\": {\"input_shape\": ");
    shape_list(w, &L->in);
    sn_json_w_rawz(w, "}}");
    return st;
}

static sn_status write_config(sn_json_w *w, const sn_model *m, const sn_spec *sp) {
    if (m->in_shape.rep == SN_REP_SPARSE)
        return sn_error(SN_ERR_UNSUPPORTED,
                        "a model with a sparse (bag-of-words CSR) input has no Keras 3 archive form "
                        "in seqnn's exporter");
    sn_json_w_rawz(w, "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", "
                      "\"trainable\": true, \"dtype\": ");
    sn_json_w_rawz(w, g_dtype);
    sn_json_w_rawz(w, ", \"layers\": [{\"module\": \"keras.layers\", \"class_name\": \"InputLayer\", \"config\": "
                      "{\"batch_shape\": ");
    shape_list(w, &m->in_shape);
    int ids = m->n_layers && !strcmp(m->layers[0]->ops->kind, "embedding");
    sn_json_w_rawz(w, ids ? ", \"dtype\": \"int32\"" : ", \"dtype\": \"float32\"");
    /* a name no seqnn layer has */
    char in_name[64] = "input_layer";
    for (int n = 1;; n++) {
        int clash = 0;
        for (int i = 0; i < m->n_layers; i++) clash |= !strcmp(m->layers[i]->name, in_name);
        if (!clash) break;
        snprintf(in_name, sizeof in_name, "input_layer_%d", n);
    }
    sn_json_w_rawz(w, ", \"sparse\": false, \"name\": ");
    sn_json_w_strz(w, in_name);
    sn_json_w_rawz(w, "}, \"registered_name\": null}");
    sn_status st = SN_OK;
    for (int i = 0; i < m->n_layers && !st; i++) {
        if (!strcmp(m->layers[i]->ops->kind, "onehot"))
            return sn_error(SN_ERR_UNSUPPORTED, "layer '%s' (OneHot) has no Keras layer to export to",
                            m->layers[i]->name);
        st = layer_entry(w, m->layers[i], sp->calls[i]);
    }
    if (st) return st;
    sn_json_w_rawz(w, "], \"build_input_shape\": ");
    shape_list(w, &m->in_shape);
    sn_json_w_rawz(w, "}, \"registered_name\": null, \"build_config\": {\"input_shape\": ");
    shape_list(w, &m->in_shape);
    sn_json_w_rawz(w, "}}");
    return sn_json_w_finish(w);
}

/* ---- weights ---- */

static sn_status write_vars(sn_h5 *h, const char *group, const sn_layer *L, int from, int to, const char *name) {
    char p[400];
    snprintf(p, sizeof p, "%s/vars", group);
    sn_status st = sn_h5_make_group(h, p);
    if (!st) st = sn_h5_set_attr_str(h, p, "name", name);
    for (int i = from; i < to && !st; i++) {
        const sn_tensor_info *t = &L->tensors[i];
        int64_t d[4];
        for (int k = 0; k < t->rank; k++) d[k] = t->dims[k];
        snprintf(p, sizeof p, "%s/vars/%d", group, i - from);
        st = sn_h5_write_f32(h, p, t->rank, d, L->w + t->offset);
    }
    return st;
}

static sn_status write_weights(sn_h5 *h, const sn_model *m) {
    sn_status st = sn_h5_make_group(h, "vars");
    if (!st) st = sn_h5_set_attr_str(h, "vars", "name", "sequential");
    struct { char base[64]; int count; } used[64];
    int n_used = 0;
    for (int i = 0; i < m->n_layers && !st; i++) {
        const sn_layer *L = m->layers[i];
        char base[64], g[200], sub[300];
        kx_snake(keras_class(L), base, sizeof base);
        int u;
        for (u = 0; u < n_used; u++)
            if (!strcmp(used[u].base, base)) break;
        if (u == n_used) {
            if (n_used == 64) return sn_error(SN_ERR_UNSUPPORTED, "more than 64 layer classes");
            snprintf(used[n_used].base, sizeof used[n_used].base, "%s", base);
            used[n_used++].count = -1;
        }
        int c = ++used[u].count;
        if (c) snprintf(g, sizeof g, "layers/%s_%d", base, c);
        else snprintf(g, sizeof g, "layers/%s", base);
        const char *kind = L->ops->kind;
        int rnn = !strcmp(kind, "lstm") || !strcmp(kind, "gru") || !strcmp(kind, "simplernn");
        if (!strcmp(kind, "bidirectional")) {
            int nf = 0;
            while (nf < L->n_tensors && !strncmp(L->tensors[nf].name, "forward_", 8)) nf++;
            st = write_vars(h, g, L, 0, 0, L->name);
            snprintf(sub, sizeof sub, "%s/forward_layer", g);
            if (!st) st = write_vars(h, sub, L, 0, 0, "forward");
            snprintf(sub, sizeof sub, "%s/forward_layer/cell", g);
            if (!st) st = write_vars(h, sub, L, 0, nf, "cell");
            snprintf(sub, sizeof sub, "%s/backward_layer", g);
            if (!st) st = write_vars(h, sub, L, 0, 0, "backward");
            snprintf(sub, sizeof sub, "%s/backward_layer/cell", g);
            if (!st) st = write_vars(h, sub, L, nf, L->n_tensors, "cell");
        } else if (rnn) {
            st = write_vars(h, g, L, 0, 0, L->name);
            snprintf(sub, sizeof sub, "%s/cell", g);
            if (!st) st = write_vars(h, sub, L, 0, L->n_tensors, "cell");
        } else {
            st = write_vars(h, g, L, 0, L->n_tensors, L->name);
        }
    }
    return st;
}

/* ---- metadata.json with seqnn's block ---- */

static const char g_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64(sn_json_w *w, const unsigned char *p, size_t n) {
    char q[5] = {0};
    sn_json_w_rawz(w, "\"");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        q[0] = g_b64[v >> 18 & 63];
        q[1] = g_b64[v >> 12 & 63];
        q[2] = i + 1 < n ? g_b64[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? g_b64[v & 63] : '=';
        sn_json_w_raw(w, q, 4);
    }
    sn_json_w_rawz(w, "\"");
}

static void u64_hex(sn_json_w *w, uint64_t v) {
    char b[24];
    snprintf(b, sizeof b, "%016llx", (unsigned long long)v);
    sn_json_w_strz(w, b);
}

static void rng_list(sn_json_w *w, const sn_rng *r) {
    sn_json_w_rawz(w, "[");
    for (int i = 0; i < 4; i++) {
        if (i) sn_json_w_rawz(w, ", ");
        u64_hex(w, r->s[i]);
    }
    sn_json_w_rawz(w, "]");
}

static sn_status write_metadata(sn_json_w *w, const sn_model *m, const char *date) {
    sn_json_w_rawz(w, "{\"keras_version\": \"3.0.0\", \"date_saved\": ");
    sn_json_w_strz(w, date);
    sn_json_w_rawz(w, ", \"seqnn\": {\"version\": \"" SEQNN_VERSION "\", \"seed\": ");
    u64_hex(w, m->seed);
    sn_json_w_rawz(w, ", \"rng\": ");
    rng_list(w, &m->rng);
    sn_json_w_rawz(w, ", \"layer_rng\": {");
    int first = 1;
    for (int i = 0; i < m->n_layers; i++) {
        sn_rng *r[16];
        sn_layer *L = m->layers[i];
        int n = L->ops->rng_streams ? L->ops->rng_streams(L, r, 16) : 0;
        if (n <= 0) continue;
        sn_json_w_rawz(w, first ? "" : ", ");
        first = 0;
        sn_json_w_strz(w, L->name);
        sn_json_w_rawz(w, ": [");
        for (int k = 0; k < n && k < 16; k++) {
            if (k) sn_json_w_rawz(w, ", ");
            rng_list(w, r[k]);
        }
        sn_json_w_rawz(w, "]");
    }
    sn_json_w_rawz(w, "}, \"meta\": [");
    for (int i = 0; i < m->n_meta; i++) {
        sn_json_w_rawz(w, i ? ", [" : "[");
        sn_json_w_strz(w, m->meta[i].key);
        sn_json_w_rawz(w, ", ");
        b64(w, m->meta[i].data, m->meta[i].n);
        sn_json_w_rawz(w, "]");
    }
    sn_json_w_rawz(w, "]}}");
    return sn_json_w_finish(w);
}

sn_status sn_keras_export(const sn_model *m, const char *path, const sn_keras_export_opts *o) {
    if (!m || !path) return sn_error(SN_ERR_ARG, "sn_keras_export: NULL argument");
    char date[64];
    if (o && o->date_saved) {
        snprintf(date, sizeof date, "%s", o->date_saved);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
    }
    sn_spec sp;
    sn_status st = sn_spec_parse(&sp, m->spec);
    if (st) return sn_error_prefix(st, "sn_keras_export: the model's spec");
    SN_ASSERT(sp.n_calls == m->n_layers);
    sn_json_w cfg, meta;
    sn_json_w_init(&cfg);
    sn_json_w_init(&meta);
    sn_h5 *h = NULL;
    void *img = NULL;
    size_t img_n = 0;
    st = write_config(&cfg, m, &sp);
    if (!st) st = write_metadata(&meta, m, date);
    if (!st && (st = sn_h5_create_image(&h, "model.weights.h5"))) sn_error_prefix(st, "%s", path);
    if (!st) st = write_weights(h, m);
    if (!st) st = sn_h5_image(h, &img, &img_n);
    sn_h5_close(h);
    if (!st) {
        const char *names[3] = {"metadata.json", "config.json", "model.weights.h5"};
        const void *data[3] = {meta.buf, cfg.buf, img};
        size_t sizes[3] = {meta.len, cfg.len, img_n};
        st = kx_archive_write(path, names, data, sizes, 3);
    }
    free(img);
    sn_json_w_free(&cfg);
    sn_json_w_free(&meta);
    sn_spec_free(&sp);
    return st;
}
