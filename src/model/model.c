/* Sequential model: building from a spec, the parameter buffer with
 * per-layer views, the activation arena, forward / backward over the layer
 * list, summary, tensor access, metadata.
 *
 * Memory layout (model_impl.h). Every layer's tensors live in one 64-byte
 * aligned float buffer `params` (n_params floats, layer after layer in spec
 * order, each layer's tensors in the order its build() added them); `grads`
 * mirrors it, and so do the optimizer's slots. The trainable segments `seg`
 * list the runs of `params` the optimizer updates (trainable tensors of
 * trainable layers). Activations, per-layer caches, masks, the shared
 * scratch, the two ping-pong gradient buffers, the targets and the loss row
 * weights come from one arena planned for `planned_B` rows (sn_model_plan):
 * forward and backward never allocate. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "model/model_impl.h"

/* Keras's to_snake_case on the class name: "MaxPooling1D" → "max_pooling1d",
 * "SimpleRNN" → "simple_rnn" (the default layer name). */
static void snake_case(const char *cls, char *out, size_t n) {
    char a[96];
    size_t k = 0, len = strlen(cls);
    /* (.)([A-Z][a-z]+) → \1_\2 */
    for (size_t i = 0; i < len && k + 2 < sizeof a; i++) {
        if (i > 0 && isupper((unsigned char)cls[i]) && i + 1 < len && islower((unsigned char)cls[i + 1])) a[k++] = '_';
        a[k++] = cls[i];
    }
    a[k] = 0;
    /* ([a-z])([A-Z]) → \1_\2, then lower */
    size_t j = 0;
    for (size_t i = 0; a[i] && j + 2 < n; i++) {
        if (i > 0 && islower((unsigned char)a[i - 1]) && isupper((unsigned char)a[i])) out[j++] = '_';
        out[j++] = (char)tolower((unsigned char)a[i]);
    }
    out[j] = 0;
}

static void free_layers(sn_model *m) {
    for (int i = 0; i < m->n_layers; i++) sn_layer_free(m->layers[i]);
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}

/* Frees the model and everything it owns: layers, buffers, arena, optimizer
 * slots, metadata. Pointers obtained from the model (sn_model_tensor,
 * sn_model_spec, sn_model_get_meta) die with it. NULL is a no-op. */
void sn_model_free(sn_model *m) {
    if (!m) return;
    free_layers(m);
    free(m->spec);
    free(m->params);
    free(m->grads);
    free(m->seg);
    free(m->arena);
    free(m->act);
    free(m->mask);
    free(m->mask_buf);
    free(m->cache);
    sn_optimizer_free(&m->opt);
    for (int i = 0; i < m->n_meta; i++) free(m->meta[i].data);
    free(m->meta);
    free(m);
}

static sn_status shape_from_opts(const sn_model_opts *o, sn_shape *s) {
    memset(s, 0, sizeof *s);
    if (o->input_rank < 1 || o->input_rank > 2)
        return sn_error(SN_ERR_SHAPE, "input rank must be 1 or 2, got %d", o->input_rank);
    s->rank = o->input_rank;
    for (int i = 0; i < s->rank; i++) {
        if (o->input_shape[i] <= 0 || o->input_shape[i] > (1 << 26))
            return sn_error(SN_ERR_SHAPE, "input dimension %d must be in [1, 2^26], got %d", i, o->input_shape[i]);
        s->d[i] = o->input_shape[i];
    }
    if (o->input_sparse) {
        if (s->rank != 1) return sn_error(SN_ERR_SHAPE, "a sparse input must have rank 1 (vocabulary width)");
        s->rep = SN_REP_SPARSE;
    }
    if ((double)s->d[0] * (s->rank == 2 ? s->d[1] : 1) > 1e9)
        return sn_error(SN_ERR_SHAPE, "input of %d x %d elements per sample is too large", s->d[0], s->rank == 2 ? s->d[1] : 1);
    return SN_OK;
}

/* A layer's `name=` argument (any kind takes one): copied into out (""
 * when absent) and marked used, so the kind's configure never sees it.
 * Names are what sn_model_tensor and the model file address layers by:
 * 1 to 47 printable ASCII characters without quotes, commas or parentheses
 * (so the canonical spec can carry them). */
static sn_status take_name(sn_spec_call *c, char *out, size_t n) {
    out[0] = 0;
    for (int i = 0; i < c->n_args; i++) {
        sn_spec_arg *a = &c->args[i];
        if (strcmp(a->key, "name")) continue;
        if (a->kind != SN_V_WORD && a->kind != SN_V_STRING)
            return sn_spec_error(c, "name must be a word or a quoted string");
        size_t len = strlen(a->str);
        if (len == 0 || len >= n) return sn_spec_error(c, "name must have 1 to %zu characters", n - 1);
        for (size_t k = 0; k < len; k++) {
            unsigned char ch = (unsigned char)a->str[k];
            if (ch <= ' ' || ch > '~' || strchr("\"'(),=", ch))
                return sn_spec_error(c, "name '%s': only printable ASCII without spaces, quotes, commas, '=' or "
                                        "parentheses", a->str);
        }
        memcpy(out, a->str, len + 1);
        a->used = 1;
    }
    return SN_OK;
}

/* Layer names must be unique (tensors and file sections are found by them). */
static sn_status check_names(const sn_model *m) {
    for (int i = 0; i < m->n_layers; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(m->layers[i]->name, m->layers[j]->name))
                return sn_error(SN_ERR_PARSE, "layers %d and %d are both named '%s'", j + 1, i + 1, m->layers[i]->name);
    return SN_OK;
}

/* Appends ", name="NAME"" inside describe()'s call text (which ends with ')'). */
static void add_name(char *buf, size_t n, const char *name) {
    size_t len = strlen(buf);
    if (len == 0 || buf[len - 1] != ')' || len + strlen(name) + 9 >= n) return;
    int empty = len >= 2 && buf[len - 2] == '(';
    snprintf(buf + len - 1, n - (len - 1), "%sname=\"%s\")", empty ? "" : ", ", name);
}

/* Canonical spec from every layer's describe(), plus name= for a layer whose
 * name is not the Keras default its position would give. */
static sn_status make_spec_text(sn_model *m) {
    size_t cap = 256, len = 0;
    char *s = sn_malloc(cap, 1);
    if (!s) return SN_ERR_NOMEM;
    s[0] = 0;
    int counts[64] = {0};
    const sn_layer_ops *seen[64] = {0};
    int n_seen = 0;
    for (int i = 0; i < m->n_layers; i++) {
        char buf[1024], base[32], def[48];
        m->layers[i]->ops->describe(m->layers[i], buf, sizeof buf);
        int k;
        for (k = 0; k < n_seen; k++)
            if (seen[k] == m->layers[i]->ops) break;
        if (k == n_seen && n_seen < 64) seen[n_seen++] = m->layers[i]->ops;
        snake_case(m->layers[i]->ops->class_name, base, sizeof base);
        if (counts[k] == 0)
            snprintf(def, sizeof def, "%s", base);
        else
            snprintf(def, sizeof def, "%s_%d", base, counts[k]);
        counts[k]++;
        if (strcmp(def, m->layers[i]->name)) add_name(buf, sizeof buf, m->layers[i]->name);
        size_t need = len + strlen(buf) + 3;
        if (need > cap) {
            cap = need * 2;
            char *ns = sn_realloc(s, cap, 1);
            if (!ns) {
                free(s);
                return SN_ERR_NOMEM;
            }
            s = ns;
        }
        len += (size_t)sprintf(s + len, "%s%s", i ? ", " : "", buf);
    }
    free(m->spec);
    m->spec = s;
    return SN_OK;
}

static sn_status bind_params(sn_model *m) {
    size_t total = 0;
    for (int i = 0; i < m->n_layers; i++) total += m->layers[i]->n_params;
    m->n_params = total;
    m->params = sn_aligned_calloc(total + 16, sizeof(float));
    m->grads = sn_aligned_calloc(total + 16, sizeof(float));
    if (!m->params || !m->grads) return SN_ERR_NOMEM;
    size_t off = 0;
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        L->w = m->params + off;
        L->g = m->grads + off;
        if (L->ops->bind) L->ops->bind(L);
        off += L->n_params;
    }
    return SN_OK;
}

/* Trainable segments: every trainable tensor of a trainable layer. */
static sn_status make_segments(sn_model *m) {
    int n = 0;
    for (int i = 0; i < m->n_layers; i++) n += m->layers[i]->n_tensors;
    free(m->seg);
    m->seg = sn_calloc((size_t)(n ? n : 1), sizeof *m->seg);
    if (!m->seg) return SN_ERR_NOMEM;
    m->n_seg = 0;
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        if (!L->trainable) continue;
        for (int k = 0; k < L->n_tensors; k++) {
            if (!L->tensors[k].trainable) continue;
            m->seg[m->n_seg].offset = (size_t)(L->w - m->params) + L->tensors[k].offset;
            m->seg[m->n_seg].n = L->tensors[k].numel;
            m->n_seg++;
        }
    }
    return SN_OK;
}

/* Builds a model from spec text on the input shape of o: parses the spec,
 * creates and builds each layer on the previous layer's output shape, names
 * the layers as Keras does (lstm, lstm_1, ...), makes the canonical spec
 * text, binds the parameter views and the trainable segments and seeds the
 * dropout RNG from o->seed. With init_weights the weights are initialised
 * (each layer from its own split of an RNG seeded with o->seed, so one
 * layer's initialiser does not shift another's); without, they are zero (the
 * loader fills them). Errors: SN_ERR_ARG, SN_ERR_SHAPE (input shape, a layer
 * that cannot take its input, a non-dense last output), SN_ERR_PARSE quoting
 * the spec, SN_ERR_NOMEM; *out is NULL then. The caller frees *out. */
sn_status sn_model_build_from_spec(sn_model **out, const char *spec_text, const sn_model_opts *o, int init_weights) {
    *out = NULL;
    if (!spec_text || !o) return sn_error(SN_ERR_ARG, "sn_model_init: NULL argument");
    sn_model *m = sn_calloc(1, sizeof *m);
    if (!m) return SN_ERR_NOMEM;
    sn_status st = shape_from_opts(o, &m->in_shape);
    if (st) goto fail;
    m->seed = o->seed;
    sn_spec spec;
    st = sn_spec_parse(&spec, spec_text);
    if (st) goto fail;
    m->layers = sn_calloc((size_t)spec.n_calls, sizeof *m->layers);
    if (!m->layers) {
        st = SN_ERR_NOMEM;
        sn_spec_free(&spec);
        goto fail;
    }
    sn_shape cur = m->in_shape;
    int counts[64] = {0};
    const sn_layer_ops *seen[64] = {0};
    int n_seen = 0;
    for (int i = 0; i < spec.n_calls; i++) {
        char given[48];
        if ((st = take_name(spec.calls[i], given, sizeof given))) break;
        sn_layer *L = sn_layer_create(spec.calls[i]);
        if (!L) {
            st = SN_ERR_PARSE;
            break;
        }
        m->layers[m->n_layers++] = L;
        st = sn_layer_build(L, &cur);
        if (st) {
            sn_error_prefix(st, "layer %d `%.*s`", i + 1, spec.calls[i]->text_len, spec.text + spec.calls[i]->text_off);
            break;
        }
        /* Keras default names: lstm, lstm_1, ... */
        int k;
        for (k = 0; k < n_seen; k++)
            if (seen[k] == L->ops) break;
        if (k == n_seen && n_seen < 64) seen[n_seen++] = L->ops;
        char base[32];
        snake_case(L->ops->class_name, base, sizeof base);
        if (counts[k] == 0)
            snprintf(L->name, sizeof L->name, "%s", base);
        else
            snprintf(L->name, sizeof L->name, "%s_%d", base, counts[k]);
        counts[k]++;
        if (given[0]) snprintf(L->name, sizeof L->name, "%s", given);
        cur = L->out;
    }
    sn_spec_free(&spec);
    if (!st) st = check_names(m);
    if (st) goto fail;
    if (m->n_layers == 0) {
        st = sn_error(SN_ERR_PARSE, "model spec has no layers");
        goto fail;
    }
    if (cur.rep != SN_REP_DENSE) {
        st = sn_error(SN_ERR_SHAPE, "the last layer's output must be dense (got a one-hot or sparse representation)");
        goto fail;
    }
    if ((st = make_spec_text(m)) || (st = bind_params(m)) || (st = make_segments(m))) goto fail;
    sn_rng_seed(&m->rng, o->seed ^ 0x5eed5eedULL);
    if (init_weights) {
        sn_rng r;
        sn_rng_seed(&r, o->seed);
        for (int i = 0; i < m->n_layers && !st; i++) {
            sn_rng lr = sn_rng_split(&r);
            if ((st = m->layers[i]->ops->init(m->layers[i], &lr)))
                sn_error_prefix(st, "initializing layer %s", m->layers[i]->name);
        }
        if (st) goto fail;
    }
    *out = m;
    return SN_OK;
fail:
    sn_model_free(m);
    return st;
}

/* Public constructor: sn_model_build_from_spec with initialised weights.
 * *out is NULL on error. */
sn_status sn_model_init(sn_model **out, const char *spec, const sn_model_opts *o) {
    if (!out) return sn_error(SN_ERR_ARG, "sn_model_init: NULL output");
    return sn_model_build_from_spec(out, spec, o, 1);
}

/* Total parameter count; *trainable / *non_trainable (each may be NULL)
 * receive the split Keras prints: a tensor counts as trainable when it and
 * its layer are. */
size_t sn_model_param_count(const sn_model *m, size_t *trainable, size_t *non_trainable) {
    size_t tr = 0, nt = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const sn_layer *L = m->layers[i];
        for (int k = 0; k < L->n_tensors; k++) {
            if (L->trainable && L->tensors[k].trainable)
                tr += L->tensors[k].numel;
            else
                nt += L->tensors[k].numel;
        }
    }
    if (trainable) *trainable = tr;
    if (non_trainable) *non_trainable = nt;
    return tr + nt;
}

/* Accessors: the canonical spec (owned by the model), the layer count, the
 * floats per sample of the output and of the input (a sparse input counts
 * its vocabulary width), and layer i's name and Keras class (NULL when i is
 * out of range; both owned by the model). */
const char *sn_model_spec(const sn_model *m) { return m->spec; }
int sn_model_n_layers(const sn_model *m) { return m->n_layers; }
size_t sn_model_output_numel(const sn_model *m) { return sn_shape_numel(&m->layers[m->n_layers - 1]->out); }
size_t sn_model_input_numel(const sn_model *m) {
    return m->in_shape.rep == SN_REP_SPARSE ? (size_t)m->in_shape.d[0] : sn_shape_phys(&m->in_shape);
}
int sn_model_input_shape(const sn_model *m, int dims[3]) {
    for (int i = 0; i < 3; i++) dims[i] = i < m->in_shape.rank ? m->in_shape.d[i] : 0;
    return m->in_shape.rank;
}
int sn_model_output_shape(const sn_model *m, int dims[3]) {
    const sn_shape *s = &m->layers[m->n_layers - 1]->out;
    for (int i = 0; i < 3; i++) dims[i] = i < s->rank ? s->d[i] : 0;
    return s->rank;
}
const char *sn_model_layer_name(const sn_model *m, int i) { return i >= 0 && i < m->n_layers ? m->layers[i]->name : NULL; }
const char *sn_model_layer_kind(const sn_model *m, int i) {
    return i >= 0 && i < m->n_layers ? m->layers[i]->ops->class_name : NULL;
}

/* The parameter tensor `tensor` of layer `layer`: a pointer into the
 * parameter buffer (valid until the model is freed; writes change the
 * model) and its element count in *numel (may be NULL). NULL with
 * sn_error_last naming the missing layer or tensor. */
float *sn_model_tensor(sn_model *m, const char *layer, const char *tensor, size_t *numel) {
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        if (strcmp(L->name, layer)) continue;
        for (int k = 0; k < L->n_tensors; k++)
            if (!strcmp(L->tensors[k].name, tensor)) {
                if (numel) *numel = L->tensors[k].numel;
                return L->w + L->tensors[k].offset;
            }
        sn_error(SN_ERR_ARG, "layer '%s' has no tensor '%s'", layer, tensor);
        return NULL;
    }
    sn_error(SN_ERR_ARG, "no layer named '%s'", layer);
    return NULL;
}

/* Freezes (0) or unfreezes layer `layer` and rebuilds the trainable
 * segments. The optimizer's slots are kept (they mirror the whole buffer).
 * Errors: SN_ERR_ARG for an unknown layer, SN_ERR_NOMEM. */
sn_status sn_model_set_trainable(sn_model *m, const char *layer, int trainable) {
    for (int i = 0; i < m->n_layers; i++)
        if (!strcmp(m->layers[i]->name, layer)) {
            m->layers[i]->trainable = trainable != 0;
            return make_segments(m);
        }
    return sn_error(SN_ERR_ARG, "no layer named '%s'", layer);
}

/* ---- Arena ---- */
static size_t al16(size_t n) { return (n + 15) & ~(size_t)15; } /* floats → 64-byte multiples */

/* Makes the arena hold a batch of B rows: nothing to do when a batch at
 * least as large was planned; otherwise sizes every region for B (each
 * rounded up to 64 bytes), allocates a new arena and frees the old one, so
 * pointers into the previous arena (act, cache, dbuf, ytrue) are invalid
 * afterwards. Refuses (SN_ERR_NOMEM) a batch whose activations and caches
 * would exceed 64 GiB; SN_ERR_ARG for B <= 0. */
sn_status sn_model_plan(sn_model *m, int B) {
    if (B <= m->planned_B && m->arena) return SN_OK;
    if (B <= 0) return sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", B);
    int n = m->n_layers;
    if (!m->act) {
        m->act = sn_calloc((size_t)n + 1, sizeof *m->act);
        m->mask = sn_calloc((size_t)n + 1, sizeof *m->mask);
        m->mask_buf = sn_calloc((size_t)n, sizeof *m->mask_buf);
        m->cache = sn_calloc((size_t)n, sizeof *m->cache);
        if (!m->act || !m->mask || !m->mask_buf || !m->cache) return SN_ERR_NOMEM;
    }
    /* Planning pass: sizes in floats, each rounded to 64 bytes. */
    size_t total = 0, maxphys = sn_shape_phys(&m->in_shape), scratch = 0;
    double guard = 0;
    total += al16((size_t)B * sn_shape_phys(&m->in_shape));
    for (int i = 0; i < n; i++) {
        sn_layer *L = m->layers[i];
        size_t ph = sn_shape_phys(&L->out);
        maxphys = SN_MAX(maxphys, ph);
        total += al16((size_t)B * ph);
        total += al16(L->ops->cache_floats(L, B));
        int T = L->out.rank == 2 ? L->out.d[0] : 1;
        total += al16(((size_t)B * (size_t)T + 3) / 4);
        scratch = SN_MAX(scratch, L->ops->scratch_floats(L, B));
        guard += (double)B * (double)ph + (double)L->ops->cache_floats(L, B);
    }
    size_t outn = sn_model_output_numel(m);
    int Tout = m->layers[n - 1]->out.rank == 2 ? m->layers[n - 1]->out.d[0] : 1;
    total += al16(scratch) + 2 * al16((size_t)B * maxphys) + al16((size_t)B * outn) + al16((size_t)B * (size_t)Tout);
    if (guard * 4.0 > 64.0 * 1024 * 1024 * 1024)
        return sn_error(SN_ERR_NOMEM, "batch of %d needs more than 64 GiB of activations; use a smaller batch", B);
    void *arena = sn_aligned_calloc(total, sizeof(float));
    if (!arena) return SN_ERR_NOMEM;
    free(m->arena);
    m->arena = arena;
    float *p = arena;
    m->act[0] = p;
    p += al16((size_t)B * sn_shape_phys(&m->in_shape));
    for (int i = 0; i < n; i++) {
        sn_layer *L = m->layers[i];
        m->act[i + 1] = p;
        p += al16((size_t)B * sn_shape_phys(&L->out));
        m->cache[i] = p;
        p += al16(L->ops->cache_floats(L, B));
        int T = L->out.rank == 2 ? L->out.d[0] : 1;
        m->mask_buf[i] = (uint8_t *)p;
        p += al16(((size_t)B * (size_t)T + 3) / 4);
    }
    m->scratch = p;
    p += al16(scratch);
    m->dbuf[0] = p;
    p += al16((size_t)B * maxphys);
    m->dbuf[1] = p;
    p += al16((size_t)B * maxphys);
    m->ytrue = p;
    p += al16((size_t)B * outn);
    m->rowweight = p;
    m->planned_B = B;
    return SN_OK;
}

/* Runs the layers forward over the B rows in act[0] (or the sparse batch xs
 * for a sparse input), each layer writing act[i+1] and its cache. Masks
 * follow each layer's policy (drop, pass, or its own) and are recorded in
 * mask[] for backward and the loss. training = 1 draws dropout masks (from
 * the model's RNG or the layer's own stream) and uses batch statistics;
 * 0 is inference. B must not exceed the planned batch; the input was
 * checked by sn_model_check_input. */
void sn_model_forward(sn_model *m, int B, const sn_csr *xs, int training) {
    const uint8_t *mask = NULL;
    int threads = sn_threads_get();
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer *L = m->layers[i];
        L->threads = threads;
        sn_fwd f = {0};
        f.B = B;
        f.training = training;
        f.x = m->act[i];
        f.xs = i == 0 ? xs : NULL;
        f.y = m->act[i + 1];
        f.mask = mask;
        f.mask_buf = m->mask_buf[i];
        f.rng = &m->rng;
        f.cache = m->cache[i];
        f.scratch = m->scratch;
        m->mask[i] = mask;
        L->ops->forward(L, &f);
        switch (L->ops->mask_policy) {
        case SN_MASK_DROP: mask = NULL; break;
        case SN_MASK_PASS: break;
        case SN_MASK_OWN: mask = f.mask_out; break;
        }
    }
    m->mask[m->n_layers] = mask;
}

/* Backpropagates dy_last (dL/d output, (B, out phys), normally
 * dbuf[n_layers % 2]) through the layers of the last forward pass: zeroes
 * grads, then each layer accumulates its parameter gradients and, when a
 * trainable layer lies below it, its input gradient into the other ping-pong
 * buffer. Stops below the lowest layer that needs no input gradient. */
void sn_model_backward(sn_model *m, int B, const sn_csr *xs, float *dy_last) {
    sn_model_backward_hook(m, B, xs, dy_last, NULL, NULL);
}

/* sn_model_backward that calls after(user, i) once layer i's parameter
 * gradients are complete (layers from the last down; after may be NULL).
 * Chunked training starts a layer's gradient reduction there (src/fit). */
void sn_model_backward_hook(sn_model *m, int B, const sn_csr *xs, float *dy_last, void (*after)(void *user, int layer),
                            void *user) {
    memset(m->grads, 0, m->n_params * sizeof(float));
    const float *dy = dy_last;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        sn_layer *L = m->layers[i];
        /* The input gradient is not needed below the first layer, nor below
         * ids / sparse inputs; and not at all if nothing below is trainable. */
        int need_dx = i > 0 && L->in.rep == SN_REP_DENSE;
        if (need_dx) {
            int any = 0;
            for (int j = 0; j < i; j++)
                if (m->layers[j]->trainable && m->layers[j]->n_params) any = 1;
            /* Layers with no parameters still need dx if a trainable layer lies below. */
            need_dx = any;
        }
        float *dx = need_dx ? m->dbuf[i % 2] : NULL;
        if (dx == dy) dx = m->dbuf[(i + 1) % 2];
        if (dx) memset(dx, 0, (size_t)B * sn_shape_phys(&L->in) * sizeof(float));
        sn_bwd b = {0};
        b.B = B;
        b.x = m->act[i];
        b.xs = i == 0 ? xs : NULL;
        b.y = m->act[i + 1];
        b.dy = dy;
        b.dx = dx;
        b.mask = m->mask[i];
        b.cache = m->cache[i];
        b.scratch = m->scratch;
        L->ops->backward(L, &b);
        if (after) after(user, i);
        if (!dx) break;
        dy = dx;
    }
}

/* Checks a batch before forward: every value finite, token ids of an
 * Embedding / OneHot first layer integral and inside the vocabulary, sparse
 * columns inside the input width. Errors: SN_ERR_NUMERIC or SN_ERR_ARG
 * naming the sample and element (or the column). */
sn_status sn_model_check_input(const sn_model *m, int B, const sn_csr *xs) {
    if (xs) {
        int V = m->in_shape.d[0];
        for (int64_t k = 0; k < xs->row_ptr[B]; k++) {
            if (xs->col[k] < 0 || xs->col[k] >= V)
                return sn_error(SN_ERR_ARG, "sparse input column %d outside [0, %d)", (int)xs->col[k], V);
            if (!isfinite(xs->val[k])) return sn_error(SN_ERR_NUMERIC, "sparse input holds NaN or Inf");
        }
        return SN_OK;
    }
    size_t n = (size_t)B * sn_shape_phys(&m->in_shape);
    const float *x = m->act[0];
    const char *k0 = m->layers[0]->ops->kind;
    long vocab = 0;
    if (!strcmp(k0, "embedding") || !strcmp(k0, "onehot")) {
        /* First tensor of an embedding is (V, D); onehot's width is its out d[1]. */
        vocab = !strcmp(k0, "embedding") ? m->layers[0]->tensors[0].dims[0] : m->layers[0]->out.d[1];
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return sn_error(SN_ERR_NUMERIC, "input sample %zu holds NaN or Inf at element %zu", i / (n / (size_t)B),
                            i % (n / (size_t)B));
        if (vocab && (x[i] < 0 || x[i] >= (float)vocab || x[i] != floorf(x[i])))
            return sn_error(SN_ERR_ARG, "input sample %zu: token id %g outside [0, %ld)", i / (n / (size_t)B), x[i], vocab);
    }
    return SN_OK;
}

/* The (rows, width) the loss and metrics see for B samples: (B*T, C) for a
 * sequence output (T, C), (B, C) otherwise. */
void sn_model_loss_layout(const sn_model *m, int B, size_t *rows, size_t *width) {
    const sn_shape *o = &m->layers[m->n_layers - 1]->out;
    if (o->rank == 2) {
        *rows = (size_t)B * (size_t)o->d[0];
        *width = (size_t)o->d[1];
    } else {
        *rows = (size_t)B;
        *width = (size_t)o->d[0];
    }
}

/* ---- Summary ---- */
static void commas(size_t v, char *out) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v), k = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[k++] = ',';
        out[k++] = tmp[i];
    }
    out[k] = 0;
}

static void human_bytes(double b, char *out) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    sprintf(out, "%.2f %s", b, u[i]);
}

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *t) {
    size_t n = strlen(t);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->len + n + 1) * 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, t, n + 1);
    b->len += n;
}

/* Adds `n` copies of the UTF-8 character c. */
static void sb_rep(sbuf *b, const char *c, int n) {
    for (int i = 0; i < n; i++) sb_add(b, c);
}

/* Cell text padded to width w (left or right aligned), ASCII text only. */
static void sb_cell(sbuf *b, const char *t, int w, int right) {
    char buf[256];
    int n = (int)strlen(t);
    if (n > w) n = w;
    if (right)
        snprintf(buf, sizeof buf, "%*.*s", w, n, t);
    else
        snprintf(buf, sizeof buf, "%-*.*s", w, n, t);
    sb_add(b, buf);
}

/* A horizontal rule of the three-column box table: left, fill, joints, right. */
static void sb_rule(sbuf *b, const char *l, const char *fill, const char *mid, const char *r, const int w[3]) {
    sb_add(b, l);
    for (int c = 0; c < 3; c++) {
        sb_rep(b, fill, w[c] + 2);
        sb_add(b, c < 2 ? mid : r);
    }
    sb_add(b, "\n");
}

/* A row: the first two cells left-aligned, the parameter count right-aligned. */
static void sb_row(sbuf *b, const char *bar, const char *c1, const char *c2, const char *c3, const int w[3]) {
    const char *cells[3] = {c1, c2, c3};
    for (int c = 0; c < 3; c++) {
        sb_add(b, bar);
        sb_add(b, " ");
        sb_cell(b, cells[c], w[c], c == 2);
        sb_add(b, " ");
    }
    sb_add(b, bar);
    sb_add(b, "\n");
}

/* model.summary() as text (docs/keras-semantics.md §14): Keras 3's box
 * table (76 wide, "sequential") or tf.keras 2's plain table (65 wide, with
 * the input row). Returns a malloc'd string the caller frees; NULL with
 * SN_ERR_NOMEM set when out of memory. */
char *sn_model_summary(const sn_model *m, sn_summary_style style) {
    sbuf b = {0};
    size_t tr, nt, tot = sn_model_param_count(m, &tr, &nt);
    char c1[96], c2[96], c3[64], line[512];
    if (style == SN_SUMMARY_KERAS2) {
        /* tf.keras 2 plain layout, 65 wide, columns at 0/29/55, functional form with the input row. */
        sb_add(&b, "Model: \"model\"\n");
        sb_rep(&b, "_", 65);
        sb_add(&b, "\n Layer (type)                Output Shape              Param #   \n");
        sb_rep(&b, "=", 65);
        sb_add(&b, "\n");
        char shp[64];
        sn_shape_str(&m->in_shape, shp, sizeof shp);
        snprintf(c2, sizeof c2, "[%s]", shp);
        snprintf(line, sizeof line, " %-28s%-26s%-10s\n", "input_1 (InputLayer)", c2, "0");
        sb_add(&b, line);
        for (int i = 0; i < m->n_layers; i++) {
            const sn_layer *L = m->layers[i];
            sb_add(&b, "                                                                 \n");
            snprintf(c1, sizeof c1, "%s (%s)", L->name, L->ops->class_name);
            sn_shape_str(&L->out, c2, sizeof c2);
            snprintf(c3, sizeof c3, "%zu", L->n_params);
            snprintf(line, sizeof line, " %-28s%-26s%-10s\n", c1, c2, c3);
            sb_add(&b, line);
        }
        sb_rep(&b, "=", 65);
        commas(tot, c1);
        snprintf(line, sizeof line, "\nTotal params: %s\n", c1);
        sb_add(&b, line);
        commas(tr, c1);
        snprintf(line, sizeof line, "Trainable params: %s\n", c1);
        sb_add(&b, line);
        commas(nt, c1);
        snprintf(line, sizeof line, "Non-trainable params: %s\n", c1);
        sb_add(&b, line);
        sb_rep(&b, "_", 65);
        sb_add(&b, "\n");
    } else {
        /* Keras 3 rich table, 76 wide: inner column widths from the 0.45/0.80/1.0 split. */
        const int W = 76;
        int w1 = (int)(0.45 * W) - 3, w2 = (int)(0.80 * W) - (int)(0.45 * W) - 3, w3 = W - (int)(0.80 * W) - 4;
        const int w[3] = {w1, w2, w3};
        sb_add(&b, "Model: \"sequential\"\n");
        sb_rule(&b, "┏", "━", "┳", "┓", w);
        sb_row(&b, "┃", "Layer (type)", "Output Shape", "Param #", w);
        sb_rule(&b, "┡", "━", "╇", "┩", w);
        for (int i = 0; i < m->n_layers; i++) {
            const sn_layer *L = m->layers[i];
            snprintf(c1, sizeof c1, "%s (%s)", L->name, L->ops->class_name);
            sn_shape_str(&L->out, c2, sizeof c2);
            commas(L->n_params, c3);
            sb_row(&b, "│", c1, c2, c3, w);
            if (i + 1 < m->n_layers) sb_rule(&b, "├", "─", "┼", "┤", w);
        }
        sb_rule(&b, "└", "─", "┴", "┘", w);
        char hb[32];
        commas(tot, c1);
        human_bytes(4.0 * (double)tot, hb);
        snprintf(line, sizeof line, " Total params: %s (%s)\n", c1, hb);
        sb_add(&b, line);
        commas(tr, c1);
        human_bytes(4.0 * (double)tr, hb);
        snprintf(line, sizeof line, " Trainable params: %s (%s)\n", c1, hb);
        sb_add(&b, line);
        commas(nt, c1);
        human_bytes(4.0 * (double)nt, hb);
        snprintf(line, sizeof line, " Non-trainable params: %s (%s)\n", c1, hb);
        sb_add(&b, line);
    }
    if (b.oom) {
        free(b.s);
        sn_error(SN_ERR_NOMEM, "out of memory formatting the summary");
        return NULL;
    }
    return b.s;
}

/* ---- Metadata ---- */
/* Stores a copy of n bytes under key (shorter than 64 bytes), replacing an
 * earlier value; saved in the model file's META section. Errors: SN_ERR_ARG
 * (NULL, key too long), SN_ERR_NOMEM (the old value is kept). */
sn_status sn_model_set_meta(sn_model *m, const char *key, const void *data, size_t n) {
    if (!m || !key || (!data && n)) return sn_error(SN_ERR_ARG, "sn_model_set_meta: NULL argument");
    if (strlen(key) >= sizeof m->meta[0].key) return sn_error(SN_ERR_ARG, "metadata key '%s' too long", key);
    void *copy = sn_malloc(n ? n : 1, 1);
    if (!copy) return SN_ERR_NOMEM;
    if (n) memcpy(copy, data, n);
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta[i].key, key)) {
            free(m->meta[i].data);
            m->meta[i].data = copy;
            m->meta[i].n = n;
            return SN_OK;
        }
    sn_meta *nm = sn_realloc(m->meta, (size_t)m->n_meta + 1, sizeof *nm);
    if (!nm) {
        free(copy);
        return SN_ERR_NOMEM;
    }
    m->meta = nm;
    snprintf(m->meta[m->n_meta].key, sizeof m->meta[0].key, "%s", key);
    m->meta[m->n_meta].data = copy;
    m->meta[m->n_meta].n = n;
    m->n_meta++;
    return SN_OK;
}

/* The bytes stored under key and their count in *n (may be NULL); owned by
 * the model (valid until the key is set again or the model is freed). NULL
 * when absent (no error is raised). */
const void *sn_model_get_meta(const sn_model *m, const char *key, size_t *n) {
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta[i].key, key)) {
            if (n) *n = m->meta[i].n;
            return m->meta[i].data;
        }
    return NULL;
}
