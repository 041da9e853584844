/* One time step of a recurrent layer with carried states (the streaming
 * API, src/model/stream.c): the inference forward of rnn_forward.c for
 * T = 1, started from the given states instead of zeros. The same GEMM (for
 * the rows of this call), the same row kernels and the same operation order
 * per element, so stepping a sequence one step at a time gives the batch
 * forward's bits wherever the GEMM gives the same bits for fewer rows (the
 * portable GEMM always; BLAS kernels may block differently). */
#include "layers/rnn/rnn_internal.h"

#include <string.h>

sn_status sn_rnn_step(sn_layer *L, int B, const float *x, const uint8_t *mask, float *h, float *c, float *y,
                      float *cache, float *scratch) {
    sn_rnn_cfg *cf = L->cfg;
    if (!sn_rnn_is_recurrent(L) || cf->T != 1)
        return sn_error(SN_ERR_STATE, "sn_rnn_step: layer %s is not a recurrent layer built for one step", L->name);
    int H = cf->units, gate_cols = cf->n_gates * H;
    const rnn_kernels *kn = sn_rnn_kernels_get();
    rnn_ctx ctx; /* h_states / c_states: (2,B,H) rings, slot 0 = the carried state */
    sn_rnn_ctx_init(&ctx, L, B, x, mask, cache, scratch);
    ctx.y = y;
    ctx.n_input_masks = 1;
    ctx.lean = 1;
    rnn_fwd_flags fl = {0, 0, 1, 1};
    sn_rnn_flags_put(cache, &fl);
    memcpy(ctx.h_states, h, (size_t)B * H * sizeof(float));
    if (ctx.c_states) memcpy(ctx.c_states, c, (size_t)B * H * sizeof(float));
    if (!cf->ids_input) {
        rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
        float *rows = cache + ly.input_rows;
        kn->masked_steps(rows, x, NULL, 0, 1, B, 1, cf->C, 0);
        sn_gemm(0, 0, B, gate_cols, cf->C, 1.0f, rows, cf->C, ctx.kernel, gate_cols, 0.0f, ctx.gates, gate_cols);
    }
    ctx.chunk_k0 = 0;
    int n_row_chunks = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = SN_MIN(L->threads > 1 ? L->threads : 1, n_row_chunks);
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_row_chunks; ch++) {
            int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
            kn->forward_rows(&ctx, b0, b1, 0, 1);
        }
        sn_fp_leave(fp);
    }
    const float *h1 = ctx.h_states + rnn_state_slot(&ctx, 1) * B * H;
    memcpy(h, h1, (size_t)B * H * sizeof(float));
    if (ctx.c_states) memcpy(c, ctx.c_states + rnn_state_slot(&ctx, 1) * B * H, (size_t)B * H * sizeof(float));
    if (!cf->return_sequences) memcpy(y, h1, (size_t)B * H * sizeof(float));
    return SN_OK;
}
