/* Registry of the recurrent, embedding and masking layer kinds. */
#include "rnn.h"

const sn_layer_ops *const sn_layers_rnn[] = {
    &sn_simplernn_ops, &sn_lstm_ops, &sn_gru_ops, &sn_bidirectional_ops,
    &sn_embedding_ops, &sn_masking_ops, &sn_onehot_ops, NULL,
};
