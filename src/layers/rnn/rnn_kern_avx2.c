/* The recurrent row kernels (rnn_kern_fwd.h, rnn_kern_bwd.h) for the avx2
 * vector path, chosen through sn_isa_get() (rnn_layer.c). Instruction set:
 * AVX2: the Makefile compiles this file with -mavx2.
 * Every path gives the same bits (rnn_math.h). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#error "rnn_kern_avx2.c must be compiled with the avx2 flags (see the Makefile)"
#endif
#include "layers/rnn/rnn_kern_bwd.h"
#include "layers/rnn/rnn_kern_fwd.h"

const rnn_kernels sn_rnn_kernels_avx2 = {
    .name = "avx2",
    .forward_rows = forward_rows,
    .backward_rows = backward_rows,
    .masked_steps = masked_steps,
    .scatter_steps = scatter_steps,
    .colsum_add = colsum_add,
};
