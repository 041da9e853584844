/* Layer interface (internal). Each layer kind is one `static const
 * sn_layer_ops` table with hand-written forward / backward over raw float
 * buffers (llm.c style); there is no autodiff graph.
 *
 * Conventions
 * - Shapes exclude the batch: rank 1 (C) or rank 2 (T,C). Letters: B batch,
 *   T time, C features, H units, V vocabulary, K kernel width; other sizes
 *   are named in words (docs/conventions.md).
 * - Activations are float. Token ids travel as floats (exact below 2^24).
 * - A shape's `rep` says how an activation is stored physically:
 *     SN_REP_DENSE  : prod(d) floats per sample;
 *     SN_REP_IDS    : logical (T,V) one-hot, stored as T ids per sample
 *                     (layers that accept it gather kernel rows instead of a matmul);
 *     SN_REP_SPARSE : logical (V,) stored as a CSR batch (sn_csr), model input only.
 * - forward writes y (and its cache); backward ACCUMULATES (+=) into the
 *   parameter gradient view L->g and into dx. The trainer zeroes both once per
 *   step. dx may be NULL (first layer): then skip the input gradient.
 * - No malloc in forward/backward: each layer asks for `cache_floats(L,B)`
 *   floats kept from forward to backward, and `scratch_floats(L,B)` floats of
 *   shared scratch valid within one call. The model plans one 64-byte aligned
 *   arena for its largest batch. Both functions must be monotone in B.
 */
#ifndef SEQNN_LAYER_H
#define SEQNN_LAYER_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "core/internal.h"
#include "seqnn/core.h"
#include "spec/spec.h"

typedef enum sn_rep { SN_REP_DENSE = 0, SN_REP_IDS = 1, SN_REP_SPARSE = 2 } sn_rep;

typedef struct sn_shape {
    int rank;   /* 1 or 2 (3 reserved) */
    int d[3];   /* (C) or (T,C) */
    sn_rep rep;
} sn_shape;

/* Floats stored per sample for shape s: prod(d) when dense, T for ids, 0
 * for sparse (the CSR batch lives outside the activation buffers). */
size_t sn_shape_phys(const sn_shape *s);
/* Logical element count per sample (prod d), whatever the representation. */
size_t sn_shape_numel(const sn_shape *s);
/* Formats s as Keras prints it, "(None, 120, 14)", into buf (at most n
 * bytes, always terminated; truncated when too small). */
void sn_shape_str(const sn_shape *s, char *buf, size_t n);

/* A CSR batch: rows B, row_ptr[B+1], col[nnz] in [0,V), val[nnz]. */
typedef struct sn_csr {
    int rows;
    const int64_t *row_ptr;
    const int32_t *col;
    const float *val;
} sn_csr;

/* A named parameter tensor inside a layer's block (for save/load, summary,
 * interop). Offsets are in floats from the start of the layer's block. */
typedef struct sn_tensor_info {
    char name[48];     /* "kernel", "recurrent_kernel", "forward/bias", "moving_mean" */
    int rank;
    int dims[4];
    size_t offset;
    size_t numel;
    int trainable;     /* 0 for statistics such as BatchNorm moving mean/var */
} sn_tensor_info;

#define SN_MAX_TENSORS 12

typedef struct sn_layer sn_layer;

typedef enum sn_mask_policy {
    SN_MASK_DROP = 0, /* output carries no mask (Conv1D, pooling, RNN in Keras 3) */
    SN_MASK_PASS = 1, /* output mask = input mask (Dense, Dropout on sequences) */
    SN_MASK_OWN = 2   /* layer decides in forward: sets f->mask_out to NULL, to f->mask, or to
                         f->mask_buf after writing its own (B,T_out) mask there */
} sn_mask_policy;

typedef struct sn_fwd {
    int B;                   /* rows in this call (<= planned batch) */
    int training;            /* dropout / batch statistics active */
    const float *x;          /* input (B, in phys) */
    const sn_csr *xs;        /* sparse input (in.rep == SN_REP_SPARSE), else NULL */
    float *y;                /* output (B, out phys) */
    const uint8_t *mask;     /* (B,T_in) 1 = valid step, or NULL */
    const uint8_t *mask_out; /* set by SN_MASK_OWN layers (NULL, mask or mask_buf) */
    uint8_t *mask_buf;       /* (B,T_out) buffer for SN_MASK_OWN layers */
    sn_rng *rng;             /* the model's training RNG (dropout masks) */
    float *cache;            /* cache_floats(L,B) floats, kept for backward */
    float *scratch;          /* scratch_floats(L,B) floats, this call only */
} sn_fwd;

typedef struct sn_bwd {
    int B;
    const float *x;          /* forward input (B, in phys) */
    const sn_csr *xs;        /* sparse forward input, or NULL */
    const float *y;          /* forward output (B, out phys) */
    const float *dy;         /* dL/dy (B, out phys) */
    float *dx;               /* dL/dx (B, in phys), accumulate; NULL = not needed */
    const uint8_t *mask;     /* forward input mask, or NULL */
    float *cache;            /* what forward left */
    float *scratch;
} sn_bwd;

typedef struct sn_layer_ops {
    const char *kind;        /* spec name: "lstm" */
    const char *class_name;  /* Keras class: "LSTM" */
    sn_mask_policy mask_policy;
    /* Reads the spec call's arguments into L->cfg (allocated here). Errors
     * quote the call text. Every argument must be consumed (sn_arg_*). */
    sn_status (*configure)(sn_layer *L, const sn_spec_call *call);
    /* Given L->in, sets L->out, L->tensors / L->n_tensors and L->n_params.
     * Rejects shapes it cannot take with a message naming both shapes. */
    sn_status (*build)(sn_layer *L);
    /* Optional: called after L->w / L->g point at the model buffers
     * (wrappers point their inner layers into their own block). */
    void (*bind)(sn_layer *L);
    /* Initializes L->w (Keras defaults unless configured), drawing from rng.
     * SN_ERR_NOMEM when an initializer's work space cannot be allocated
     * (orthogonal); L->w is then unspecified and the layer must not be used
     * until a later init succeeds. */
    sn_status (*init)(sn_layer *L, sn_rng *rng);
    size_t (*cache_floats)(const sn_layer *L, int B);
    size_t (*scratch_floats)(const sn_layer *L, int B);
    void (*forward)(sn_layer *L, sn_fwd *f);
    void (*backward)(sn_layer *L, sn_bwd *b);
    /* Canonical spec text with every non-default argument ("lstm(32, recurrent_dropout=0.25)"). */
    int (*describe)(const sn_layer *L, char *buf, size_t n);
    /* Optional: frees L->cfg contents (default: free(L->cfg)). */
    void (*destroy)(sn_layer *L);
    /* Optional: the RNG streams the layer owns (a layer given `seed=` draws
     * its dropout masks from its own stream, not from the model's RNG).
     * Writes up to `max` pointers into `out` (pointing into L, do not free)
     * and returns how many streams the layer owns. The model and resume
     * files save and restore them, so that load and --resume continue the
     * same streams. */
    int (*rng_streams)(sn_layer *L, sn_rng **out, int max);
} sn_layer_ops;

struct sn_layer {
    const sn_layer_ops *ops;
    char name[48];           /* unique in the model: "lstm", "lstm_1" */
    void *cfg;               /* per-kind configuration */
    sn_shape in, out;
    sn_tensor_info tensors[SN_MAX_TENSORS];
    int n_tensors;
    size_t n_params;         /* total floats in the block (trainable + not) */
    int trainable;           /* 0 freezes every tensor (e.g. pretrained embedding) */
    float *w;                /* (n_params) view into the model's parameter buffer */
    float *g;                /* (n_params) view into the gradient buffer */
    int threads;             /* threads kernels may use (set by the model) */
};

/* Registry (layers/registry.c): the ops table whose kind is the (already
 * normalised, lower-case) spec name `kind`, or NULL when none is. The tables
 * are static; do not free. */
const sn_layer_ops *sn_layer_find(const char *kind);
/* Creates a layer from a parsed call: finds the ops in the registry, then
 * sn_layer_new. Returns NULL with sn_error_last set. */
sn_layer *sn_layer_create(const sn_spec_call *call);
/* Creates a layer of kind `ops` from a parsed call: validates the table (no
 * missing entry), runs configure, checks every argument was consumed.
 * Returns NULL with sn_error_last set. */
sn_layer *sn_layer_new(const sn_layer_ops *ops, const sn_spec_call *call);
/* Frees cfg (through ops->destroy when the table has one) and the layer.
 * L->w and L->g point into buffers the layer does not own: not freed.
 * NULL is a no-op. */
void sn_layer_free(sn_layer *L);
/* Adds a named tensor of shape dims[0..rank) to L (called from build) after
 * the ones already added, and grows L->n_params by its size. Returns its
 * offset in floats from the start of the layer's block. At most
 * SN_MAX_TENSORS tensors, rank 1..4 (SN_ASSERT: a layer-kind bug). */
size_t sn_layer_add_tensor(sn_layer *L, const char *name, int rank, const int *dims, int trainable);
/* Sets L->in = *in, clears the tensors and the output shape, and runs
 * ops->build, which fills L->out, the tensors and n_params. Returns build's
 * status (SN_ERR_SHAPE with a message naming both shapes for an input the
 * kind cannot take). May be called again with another input shape. */
sn_status sn_layer_build(sn_layer *L, const sn_shape *in);

/* ---- GEMMs over many rows (layer.c). sn_gemm takes int sizes, but a
 * layer's row count (B·T rows for Dense on sequences, Conv1D's virtual
 * rows) can pass INT_MAX, which the model's memory guard admits with small
 * C. Such layers call these instead: the same product as sn_gemm, cut into
 * calls of at most sn_layer_gemm_rows() rows (INT_MAX). With one block the
 * call is exactly sn_gemm's, so results only change beyond INT_MAX rows. */
/* C (M,N) = alpha A (M,K) op(B) + beta C over M rows: A and C advance by
 * whole rows (lda, ldc per row); op(B) = B^T when trans_b. */
void sn_layer_gemm_m(size_t M, int N, int K, float alpha, const float *A, int lda, int trans_b, const float *B,
                     int ldb, float beta, float *C, int ldc);
/* C (M,N) = alpha A^T B + beta C with A (K,M), B (K,N) over K rows: the row
 * blocks' products are accumulated into C (beta applies once). */
void sn_layer_gemm_k(int M, int N, size_t K, float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc);
/* Rows per call (INT_MAX unless lowered by the test hook). */
size_t sn_layer_gemm_rows(void);
/* Test hook: lowers the rows per call to n (0 restores INT_MAX) and resets
 * sn_layer_gemm_rows_used. Process-wide and not synchronised (tests only). */
void sn_layer_gemm_rows_set(size_t n);
/* The largest row block handed to sn_gemm since the hook lowered the limit
 * (recorded only then; 0 otherwise). */
size_t sn_layer_gemm_rows_used(void);

/* ---- Initializers (layers/initializers.c; Keras formulas, see
 * docs/keras-semantics.md §6). Each fills w[0..n) and draws from r in
 * element order. The uniform ones are plain IEEE arithmetic on the RNG's
 * integers, so a seed gives the same weights on every machine; orthogonal
 * draws normals through libm's log and cos, which glibc may compute with
 * per-CPU (FMA) variants, so its weights can differ in the last bit across
 * CPUs. ---- */
/* Uniform in ±sqrt(6 / (fan_in + fan_out)). */
void sn_init_glorot_uniform(float *w, size_t n, double fan_in, double fan_out, sn_rng *r);
/* Uniform in ±sqrt(6 / fan_in). */
void sn_init_he_uniform(float *w, size_t n, double fan_in, sn_rng *r);
/* Uniform in [lo, hi). */
void sn_init_uniform(float *w, size_t n, double lo, double hi, sn_rng *r);
/* Every element v; draws nothing. */
void sn_init_const(float *w, size_t n, float v);
/* Orthogonal (gain) for a (rows, cols) matrix w, Keras's algorithm (QR of a
 * normal (max,min) matrix, sign fix, transpose when rows < cols). Allocates
 * work space: SN_ERR_NOMEM (w then unspecified) when that fails. */
sn_status sn_init_orthogonal(float *w, int rows, int cols, double gain, sn_rng *r);

typedef enum sn_init_kind {
    SN_INIT_GLOROT_UNIFORM = 0,
    SN_INIT_HE_UNIFORM,
    SN_INIT_ORTHOGONAL,
    SN_INIT_ZEROS,
    SN_INIT_ONES,
    SN_INIT_UNIFORM /* uniform(-0.05, 0.05) (Embedding default) */
} sn_init_kind;
/* Parses "glorot_uniform" | "he_uniform" | "orthogonal" | "zeros" | "ones" |
 * "uniform" (also "random_uniform") into *out. Returns 1, or 0 for an
 * unknown name (*out unchanged; the caller words the error). */
int sn_init_parse(const char *s, sn_init_kind *out);
/* The spec name of k ("glorot_uniform", ...), a static string. */
const char *sn_init_name(sn_init_kind k);
/* Applies initializer k to the (rows, cols) matrix w with the given fans
 * (1-D tensors: rows = 1). SN_ERR_NOMEM from orthogonal, SN_ERR_ARG for an
 * unknown kind. */
sn_status sn_init_apply(sn_init_kind k, float *w, int rows, int cols, double fan_in, double fan_out, sn_rng *r);

/* ---- Activations ---- */
/* Keras's activations by name (keras/src/activations/activations.py):
 * hard_sigmoid is Keras 3's relu6(x + 3) / 6; hard_sigmoid_keras2 is Keras 1
 * and 2's clip(0.2 x + 0.5, 0, 1) (what files of those versions mean by
 * "hard_sigmoid"); softsign x / (1 + |x|); softplus log(1 + e^x); elu
 * (alpha 1) x for x > 0 else e^x - 1; selu scale·elu_alpha with Keras's
 * constants. Values are kept (the enum is part of no file; spec names are). */
typedef enum sn_act {
    SN_ACT_LINEAR = 0, SN_ACT_RELU, SN_ACT_TANH, SN_ACT_SIGMOID, SN_ACT_SOFTMAX,
    SN_ACT_HARD_SIGMOID, SN_ACT_HARD_SIGMOID_KERAS2, SN_ACT_SOFTSIGN, SN_ACT_SOFTPLUS, SN_ACT_ELU, SN_ACT_SELU
} sn_act;
#define SN_SELU_ALPHA 1.67326324235437728481704f
#define SN_SELU_SCALE 1.05070098735548049341933f

/* The element-wise formulas of the activations from SN_ACT_HARD_SIGMOID on,
 * shared by the layers (sn_act_forward) and the recurrent cells, so both
 * compute the same bits: libm's expm1f / log1pf. Other kinds: identity. */
static inline float sn_act_elem(sn_act a, float x) {
    switch (a) {
    case SN_ACT_HARD_SIGMOID: {
        float v = x + 3.0f;
        v = v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
        return v / 6.0f;
    }
    case SN_ACT_HARD_SIGMOID_KERAS2: {
        float v = 0.2f * x + 0.5f;
        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case SN_ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case SN_ACT_SOFTPLUS: return (x > 0.0f ? x : 0.0f) + log1pf(expf(-fabsf(x)));
    case SN_ACT_ELU: return x > 0.0f ? x : expm1f(x);
    case SN_ACT_SELU: return x > 0.0f ? SN_SELU_SCALE * x : SN_SELU_SCALE * (SN_SELU_ALPHA * expm1f(x));
    default: return x;
    }
}
/* Their derivatives through the output y = act(x) (the piecewise-linear
 * kinds: the slope strictly inside (0, 1), else 0). */
static inline float sn_act_elem_d(sn_act a, float y) {
    switch (a) {
    case SN_ACT_HARD_SIGMOID: return y > 0.0f && y < 1.0f ? 1.0f / 6.0f : 0.0f;
    case SN_ACT_HARD_SIGMOID_KERAS2: return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
    case SN_ACT_SOFTSIGN: {
        float t = 1.0f - fabsf(y);
        return t * t;
    }
    case SN_ACT_SOFTPLUS: return -expm1f(-y);
    case SN_ACT_ELU: return y > 0.0f ? 1.0f : y + 1.0f;
    case SN_ACT_SELU: return y > 0.0f ? SN_SELU_SCALE : y + SN_SELU_SCALE * SN_SELU_ALPHA;
    default: return 1.0f;
    }
}

/* Parses "linear" (also "none") | "relu" | "tanh" | "sigmoid" | "softmax" |
 * "hard_sigmoid" | "hard_sigmoid_keras2" | "softsign" | "softplus" | "elu" |
 * "selu" into *out. Returns 1, or 0 for an unknown name (*out unchanged). */
int sn_act_parse(const char *s, sn_act *out);
/* The spec name of a, a static string. */
const char *sn_act_name(sn_act a);
/* y = act(y) in place over `rows` rows of width n (softmax normalises each
 * row; relu maps NaN and -0 to +0). */
void sn_act_forward(sn_act a, float *y, size_t rows, size_t n);
/* Writes dz = dy * act'(.) computed from the output y (dz may alias dy); rows of width n. */
void sn_act_backward(sn_act a, float *dz, const float *y, const float *dy, size_t rows, size_t n);

#endif
