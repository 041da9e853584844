/* Weight layout conversion between seqnn (= Keras) recurrent layers and
 * PyTorch nn.RNN / nn.LSTM / nn.GRU (one layer, one direction).
 *
 * seqnn/Keras uses row vectors (z = x W + h U + b) with gate column blocks;
 * PyTorch uses column vectors (z = W_ih x + b_ih + W_hh h + b_hh) with gate
 * row blocks. Mapping (H units, C inputs, blocks of H):
 *
 *   layer      seqnn tensor                     PyTorch
 *   SimpleRNN  kernel (C,H)                     weight_ih_l0^T  (w_ih (H,C))
 *              recurrent_kernel (H,H)           weight_hh_l0^T  (w_hh (H,H))
 *              bias (H)                         b_ih + b_hh
 *   LSTM       kernel (C,4H) blocks i,f,c,o     w_ih^T, torch blocks i,f,g,o (same order)
 *              recurrent_kernel (H,4H)          w_hh^T
 *              bias (4H)                        b_ih + b_hh
 *   GRU        kernel (C,3H) blocks z,r,h       w_ih^T with torch blocks r,z,n permuted:
 *              (reset_after=true only)            keras z ← torch 1, r ← torch 0, h ← n (2)
 *              recurrent_kernel (H,3H)          w_hh^T, same permutation
 *              bias (2,3H) row 0 (input)        b_ih permuted
 *                          row 1 (recurrent)    b_hh permuted
 *
 * Direction "to torch" is exact for GRU; for SimpleRNN and LSTM the single
 * Keras bias goes to b_ih and b_hh is set to zero (the split is not unique).
 * GRU reset_after=false ((r⊙h)U_h) has no PyTorch equivalent: SN_ERR_UNSUPPORTED.
 * A bidirectional torch layer's "_reverse" weights map to the backward_*
 * tensors of seqnn's Bidirectional, with the same functions.
 *
 * All functions: arrays are dense row-major float32 with the shapes given;
 * b_ih / b_hh may be NULL when the torch layer has bias=False (then the seqnn
 * bias receives zeros; in "to torch" NULL outputs are skipped). Errors:
 * SN_ERR_ARG for NULL weights or C, H <= 0. No allocation.
 */
#ifndef SEQNN_INTEROP_H
#define SEQNN_INTEROP_H

#include "seqnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* kernel: (C,H); recurrent: (H,H); bias: (H) | w_ih: (H,C); w_hh: (H,H); b_ih, b_hh: (H). */
SN_API sn_status sn_interop_simplernn_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                          const float *w_hh, const float *b_ih, const float *b_hh, int C, int H);
SN_API sn_status sn_interop_simplernn_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                        const float *recurrent, const float *bias, int C, int H);

/* kernel: (C,4H); recurrent: (H,4H); bias: (4H) | w_ih: (4H,C); w_hh: (4H,H); b_ih, b_hh: (4H). */
SN_API sn_status sn_interop_lstm_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                     const float *w_hh, const float *b_ih, const float *b_hh, int C, int H);
SN_API sn_status sn_interop_lstm_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                   const float *recurrent, const float *bias, int C, int H);

/* kernel: (C,3H); recurrent: (H,3H); bias: (2,3H) | w_ih: (3H,C); w_hh: (3H,H); b_ih, b_hh: (3H).
 * reset_after must be 1 (else SN_ERR_UNSUPPORTED). */
SN_API sn_status sn_interop_gru_from_torch(float *kernel, float *recurrent, float *bias, const float *w_ih,
                                    const float *w_hh, const float *b_ih, const float *b_hh, int C, int H,
                                    int reset_after);
SN_API sn_status sn_interop_gru_to_torch(float *w_ih, float *w_hh, float *b_ih, float *b_hh, const float *kernel,
                                  const float *recurrent, const float *bias, int C, int H, int reset_after);

#ifdef __cplusplus
}
#endif
#endif
