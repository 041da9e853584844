/* SimpleRNN, LSTM and GRU forward: the training forward (every cache
 * backward reads) and the lean inference forward. Keras 3 semantics
 * (docs/keras-semantics.md §1-§3); the cell equations are at the top of
 * rnn_kern_fwd.h.
 *
 * Speed layout (all caches time-major, k = processing step, so go_backwards
 * only changes which input row step k reads):
 *   1. the input projection is a GEMM (rows, C)x(C, gate_cols) into `gates`
 *      (T,B,gate_cols) per chunk of whole steps (sn_rnn_step_chunk: ~1024
 *      rows), chunks spread over threads (a row gather W[id] for SN_REP_IDS
 *      inputs, done in the row kernel); with per-gate input masks it is done
 *      in the row kernel instead (sn_rnn_input_in_row: one masked copy of x
 *      per gate would be needed otherwise);
 *   2. the time loop: the batch is cut into fixed chunks of RNN_ROWS rows and
 *      one thread runs the WHOLE sequence of a chunk (rows of a recurrent
 *      layer are independent over time): no barrier or fork per step, and
 *      the chunking does not depend on the thread count. Per row and step,
 *      the recurrent product h_{k-1}U by a register-blocked kernel that
 *      advances all gate blocks together (rnn_math.h gate_matvec), then the
 *      gate arithmetic (vectorized exp/sigmoid/tanh; for LSTM run over the
 *      chunk's rows after all their products, which keeps more independent
 *      work in flight: +15 %); the activations overwrite the
 *      pre-activations in `gates`. glibc tanhf/expf instead of the inline
 *      versions cost 5x;
 *   3. backward (rnn_backward.c) walks the steps in reverse with the same
 *      chunks, turning the activations into pre-activation gradients dZ in
 *      place and carrying dh_{k-1} = dZ U^T per row;
 *   4. dW = X^T dZ, dU = Hprev^T dZ, db and dX = dZ W^T per chunk of whole
 *      steps again, threads taking chunks; each chunk writes its own partial
 *      dW / dU / db, summed afterwards in chunk order.
 * Inference (training == 0, rnn_forward_lean) runs the same arithmetic but
 * keeps only live values (see there). Its output is bit-identical to the
 * training forward (tests/test_rnn.c, memcmp); a backward after it
 * recomputes the caches with the training forward.
 *
 * What is reproducible: every row is computed by one thread with a fixed
 * operation order and the gradient partials are reduced in a fixed order,
 * so on one machine the results are bit-identical for every thread count
 * (tests/test_rnn.c checks 1 vs 2), and for every vector path
 * (SEQNN_ISA=sse2|avx2|avx512: the row kernels do the same IEEE operations
 * per element; tests/test_isa_paths.c). Across CPUs they differ by
 * rounding: the GEMMs of steps 1 and 4 run in the BLAS, which picks its
 * kernel (blocking, FMA, summation order) per CPU.
 *
 * Measured with bench/bench_rnn.c (LSTM(16), B=256, T=120, C=14, 1 thread,
 * Zen3): ~11 ms per fwd+bwd step, of which ~28 % the GEMMs of 1 and 4
 * (OpenBLAS runs them near the FMA peak), ~45 % the row kernels (the
 * activations are most of it; ISO C mode forms no FMA).
 *
 * Dropout (Keras): masks drawn once per forward call from the model RNG (or
 * the layer's own `seed` stream), (B,C) for x and (B,H) for h, values 0 or
 * 1/(1-p), reused at every step and kept in the cache. recurrent_dropout > 0
 * selects Keras implementation 1: one independent mask per gate for x (if
 * dropout > 0) and for h. The per-gate h masks cost nothing extra in the
 * loop: the row kernel multiplies h by the gate's mask while it streams U's
 * block. The per-gate x masks: (x ⊙ m_g) W_g and dx += Σ_g (dZ_g W_g^T) ⊙ m_g
 * are row-kernel products (no cached masked copies); dW_g and dU_g use
 * masked copies built per chunk of steps.
 *
 * Masking (B,T): at a masked step the states are carried and the output is
 * the previous output (= carried h; zeros before the first valid step), or 0
 * with zero_output_for_mask (set by Bidirectional when return_sequences).
 */
#include "layers/rnn/rnn_internal.h"

#include <string.h>

static void draw_mask(float *m, size_t n, double p, sn_rng *r) {
    float keep = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++) m[i] = sn_rng_double(r) < p ? 0.0f : keep;
}

void sn_rnn_ctx_init(rnn_ctx *c, sn_layer *L, int B, const float *x, const uint8_t *mask, float *cache,
                     float *scratch) {
    sn_rnn_cfg *cf = L->cfg;
    int gate_cols = cf->n_gates * cf->units;
    rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
    rnn_scratch_layout sl = sn_rnn_scratch_layout(cf, B);
    int lstm = cf->kind == SN_RNN_LSTM, gru = cf->kind == SN_RNN_GRU;
    memset(c, 0, sizeof *c);
    c->cf = cf;
    c->B = B;
    c->T = cf->T;
    c->C = cf->C;
    c->H = cf->units;
    c->n_gates = cf->n_gates;
    c->gate_cols = gate_cols;
    c->kernel = L->w + cf->off_kernel;
    c->rec_kernel = L->w + cf->off_recurrent;
    c->bias = cf->use_bias ? L->w + cf->off_bias : NULL;
    c->rec_bias = cf->use_bias && gru && cf->reset_after ? L->w + cf->off_bias + gate_cols : NULL;
    c->x = x;
    c->mask = mask;
    c->h_states = cache + ly.h_states;
    c->c_states = lstm ? cache + ly.c_states : NULL;
    c->cell_act = lstm ? cache + ly.cell_act : NULL;
    c->gates = cache + ly.gates;
    c->gru_rec = gru ? cache + ly.gru_rec : NULL;
    c->input_masks = cache + ly.input_masks;
    c->state_masks = cache + ly.state_masks;
    c->gru_rec_rows = scratch + sl.gru_rec_rows;
    c->masked_h = scratch + sl.masked_h;
    c->masked_x_rows = scratch + sl.masked_x_rows;
}

/* Threads for `tasks` independent tasks of layer L. */
static int rnn_threads(const sn_layer *L, int tasks) { return SN_MIN(L->threads > 1 ? L->threads : 1, tasks); }

/* Step 1 of the training forward: the time-major (dropped) input copy and
 * the projection GEMM, in chunks of whole steps (threads take chunks; every
 * chunk does the same work whatever the thread count). */
static void forward_input_gemm(const sn_layer *L, const rnn_ctx *c, const rnn_kernels *kn, const float *x,
                               float *input_rows) {
    const sn_rnn_cfg *cf = c->cf;
    int B = c->B, T = c->T, C = c->C, gate_cols = c->gate_cols;
    int steps = sn_rnn_step_chunk(B), n_chunks = (T + steps - 1) / steps;
    int nthc = rnn_threads(L, n_chunks);
#pragma omp parallel num_threads(nthc) if (nthc > 1)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_chunks; ch++) {
            int k0 = ch * steps, k1 = SN_MIN(T, k0 + steps);
            size_t r0 = (size_t)k0 * B;
            if (c->input_dropout) {
                kn->masked_steps(input_rows + r0 * C, x, c->input_masks, k0, k1 - k0, B, T, C, cf->go_backwards);
            } else {
                for (int k = k0; k < k1; k++) {
                    int t = cf->go_backwards ? T - 1 - k : k;
                    for (int b = 0; b < B; b++)
                        memcpy(input_rows + ((size_t)k * B + b) * C, x + ((size_t)b * T + t) * C,
                               (size_t)C * sizeof(float));
                }
            }
            int nr = (k1 - k0) * B;
            sn_gemm(0, 0, nr, gate_cols, C, 1.0f, input_rows + r0 * C, C, c->kernel, gate_cols, 0.0f,
                    c->gates + r0 * gate_cols, gate_cols);
        }
        sn_fp_leave(fp);
    }
}

void sn_rnn_forward_full(sn_layer *L, sn_fwd *f) {
    sn_rnn_cfg *cf = L->cfg;
    int B = f->B, T = cf->T, C = cf->C, H = cf->units;
    rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
    const rnn_kernels *kn = sn_rnn_kernels_get();
    float *ca = f->cache;
    rnn_ctx c;
    sn_rnn_ctx_init(&c, L, B, f->x, f->mask, ca, f->scratch);
    c.y = f->y;
    c.input_dropout = f->training && cf->dropout > 0 && cf->dropout < 1;
    c.state_dropout = f->training && cf->recurrent_dropout > 0 && cf->recurrent_dropout < 1;
    c.n_input_masks = c.input_dropout ? ly.n_input_masks : 1;
    c.input_in_row = sn_rnn_input_in_row(cf, c.n_input_masks);
    rnn_fwd_flags fl = {c.input_dropout, c.state_dropout, c.n_input_masks, 0};
    sn_rnn_flags_put(ca, &fl);
    sn_rng *rng = cf->seed >= 0 ? &cf->seed_rng : f->rng;
    if (c.input_dropout || c.state_dropout) SN_ASSERT(rng);
    if (c.input_dropout) draw_mask(c.input_masks, (size_t)c.n_input_masks * B * C, cf->dropout, rng);
    if (c.state_dropout) draw_mask(c.state_masks, (size_t)ly.n_state_masks * B * H, cf->recurrent_dropout, rng);

    if (!cf->ids_input && !c.input_in_row) forward_input_gemm(L, &c, kn, f->x, ca + ly.input_rows);
    memset(c.h_states, 0, (size_t)B * H * sizeof(float));
    if (c.c_states) memset(c.c_states, 0, (size_t)B * H * sizeof(float));

    /* Each chunk of rows runs the whole time loop on one thread: no barrier
     * per step. Chunks are independent and their size is fixed, so the
     * results do not depend on the thread count or on the schedule. */
    int n_row_chunks = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = rnn_threads(L, n_row_chunks);
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_row_chunks; ch++) {
            int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
            kn->forward_rows(&c, b0, b1, 0, T);
        }
        sn_fp_leave(fp);
    }
    if (!cf->return_sequences && f->y) memcpy(f->y, c.h_states + (size_t)T * B * H, (size_t)B * H * sizeof(float));
    f->mask_out = cf->return_sequences ? f->mask : NULL;
}

/* Inference forward (training == 0: no dropout, nothing kept for backward).
 * The same arithmetic in the same order as sn_rnn_forward_full, so the
 * output is bit-identical (tests/test_rnn.c compares with memcmp), but only
 * the live values are stored, in a working set that stays in cache:
 *   - the steps are taken in the chunks of sn_rnn_step_chunk (~1024 rows);
 *     per chunk the time-major input copy and the projection GEMM have the
 *     very shapes of the full path (same BLAS calls, same results) and write
 *     one chunk-sized `gates`, which the row chunks then consume step by step;
 *   - h and c live in a 2-step ring (step k in slot k & 1), φ(c_k) and the
 *     GRU q in one (B,H) slot; no per-step state, activation or q history.
 * The full path's gates (T,B,gate_cols) alone are 7.9 MB for LSTM(16),
 * B=256, T=120: written by the GEMM, then read back by the time loop from
 * memory. The final states are copied to where sn_rnn_final_states reads
 * them, and the cache flags (lean = 1) tell backward that the caches are
 * not filled. */
static void rnn_forward_lean(sn_layer *L, sn_fwd *f) {
    sn_rnn_cfg *cf = L->cfg;
    int B = f->B, T = cf->T, C = cf->C, H = cf->units, gate_cols = cf->n_gates * H;
    rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
    const rnn_kernels *kn = sn_rnn_kernels_get();
    float *ca = f->cache;
    rnn_ctx c; /* h_states, c_states: (2,B,H) rings; cell_act, gru_rec: (B,H); gates: (steps,B,gate_cols) */
    sn_rnn_ctx_init(&c, L, B, f->x, f->mask, ca, f->scratch);
    c.y = f->y;
    c.n_input_masks = 1;
    c.lean = 1;
    rnn_fwd_flags fl = {0, 0, 1, 1};
    sn_rnn_flags_put(ca, &fl);
    memset(c.h_states, 0, (size_t)B * H * sizeof(float));
    if (c.c_states) memset(c.c_states, 0, (size_t)B * H * sizeof(float));

    float *input_rows = ca + ly.input_rows; /* (steps,B,C) */
    int steps = sn_rnn_step_chunk(B), n_chunks = (T + steps - 1) / steps;
    int n_row_chunks = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = rnn_threads(L, n_row_chunks);
    for (int sc = 0; sc < n_chunks; sc++) {
        int k0 = sc * steps, k1 = SN_MIN(T, k0 + steps);
        if (!cf->ids_input) {
            kn->masked_steps(input_rows, f->x, NULL, k0, k1 - k0, B, T, C, cf->go_backwards);
            sn_gemm(0, 0, (k1 - k0) * B, gate_cols, C, 1.0f, input_rows, C, c.kernel, gate_cols, 0.0f, c.gates,
                    gate_cols);
        }
        c.chunk_k0 = k0;
#pragma omp parallel num_threads(nth) if (nth > 1)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
            for (int ch = 0; ch < n_row_chunks; ch++) {
                int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
                kn->forward_rows(&c, b0, b1, k0, k1);
            }
            sn_fp_leave(fp);
        }
    }
    const float *hT = c.h_states + rnn_state_slot(&c, T) * B * H;
    if (!cf->return_sequences) memcpy(f->y, hT, (size_t)B * H * sizeof(float));
    /* final states where sn_rnn_final_states reads them (T == 1: already there) */
    if (rnn_state_slot(&c, T) != (size_t)T) {
        memcpy(c.h_states + (size_t)T * B * H, hT, (size_t)B * H * sizeof(float));
        if (c.c_states)
            memcpy(c.c_states + (size_t)T * B * H, c.c_states + rnn_state_slot(&c, T) * B * H,
                   (size_t)B * H * sizeof(float));
    }
    f->mask_out = cf->return_sequences ? f->mask : NULL;
}

void sn_rnn_forward(sn_layer *L, sn_fwd *f) {
    if (f->training)
        sn_rnn_forward_full(L, f);
    else
        rnn_forward_lean(L, f);
}
