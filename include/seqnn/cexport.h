/* Standalone C export: a seqnn model as one C99 source file and its header
 * that need nothing but <math.h> — no libseqnn, no malloc, no other header.
 *
 * sn_cexport(m, "model.c", &o) writes model.c and model.h (the same path
 * with .h; a path not ending in .c gets .c/.h appended). The weights are
 * `static const float` arrays (with o.int8: `static const signed char`
 * arrays with one float scale per output column, w ≈ scale[j] * q[i][j],
 * q = round(w / scale[j]), scale[j] = max_i |w[i][j]| / 127; biases and
 * normalisation parameters stay float). The header declares, with
 * PREFIX = o.prefix or the file's base name:
 *
 *   #define PREFIX_IN  <floats per sample of input>   (T*C, or T ids)
 *   #define PREFIX_OUT <floats per sample of output>
 *   typedef struct PREFIX_work { ... } PREFIX_work;   (scratch: caller-owned, any storage)
 *   void PREFIX_predict(PREFIX_work *w, const float *x, float *y);
 *
 * and, for models that can run one time step at a time (every layer acts per
 * step or is a forward recurrent layer: Dense, Activation, Dropout,
 * Embedding, Masking, Layer/BatchNormalization, SimpleRNN, LSTM, GRU, a
 * Flatten of a vector), also
 *
 *   #define PREFIX_STEP_IN <floats per step of input>  (C, or 1 id)
 *   typedef struct PREFIX_state { ... } PREFIX_state; (the recurrent states)
 *   void PREFIX_reset(PREFIX_state *s);
 *   void PREFIX_step(PREFIX_state *s, const float *x_t, float *y);
 *
 * where y after stepping x_0 .. x_{t} is the model's output for that
 * prefix (predict's output for the whole sequence after its last step).
 * The arithmetic is libseqnn's, in plain loops (same activation formulas,
 * sums in index order); outputs agree with sn_model_predict within 1e-6
 * (tests/test_export_c.c compiles and runs an exported file).
 *
 * Layers: Dense, Activation, Dropout (inference: identity), Flatten,
 * Reshape, Conv1D, MaxPooling1D, GlobalAverage/GlobalMaxPooling1D,
 * BatchNormalization, LayerNormalization, Embedding, Masking, SimpleRNN,
 * LSTM, GRU, Bidirectional; others are refused with SN_ERR_UNSUPPORTED.
 * Both files are written atomically; on error neither is changed. */
#ifndef SEQNN_CEXPORT_H
#define SEQNN_CEXPORT_H

#include "seqnn/core.h"
#include "seqnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_cexport_opts {
    int int8;            /* 1: int8 weight matrices with per-output-column scales */
    const char *prefix;  /* C identifier prefix; NULL: the output's base name */
} sn_cexport_opts;

SN_API void sn_cexport_opts_default(sn_cexport_opts *o);
SN_API sn_status sn_cexport(const sn_model *m, const char *path, const sn_cexport_opts *o);

#ifdef __cplusplus
}
#endif
#endif
