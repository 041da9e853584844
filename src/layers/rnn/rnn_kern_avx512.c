/* The recurrent row kernels (rnn_kern_fwd.h, rnn_kern_bwd.h) for the avx512
 * vector path, chosen through sn_isa_get() (rnn_layer.c). Instruction set:
 * AVX-512 (F, BW, DQ, VL): the Makefile compiles this file with
 * -mavx512f -mavx512bw -mavx512dq -mavx512vl.
 * Every path gives the same bits (rnn_math.h). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX512F__)
#error "rnn_kern_avx512.c must be compiled with the avx512 flags (see the Makefile)"
#endif
#include "layers/rnn/rnn_kern_bwd.h"
#include "layers/rnn/rnn_kern_fwd.h"

const rnn_kernels sn_rnn_kernels_avx512 = {
    .name = "avx512",
    .forward_rows = forward_rows,
    .backward_rows = backward_rows,
    .masked_steps = masked_steps,
    .scatter_steps = scatter_steps,
    .colsum_add = colsum_add,
};
