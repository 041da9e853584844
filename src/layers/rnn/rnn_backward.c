/* SimpleRNN, LSTM and GRU backward through time (the design is described at
 * the top of rnn_forward.c, the per-row arithmetic in rnn_kern_bwd.h):
 *   1. the time loop, per chunk of RNN_ROWS rows on one thread, from the
 *      last step to the first: dZ of every step in place of the gate
 *      activations, dh (and dc) carried;
 *   2. the weight gradients dW = X^T dZ, dU = Hprev^T dZ, db = Σ dZ and the
 *      input gradient dX = dZ W^T, as GEMMs over chunks of whole steps; each
 *      chunk writes its own partial dW / dU / db, summed afterwards in chunk
 *      order, so the result does not depend on the thread count.
 * Backward ACCUMULATES into L->g and dx (layer.h). */
#include "layers/rnn/rnn_internal.h"

#include <string.h>

/* The context of the time loop: the step context of the forward that filled
 * the cache (sn_rnn_ctx_init and the flags it left), U^T, the carried
 * gradients and, with per-gate input masks, W^T and the padded masks for
 * the in-row dX. */
static void backward_ctx_init(rnn_bctx *bc, sn_layer *L, sn_bwd *bw) {
    sn_rnn_cfg *cf = L->cfg;
    int B = bw->B, C = cf->C, H = cf->units, gate_cols = cf->n_gates * H;
    rnn_scratch_layout sl = sn_rnn_scratch_layout(cf, B);
    float *ca = bw->cache, *sc = bw->scratch;
    memset(bc, 0, sizeof *bc);
    rnn_ctx *c = &bc->c;
    sn_rnn_ctx_init(c, L, B, bw->x, bw->mask, ca, sc);
    rnn_fwd_flags fl = sn_rnn_flags_get(ca);
    c->input_dropout = fl.input_dropout;
    c->state_dropout = fl.state_dropout;
    c->n_input_masks = fl.n_input_masks;
    c->input_in_row = sn_rnn_input_in_row(cf, c->n_input_masks);
    float *Ut = sc + sl.rec_kernel_t;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < gate_cols; j++) Ut[(size_t)j * H + i] = c->rec_kernel[(size_t)i * gate_cols + j];
    bc->rec_kernel_t = Ut;
    bc->grad_h = sc + sl.grad_h;
    bc->grad_c = sc + sl.grad_c;
    bc->grad_h_prev = sc + sl.grad_h_prev;
    bc->grad_rh = sc + sl.grad_rh;
    bc->dy = bw->dy;
    if (c->input_in_row && bw->dx) {
        int Cp = sn_rnn_c_padded(C);
        float *wt = sc + sl.kernel_t, *mxp = sc + sl.input_masks_padded;
        for (int j = 0; j < gate_cols; j++)
            for (int i = 0; i < Cp; i++) wt[(size_t)j * Cp + i] = i < C ? c->kernel[(size_t)i * gate_cols + j] : 0.0f;
        if (c->input_dropout)
            for (size_t r = 0; r < (size_t)c->n_input_masks * B; r++)
                for (int i = 0; i < Cp; i++) mxp[r * Cp + i] = i < C ? c->input_masks[r * C + i] : 0.0f;
        bc->kernel_t = wt;
        bc->input_masks_padded = mxp;
        bc->dx_rows = sc + sl.dx_rows;
        bc->dx = bw->dx;
        bc->c_padded = Cp;
    }
    memset(bc->grad_h, 0, (size_t)B * H * sizeof(float));
    memset(bc->grad_c, 0, (size_t)B * H * sizeof(float));
}

/* Ids input: scatter-add of the dZ rows into the gathered kernel rows
 * (sequential: deterministic). */
static void ids_kernel_grad(const rnn_ctx *c, const float *ids, float *gW) {
    const sn_rnn_cfg *cf = c->cf;
    int B = c->B, T = c->T, C = c->C, H = c->H, gate_cols = c->gate_cols;
    for (int k = 0; k < T; k++) {
        int t = cf->go_backwards ? T - 1 - k : k;
        for (int b = 0; b < B; b++) {
            long id = (long)(ids[(size_t)b * T + t] + 0.5f);
            if (c->mask && !c->mask[(size_t)b * T + t]) continue;
            const float *dz = c->gates + ((size_t)k * B + b) * gate_cols;
            float *gr = gW + (size_t)id * gate_cols;
            if (!c->input_dropout) {
                for (int j = 0; j < gate_cols; j++) gr[j] += dz[j];
            } else {
                for (int j = 0; j < gate_cols; j++) {
                    int g = c->n_input_masks == 1 ? 0 : j / H;
                    gr[j] += c->input_masks[((size_t)g * B + b) * C + id] * dz[j];
                }
            }
        }
    }
}

/* dU of one chunk of steps into its partial pU: Hd^T dZ, Hd_g = h ⊙ m_g
 * (m_g the same at every step) built per chunk with recurrent dropout.
 * h_rows: (nk,B,H) work rows. */
static void chunk_rec_grad(const rnn_ctx *c, int k0, int nk, float *pU, float *h_rows) {
    const sn_rnn_cfg *cf = c->cf;
    int B = c->B, H = c->H, gate_cols = c->gate_cols, nr = nk * B;
    int gru_ra = cf->kind == SN_RNN_GRU && cf->reset_after, gru_rb = cf->kind == SN_RNN_GRU && !cf->reset_after;
    int nrec = gru_rb ? 2 : c->n_gates; /* blocks whose recurrent operand is h itself */
    size_t r0 = (size_t)k0 * B;
    const float *gtc = c->gates + r0 * gate_cols;
    if (!c->state_dropout) {
        const float *hsc = c->h_states + r0 * H;
        if (gru_ra) {
            sn_gemm(1, 0, H, 2 * H, nr, 1.0f, hsc, H, gtc, gate_cols, 1.0f, pU, gate_cols);
            sn_gemm(1, 0, H, H, nr, 1.0f, hsc, H, c->gru_rec + r0 * H, H, 1.0f, pU + 2 * H, gate_cols);
        } else {
            sn_gemm(1, 0, H, nrec * H, nr, 1.0f, hsc, H, gtc, gate_cols, 1.0f, pU, gate_cols);
        }
    } else {
        for (int g = 0; g < nrec; g++) {
            const float *m = c->state_masks + (size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B * H;
            for (int k = 0; k < nk; k++) {
                const float *hsrc = c->h_states + (r0 + (size_t)k * B) * H;
                float *d = h_rows + (size_t)k * B * H;
#pragma omp simd
                for (size_t r = 0; r < (size_t)B * H; r++) d[r] = hsrc[r] * m[r];
            }
            const float *dz = gtc + g * H;
            int ldz = gate_cols;
            if (gru_ra && g == 2) {
                dz = c->gru_rec + r0 * H;
                ldz = H;
            }
            sn_gemm(1, 0, H, H, nr, 1.0f, h_rows, H, dz, ldz, 1.0f, pU + g * H, gate_cols);
        }
    }
    if (gru_rb)
        sn_gemm(1, 0, H, H, nr, 1.0f, c->gru_rec + r0 * H, H, gtc + 2 * H, gate_cols, 1.0f, pU + 2 * H, gate_cols);
}

/* The gradients of chunk ch of whole steps: its partial dW / dU / db (in
 * `part`, layout rnn_scratch_layout) and its steps' rows of dx. With
 * per-gate masks (dropout and recurrent_dropout: Keras implementation 1)
 * every gate's GEMMs read a quarter of each dZ row. */
static void chunk_grads(const rnn_bctx *bc, const rnn_kernels *kn, const float *x, const float *input_rows, float *dx,
                        const rnn_scratch_layout *sl, float *scratch, int ch) {
    const rnn_ctx *c = &bc->c;
    const sn_rnn_cfg *cf = c->cf;
    int B = c->B, T = c->T, C = c->C, H = c->H, gate_cols = c->gate_cols;
    int gru_ra = cf->kind == SN_RNN_GRU && cf->reset_after;
    int steps = sn_rnn_step_chunk(B);
    int k0 = ch * steps, nk = SN_MIN(steps, T - k0), nr = nk * B;
    size_t r0 = (size_t)k0 * B;
    const float *gtc = c->gates + r0 * gate_cols;
    float *pW = scratch + sl->partials + (size_t)ch * sl->partial_stride, *pU = pW + sl->partial_du,
          *pb = pW + sl->partial_db;
    float *th = scratch + sl->masked_h_rows + r0 * H, *tx = scratch + sl->input_work + r0 * (cf->ids_input ? 0 : C);
    memset(pW, 0, sl->partial_stride * sizeof(float));
    if (c->input_in_row) {
        /* (x ⊙ m_g)^T dZ_g: (masked) copies of the chunk's input rows */
        int gw = c->n_input_masks == 1 ? gate_cols : H;
        for (int g = 0; g < c->n_input_masks; g++) {
            kn->masked_steps(tx, x, c->input_dropout ? c->input_masks + (size_t)g * B * C : NULL, k0, nk, B, T, C,
                             cf->go_backwards);
            sn_gemm(1, 0, C, gw, nr, 1.0f, tx, C, gtc + g * H, gate_cols, 1.0f, pW + g * H, gate_cols);
        }
    } else if (!cf->ids_input) {
        sn_gemm(1, 0, C, gate_cols, nr, 1.0f, input_rows + r0 * C, C, gtc, gate_cols, 1.0f, pW, gate_cols);
    }
    chunk_rec_grad(c, k0, nk, pU, th);
    if (cf->use_bias) {
        kn->colsum_add(pb, gtc, (size_t)nr, gate_cols, gate_cols);
        if (gru_ra) {
            kn->colsum_add(pb + gate_cols, gtc, (size_t)nr, 2 * H, gate_cols);
            kn->colsum_add(pb + gate_cols + 2 * H, c->gru_rec + r0 * H, (size_t)nr, H, H);
        }
    }
    /* dx = (dZ W^T) ⊙ m, back to (B,T,C) input order; the chunk's steps own
     * their dx rows (per-gate masks: done in the row kernel) */
    if (dx && !cf->ids_input && !c->input_in_row) {
        sn_gemm(0, 1, nr, C, gate_cols, 1.0f, gtc, gate_cols, c->kernel, gate_cols, 0.0f, tx, C);
        kn->scatter_steps(dx, tx, c->input_dropout ? c->input_masks : NULL, k0, nk, B, T, C, cf->go_backwards);
    }
}

void sn_rnn_backward(sn_layer *L, sn_bwd *bw) {
    sn_rnn_cfg *cf = L->cfg;
    int B = bw->B, T = cf->T, C = cf->C, H = cf->units, gate_cols = cf->n_gates * H;
    rnn_cache_layout ly = sn_rnn_cache_layout(cf, B);
    rnn_scratch_layout sl = sn_rnn_scratch_layout(cf, B);
    const rnn_kernels *kn = sn_rnn_kernels_get();
    float *ca = bw->cache, *sc = bw->scratch;
    if (sn_rnn_flags_get(ca).lean) {
        /* the forward was an inference one (no caches): recompute them with
         * the full path (no dropout then, as in that forward) */
        sn_fwd f;
        memset(&f, 0, sizeof f);
        f.B = B;
        f.x = bw->x;
        f.xs = bw->xs;
        f.mask = bw->mask;
        f.cache = ca;
        f.scratch = sc;
        sn_rnn_forward_full(L, &f);
    }
    rnn_bctx bc;
    backward_ctx_init(&bc, L, bw);
    const rnn_ctx *c = &bc.c;

    int n_row_chunks = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = SN_MIN(L->threads > 1 ? L->threads : 1, n_row_chunks);
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_row_chunks; ch++) {
            int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
            kn->backward_rows(&bc, b0, b1);
        }
        sn_fp_leave(fp);
    }

    float *gW = L->g + cf->off_kernel, *gU = L->g + cf->off_recurrent;
    if (cf->ids_input) ids_kernel_grad(c, bw->x, gW);
    int steps = sn_rnn_step_chunk(B), n_chunks = (T + steps - 1) / steps;
    const float *input_rows = ca + ly.input_rows;
    int nthc = SN_MIN(L->threads > 1 ? L->threads : 1, n_chunks);
#pragma omp parallel num_threads(nthc) if (nthc > 1)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_chunks; ch++) chunk_grads(&bc, kn, bw->x, input_rows, bw->dx, &sl, sc, ch);
        sn_fp_leave(fp);
    }
    /* partials in chunk order */
    int gru_ra = cf->kind == SN_RNN_GRU && cf->reset_after;
    size_t nw = cf->ids_input ? 0 : (size_t)C * gate_cols, nu = (size_t)H * gate_cols;
    float *gb = cf->use_bias ? L->g + cf->off_bias : NULL;
    size_t nb = gru_ra ? 2 * (size_t)gate_cols : (size_t)gate_cols;
    const float *part = sc + sl.partials;
    for (int ch = 0; ch < n_chunks; ch++) {
        const float *pW = part + (size_t)ch * sl.partial_stride, *pU = pW + sl.partial_du, *pb = pW + sl.partial_db;
        for (size_t j = 0; j < nw; j++) gW[j] += pW[j];
        for (size_t j = 0; j < nu; j++) gU[j] += pU[j];
        if (gb)
            for (size_t j = 0; j < nb; j++) gb[j] += pb[j];
    }
}
