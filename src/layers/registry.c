/* The layer registry: every layer kind's ops table, found by its normalised
 * spec name, and layer creation from a parsed spec call. The tables live in their kind's file (dense.c, conv1d.c,
 * pooling.c, normalization.c, dropout.c, reshape.c, embedding.c, rnn/). */
#include "layers/rnn/rnn.h"

#include <string.h>

extern const sn_layer_ops sn_dense_ops, sn_flatten_ops, sn_reshape_ops, sn_activation_ops, sn_dropout_ops, sn_conv1d_ops,
    sn_maxpooling1d_ops, sn_maxpool1d_ops, sn_globalaveragepooling1d_ops, sn_globalavgpool1d_ops,
    sn_globalmaxpooling1d_ops, sn_globalmaxpool1d_ops, sn_batchnormalization_ops, sn_layernormalization_ops;
extern const sn_layer_ops sn_dlinear_ops; /* dlinear.c */
extern const sn_layer_ops sn_parallelconv1d_ops;

/* NULL-terminated; the first table with a matching kind wins. */
static const sn_layer_ops *const g_layers[] = {
    &sn_dense_ops,
    &sn_flatten_ops,
    &sn_reshape_ops,
    &sn_activation_ops,
    &sn_dropout_ops,
    &sn_conv1d_ops,
    &sn_maxpooling1d_ops,
    &sn_maxpool1d_ops, /* alias, describes itself as maxpooling1d */
    &sn_globalaveragepooling1d_ops,
    &sn_globalavgpool1d_ops, /* alias */
    &sn_globalmaxpooling1d_ops,
    &sn_globalmaxpool1d_ops, /* alias */
    &sn_batchnormalization_ops,
    &sn_layernormalization_ops,
    &sn_simplernn_ops,
    &sn_lstm_ops,
    &sn_gru_ops,
    &sn_bidirectional_ops,
    &sn_embedding_ops,
    &sn_masking_ops,
    &sn_onehot_ops,
    &sn_dlinear_ops,
    &sn_parallelconv1d_ops,
    NULL,
};

const sn_layer_ops *sn_layer_find(const char *kind) {
    for (int i = 0; g_layers[i]; i++)
        if (!strcmp(g_layers[i]->kind, kind)) return g_layers[i];
    return NULL;
}

sn_layer *sn_layer_create(const sn_spec_call *call) {
    const sn_layer_ops *ops = sn_layer_find(call->name);
    if (!ops) {
        sn_spec_error(call, "unknown layer '%s'", call->name);
        return NULL;
    }
    return sn_layer_new(ops, call);
}
