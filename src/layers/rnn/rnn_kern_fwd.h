/* Forward row kernels of the recurrent cells, one function per cell
 * (private to src/layers/rnn/). Not a normal header: rnn_kern_<path>.c
 * includes it once, compiled with that vector path's instruction set, and
 * puts forward_rows and masked_steps in the path's rnn_kernels table.
 *
 * Per row b and processing step k (t = k, or T-1-k with go_backwards), with
 * z = c->gates row (already x W from the GEMM, or done here), ⊙ elementwise,
 * σ = recurrent_activation, φ = activation, m_g the recurrent dropout mask
 * of gate block g (Keras implementation 1; all ones without dropout):
 *   SimpleRNN  h_k = φ(z + b + (h_{k-1} ⊙ m) U)
 *   LSTM       z += b + Σ_g (h_{k-1} ⊙ m_g) U_g, blocks i,f,c,o;
 *              c_k = σ(z_f)⊙c_{k-1} + σ(z_i)⊙φ(z_c);  h_k = σ(z_o)⊙φ(c_k)
 *   GRU        blocks z,r,h; reset_after=true:
 *                q = (h ⊙ m_h) U_h + b^h_h,  ĥ = φ(z_h + b_h + r⊙q)
 *              reset_after=false:  q = r ⊙ (h ⊙ m_h),  ĥ = φ(z_h + b_h + q U_h)
 *              h_k = z⊙h_{k-1} + (1-z)⊙ĥ
 * The activations overwrite the pre-activations in c->gates (backward turns
 * them into dZ); the LSTM keeps φ(c_k) in cell_act, the GRU q in gru_rec.
 * At a masked step the states are carried and the output is the previous
 * output (= carried h; zeros before the first valid step), or 0 with
 * zero_output_for_mask (set by Bidirectional when return_sequences).
 */
#ifndef SEQNN_RNN_KERN_FWD_H
#define SEQNN_RNN_KERN_FWD_H

#include <string.h>

#include "layers/rnn/rnn_internal.h"
#include "layers/rnn/rnn_math.h"

/* What every cell's row step reads and writes. */
typedef struct fwd_row {
    int t;                   /* input position of step k */
    const float *h_prev;     /* (H) h_{k-1} */
    float *h_next;           /* (H) h_k */
    float *z;                /* (gate_cols) this row's gates row */
    float *y_row;            /* (H) output row for return_sequences, or NULL */
    const float *mrow[4];    /* recurrent dropout mask row per gate block */
    const float *const *mh;  /* mrow, or NULL without recurrent dropout */
    float *masked_h;         /* (gate_cols) work row for h ⊙ m_g */
} fwd_row;

/* A masked step: carry the states, zero this step's activations and write
 * the carried (or zero) output. */
static void fwd_row_carry(const rnn_ctx *c, int k, int b, const fwd_row *r) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, B = c->B;
    memcpy(r->h_next, r->h_prev, (size_t)H * sizeof(float));
    if (cf->kind == SN_RNN_LSTM) {
        memcpy(c->c_states + (rnn_state_slot(c, k + 1) * B + b) * H, c->c_states + (rnn_state_slot(c, k) * B + b) * H,
               (size_t)H * sizeof(float));
        memset(c->cell_act + (rnn_step_slot(c, k) * B + b) * H, 0, (size_t)H * sizeof(float));
    }
    memset(r->z, 0, (size_t)c->gate_cols * sizeof(float));
    if (c->gru_rec) memset(c->gru_rec + (rnn_step_slot(c, k) * B + b) * H, 0, (size_t)H * sizeof(float));
    if (r->y_row) {
        if (cf->zero_output_for_mask)
            memset(r->y_row, 0, (size_t)H * sizeof(float));
        else
            memcpy(r->y_row, r->h_next, (size_t)H * sizeof(float));
    }
}

/* The input part of z for row b at input position t: the row gather for an
 * ids input, the in-row projection (x ⊙ m_g) W_g with per-gate input masks,
 * then + bias. */
SN_INLINE void fwd_row_input(const rnn_ctx *c, int b, int t, float *restrict z) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, gate_cols = c->gate_cols, B = c->B, T = c->T;
    if (cf->ids_input) {
        /* one-hot input: x·W = W[id] (times the dropout mask at column id) */
        long id = (long)(c->x[(size_t)b * T + t] + 0.5f);
        SN_ASSERT(id >= 0 && id < cf->C);
        const float *wr = c->kernel + (size_t)id * gate_cols;
        if (!c->input_dropout) {
            memcpy(z, wr, (size_t)gate_cols * sizeof(float));
        } else {
            /* gate block j/H uses mask n_input_masks == 1 ? 0 : j/H */
            for (int j = 0; j < gate_cols; j++) {
                int g = c->n_input_masks == 1 ? 0 : j / H;
                z[j] = wr[j] * c->input_masks[((size_t)g * B + b) * cf->C + id];
            }
        }
    }
    if (c->input_in_row) {
        /* input projection in the row: z_g = (x ⊙ m_g) W_g (the masks are per
         * sample: one for all gates, or one per gate with Keras
         * implementation 1) */
        int C = c->C, n_gates = c->n_gates;
        const float *src = c->x + ((size_t)b * T + t) * C;
        float *xm = c->masked_x_rows + (size_t)b * n_gates * C;
        const float *xg[4] = {src, src, src, src};
        if (c->input_dropout) {
            for (int g = 0; g < c->n_input_masks; g++) {
                const float *restrict m = c->input_masks + ((size_t)g * B + b) * C;
                float *restrict d = xm + (size_t)g * C;
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] = src[i] * m[i];
            }
            for (int g = 0; g < n_gates; g++) xg[g] = xm + (size_t)(c->n_input_masks == 1 ? 0 : g) * C;
        }
        memset(z, 0, (size_t)gate_cols * sizeof(float));
        /* constant gate counts so the kernel's gate branches fold away */
        if (n_gates == 4)
            gate_matvec(z, xg, c->kernel, gate_cols, H, C, 4);
        else if (n_gates == 3)
            gate_matvec(z, xg, c->kernel, gate_cols, H, C, 3);
        else
            gate_matvec(z, xg, c->kernel, gate_cols, H, C, 1);
    }
    if (c->bias) {
        const float *restrict bx = c->bias;
        float *restrict zr = z;
#pragma omp simd
        for (int j = 0; j < gate_cols; j++) zr[j] += bx[j];
    }
}

/* Row b at step k, the part every cell shares: views, the masked-step carry
 * and the input part of z. Returns 0 when the step is masked (all done). */
SN_INLINE int fwd_row_begin(const rnn_ctx *c, int k, int b, fwd_row *r) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, B = c->B, T = c->T;
    r->t = cf->go_backwards ? T - 1 - k : k;
    r->h_prev = c->h_states + (rnn_state_slot(c, k) * B + b) * H;
    r->h_next = c->h_states + (rnn_state_slot(c, k + 1) * B + b) * H;
    r->z = c->gates + (rnn_gate_slot(c, k) * B + b) * c->gate_cols;
    r->y_row = cf->return_sequences && c->y ? c->y + ((size_t)b * T + k) * H : NULL;
    if (c->mask && !c->mask[(size_t)b * T + r->t]) {
        fwd_row_carry(c, k, b, r);
        return 0;
    }
    fwd_row_input(c, b, r->t, r->z);
    r->mh = NULL;
    for (int g = 0; g < 4; g++) r->mrow[g] = NULL;
    if (c->state_dropout) {
        for (int g = 0; g < c->n_gates; g++)
            r->mrow[g] = c->state_masks + ((size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B + b) * H;
        r->mh = r->mrow;
    }
    r->masked_h = c->masked_h + (size_t)b * c->gate_cols;
    return 1;
}

static void fwd_row_simple(const rnn_ctx *c, int k, int b) {
    fwd_row r;
    if (!fwd_row_begin(c, k, b, &r)) return;
    int H = c->H;
    rec_accum(r.z, r.h_prev, r.mh, c->rec_kernel, H, c->gate_cols, 0, 1, r.masked_h);
    act_vec(c->cf->act, r.z, H);
    memcpy(r.h_next, r.z, (size_t)H * sizeof(float));
    if (r.y_row) memcpy(r.y_row, r.h_next, (size_t)H * sizeof(float));
}

/* LSTM: the recurrent product only; the gates and the state update run in
 * fwd_lstm_tail for all rows of the chunk after their products (more
 * independent work in flight: +15 %). */
static void fwd_row_lstm(const rnn_ctx *c, int k, int b) {
    fwd_row r;
    if (!fwd_row_begin(c, k, b, &r)) return;
    rec_accum(r.z, r.h_prev, r.mh, c->rec_kernel, c->H, c->gate_cols, 0, 4, r.masked_h);
}

static void fwd_row_gru_reset_after(const rnn_ctx *c, int k, int b) {
    fwd_row r;
    if (!fwd_row_begin(c, k, b, &r)) return;
    int H = c->H, gate_cols = c->gate_cols;
    const sn_act A = c->cf->act, RA = c->cf->recurrent_act;
    float *a = r.z, *hn = r.h_next;
    const float *hp = r.h_prev;
    float *R = c->gru_rec_rows + (size_t)b * gate_cols, *q = c->gru_rec + (rnn_step_slot(c, k) * c->B + b) * H;
    if (c->rec_bias)
        memcpy(R, c->rec_bias, (size_t)gate_cols * sizeof(float));
    else
        memset(R, 0, (size_t)gate_cols * sizeof(float));
    rec_accum(R, hp, r.mh, c->rec_kernel, H, gate_cols, 0, 3, r.masked_h);
#pragma omp simd
    for (int j = 0; j < 2 * H; j++) a[j] += R[j];
    act_vec(RA, a, 2 * H); /* z, r */
    memcpy(q, R + 2 * H, (size_t)H * sizeof(float));
#pragma omp simd
    for (int i = 0; i < H; i++) a[2 * H + i] += a[H + i] * q[i];
    act_vec(A, a + 2 * H, H);
#pragma omp simd
    for (int i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];
    if (r.y_row) memcpy(r.y_row, hn, (size_t)H * sizeof(float));
}

static void fwd_row_gru_reset_before(const rnn_ctx *c, int k, int b) {
    fwd_row r;
    if (!fwd_row_begin(c, k, b, &r)) return;
    int H = c->H, gate_cols = c->gate_cols;
    const sn_act A = c->cf->act, RA = c->cf->recurrent_act;
    float *a = r.z, *hn = r.h_next;
    const float *hp = r.h_prev;
    float *q = c->gru_rec + (rnn_step_slot(c, k) * c->B + b) * H;
    rec_accum(a, hp, r.mh, c->rec_kernel, H, gate_cols, 0, 2, r.masked_h);
    const float *mhh = r.mh ? r.mh[2] : NULL;
    act_vec(RA, a, 2 * H); /* z, r */
    for (int i = 0; i < H; i++) q[i] = a[H + i] * hp[i] * (mhh ? mhh[i] : 1.0f); /* r ⊙ (h ⊙ m_h) */
    rec_accum(a, q, NULL, c->rec_kernel, H, gate_cols, 2, 3, r.masked_h);
    act_vec(A, a + 2 * H, H);
#pragma omp simd
    for (int i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];
    if (r.y_row) memcpy(r.y_row, hn, (size_t)H * sizeof(float));
}

/* LSTM gates and state update in one pass for inference: the activations are
 * not stored, and the five of an element are independent work in flight
 * (act_vec's separate short loops over H = 16 wait on each polynomial's
 * latency). Per element the same operations as fwd_lstm_tail:
 * c = σ(z_f)·c_prev + σ(z_i)·φ(z_c), h = σ(z_o)·φ(c). a: (gate_cols) z; cp, cn, hn: (H). */
SN_INLINE void lstm_lean_elem(sn_act A, sn_act RA, int H, const float *restrict a, const float *restrict cp,
                              float *restrict cn, float *restrict hn) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float ig = act1(RA, a[i]), fg = act1(RA, a[H + i]), gg = act1(A, a[2 * H + i]), og = act1(RA, a[3 * H + i]);
        float cv = fg * cp[i] + ig * gg;
        cn[i] = cv;
        hn[i] = og * act1(A, cv);
    }
}

/* LSTM row b at step k after fwd_row_lstm: gate activations, c_k, φ(c_k), h_k. */
static void fwd_lstm_tail(const rnn_ctx *c, int k, int b) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, B = c->B, T = c->T;
    int t = cf->go_backwards ? T - 1 - k : k;
    if (c->mask && !c->mask[(size_t)b * T + t]) return;
    float *restrict a = c->gates + (rnn_gate_slot(c, k) * B + b) * c->gate_cols;
    const float *restrict cp = c->c_states + (rnn_state_slot(c, k) * B + b) * H;
    float *restrict cn = c->c_states + (rnn_state_slot(c, k + 1) * B + b) * H;
    float *restrict tcr = c->cell_act + (rnn_step_slot(c, k) * B + b) * H;
    float *restrict hn = c->h_states + (rnn_state_slot(c, k + 1) * B + b) * H;
    const sn_act A = cf->act, RA = cf->recurrent_act;
    if (c->lean) {
        if (RNN_DEFAULT_ACTS(A, RA))
            lstm_lean_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, cp, cn, hn);
        else
            lstm_lean_elem(A, RA, H, a, cp, cn, hn);
        if (cf->return_sequences) memcpy(c->y + ((size_t)b * T + k) * H, hn, (size_t)H * sizeof(float));
        return;
    }
    act_vec(RA, a, 2 * H); /* i, f */
    act_vec(A, a + 2 * H, H);
    act_vec(RA, a + 3 * H, H);
#pragma omp simd
    for (int i = 0; i < H; i++) tcr[i] = cn[i] = a[H + i] * cp[i] + a[i] * a[2 * H + i];
    act_vec(A, tcr, H);
#pragma omp simd
    for (int i = 0; i < H; i++) hn[i] = a[3 * H + i] * tcr[i];
    if (cf->return_sequences && c->y) memcpy(c->y + ((size_t)b * T + k) * H, hn, (size_t)H * sizeof(float));
}

/* rnn_kernels.forward_rows: one loop per cell, so each calls its row
 * function directly. */
#define FWD_STEPS(row)                                         \
    for (int k = k0; k < k1; k++)                              \
        for (int b = b0; b < b1; b++) row(c, k, b)
static void forward_rows(const rnn_ctx *c, int b0, int b1, int k0, int k1) {
    const sn_rnn_cfg *cf = c->cf;
    if (cf->kind == SN_RNN_LSTM) {
        for (int k = k0; k < k1; k++) {
            for (int b = b0; b < b1; b++) fwd_row_lstm(c, k, b);
            for (int b = b0; b < b1; b++) fwd_lstm_tail(c, k, b);
        }
    } else if (cf->kind == SN_RNN_SIMPLE) {
        FWD_STEPS(fwd_row_simple);
    } else if (cf->reset_after) {
        FWD_STEPS(fwd_row_gru_reset_after);
    } else {
        FWD_STEPS(fwd_row_gru_reset_before);
    }
}
#undef FWD_STEPS

/* rnn_kernels.masked_steps: time-major masked copy of steps k0 <= k < k0+nk
 * of x (B,T,C): d[((k-k0)*B + b)*C + i] = x[b, t(k), i] * m[b*C + i] (a
 * plain copy when m is NULL). */
static void masked_steps(float *restrict d, const float *restrict x, const float *restrict m, int k0, int nk, int B,
                         int T, int C, int go_backwards) {
    for (int k = k0; k < k0 + nk; k++) {
        int t = go_backwards ? T - 1 - k : k;
        for (int b = 0; b < B; b++) {
            const float *restrict src = x + ((size_t)b * T + t) * C;
            const float *restrict mb = m ? m + (size_t)b * C : NULL;
            float *restrict o = d + ((size_t)(k - k0) * B + b) * C;
            if (!m) {
                memcpy(o, src, (size_t)C * sizeof(float));
                continue;
            }
#pragma omp simd
            for (int i = 0; i < C; i++) o[i] = src[i] * mb[i];
        }
    }
}

#endif
