/* Streaming inference: a recurrent model fed one time step at a time.
 *
 * A stream is made from a model for R rows (independent sequences, e.g.
 * sensors or users). Each row keeps the recurrent state of every layer
 * between calls; sn_stream_step feeds one time step to some or all rows and
 * gives each of them the model's output for its sequence so far (what
 * sn_model_predict gives for the prefix, for models whose last recurrent
 * layer has return_sequences=false; with return_sequences=true, the output
 * at that step). sn_stream_reset starts a row over.
 *
 * Equivalence: stepping a sequence through a row computes what the batch
 * forward computes, with the same kernels in the same order: bit for bit
 * where the GEMM gives the same bits for a different number of rows (the
 * portable backend, sn_gemm_set_backend(SN_GEMM_PORTABLE), always does;
 * BLAS may block its sums differently, a difference of float32 roundings).
 * Masking follows Keras: a masked step (Masking, Embedding mask_zero) leaves
 * the states as they are and outputs the carried state.
 *
 * What can stream: Dense, Activation, Dropout (inference: identity),
 * Embedding, Masking, OneHot, Layer/BatchNormalization, SimpleRNN, LSTM,
 * GRU, and Flatten of a vector. Refused at creation with a message naming
 * the layer (SN_ERR_UNSUPPORTED): layers that need the whole sequence or its
 * future — Bidirectional and go_backwards (they read it from the end),
 * Conv1D, pooling, Flatten or Reshape of a sequence — and models whose input
 * has no time axis.
 *
 * Memory: everything is allocated by sn_stream_init (the states, a copy of
 * the weights in a one-step model, its activation arena for R rows);
 * sn_stream_step never allocates. The stream does not keep a pointer to the
 * model: the source model may be freed or changed after sn_stream_init.
 *
 * Threads: a stream is NOT safe to share between threads (every call
 * writes its states and arena); use one stream per thread, or a lock. Each
 * step spreads its rows over up to sn_threads_get() threads. */
#ifndef SEQNN_STREAM_H
#define SEQNN_STREAM_H

#include <stddef.h>
#include "seqnn/core.h"
#include "seqnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_stream sn_stream;

/* Creates a stream over model m for `rows` rows (1 .. 1<<20), all states
 * zero. *out is NULL on error (SN_ERR_UNSUPPORTED naming the layer that
 * cannot stream, SN_ERR_ARG, SN_ERR_NOMEM). Free with sn_stream_free. */
SN_API sn_status sn_stream_init(sn_stream **out, const sn_model *m, int rows);
SN_API void sn_stream_free(sn_stream *s);

/* Floats per row and step of input (C, or 1 for a token id) and of output. */
SN_API size_t sn_stream_input_numel(const sn_stream *s);
SN_API size_t sn_stream_output_numel(const sn_stream *s);
SN_API int sn_stream_rows(const sn_stream *s);

/* Feeds one time step to n rows: rows[0..n) distinct row indices, or NULL
 * for rows 0..n-1; x (n, input_numel) their inputs in that order; y (n,
 * output_numel) receives their outputs (may be NULL). Errors (nothing
 * changes then): SN_ERR_ARG for a bad row list or input (NaN, an id out of
 * range), naming the row. */
SN_API sn_status sn_stream_step(sn_stream *s, const int *rows, int n, const float *x, float *y);

/* Zeroes the states of row `row`, or of every row when row is -1. */
SN_API sn_status sn_stream_reset(sn_stream *s, int row);

#ifdef __cplusplus
}
#endif
#endif
