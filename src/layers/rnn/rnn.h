/* Recurrent, embedding and masking layers (internal): the configuration
 * shared by this folder's rnn_*.c files (SimpleRNN / LSTM / GRU),
 * bidirectional.c and layers/embedding.c (Embedding / Masking / OneHot), plus
 * a few accessors the model and the tests use. Semantics:
 * docs/keras-semantics.md §1-§6.
 *
 * Recurrent layer tensors (Keras layout, row vectors y = xW):
 *   "kernel"           (C, n_gates*H)  gate blocks: LSTM i,f,c,o; GRU z,r,h; SimpleRNN 1
 *   "recurrent_kernel" (H, n_gates*H)
 *   "bias"             (n_gates*H), GRU reset_after=true: (2, 3H) rows (input, recurrent)
 * With an SN_REP_IDS input (onehot(V) before it) C = V and x·W is a row gather.
 */
#ifndef SEQNN_RNN_H
#define SEQNN_RNN_H

#include "layers/layer.h"

typedef enum sn_rnn_kind { SN_RNN_SIMPLE = 0, SN_RNN_LSTM = 1, SN_RNN_GRU = 2 } sn_rnn_kind;

typedef struct sn_rnn_cfg {
    sn_rnn_kind kind;
    int units;                  /* H */
    sn_act act, recurrent_act;  /* activation (tanh), recurrent_activation (sigmoid) */
    int use_bias;
    sn_init_kind kernel_init, recurrent_init, bias_init;
    int unit_forget_bias;       /* LSTM */
    int reset_after;            /* GRU */
    int return_sequences, return_state, go_backwards, unroll;
    double dropout, recurrent_dropout; /* validated in [0, 1]; active only for 0 < p < 1 */
    long seed;                  /* -1: masks come from the model's RNG */
    sn_rng seed_rng;            /* own dropout stream when seed >= 0 (listed by ops->rng_streams; Bidirectional
                                   derives its backward direction's, bidirectional.c) */
    int zero_output_for_mask;   /* set by Bidirectional (= return_sequences), not a spec argument */
    /* set by build */
    int T, C;                   /* input steps and features (C = V for an ids input) */
    int n_gates;                /* gate blocks: LSTM 4, GRU 3, SimpleRNN 1 */
    int ids_input;              /* 1: the input is SN_REP_IDS (x·W is a row gather) */
    size_t off_kernel, off_recurrent, off_bias; /* tensor offsets in the layer's block (floats) */
} sn_rnn_cfg;

/* The ops tables of the recurrent kinds (rnn_layer.c), the wrapper
 * (bidirectional.c) and the id layers (layers/embedding.c); the registry
 * lists them, Bidirectional builds its inner layers from the first three. */
extern const sn_layer_ops sn_simplernn_ops, sn_lstm_ops, sn_gru_ops;
extern const sn_layer_ops sn_bidirectional_ops, sn_embedding_ops, sn_masking_ops, sn_onehot_ops;

/* 1 if L is a SimpleRNN / LSTM / GRU layer (not Bidirectional), else 0;
 * NULL gives 0. */
int sn_rnn_is_recurrent(const sn_layer *L);

/* Final states of the last forward call of recurrent layer L, read from the
 * cache that forward filled for `B` rows: *h (B,H), and for LSTM *c (B,H)
 * (NULL for the other kinds). Pointers point into `cache` (do not free).
 * Under masking these are the states after each row's last valid step, which
 * is Keras's return_state output. SN_ERR_ARG if L is not recurrent. */
sn_status sn_rnn_final_states(const sn_layer *L, const float *cache, int B, const float **h, const float **c);

/* One time step of recurrent layer L (built on a T = 1 input) for B rows,
 * from the carried states: x (B,C) input (ids (B) for an ids input); mask
 * (B) 1 = valid step, or NULL; h (B,H) and, for LSTM, c (B,H) carried in and
 * updated in place (a masked row keeps its states); y (B,H) the output (the
 * new h; at a masked row the carried h, or 0 with zero_output_for_mask).
 * cache / scratch: L's cache_floats / scratch_floats for B rows. The
 * arithmetic is the lean inference forward's (rnn_step.c). SN_ERR_STATE when
 * L is not recurrent or not built for one step. */
sn_status sn_rnn_step(sn_layer *L, int B, const float *x, const uint8_t *mask, float *h, float *c, float *y,
                      float *cache, float *scratch);

/* The inner layers of Bidirectional layer L: *fw the forward direction,
 * *bw the backward one (they point into L, do not free). L must be a
 * Bidirectional layer. */
void sn_bidirectional_parts(const sn_layer *L, sn_layer **fw, sn_layer **bw);

/* Validates token ids before a forward pass: every ids[i] must be an integer
 * in [0, vocab). Returns SN_ERR_ARG naming `what`, the flat index and the
 * value of the first bad id. Embedding / OneHot forward SN_ASSERT this. */
sn_status sn_ids_check(const float *ids, size_t n, int vocab, const char *what);

/* Vocabulary the ids feeding layer L must respect (Embedding input_dim,
 * OneHot depth), or 0 when L takes no ids. */
int sn_layer_ids_vocab(const sn_layer *L);

#endif
