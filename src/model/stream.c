/* Streaming inference (include/seqnn/stream.h). The stream owns a one-step
 * model: the source model's spec built on a T = 1 input, with a copy of its
 * weights (every layer that can stream has the same parameters whatever T
 * is). A step runs that model's layers in order on the rows of the call:
 * the recurrent layers through sn_rnn_step from each row's carried states,
 * the others through their own forward (on (n, 1, C) they are exactly one
 * time step). Masks pass as in sn_model_forward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/rnn/rnn.h"
#include "model/model_impl.h"
#include "seqnn/stream.h"

struct sn_stream {
    sn_model *sm;            /* the one-step model */
    int R;                   /* rows */
    float **h, **c;          /* (R,H) states per layer (NULL: not recurrent; c: LSTM only) */
    float **gh, **gc;        /* (R,H) gathered states of a row subset */
    uint8_t *seen;           /* (R) row-list check */
    size_t in, out;          /* floats per row and step */
};

size_t sn_stream_input_numel(const sn_stream *s) { return s ? s->in : 0; }
size_t sn_stream_output_numel(const sn_stream *s) { return s ? s->out : 0; }
int sn_stream_rows(const sn_stream *s) { return s ? s->R : 0; }

void sn_stream_free(sn_stream *s) {
    if (!s) return;
    for (int i = 0; s->sm && i < s->sm->n_layers; i++) {
        free(s->h[i]), free(s->c[i]), free(s->gh[i]), free(s->gc[i]);
    }
    free(s->h), free(s->c), free(s->gh), free(s->gc);
    free(s->seen);
    sn_model_free(s->sm);
    free(s);
}

/* Why layer L of m cannot stream, or NULL. */
static const char *cannot_stream(const sn_layer *L) {
    const char *k = L->ops->kind;
    if (sn_rnn_is_recurrent(L))
        return ((const sn_rnn_cfg *)L->cfg)->go_backwards ? "go_backwards reads the sequence from its end" : NULL;
    if (!strcmp(k, "bidirectional")) return "its backward half reads the sequence from its end";
    if (!strcmp(k, "flatten") || !strcmp(k, "reshape"))
        return L->in.rank == 2 ? "it reshapes the whole sequence" : NULL;
    static const char *const ok[] = {"dense", "activation", "dropout", "embedding", "masking", "onehot",
                                     "layernormalization", "batchnormalization"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(k, ok[i])) return NULL;
    return "it needs the whole sequence (convolution or pooling over time)";
}

static sn_status stream_alloc(sn_stream *s) {
    int n = s->sm->n_layers;
    if (!(s->h = sn_calloc((size_t)n, sizeof *s->h)) || !(s->c = sn_calloc((size_t)n, sizeof *s->c)) ||
        !(s->gh = sn_calloc((size_t)n, sizeof *s->gh)) || !(s->gc = sn_calloc((size_t)n, sizeof *s->gc)) ||
        !(s->seen = sn_calloc((size_t)s->R, 1)))
        return SN_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const sn_layer *L = s->sm->layers[i];
        if (!sn_rnn_is_recurrent(L)) continue;
        const sn_rnn_cfg *cf = L->cfg;
        size_t sz = (size_t)s->R * cf->units;
        int lstm = cf->kind == SN_RNN_LSTM;
        if (!(s->h[i] = sn_aligned_calloc(sz, sizeof(float))) || !(s->gh[i] = sn_aligned_calloc(sz, sizeof(float))) ||
            (lstm && (!(s->c[i] = sn_aligned_calloc(sz, sizeof(float))) || !(s->gc[i] = sn_aligned_calloc(sz, sizeof(float))))))
            return SN_ERR_NOMEM;
    }
    return SN_OK;
}

sn_status sn_stream_init(sn_stream **out, const sn_model *m, int rows) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_stream_init: NULL output");
    *out = NULL;
    if (!m) return sn_error(SN_ERR_ARG, "sn_stream_init: NULL model");
    if (rows < 1 || rows > (1 << 20)) return sn_error(SN_ERR_ARG, "sn_stream_init: rows must be in [1, 2^20], got %d", rows);
    const char *k0 = m->layers[0]->ops->kind;
    int ids = m->in_shape.rank == 1 && (!strcmp(k0, "embedding") || !strcmp(k0, "onehot"));
    if (m->in_shape.rep == SN_REP_SPARSE || (m->in_shape.rank != 2 && !ids))
        return sn_error(SN_ERR_UNSUPPORTED, "sn_stream_init: the model's input has no time axis (a (T, C) input or "
                                            "token ids are needed to step through time)");
    for (int i = 0; i < m->n_layers; i++) {
        const char *why = cannot_stream(m->layers[i]);
        if (why)
            return sn_error(SN_ERR_UNSUPPORTED, "sn_stream_init: layer '%s' (%s) cannot stream: %s; run whole "
                                                "sequences through sn_model_predict instead",
                            m->layers[i]->name, m->layers[i]->ops->class_name, why);
    }
    sn_model_opts o;
    memset(&o, 0, sizeof o);
    o.input_rank = m->in_shape.rank;
    o.input_shape[0] = 1;
    o.input_shape[1] = m->in_shape.rank == 2 ? m->in_shape.d[1] : 0;
    o.seed = m->seed;
    sn_stream *s = sn_calloc(1, sizeof *s);
    if (!s) return SN_ERR_NOMEM;
    s->R = rows;
    sn_status st = sn_model_build_from_spec(&s->sm, m->spec, &o, 0);
    if (!st && s->sm->n_params != m->n_params)
        st = sn_error(SN_ERR_STATE, "sn_stream_init: the one-step model has %zu parameters, the model %zu", s->sm->n_params,
                      m->n_params);
    if (!st) {
        memcpy(s->sm->params, m->params, m->n_params * sizeof(float));
        for (int i = 0; i < m->n_layers; i++) s->sm->layers[i]->trainable = m->layers[i]->trainable;
        st = sn_model_plan(s->sm, rows);
    }
    if (!st) st = stream_alloc(s);
    if (st) {
        sn_stream_free(s);
        return st;
    }
    s->in = sn_shape_phys(&s->sm->in_shape);
    s->out = sn_model_output_numel(s->sm);
    *out = s;
    return SN_OK;
}

sn_status sn_stream_reset(sn_stream *s, int row) {
    if (!s) return sn_error(SN_ERR_ARG, "sn_stream_reset: NULL stream");
    if (row < -1 || row >= s->R) return sn_error(SN_ERR_ARG, "sn_stream_reset: row %d outside [0, %d)", row, s->R);
    for (int i = 0; i < s->sm->n_layers; i++) {
        if (!s->h[i]) continue;
        size_t H = (size_t)((const sn_rnn_cfg *)s->sm->layers[i]->cfg)->units;
        size_t off = row < 0 ? 0 : (size_t)row * H, n = row < 0 ? (size_t)s->R * H : H;
        memset(s->h[i] + off, 0, n * sizeof(float));
        if (s->c[i]) memset(s->c[i] + off, 0, n * sizeof(float));
    }
    return SN_OK;
}

/* rows[0..n) distinct and in range (NULL: 0..n-1). */
static sn_status check_rows(sn_stream *s, const int *rows, int n) {
    if (n < 1 || n > s->R) return sn_error(SN_ERR_ARG, "sn_stream_step: %d rows, the stream has %d", n, s->R);
    if (!rows) return SN_OK;
    sn_status st = SN_OK;
    int i;
    for (i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= s->R) {
            st = sn_error(SN_ERR_ARG, "sn_stream_step: row %d outside [0, %d)", rows[i], s->R);
            break;
        }
        if (s->seen[rows[i]]) {
            st = sn_error(SN_ERR_ARG, "sn_stream_step: row %d listed twice", rows[i]);
            break;
        }
        s->seen[rows[i]] = 1;
    }
    for (int k = 0; k < i; k++) s->seen[rows[k]] = 0;
    return st;
}

/* Every input finite, token ids integers in range, before anything changes. */
static sn_status check_input(const sn_stream *s, const int *rows, int n, const float *x) {
    const sn_layer *L0 = s->sm->layers[0];
    long vocab = !strcmp(L0->ops->kind, "embedding") ? L0->tensors[0].dims[0]
                 : !strcmp(L0->ops->kind, "onehot")  ? L0->out.d[1]
                                                      : 0;
    for (int r = 0; r < n; r++)
        for (size_t k = 0; k < s->in; k++) {
            float v = x[(size_t)r * s->in + k];
            int row = rows ? rows[r] : r;
            if (!isfinite(v)) return sn_error(SN_ERR_ARG, "sn_stream_step: row %d: input %zu is NaN or Inf", row, k);
            if (vocab && (v < 0 || v >= (float)vocab || v != floorf(v)))
                return sn_error(SN_ERR_ARG, "sn_stream_step: row %d: token id %g outside [0, %ld)", row, v, vocab);
        }
    return SN_OK;
}

/* Copies the states of the listed rows to or from the gather buffers. */
static void gather(float *dst, const float *src, const int *rows, int n, size_t H, int back) {
    for (int r = 0; r < n; r++) {
        if (back) memcpy((float *)src + (size_t)rows[r] * H, dst + (size_t)r * H, H * sizeof(float));
        else memcpy(dst + (size_t)r * H, src + (size_t)rows[r] * H, H * sizeof(float));
    }
}

static void run_layers(sn_stream *s, const int *rows, int n) {
    sn_model *sm = s->sm;
    const uint8_t *mask = NULL;
    int threads = sn_threads_get();
    for (int i = 0; i < sm->n_layers; i++) {
        sn_layer *L = sm->layers[i];
        L->threads = threads;
        if (s->h[i]) {
            const sn_rnn_cfg *cf = L->cfg;
            size_t H = (size_t)cf->units;
            float *h = s->h[i], *c = s->c[i];
            if (rows) {
                gather(s->gh[i], s->h[i], rows, n, H, 0);
                if (c) gather(s->gc[i], s->c[i], rows, n, H, 0);
                h = s->gh[i];
                c = s->gc[i];
            }
            SN_ASSERT(sn_rnn_step(L, n, sm->act[i], mask, h, c, sm->act[i + 1], sm->cache[i], sm->scratch) == SN_OK);
            if (rows) {
                gather(s->gh[i], s->h[i], rows, n, H, 1);
                if (c) gather(s->gc[i], s->c[i], rows, n, H, 1);
            }
            if (!cf->return_sequences) mask = NULL;
            continue;
        }
        sn_fwd f = {0};
        f.B = n;
        f.x = sm->act[i];
        f.y = sm->act[i + 1];
        f.mask = mask;
        f.mask_buf = sm->mask_buf[i];
        f.rng = &sm->rng;
        f.cache = sm->cache[i];
        f.scratch = sm->scratch;
        L->ops->forward(L, &f);
        switch (L->ops->mask_policy) {
        case SN_MASK_DROP: mask = NULL; break;
        case SN_MASK_PASS: break;
        case SN_MASK_OWN: mask = f.mask_out; break;
        }
    }
}

sn_status sn_stream_step(sn_stream *s, const int *rows, int n, const float *x, float *y) {
    if (!s || !x) return sn_error(SN_ERR_ARG, "sn_stream_step: NULL argument");
    sn_status st = check_rows(s, rows, n);
    if (st) return st;
    if ((st = check_input(s, rows, n, x))) return st;
    memcpy(s->sm->act[0], x, (size_t)n * s->in * sizeof(float));
    sn_fp_state fp = sn_fp_enter();
    run_layers(s, rows, n);
    sn_fp_leave(fp);
    if (y) memcpy(y, s->sm->act[s->sm->n_layers], (size_t)n * s->out * sizeof(float));
    return SN_OK;
}
