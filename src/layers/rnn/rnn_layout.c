/* Recurrent layers: the cache header (forward -> backward flags), the cache
 * and scratch layouts, the step-chunk and padding rules, and the choice of
 * the row kernels for the active vector path. Used by rnn_layer.c (sizes),
 * rnn_forward.c and rnn_backward.c; depends on nothing else of the folder,
 * so the ops tables in rnn_layer.c and the passes do not form a cycle. */
#include "layers/rnn/rnn_internal.h"

#include <string.h>

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

void sn_rnn_flags_put(float *cache, const rnn_fwd_flags *fl) { memcpy(cache, fl, sizeof *fl); }

rnn_fwd_flags sn_rnn_flags_get(const float *cache) {
    rnn_fwd_flags fl;
    memcpy(&fl, cache, sizeof fl);
    return fl;
}

rnn_cache_layout sn_rnn_cache_layout(const sn_rnn_cfg *cf, int B) {
    rnn_cache_layout l;
    size_t T = (size_t)cf->T, C = (size_t)cf->C, H = (size_t)cf->units, gate_cols = (size_t)cf->n_gates * H;
    size_t Bz = (size_t)B;
    l.n_input_masks = (cf->dropout > 0 && cf->recurrent_dropout > 0 && cf->kind != SN_RNN_SIMPLE) ? cf->n_gates : 1;
    l.n_state_masks = cf->kind == SN_RNN_SIMPLE ? 1 : cf->n_gates;
    size_t o = RNN_HEADER_FLOATS;
    l.input_rows = o; o += cf->ids_input ? 0 : up16(T * Bz * C);
    l.input_masks = o; o += cf->dropout > 0 ? up16((size_t)l.n_input_masks * Bz * C) : 0;
    l.state_masks = o; o += cf->recurrent_dropout > 0 ? up16((size_t)l.n_state_masks * Bz * H) : 0;
    l.h_states = o; o += up16((T + 1) * Bz * H);
    l.c_states = o; o += cf->kind == SN_RNN_LSTM ? up16((T + 1) * Bz * H) : 0;
    l.cell_act = o; o += cf->kind == SN_RNN_LSTM ? up16(T * Bz * H) : 0;
    l.gates = o; o += up16(T * Bz * gate_cols);
    l.gru_rec = o; o += cf->kind == SN_RNN_GRU ? up16(T * Bz * H) : 0;
    l.total = o;
    return l;
}


int sn_rnn_step_chunk(int B) { return SN_MAX(1, 1024 / B); }

int sn_rnn_input_in_row(const sn_rnn_cfg *cf, int n_input_masks) { return !cf->ids_input && n_input_masks > 1; }

int sn_rnn_c_padded(int C) { return (C + 7) & ~7; }

rnn_scratch_layout sn_rnn_scratch_layout(const sn_rnn_cfg *cf, int B) {
    rnn_scratch_layout s;
    size_t T = (size_t)cf->T, H = (size_t)cf->units, gate_cols = (size_t)cf->n_gates * H, Bz = (size_t)B;
    size_t steps = (size_t)sn_rnn_step_chunk(B), n_chunks = (T + steps - 1) / steps, rows = n_chunks * steps * Bz;
    size_t Cd = cf->ids_input ? 0 : (size_t)cf->C; /* dense input features (0 for ids) */
    size_t o = 0;
    s.gru_rec_rows = o; o += up16(Bz * gate_cols);
    s.masked_h = o; o += up16(Bz * gate_cols);
    s.rec_kernel_t = o; o += up16(gate_cols * H);
    s.grad_h = o; o += up16(Bz * H);
    s.grad_c = o; o += up16(Bz * H);
    s.grad_h_prev = o; o += up16(Bz * H);
    s.grad_rh = o; o += up16(Bz * H);
    s.masked_h_rows = o; o += up16(rows * H);
    s.input_work = o; o += up16(rows * Cd);
    size_t c_padded = cf->ids_input ? 0 : (size_t)sn_rnn_c_padded(cf->C), n_gates = (size_t)cf->n_gates;
    s.masked_x_rows = o; o += up16(Bz * n_gates * Cd);
    s.kernel_t = o; o += up16(gate_cols * c_padded);
    s.input_masks_padded = o; o += up16(n_gates * Bz * c_padded);
    s.dx_rows = o; o += up16(Bz * c_padded);
    s.partial_du = Cd * gate_cols;
    s.partial_db = s.partial_du + H * gate_cols;
    s.partial_stride = up16(s.partial_db + 2 * gate_cols);
    s.partials = o; o += n_chunks * s.partial_stride;
    s.total = o;
    return s;
}


const rnn_kernels *sn_rnn_kernels_get(void) {
    switch (sn_isa_get()) {
    case SN_ISA_AVX512: return &sn_rnn_kernels_avx512;
    case SN_ISA_AVX2: return &sn_rnn_kernels_avx2;
    default: return &sn_rnn_kernels_sse2;
    }
}
