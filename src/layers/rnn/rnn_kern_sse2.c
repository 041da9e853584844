/* The recurrent row kernels (rnn_kern_fwd.h, rnn_kern_bwd.h) for the sse2
 * vector path, chosen through sn_isa_get() (rnn_layer.c). Instruction set:
 * baseline x86-64 (SSE2): the file gets no instruction-set flag.
 * Every path gives the same bits (rnn_math.h). */
#include "layers/rnn/rnn_kern_bwd.h"
#include "layers/rnn/rnn_kern_fwd.h"

const rnn_kernels sn_rnn_kernels_sse2 = {
    .name = "sse2",
    .forward_rows = forward_rows,
    .backward_rows = backward_rows,
    .masked_steps = masked_steps,
    .scatter_steps = scatter_steps,
    .colsum_add = colsum_add,
};
