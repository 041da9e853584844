/* Recurrent layers, private to src/layers/rnn/: the cache and scratch
 * layouts, the flags forward leaves for backward, the step contexts and the
 * per-vector-path kernel tables. The design (speed layout, dropout, masking)
 * is described at the top of rnn_forward.c.
 *
 * Files:
 *   rnn_layer.c     configure / build / init / describe, the ops tables;
 *   rnn_layout.c    the cache header and the cache / scratch layouts, the
 *                   choice of kernel table (below the passes and the tables);
 *   rnn_forward.c   the training forward and the lean inference forward;
 *   rnn_backward.c  backward through time and the weight gradients;
 *   rnn_math.h      inline activations and register-blocked products;
 *   rnn_kern_fwd.h, rnn_kern_bwd.h
 *                   the row kernels of each cell (forward, backward);
 *   rnn_kern_sse2.c, rnn_kern_avx2.c, rnn_kern_avx512.c
 *                   those kernels compiled for one vector path each (the
 *                   Makefile gives each file its instruction-set flags).
 *
 * Letters: B batch, T time, C input features, H units; the other sizes are
 * named in words (n_gates, gate_cols = n_gates·H). k is the processing step
 * (k = t, or T-1-t with go_backwards); every cache is time-major in k.
 */
#ifndef SEQNN_RNN_INTERNAL_H
#define SEQNN_RNN_INTERNAL_H

#include <stdint.h>

#include "layers/rnn/rnn.h"

/* Rows per thread task: a chunk of RNN_ROWS rows runs the whole sequence on
 * one thread. Fixed (not derived from the thread count) so that every
 * thread count computes the same chunks. */
#define RNN_ROWS 8

/* Floats reserved at the start of the cache for rnn_fwd_flags: 64 bytes, so
 * the arrays after it keep the arena's 64-byte alignment. */
#define RNN_HEADER_FLOATS 16

/* What forward tells backward, stored in the first RNN_HEADER_FLOATS floats
 * of the cache (written and read with memcpy through sn_rnn_flags_put /
 * sn_rnn_flags_get: the cache is float storage). */
typedef struct rnn_fwd_flags {
    int32_t input_dropout; /* 1: the input dropout masks in the cache were applied */
    int32_t state_dropout; /* 1: the recurrent dropout masks in the cache were applied */
    int32_t n_input_masks; /* input masks drawn: 1, or n_gates (Keras implementation 1) */
    int32_t lean;          /* 1: inference forward; the caches backward reads are not filled */
} rnn_fwd_flags;
_Static_assert(sizeof(rnn_fwd_flags) <= RNN_HEADER_FLOATS * sizeof(float), "rnn_fwd_flags must fit the header");

/* Copies the flags into / out of the cache header. */
void sn_rnn_flags_put(float *cache, const rnn_fwd_flags *fl);
rnn_fwd_flags sn_rnn_flags_get(const float *cache);

/* Cache (kept from forward to backward): float offsets, each 16-float
 * aligned, after the RNN_HEADER_FLOATS header. A region a configuration
 * does not use has size 0. */
typedef struct rnn_cache_layout {
    size_t input_rows;  /* (T,B,C) time-major (dropped) input copy: dense input, one input mask */
    size_t input_masks; /* (n_input_masks,B,C) input dropout masks */
    size_t state_masks; /* (n_state_masks,B,H) recurrent dropout masks */
    size_t h_states;    /* (T+1,B,H) h before step k at slot k; slot T is the final state */
    size_t c_states;    /* (T+1,B,H) LSTM cell states, slots as h_states */
    size_t cell_act;    /* (T,B,H) LSTM φ(c_k) */
    size_t gates;       /* (T,B,gate_cols) gate activations; backward turns them into dZ in place */
    size_t gru_rec;     /* (T,B,H) GRU: reset_after h U_h + b^h_h (then its gradient); else r ⊙ (h ⊙ m_h) */
    size_t total;
    int n_input_masks;  /* n_gates with dropout and recurrent_dropout (LSTM / GRU), else 1 */
    int n_state_masks;  /* n_gates (LSTM / GRU), 1 (SimpleRNN) */
} rnn_cache_layout;

/* Scratch (valid within one forward or backward call): float offsets. */
typedef struct rnn_scratch_layout {
    size_t gru_rec_rows;       /* (B,gate_cols) GRU reset_after: h U + b^h per row */
    size_t masked_h;           /* (B,gate_cols) h ⊙ m_g per row and gate block */
    size_t rec_kernel_t;       /* (gate_cols,H) U transposed */
    size_t grad_h;             /* (B,H) dL/dh carried from step k+1 */
    size_t grad_c;             /* (B,H) LSTM dL/dc carried */
    size_t grad_h_prev;        /* (B,H) dL/dh_{k-1} being formed */
    size_t grad_rh;            /* (B,H) GRU reset_after=false: dL/d(r ⊙ h ⊙ m_h) */
    size_t masked_h_rows;      /* (n_step_chunks·steps_per_chunk,B,H) h ⊙ m_g rows for the dU GEMMs */
    size_t input_work;         /* (n_step_chunks·steps_per_chunk,B,C) dZ W^T rows, or x ⊙ m_g rows */
    size_t masked_x_rows;      /* (B,n_gates·C) x ⊙ m_g per row */
    size_t kernel_t;           /* (gate_cols,c_padded) W^T with zero columns C..c_padded */
    size_t input_masks_padded; /* (n_gates,B,c_padded) input masks with zero columns */
    size_t dx_rows;            /* (B,c_padded) dX of one row and step */
    size_t partials;           /* (n_step_chunks,partial_stride) per-chunk weight-gradient partials */
    size_t partial_stride;     /* floats per partial: dW (C,gate_cols) at 0 (dense input only) */
    size_t partial_du;         /*   dU (H,gate_cols) at this offset */
    size_t partial_db;         /*   db (2,gate_cols) at this offset */
    size_t total;
} rnn_scratch_layout;

/* The layouts of layer configuration cf for B rows. */
rnn_cache_layout sn_rnn_cache_layout(const sn_rnn_cfg *cf, int B);
rnn_scratch_layout sn_rnn_scratch_layout(const sn_rnn_cfg *cf, int B);

/* Steps per chunk of the GEMMs around the time loop: ~1024 rows (B per
 * step) keep a chunk's dZ in cache, and chunks are the unit of threading.
 * Depends on B only, never on the thread count. */
int sn_rnn_step_chunk(int B);

/* 1 when the input projection and dX run in the row kernels instead of the
 * GEMMs around the time loop: per-gate input masks (n_input_masks > 1),
 * where the GEMMs would need one masked copy of x per gate. Dense inputs
 * only. (Also doing it for narrow unmasked inputs, C <= 32, was measured
 * slower: LSTM(16), C=14, B=256, T=120, 1 thread, 24k vs 26k samples/s; the
 * kernels handle n_input_masks = 1 too.) */
int sn_rnn_input_in_row(const sn_rnn_cfg *cf, int n_input_masks);

/* C rounded up to 8: row length of the padded W^T, masks and dX rows. */
int sn_rnn_c_padded(int C);

/* The step context of one forward (or the time loop of a backward). */
typedef struct rnn_ctx {
    const sn_rnn_cfg *cf;
    int B, T, C, H, n_gates, gate_cols;
    const float *kernel;         /* W (C,gate_cols) */
    const float *rec_kernel;     /* U (H,gate_cols) */
    const float *bias;           /* (gate_cols) input bias, or NULL */
    const float *rec_bias;       /* (gate_cols) GRU reset_after recurrent bias row, else NULL */
    const float *x;              /* forward input (B,T,C), or ids (B,T) */
    const uint8_t *mask;         /* (B,T), or NULL */
    /* cache views (rnn_cache_layout) */
    float *h_states, *c_states, *cell_act, *gates, *gru_rec, *input_masks, *state_masks;
    /* scratch views (rnn_scratch_layout) */
    float *gru_rec_rows, *masked_h, *masked_x_rows;
    int input_dropout, state_dropout, n_input_masks;
    int input_in_row;            /* sn_rnn_input_in_row: x W (and dX) in the row kernel */
    float *y;                    /* layer output, or NULL (backward recomputing the caches) */
    /* Inference (lean): h_states / c_states hold 2 steps (ring: step k in
     * slot k & 1), cell_act / gru_rec one step, gates the steps
     * chunk_k0.. of one chunk. */
    int lean, chunk_k0;
} rnn_ctx;

/* Fills the sizes and weight views of layer L, the input x and mask of a
 * call for B rows, and the cache and scratch views; every flag zero. */
void sn_rnn_ctx_init(rnn_ctx *c, sn_layer *L, int B, const float *x, const uint8_t *mask, float *cache,
                     float *scratch);

/* The context of backward's time loop. */
typedef struct rnn_bctx {
    rnn_ctx c;
    const float *rec_kernel_t;           /* (gate_cols,H) U^T */
    float *grad_h, *grad_c, *grad_h_prev, *grad_rh; /* (B,H) each, rnn_scratch_layout */
    const float *dy;                     /* (B,T,H) or (B,H) */
    /* per-gate input masks (c.input_in_row): dX rows in the row kernel */
    const float *kernel_t;               /* (gate_cols,c_padded) W^T zero-padded */
    const float *input_masks_padded;     /* (n_input_masks,B,c_padded) */
    float *dx_rows;                      /* (B,c_padded) */
    float *dx;                           /* (B,T,C), or NULL */
    int c_padded;
} rnn_bctx;

/* Slot of state h_k / c_k (k = 0..T) in h_states / c_states. */
static inline size_t rnn_state_slot(const rnn_ctx *c, int k) { return (size_t)(c->lean ? k & 1 : k); }
/* Slot of step k's rows in cell_act / gru_rec (the step's own values). */
static inline size_t rnn_step_slot(const rnn_ctx *c, int k) { return (size_t)(c->lean ? 0 : k); }
/* Slot of step k's rows in gates. */
static inline size_t rnn_gate_slot(const rnn_ctx *c, int k) { return (size_t)(k - c->chunk_k0); }

/* The row kernels of one vector path (rnn_kern_fwd.h, rnn_kern_bwd.h). */
typedef struct rnn_kernels {
    const char *name; /* "sse2" | "avx2" | "avx512" */
    /* Rows b0 <= b < b1 through steps k0 <= k < k1: recurrent product, gates,
     * state update, outputs (c->gates holds x W + b for those steps). */
    void (*forward_rows)(const rnn_ctx *c, int b0, int b1, int k0, int k1);
    /* Rows b0 <= b < b1 backward through every step (k = T-1 down to 0):
     * turns the gate activations into dZ, carries dh (and dc). */
    void (*backward_rows)(const rnn_bctx *bc, int b0, int b1);
    /* d[((k-k0)·B + b)·C + i] = x[b, t(k), i] · m[b·C + i] for k0 <= k < k0+nk
     * (a plain copy when m is NULL); x (B,T,C). */
    void (*masked_steps)(float *restrict d, const float *restrict x, const float *restrict m, int k0, int nk, int B,
                         int T, int C, int go_backwards);
    /* The inverse, accumulating: dx[b, t(k), i] += s[((k-k0)·B + b)·C + i] (· m[b·C + i]). */
    void (*scatter_steps)(float *restrict dx, const float *restrict s, const float *restrict m, int k0, int nk, int B,
                          int T, int C, int go_backwards);
    /* out[j] += Σ_r m[r·ld + j] for j < n, each column summed in row order. */
    void (*colsum_add)(float *restrict out, const float *restrict m, size_t rows, int n, int ld);
} rnn_kernels;

extern const rnn_kernels sn_rnn_kernels_sse2, sn_rnn_kernels_avx2, sn_rnn_kernels_avx512;

/* The table of the active vector path (sn_isa_get). */
const rnn_kernels *sn_rnn_kernels_get(void);

/* Training forward: fills every cache backward reads (all states, gate
 * activations, time-major input copy, dropout masks). f->y may be NULL when
 * backward recomputes the caches after an inference forward. */
void sn_rnn_forward_full(sn_layer *L, sn_fwd *f);
/* ops->forward: the training forward when f->training, else the lean one. */
void sn_rnn_forward(sn_layer *L, sn_fwd *f);
/* ops->backward (rnn_backward.c). */
void sn_rnn_backward(sn_layer *L, sn_bwd *b);

#endif
