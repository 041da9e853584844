/* Backward row kernels of the recurrent cells, one function per cell
 * (private to src/layers/rnn/). Not a normal header: rnn_kern_<path>.c
 * includes it once, compiled with that vector path's instruction set, and
 * puts backward_rows, scatter_steps and colsum_add in the path's table.
 *
 * Per row, from the last step to the first: dh (carried from step k+1) plus
 * the output gradient entering at step k gives dZ of the gates (written
 * over the activations in c->gates; the GRU's q gradient over gru_rec), then
 * dh_{k-1} = Σ_g (dZ_g U_g^T) ⊙ m_g (+ the direct terms through z ⊙ h_{k-1}),
 * and for the LSTM dc_{k-1} = dc_k ⊙ σ(z_f). A masked step passes dh and dc
 * through with dZ = 0. With per-gate input masks the input gradient
 * dx_t += Σ_g (dZ_g W_g^T) ⊙ m_g is formed here too (rnn_backward.c does it
 * with a GEMM otherwise).
 */
#ifndef SEQNN_RNN_KERN_BWD_H
#define SEQNN_RNN_KERN_BWD_H

#include <string.h>

#include "layers/rnn/rnn_internal.h"
#include "layers/rnn/rnn_math.h"

/* Elementwise parts of the backward row step, one vectorized loop each.
 * Called with constant activations for the default pair (tanh, sigmoid) so
 * the derivative switch folds away; the operations per element are the
 * same either way. */
SN_INLINE void simple_bwd_elem(sn_act A, int H, float *restrict a, const float *restrict dh) {
#pragma omp simd
    for (int i = 0; i < H; i++) a[i] = dh[i] * act_d(A, a[i]);
}

/* LSTM: acts i,f,c,o (overwritten by dZ), dc (H) carried cell gradient,
 * dh (H), cp c_{k-1} (H), tcr φ(c_k) (H). */
SN_INLINE void lstm_bwd_elem(sn_act A, sn_act RA, int H, float *restrict ai, float *restrict af, float *restrict ag,
                             float *restrict ao, float *restrict dc, const float *restrict dh,
                             const float *restrict cp, const float *restrict tcr) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float ig = ai[i], fg = af[i], gg = ag[i], og = ao[i], tv = tcr[i];
        float dcv = dc[i] + dh[i] * og * act_d(A, tv);
        float d_o = dh[i] * tv;
        ai[i] = dcv * gg * act_d(RA, ig);
        af[i] = dcv * cp[i] * act_d(RA, fg);
        ag[i] = dcv * ig * act_d(A, gg);
        ao[i] = d_o * act_d(RA, og);
        dc[i] = dcv * fg;
    }
}

/* GRU reset_after: acts z,r,ĥ (overwritten by dZ), q (H) = hU_h + b^h_h
 * (overwritten by its gradient), hp h_{k-1}, aux (H) receives dh·z. */
SN_INLINE void gru_ra_bwd_elem(sn_act A, sn_act RA, int H, float *restrict az, float *restrict ar,
                               float *restrict ah, float *restrict q, float *restrict aux,
                               const float *restrict dh, const float *restrict hp) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float zg = az[i], rg = ar[i], hh = ah[i], dhv = dh[i];
        float daz = dhv * (hp[i] - hh) * act_d(RA, zg);
        float dah = dhv * (1.0f - zg) * act_d(A, hh);
        float dar = dah * q[i] * act_d(RA, rg);
        q[i] = dah * rg; /* gradient of (h U_h + b^h_h) */
        az[i] = daz; ar[i] = dar; ah[i] = dah;
        aux[i] = dhv * zg;
    }
}

/* GRU reset_after=false, first part: z and ĥ gradients, aux = dh·z. */
SN_INLINE void gru_rb_bwd_elem(sn_act A, sn_act RA, int H, float *restrict az, float *restrict ah,
                               float *restrict aux, const float *restrict dh, const float *restrict hp) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float zg = az[i], hh = ah[i], dhv = dh[i];
        az[i] = dhv * (hp[i] - hh) * act_d(RA, zg);
        ah[i] = dhv * (1.0f - zg) * act_d(A, hh);
        aux[i] = dhv * zg;
    }
}
/* What every cell's backward row step reads and writes. */
typedef struct bwd_row {
    int t;                  /* input position of step k */
    float *dh, *dc;         /* (H) carried dL/dh, dL/dc (LSTM) */
    float *dh_prev, *drh;   /* (H) dL/dh_{k-1} being formed; GRU reset_after=false d(r ⊙ h ⊙ m_h) */
    float *z;               /* (gate_cols) activations → dZ */
    const float *h_prev;    /* (H) h_{k-1} */
    const float *mrow[4];   /* recurrent dropout mask rows, or NULL */
    const float *const *mm; /* mrow, or NULL without recurrent dropout */
} bwd_row;

/* Row b at step k, the part every cell shares: adds the output gradient
 * entering at this step to dh; at a masked step zeroes dZ (states carried,
 * gradients pass through) and returns 0. */
SN_INLINE int bwd_row_begin(const rnn_bctx *bc, int k, int b, bwd_row *r) {
    const rnn_ctx *c = &bc->c;
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, B = c->B, T = c->T;
    r->t = cf->go_backwards ? T - 1 - k : k;
    int valid = !c->mask || c->mask[(size_t)b * T + r->t];
    r->dh = bc->grad_h + (size_t)b * H;
    r->dc = bc->grad_c + (size_t)b * H;
    r->dh_prev = bc->grad_h_prev + (size_t)b * H;
    r->drh = bc->grad_rh + (size_t)b * H;
    r->z = c->gates + ((size_t)k * B + b) * c->gate_cols;
    const float *dyr = NULL;
    if (cf->return_sequences) {
        if (valid || !cf->zero_output_for_mask) dyr = bc->dy + ((size_t)b * T + k) * H;
    } else if (k == T - 1) {
        dyr = bc->dy + (size_t)b * H;
    }
    if (dyr) {
        const float *restrict dv = dyr;
        float *restrict dh = r->dh;
#pragma omp simd
        for (int i = 0; i < H; i++) dh[i] += dv[i];
    }
    if (!valid) {
        memset(r->z, 0, (size_t)c->gate_cols * sizeof(float));
        if (c->gru_rec && cf->reset_after) memset(c->gru_rec + ((size_t)k * B + b) * H, 0, (size_t)H * sizeof(float));
        return 0;
    }
    r->h_prev = c->h_states + ((size_t)k * B + b) * H;
    for (int g = 0; g < 4; g++) r->mrow[g] = NULL;
    if (c->state_dropout)
        for (int g = 0; g < c->n_gates; g++)
            r->mrow[g] = c->state_masks + ((size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B + b) * H;
    r->mm = c->state_dropout ? r->mrow : NULL;
    memset(r->dh_prev, 0, (size_t)H * sizeof(float));
    return 1;
}

/* The end of every cell's row step: with per-gate input masks
 * dx_t += Σ_g (dZ_g W_g^T) ⊙ m_g; then dh = dh_{k-1}. */
SN_INLINE void bwd_row_end(const rnn_bctx *bc, int b, const bwd_row *r) {
    const rnn_ctx *c = &bc->c;
    int H = c->H, B = c->B;
    const float *a = r->z;
    if (c->input_in_row && bc->dx) {
        int C = c->C, Cp = bc->c_padded;
        float *o = bc->dx_rows + (size_t)b * Cp;
        const float *dzx[4] = {a, a + H, a + 2 * H, a + 3 * H};
        const float *mg[4] = {NULL, NULL, NULL, NULL};
        for (int g = 0; g < c->n_gates; g++)
            mg[g] = bc->input_masks_padded + ((size_t)(c->n_input_masks == 1 ? 0 : g) * B + b) * Cp;
        memset(o, 0, (size_t)Cp * sizeof(float));
        const float *const *mm2 = c->input_dropout ? mg : NULL;
        if (c->n_gates == 4)
            gate_matvec_t(o, dzx, bc->kernel_t, H, Cp, Cp, 4, mm2);
        else if (c->n_gates == 3)
            gate_matvec_t(o, dzx, bc->kernel_t, H, Cp, Cp, 3, mm2);
        else
            gate_matvec_t(o, dzx, bc->kernel_t, H, Cp, Cp, 1, mm2);
        float *restrict d = bc->dx + ((size_t)b * c->T + r->t) * C;
#pragma omp simd
        for (int i = 0; i < C; i++) d[i] += o[i];
    }
    memcpy(r->dh, r->dh_prev, (size_t)H * sizeof(float));
}

static void bwd_row_simple(const rnn_bctx *bc, int k, int b) {
    bwd_row r;
    if (!bwd_row_begin(bc, k, b, &r)) return;
    int H = bc->c.H;
    const sn_act A = bc->c.cf->act;
    if (A == SN_ACT_TANH)
        simple_bwd_elem(SN_ACT_TANH, H, r.z, r.dh);
    else
        simple_bwd_elem(A, H, r.z, r.dh);
    const float *dz[1] = {r.z};
    gate_matvec_t(r.dh_prev, dz, bc->rec_kernel_t, H, H, H, 1, r.mm);
    bwd_row_end(bc, b, &r);
}

static void bwd_row_lstm(const rnn_bctx *bc, int k, int b) {
    bwd_row r;
    if (!bwd_row_begin(bc, k, b, &r)) return;
    const rnn_ctx *c = &bc->c;
    int H = c->H;
    const sn_act A = c->cf->act, RA = c->cf->recurrent_act;
    float *a = r.z;
    const float *cp = c->c_states + ((size_t)k * c->B + b) * H;
    const float *tcr = c->cell_act + ((size_t)k * c->B + b) * H;
    if (RNN_DEFAULT_ACTS(A, RA))
        lstm_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + H, a + 2 * H, a + 3 * H, r.dc, r.dh, cp, tcr);
    else
        lstm_bwd_elem(A, RA, H, a, a + H, a + 2 * H, a + 3 * H, r.dc, r.dh, cp, tcr);
    const float *dz[4] = {a, a + H, a + 2 * H, a + 3 * H};
    gate_matvec_t(r.dh_prev, dz, bc->rec_kernel_t, H, H, H, 4, r.mm);
    bwd_row_end(bc, b, &r);
}

static void bwd_row_gru_reset_after(const rnn_bctx *bc, int k, int b) {
    bwd_row r;
    if (!bwd_row_begin(bc, k, b, &r)) return;
    const rnn_ctx *c = &bc->c;
    int H = c->H;
    const sn_act A = c->cf->act, RA = c->cf->recurrent_act;
    float *a = r.z;
    float *q = c->gru_rec + ((size_t)k * c->B + b) * H;
    if (RNN_DEFAULT_ACTS(A, RA))
        gru_ra_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + H, a + 2 * H, q, r.dh_prev, r.dh, r.h_prev);
    else
        gru_ra_bwd_elem(A, RA, H, a, a + H, a + 2 * H, q, r.dh_prev, r.dh, r.h_prev);
    const float *dz[3] = {a, a + H, q};
    gate_matvec_t(r.dh_prev, dz, bc->rec_kernel_t, H, H, H, 3, r.mm);
    bwd_row_end(bc, b, &r);
}

static void bwd_row_gru_reset_before(const rnn_bctx *bc, int k, int b) {
    bwd_row r;
    if (!bwd_row_begin(bc, k, b, &r)) return;
    const rnn_ctx *c = &bc->c;
    int H = c->H;
    const sn_act A = c->cf->act, RA = c->cf->recurrent_act;
    float *a = r.z, *aux = r.dh_prev, *aux2 = r.drh;
    const float *hp = r.h_prev;
    if (RNN_DEFAULT_ACTS(A, RA))
        gru_rb_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + 2 * H, aux, r.dh, hp);
    else
        gru_rb_bwd_elem(A, RA, H, a, a + 2 * H, aux, r.dh, hp);
    /* d(r⊙h_d) = da_h U_h^T */
    memset(aux2, 0, (size_t)H * sizeof(float));
    const float *dzh[1] = {a + 2 * H};
    gate_matvec_t(aux2, dzh, bc->rec_kernel_t + (size_t)2 * H * H, H, H, H, 1, NULL);
    const float *mhh = r.mrow[2];
    for (int i = 0; i < H; i++) {
        float rg = a[H + i], mv = mhh ? mhh[i] : 1.0f;
        float drh = aux2[i];
        a[H + i] = drh * hp[i] * mv * act_d(RA, rg);
        aux[i] += drh * rg * mv;
    }
    const float *dz[2] = {a, a + H};
    gate_matvec_t(aux, dz, bc->rec_kernel_t, H, H, H, 2, r.mm);
    bwd_row_end(bc, b, &r);
}

/* rnn_kernels.backward_rows: one loop per cell. */
#define BWD_STEPS(row)                                         \
    for (int k = bc->c.T - 1; k >= 0; k--)                     \
        for (int b = b0; b < b1; b++) row(bc, k, b)
static void backward_rows(const rnn_bctx *bc, int b0, int b1) {
    const sn_rnn_cfg *cf = bc->c.cf;
    if (cf->kind == SN_RNN_LSTM)
        BWD_STEPS(bwd_row_lstm);
    else if (cf->kind == SN_RNN_SIMPLE)
        BWD_STEPS(bwd_row_simple);
    else if (cf->reset_after)
        BWD_STEPS(bwd_row_gru_reset_after);
    else
        BWD_STEPS(bwd_row_gru_reset_before);
}
#undef BWD_STEPS

/* ---- copies between (B,T,C) inputs and time-major rows ---- */

/* rnn_kernels.scatter_steps, the inverse of masked_steps, accumulating:
 * dx[b, t(k), i] += s[((k-k0)*B + b)*C + i] (* m[b*C + i] when m is not NULL). */
static void scatter_steps(float *restrict dx, const float *restrict s, const float *restrict m, int k0, int nk, int B,
                          int T, int C, int go_backwards) {
    for (int k = k0; k < k0 + nk; k++) {
        int t = go_backwards ? T - 1 - k : k;
        for (int b = 0; b < B; b++) {
            float *restrict d = dx + ((size_t)b * T + t) * C;
            const float *restrict sx = s + ((size_t)(k - k0) * B + b) * C;
            if (m) {
                const float *restrict mb = m + (size_t)b * C;
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] += sx[i] * mb[i];
            } else {
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] += sx[i];
            }
        }
    }
}

/* rnn_kernels.colsum_add: column sums of a (rows, n) matrix with leading
 * dimension ld, added to out (each column summed in row order, blocks of columns held in registers). */
static void colsum_add(float *restrict out, const float *restrict m, size_t rows, int n, int ld) {
    int j0 = 0;
#if defined(__GNUC__)
    for (; j0 + 32 <= n; j0 += 32) {
        sn_v8 a0 = v8_load(out + j0), a1 = v8_load(out + j0 + 8), a2 = v8_load(out + j0 + 16),
              a3 = v8_load(out + j0 + 24);
        for (size_t r = 0; r < rows; r++) {
            const float *row = m + r * (size_t)ld + j0;
            a0 += v8_load(row), a1 += v8_load(row + 8), a2 += v8_load(row + 16), a3 += v8_load(row + 24);
        }
        v8_store(out + j0, a0), v8_store(out + j0 + 8, a1), v8_store(out + j0 + 16, a2), v8_store(out + j0 + 24, a3);
    }
    for (; j0 + 8 <= n; j0 += 8) {
        sn_v8 a0 = v8_load(out + j0);
        for (size_t r = 0; r < rows; r++) a0 += v8_load(m + r * (size_t)ld + j0);
        v8_store(out + j0, a0);
    }
#endif
    for (; j0 < n; j0++) {
        float a0 = out[j0];
        for (size_t r = 0; r < rows; r++) a0 += m[r * (size_t)ld + j0];
        out[j0] = a0;
    }
}
#endif
