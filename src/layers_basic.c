/* Registry of the feed-forward / convolutional layer kinds. */
#include "layer.h"

const sn_layer_ops *const sn_layers_basic[] = {NULL};
