/* Standalone C export internals: the runtime sources cexport.c pastes into
 * a generated file (cexport_rt.c). Each is a self-contained group of static
 * C99 functions; snx_rt_head defines snx_w (float or int8 weights). */
#ifndef SEQNN_CEXPORT_INTERNAL_H
#define SEQNN_CEXPORT_INTERNAL_H

extern const char *const snx_rt_head;   /* snx_w */
extern const char *const snx_rt_elem;   /* snx_elem (the rarer activations) */
extern const char *const snx_rt_fast;   /* snx_expf, snx_sigm, snx_tanh, snx_ract */
extern const char *const snx_rt_act;    /* snx_sigmoidf, snx_act */
extern const char *const snx_rt_mv;     /* snx_mv0 */
extern const char *const snx_rt_mvadd;  /* snx_mvadd */
extern const char *const snx_rt_dense;  /* snx_dense (needs act, mv) */
extern const char *const snx_rt_cell;   /* snx_rnn, snx_cell (needs fast, mv) */
extern const char *const snx_rt_rnn;    /* snx_rnn_seq (needs cell) */
extern const char *const snx_rt_conv;   /* snx_conv1d (needs act) */
extern const char *const snx_rt_pool;   /* snx_maxpool */
extern const char *const snx_rt_gap;    /* snx_gap */
extern const char *const snx_rt_gmp;    /* snx_gmp */
extern const char *const snx_rt_norm;   /* snx_bn */
extern const char *const snx_rt_ln;     /* snx_ln */
extern const char *const snx_rt_embed;  /* snx_embedding */
extern const char *const snx_rt_masking; /* snx_masking */
extern const char *const snx_rt_bidi;   /* snx_merge */

/* --int8 quantization (cexport.c), per output column j of a (R, N) matrix:
 * s[j] = max_i |w[i][j]| / 127 (1 for an all-zero column), q = round(w / s)
 * clamped to [-127, 127]; the C file computes with q · s. snx_quantized
 * names the tensors that are quantized (every "...kernel" and Embedding's
 * "embeddings"; biases and normalisation parameters stay float). */
#include <stddef.h>
void snx_quant_scales(const float *w, size_t R, size_t N, float *s);
int snx_quant(float w, float s);
int snx_quantized(const char *tensor);

#endif
