/* Optimizers with Keras 3 formulas and defaults (docs/keras-semantics.md §7).
 *
 * One step, as keras/src/optimizers/base_optimizer.py apply():
 *   1. clip the gradients (at most one of clipnorm per segment, global_clipnorm,
 *      clipvalue);
 *   2. decoupled weight decay w ← w − lr·wd·w;
 *   3. the update rule (sgd.py, rmsprop.py, adam.py), slots starting at 0;
 *   4. iterations += 1 (Adam uses t = iterations + 1, so the first step has t = 1).
 *
 * Element arithmetic is float32 like Keras variables; scalar coefficients are
 * computed in double and rounded once. Norms are sums of squares in double over
 * fixed chunks of SN_OPT_CHUNK elements, the chunk partials added in chunk
 * order, so the result does not depend on the thread count. Every elementwise
 * loop writes only its own element, so OpenMP splitting does not change a bit
 * (the build uses ISO C mode: no FMA contraction). Every parallel region
 * sets seqnn's floating-point mode (denormals flushed, core/internal.h) on
 * its threads and restores it at its end; sn_optimizer_step does the same on
 * the calling thread.
 *
 * Slots (NULL when unused by the configuration):
 *   SGD      m = momentum buffer (momentum > 0)
 *   RMSprop  m = mean square ("velocity"), v = mean gradient (centered),
 *            u = momentum buffer (momentum > 0)
 *   Adam     m = first moment, v = second moment */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "seqnn/train.h"

/* Chunk of the deterministic norm reduction, and the size under which a loop
 * stays on one thread (OpenMP start-up costs more than the loop). */
#define SN_OPT_CHUNK 8192
#define SN_OPT_PAR_MIN 32768

void sn_optimizer_cfg_default(sn_optimizer_cfg *c, sn_opt_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->lr = kind == SN_OPT_SGD ? 0.01 : 1e-3;
    c->rho = 0.9;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->epsilon = 1e-7;
}

int sn_optimizer_parse(const char *s, sn_opt_kind *out) {
    static const struct { const char *name; sn_opt_kind k; } tab[] = {
        {"sgd", SN_OPT_SGD}, {"rmsprop", SN_OPT_RMSPROP}, {"adam", SN_OPT_ADAM}};
    for (size_t i = 0; s && i < sizeof tab / sizeof *tab; i++) {
        const char *a = s, *b = tab[i].name;
        while (*a && *b && (*a | 0x20) == *b) a++, b++; /* ASCII case-insensitive */
        if (!*a && !*b) {
            *out = tab[i].k;
            return SN_OK;
        }
    }
    return sn_error(SN_ERR_PARSE, "unknown optimizer '%s' (expected sgd, rmsprop, adam)", s ? s : "(null)");
}

const char *sn_optimizer_name(sn_opt_kind k) {
    switch (k) {
    case SN_OPT_SGD: return "sgd";
    case SN_OPT_RMSPROP: return "rmsprop";
    case SN_OPT_ADAM: return "adam";
    }
    return "unknown";
}

static sn_status cfg_check(const sn_optimizer_cfg *c) {
#define NEED(cond, ...)                                            \
    do {                                                           \
        if (!(cond)) return sn_error(SN_ERR_ARG, __VA_ARGS__);     \
    } while (0)
    NEED(c->kind == SN_OPT_SGD || c->kind == SN_OPT_RMSPROP || c->kind == SN_OPT_ADAM,
         "optimizer: unknown kind %d", (int)c->kind);
    const char *name = sn_optimizer_name(c->kind);
    NEED(c->lr > 0 && isfinite(c->lr), "optimizer %s: learning_rate must be > 0, got %g", name, c->lr);
    NEED(c->momentum >= 0 && c->momentum <= 1, "optimizer %s: momentum must be in [0, 1], got %g", name,
         c->momentum);
    NEED(c->epsilon >= 0 && isfinite(c->epsilon), "optimizer %s: epsilon must be >= 0, got %g", name, c->epsilon);
    if (c->kind == SN_OPT_RMSPROP)
        NEED(c->rho >= 0 && c->rho < 1, "optimizer rmsprop: rho must be in [0, 1), got %g", c->rho);
    if (c->kind == SN_OPT_ADAM) {
        NEED(c->beta1 >= 0 && c->beta1 < 1, "optimizer adam: beta_1 must be in [0, 1), got %g", c->beta1);
        NEED(c->beta2 >= 0 && c->beta2 < 1, "optimizer adam: beta_2 must be in [0, 1), got %g", c->beta2);
    }
    NEED(c->clipnorm >= 0 && c->clipvalue >= 0 && c->global_clipnorm >= 0,
         "optimizer %s: clipnorm, clipvalue and global_clipnorm must be >= 0 (0 = off), got %g, %g, %g", name,
         c->clipnorm, c->clipvalue, c->global_clipnorm);
    NEED((c->clipnorm > 0) + (c->clipvalue > 0) + (c->global_clipnorm > 0) <= 1,
         "optimizer %s: only one of clipnorm, clipvalue and global_clipnorm can be set", name);
    NEED(c->weight_decay >= 0 && isfinite(c->weight_decay), "optimizer %s: weight_decay must be >= 0, got %g",
         name, c->weight_decay);
#undef NEED
    return SN_OK;
}

sn_status sn_optimizer_init(sn_optimizer *o, const sn_optimizer_cfg *cfg, size_t n) {
    if (!o || !cfg) return sn_error(SN_ERR_ARG, "sn_optimizer_init: NULL argument");
    memset(o, 0, sizeof *o);
    sn_status st = cfg_check(cfg);
    if (st != SN_OK) return st;
    o->cfg = *cfg;
    o->n = n;
    if (n == 0) return SN_OK;
    int need_m = 0, need_v = 0, need_u = 0;
    switch (cfg->kind) {
    case SN_OPT_SGD: need_m = cfg->momentum > 0; break;
    case SN_OPT_RMSPROP: need_m = 1; need_v = cfg->centered != 0; need_u = cfg->momentum > 0; break;
    case SN_OPT_ADAM: need_m = need_v = 1; break;
    }
    if ((need_m && !(o->m = sn_aligned_calloc(n, sizeof(float)))) ||
        (need_v && !(o->v = sn_aligned_calloc(n, sizeof(float)))) ||
        (need_u && !(o->u = sn_aligned_calloc(n, sizeof(float))))) {
        sn_optimizer_free(o);
        return sn_error_prefix(SN_ERR_NOMEM, "optimizer slots for %zu parameters", n);
    }
    return SN_OK;
}

void sn_optimizer_free(sn_optimizer *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o->u);
    memset(o, 0, sizeof *o);
}

/* Σ x² over x (n) in double: chunk c's partial goes to part[c], then the
 * partials are added in order. part holds ceil(n / SN_OPT_CHUNK) doubles; it
 * may be NULL when n <= SN_OPT_CHUNK. */
static double sumsq_det(const float *x, size_t n, double *part) {
    size_t nc = (n + SN_OPT_CHUNK - 1) / SN_OPT_CHUNK;
    if (nc <= 1) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
        return s;
    }
#pragma omp parallel
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long c = 0; c < (long)nc; c++) {
            size_t a = (size_t)c * SN_OPT_CHUNK, b = SN_MIN(a + SN_OPT_CHUNK, n);
            double s = 0;
            for (size_t i = a; i < b; i++) s += (double)x[i] * x[i];
            part[c] = s;
        }
        sn_fp_leave(fp);
    }
    double s = 0;
    for (size_t c = 0; c < nc; c++) s += part[c];
    return s;
}

/* g (n) ← g·f, f a scalar computed in double (Keras: g·c / max(‖g‖, c)). */
static void scale_inplace(float *g, size_t n, double f) {
    if (f == 1.0) return;
#pragma omp parallel if (n > SN_OPT_PAR_MIN)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long i = 0; i < (long)n; i++) g[i] = (float)(g[i] * f);
        sn_fp_leave(fp);
    }
}

/* Step 1: clipping of grads (in place) over the segments. */
static sn_status clip_grads(const sn_optimizer_cfg *c, float *grads, const sn_param_segment *seg, int n_seg) {
    if (c->clipvalue > 0) {
        const float v = (float)c->clipvalue;
        for (int s = 0; s < n_seg; s++) {
            float *g = grads + seg[s].offset;
            long n = (long)seg[s].n;
#pragma omp parallel if (n > SN_OPT_PAR_MIN)
            {
                sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
                for (long i = 0; i < n; i++) g[i] = g[i] < -v ? -v : g[i] > v ? v : g[i];
                sn_fp_leave(fp);
            }
        }
        return SN_OK;
    }
    if (!(c->clipnorm > 0) && !(c->global_clipnorm > 0)) return SN_OK;
    size_t maxc = 0;
    for (int s = 0; s < n_seg; s++) maxc = SN_MAX(maxc, (seg[s].n + SN_OPT_CHUNK - 1) / SN_OPT_CHUNK);
    double *part = NULL;
    if (maxc > 1 && !(part = sn_malloc(maxc, sizeof *part)))
        return sn_error_prefix(SN_ERR_NOMEM, "optimizer: norm scratch");
    if (c->clipnorm > 0) {
        for (int s = 0; s < n_seg; s++) {
            float *g = grads + seg[s].offset;
            double norm = sqrt(sumsq_det(g, seg[s].n, part));
            scale_inplace(g, seg[s].n, c->clipnorm / (norm > c->clipnorm ? norm : c->clipnorm));
        }
    } else {
        double ss = 0;
        for (int s = 0; s < n_seg; s++) ss += sumsq_det(grads + seg[s].offset, seg[s].n, part);
        double G = sqrt(ss);
        /* Keras: c·min(1/G, 1/c) + (G − G): NaN when the norm is not finite. */
        double f = isfinite(G) ? c->global_clipnorm / (G > c->global_clipnorm ? G : c->global_clipnorm) : NAN;
        for (int s = 0; s < n_seg; s++) scale_inplace(grads + seg[s].offset, seg[s].n, f);
    }
    free(part);
    return SN_OK;
}

/* Steps 2-3 for one segment: w (n) params, g (n) clipped grads, slots offset
 * to the segment. */
static void update_segment(const sn_optimizer *o, float *w, const float *g, float *m, float *v, float *u, long n) {
    const sn_optimizer_cfg *c = &o->cfg;
    const int par = n > SN_OPT_PAR_MIN;
    const float lr = (float)c->lr;
    if (c->weight_decay > 0) {
        const float wd = (float)(c->lr * c->weight_decay);
#pragma omp parallel if (par)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
            for (long i = 0; i < n; i++) w[i] -= w[i] * wd;
            sn_fp_leave(fp);
        }
    }
    switch (c->kind) {
    case SN_OPT_SGD: {
        const float mu = (float)c->momentum;
        if (c->momentum > 0 && c->nesterov) {
            /* m ← μm − lr·g;  w ← w + μm − lr·g */
#pragma omp parallel if (par)
            {
                sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
                for (long i = 0; i < n; i++) {
                    m[i] = m[i] * mu - g[i] * lr;
                    w[i] += m[i] * mu - g[i] * lr;
                }
                sn_fp_leave(fp);
            }
        } else if (c->momentum > 0) {
            /* m ← μm − lr·g;  w ← w + m */
#pragma omp parallel if (par)
            {
                sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
                for (long i = 0; i < n; i++) {
                    m[i] = m[i] * mu - g[i] * lr;
                    w[i] += m[i];
                }
                sn_fp_leave(fp);
            }
        } else {
#pragma omp parallel if (par)
            {
                sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
                for (long i = 0; i < n; i++) w[i] -= g[i] * lr;
                sn_fp_leave(fp);
            }
        }
        break;
    }
    case SN_OPT_RMSPROP: {
        /* ms ← ρ·ms + (1−ρ)g²;  centered: ḡ ← ρḡ + (1−ρ)g;
         * Δ = lr·g / √(ms − ḡ² + ε)  (ε inside the sqrt, Keras 3 / tf.keras ≥ 2.11);
         * legacy (tf.keras ≤ 2.10, momentum 0 only): Δ = lr·g / (√(ms − ḡ²) + ε);
         * with momentum TF's ApplyRMSProp kernels keep ε inside in both versions.
         * momentum: mom ← μ·mom + Δ, w ← w − mom; else w ← w − Δ. */
        const float rho = (float)c->rho, omr = (float)(1.0 - c->rho), eps = (float)c->epsilon;
        const float mu = (float)c->momentum;
        const int centered = c->centered != 0, has_mom = c->momentum > 0;
        const int legacy = c->legacy_rmsprop_eps && !has_mom;
#pragma omp parallel if (par)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
            for (long i = 0; i < n; i++) {
                float gi = g[i];
                m[i] = rho * m[i] + omr * (gi * gi);
                float d = m[i];
                if (centered) {
                    v[i] = rho * v[i] + omr * gi;
                    d = d - v[i] * v[i];
                }
                float inc = legacy ? (lr * gi) / (sqrtf(d) + eps) : (lr * gi) / sqrtf(d + eps);
                if (has_mom) {
                    u[i] = mu * u[i] + inc;
                    w[i] -= u[i];
                } else {
                    w[i] -= inc;
                }
            }
            sn_fp_leave(fp);
        }
        break;
    }
    case SN_OPT_ADAM: {
        /* m ← m + (1−β1)(g − m);  v ← v + (1−β2)(g² − v);
         * w ← w − α_t·m / (√v + ε),  α_t = lr·√(1−β2^t) / (1−β1^t)  (ε on the uncorrected √v) */
        double t = (double)(o->iterations + 1);
        const float alpha = (float)(c->lr * sqrt(1.0 - pow(c->beta2, t)) / (1.0 - pow(c->beta1, t)));
        const float omb1 = (float)(1.0 - c->beta1), omb2 = (float)(1.0 - c->beta2), eps = (float)c->epsilon;
#pragma omp parallel if (par)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
            for (long i = 0; i < n; i++) {
                float gi = g[i];
                m[i] += (gi - m[i]) * omb1;
                v[i] += (gi * gi - v[i]) * omb2;
                w[i] -= (m[i] * alpha) / (sqrtf(v[i]) + eps);
            }
            sn_fp_leave(fp);
        }
        break;
    }
    }
}

sn_status sn_optimizer_step(sn_optimizer *o, float *params, float *grads, const sn_param_segment *seg, int n_seg) {
    if (!o) return sn_error(SN_ERR_ARG, "sn_optimizer_step: NULL optimizer");
    if (n_seg < 0 || (n_seg > 0 && (!seg || !params || !grads)))
        return sn_error(SN_ERR_ARG, "sn_optimizer_step: NULL buffers or negative segment count %d", n_seg);
    for (int s = 0; s < n_seg; s++)
        if (seg[s].offset > o->n || seg[s].n > o->n - seg[s].offset)
            return sn_error(SN_ERR_ARG, "sn_optimizer_step: segment %d [%zu, +%zu) outside the %zu parameters", s,
                            seg[s].offset, seg[s].n, o->n);
    const sn_optimizer_cfg *c = &o->cfg;
    int need_m = c->kind != SN_OPT_SGD || c->momentum > 0;
    int need_v = c->kind == SN_OPT_ADAM || (c->kind == SN_OPT_RMSPROP && c->centered);
    int need_u = c->kind == SN_OPT_RMSPROP && c->momentum > 0;
    if (o->n > 0 && ((need_m && !o->m) || (need_v && !o->v) || (need_u && !o->u)))
        return sn_error(SN_ERR_STATE, "sn_optimizer_step: optimizer not initialised");

    sn_fp_state fp = sn_fp_enter(); /* denormals flushed on this thread too (core/internal.h) */
    sn_status st = clip_grads(c, grads, seg, n_seg);
    if (st != SN_OK) {
        sn_fp_leave(fp);
        return st;
    }
    for (int s = 0; s < n_seg; s++) {
        size_t off = seg[s].offset;
        update_segment(o, params + off, grads + off, o->m ? o->m + off : NULL, o->v ? o->v + off : NULL,
                       o->u ? o->u + off : NULL, (long)seg[s].n);
    }
    o->iterations++;
    sn_fp_leave(fp);
    return SN_OK;
}
