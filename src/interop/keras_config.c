/* Keras model configs → kx_model (keras_internal.h): Sequential in its three
 * shapes (Keras 2.0/2.1: "config" is the bare layer list; Keras 2.2+, tf.keras
 * and Keras 3: {"name", "layers"}), Functional models that are one chain
 * (Keras 2 inbound_nodes [[["name", 0, 0, {}]]], Keras 3 {"args":
 * [{"class_name": "__keras_tensor__", "config": {"keras_history": ["name",
 * 0, 0]}}]}), the input shape, and the Keras 3 weight paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/keras_internal.h"

void kx_model_free(kx_model *km) {
    if (!km) return;
    free(km->L);
    memset(km, 0, sizeof *km);
}

/* The layer list of a Sequential or Functional config object. */
static const sn_json *layer_list(const sn_json *cfg) {
    if (sn_json_is(cfg, SN_JSON_ARRAY)) return cfg; /* Keras 2.0 / 2.1 Sequential */
    return sn_json_get(cfg, "layers");
}

/* The name of the layer a Functional node's single input comes from; NULL
 * when the node has no input, "" (with *multi set) when it has several. */
static const char *node_source(const sn_json *node, int *multi) {
    *multi = 0;
    if (sn_json_is(node, SN_JSON_ARRAY)) { /* Keras 2: [["name", 0, 0, {}], ...] */
        if (sn_json_len(node) == 0) return NULL;
        if (sn_json_len(node) > 1) *multi = 1;
        return sn_json_str(sn_json_at(sn_json_at(node, 0), 0), NULL);
    }
    const sn_json *args = sn_json_get(node, "args"); /* Keras 3 */
    if (sn_json_len(args) != 1) {
        *multi = sn_json_len(args) > 1;
        return NULL;
    }
    const sn_json *t = sn_json_at(args, 0);
    if (sn_json_is(t, SN_JSON_ARRAY)) { /* a list of tensors: a merge layer */
        *multi = 1;
        return NULL;
    }
    return sn_json_str(sn_json_at(sn_json_get(sn_json_get(t, "config"), "keras_history"), 0), NULL);
}

/* Orders a Functional model's layers as one chain from its input to its
 * output, or refuses it (branching, shared layers, several inputs or
 * outputs). order[i] receives the config index of chain element i. */
static sn_status functional_chain(const sn_json *cfg, const sn_json *layers, int *order, const char *what) {
    size_t n = sn_json_len(layers);
    const sn_json *ins = sn_json_get(cfg, "input_layers"), *outs = sn_json_get(cfg, "output_layers");
    /* input_layers is [["name", 0, 0]] or, for one input in Keras 3, ["name", 0, 0] */
    int one_in = sn_json_is(sn_json_at(ins, 0), SN_JSON_STRING) || sn_json_len(ins) == 1;
    int one_out = sn_json_is(sn_json_at(outs, 0), SN_JSON_STRING) || sn_json_len(outs) == 1;
    if (!one_in || !one_out)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: a model with %zu inputs and %zu outputs is not a single chain; seqnn "
                                            "imports Sequential models and one-chain Functional models",
                        what, sn_json_is(sn_json_at(ins, 0), SN_JSON_STRING) ? 1 : sn_json_len(ins),
                        sn_json_is(sn_json_at(outs, 0), SN_JSON_STRING) ? 1 : sn_json_len(outs));
    const char *out_name = sn_json_is(sn_json_at(outs, 0), SN_JSON_STRING) ? sn_json_str(sn_json_at(outs, 0), NULL)
                                                                            : sn_json_str(sn_json_at(sn_json_at(outs, 0), 0), NULL);
    /* next[i]: the one layer fed by layer i */
    int *next = sn_malloc(n ? n : 1, sizeof *next), start = -1;
    if (!next) return SN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) next[i] = -1;
    sn_status st = SN_OK;
    for (size_t i = 0; i < n && !st; i++) {
        const sn_json *L = sn_json_at(layers, i);
        const char *nm = sn_json_str(sn_json_get(L, "name"), sn_json_str(sn_json_get(sn_json_get(L, "config"), "name"), "?"));
        const sn_json *nodes = sn_json_get(L, "inbound_nodes");
        if (sn_json_len(nodes) > 1) {
            st = sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' (%s) is called %zu times (a shared layer); seqnn imports "
                                              "single-chain models only", what, nm,
                          sn_json_str(sn_json_get(L, "class_name"), "?"), sn_json_len(nodes));
            break;
        }
        int multi;
        const char *src = sn_json_len(nodes) ? node_source(sn_json_at(nodes, 0), &multi) : (multi = 0, NULL);
        if (multi) {
            st = sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' (%s) takes several inputs (a branching model); seqnn "
                                              "imports single-chain models only", what, nm,
                          sn_json_str(sn_json_get(L, "class_name"), "?"));
            break;
        }
        if (!src) {
            if (start >= 0) {
                st = sn_error(SN_ERR_UNSUPPORTED, "%s: more than one input layer ('%s'); seqnn imports single-chain "
                                                  "models only", what, nm);
                break;
            }
            start = (int)i;
            continue;
        }
        size_t j;
        for (j = 0; j < n; j++)
            if (!strcmp(sn_json_str(sn_json_get(sn_json_at(layers, j), "name"), ""), src)) break;
        if (j == n) {
            st = sn_error(SN_ERR_FORMAT, "%s: layer '%s' is fed by '%s', which is not in the model", what, nm, src);
        } else if (next[j] >= 0) {
            const char *o = sn_json_str(sn_json_get(sn_json_at(layers, (size_t)next[j]), "name"), "?");
            st = sn_error(SN_ERR_UNSUPPORTED, "%s: layer '%s' feeds both '%s' and '%s' (a branching model); seqnn "
                                              "imports single-chain models only", what, src, o, nm);
        } else {
            next[j] = (int)i;
        }
    }
    int k = 0;
    if (!st && start < 0) st = sn_error(SN_ERR_FORMAT, "%s: the model has no input layer", what);
    for (int i = start; !st && i >= 0 && k <= (int)n; i = next[i]) order[k++] = i;
    if (!st && k != (int)n)
        st = sn_error(SN_ERR_UNSUPPORTED, "%s: %d of the model's %zu layers are not on the path from its input to its "
                                          "output (a branching model)", what, (int)n - k, n);
    if (!st && (!out_name || strcmp(sn_json_str(sn_json_get(sn_json_at(layers, (size_t)order[k - 1]), "name"), ""), out_name)))
        st = sn_error(SN_ERR_UNSUPPORTED, "%s: the model's output '%s' is not the end of its layer chain", what,
                      out_name ? out_name : "?");
    free(next);
    return st;
}

/* Keras 3 weight paths: model.layers in order, each under the snake case of
 * its class made unique in that order (saving_lib._save_container_state);
 * recurrent layers keep theirs in cell/, Bidirectional in
 * forward_layer/cell/ and backward_layer/cell/. */
static void k3_paths(kx_model *km) {
    struct { char base[64]; int count; } used[256];
    int n_used = 0;
    for (int i = 0; i < km->n; i++) {
        kx_layer *L = &km->L[i];
        char base[64], name[96];
        kx_snake(L->cls, base, sizeof base);
        int u;
        for (u = 0; u < n_used; u++)
            if (!strcmp(used[u].base, base)) break;
        if (u == n_used && n_used < 256) {
            snprintf(used[n_used].base, sizeof used[n_used].base, "%s", base);
            used[n_used++].count = -1;
        }
        int c = u < 256 ? ++used[u].count : 0;
        if (c == 0)
            snprintf(name, sizeof name, "%s", base);
        else
            snprintf(name, sizeof name, "%s_%d", base, c);
        int rnn = !strcmp(L->cls, "LSTM") || !strcmp(L->cls, "GRU") || !strcmp(L->cls, "SimpleRNN");
        if (!strcmp(L->cls, "Bidirectional")) {
            snprintf(L->k3path[0], sizeof L->k3path[0], "layers/%s/forward_layer/cell", name);
            snprintf(L->k3path[1], sizeof L->k3path[1], "layers/%s/backward_layer/cell", name);
            L->n_k3path = 2;
        } else {
            snprintf(L->k3path[0], sizeof L->k3path[0], "layers/%s%s", name, rnn ? "/cell" : "");
            L->n_k3path = 1;
        }
    }
}

/* keras_version → semantics. "" (a config without it) reads as Keras 3 only
 * when the config has Keras 3's "module" keys, else as Keras 2. */
static sn_status set_version(kx_model *km, const sn_json *root, const char *version, const char *backend,
                             const char *what) {
    const char *v = version ? version : sn_json_str(sn_json_get(root, "keras_version"), "");
    const char *b = backend ? backend : sn_json_str(sn_json_get(root, "backend"), "");
    snprintf(km->version, sizeof km->version, "%s", v);
    km->theano = !strcmp(b, "theano");
    if (v[0] == '1' && v[1] == '.')
        return sn_error(SN_ERR_UNSUPPORTED, "%s: written by Keras %s; seqnn imports files of Keras 2 and later (load "
                                            "and re-save it with Keras 2)", what, v);
    if (v[0] >= '3' && v[0] <= '9' && v[1] == '.')
        km->major = 3;
    else if (v[0] == '2' && v[1] == '.')
        km->major = 2;
    else if (!v[0])
        km->major = sn_json_get(root, "module") ? 3 : 2;
    else
        return sn_error(SN_ERR_FORMAT, "%s: keras_version '%s' is not a version number", what, v);
    return SN_OK;
}

/* The model's input shape from its config: InputLayer batch_shape /
 * batch_input_shape, the first layer's batch_input_shape (Keras 2),
 * build_input_shape (Keras 3 Sequential). Open (None) dims become -1. */
static sn_status read_shape(kx_model *km, const sn_json *shape, const char *what) {
    size_t n = sn_json_len(shape);
    if (n < 2 || n > 3)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: input shape of rank %zu (with the batch); seqnn takes (batch, C), "
                                            "(batch, T) or (batch, T, C)", what, n);
    km->in_rank = (int)n - 1;
    for (int i = 0; i < km->in_rank; i++) {
        const sn_json *d = sn_json_at(shape, (size_t)i + 1);
        if (sn_json_is(d, SN_JSON_NULL)) {
            km->in_shape[i] = -1;
            continue;
        }
        int64_t v = sn_json_int(d, -2);
        if (v < 1 || v > (1 << 26)) return sn_error(SN_ERR_FORMAT, "%s: input dimension %d is not a positive integer", what, i + 1);
        km->in_shape[i] = (int)v;
    }
    return SN_OK;
}

static sn_status find_shape(kx_model *km, const sn_json *cfg, const sn_json *first, const char *what) {
    const sn_json *c = sn_json_get(first, "config");
    const sn_json *s = sn_json_get(c, "batch_shape");
    if (!s) s = sn_json_get(c, "batch_input_shape");
    if (!s) s = sn_json_get(cfg, "build_input_shape");
    if (!s) s = sn_json_get(sn_json_get(first, "build_config"), "input_shape");
    if (!s && sn_json_get(c, "input_length") && !sn_json_is(sn_json_get(c, "input_length"), SN_JSON_NULL)) {
        km->in_rank = 1;
        int64_t T = sn_json_int(sn_json_get(c, "input_length"), -1);
        if (T < 1 || T > (1 << 26)) return sn_error(SN_ERR_FORMAT, "%s: input_length is not a positive integer", what);
        km->in_shape[0] = (int)T;
        return SN_OK;
    }
    if (!s) {
        km->in_rank = 0; /* the caller must give it */
        return SN_OK;
    }
    return read_shape(km, s, what);
}

static sn_status add_layer(kx_model *km, kx_layer **out) {
    if (km->n == km->cap) {
        int nc = km->cap ? 2 * km->cap : 16;
        if (nc > 4096) return sn_error(SN_ERR_UNSUPPORTED, "more than 4096 layers");
        kx_layer *nl = sn_realloc(km->L, (size_t)nc, sizeof *nl);
        if (!nl) return SN_ERR_NOMEM;
        km->L = nl;
        km->cap = nc;
    }
    *out = &km->L[km->n++];
    memset(*out, 0, sizeof **out);
    return SN_OK;
}

sn_status kx_translate(kx_model *km, const sn_json *root, const char *version, const char *backend, const char *what) {
    memset(km, 0, sizeof *km);
    const char *cls = sn_json_str(sn_json_get(root, "class_name"), NULL);
    const sn_json *cfg = sn_json_get(root, "config");
    if (!cls || !cfg)
        return sn_error(SN_ERR_FORMAT, "%s: the model config has no class_name and config (not a Keras model config)",
                        what);
    sn_status st = set_version(km, root, version, backend, what);
    if (st) return st;
    int functional = !strcmp(cls, "Functional") || !strcmp(cls, "Model");
    if (!functional && strcmp(cls, "Sequential"))
        return sn_error(SN_ERR_UNSUPPORTED, "%s: model class '%s'; seqnn imports Sequential and single-chain "
                                            "Functional models", what, cls);
    snprintf(km->model_class, sizeof km->model_class, "%s", cls);
    const sn_json *layers = layer_list(cfg);
    size_t n = sn_json_len(layers);
    if (!sn_json_is(layers, SN_JSON_ARRAY) || n == 0)
        return sn_error(SN_ERR_FORMAT, "%s: the %s config has no layers", what, cls);
    if (n > 4096) return sn_error(SN_ERR_UNSUPPORTED, "%s: %zu layers", what, n);
    int *order = sn_malloc(n, sizeof *order);
    if (!order) return SN_ERR_NOMEM;
    if (functional)
        st = functional_chain(cfg, layers, order, what);
    else
        for (size_t i = 0; i < n; i++) order[i] = (int)i;
    if (!st) st = find_shape(km, cfg, sn_json_at(layers, (size_t)order[0]), what);
    km->cur_rank = km->in_rank;
    for (size_t i = 0; i < n && !st; i++) {
        const sn_json *lj = sn_json_at(layers, (size_t)order[i]);
        kx_layer *L = NULL;
        if ((st = add_layer(km, &L))) break;
        if (!sn_json_is(lj, SN_JSON_OBJECT)) {
            st = sn_error(SN_ERR_FORMAT, "%s: layer %zu is not an object", what, i + 1);
            break;
        }
        st = kx_layer_translate(km, L, lj, what);
        if (!st && i == 0 && functional && strcmp(L->cls, "InputLayer"))
            st = sn_error(SN_ERR_FORMAT, "%s: the chain does not start at an InputLayer", what);
        if (!st && i > 0 && !strcmp(L->cls, "InputLayer"))
            st = sn_error(SN_ERR_UNSUPPORTED, "%s: InputLayer '%s' in the middle of the model", what, L->name);
    }
    free(order);
    if (!st) {
        for (int i = 0; i < km->n && !st; i++)
            for (int j = 0; j < i; j++)
                if (!strcmp(km->L[i].name, km->L[j].name)) {
                    st = sn_error(SN_ERR_FORMAT, "%s: two layers are named '%s'", what, km->L[i].name);
                    break;
                }
        k3_paths(km);
    }
    if (st) kx_model_free(km);
    return st;
}
