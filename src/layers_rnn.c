/* Registry of the recurrent, embedding and masking layer kinds. */
#include "layer.h"

const sn_layer_ops *const sn_layers_rnn[] = {NULL};
