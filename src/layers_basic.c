/* Registry of the feed-forward / convolutional layer kinds. The tables live
 * in their kind's file (dense.c, conv1d.c, pooling.c, normalization.c,
 * dropout.c, reshape.c); a kind is found by its normalised spec name. */
#include "layer.h"

extern const sn_layer_ops sn_dense_ops, sn_flatten_ops, sn_activation_ops, sn_dropout_ops, sn_conv1d_ops,
    sn_maxpooling1d_ops, sn_maxpool1d_ops, sn_globalaveragepooling1d_ops, sn_globalavgpool1d_ops,
    sn_globalmaxpooling1d_ops, sn_globalmaxpool1d_ops, sn_batchnormalization_ops, sn_layernormalization_ops;

const sn_layer_ops *const sn_layers_basic[] = {
    &sn_dense_ops,
    &sn_flatten_ops,
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
    NULL,
};
