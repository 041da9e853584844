/* Single-layer test harness: see layer_check.h. */
#include "layer_check.h"

#include <math.h>
#include <string.h>

#include "test.h"

sn_status lc_create(lc_layer *t, const char *spec, const sn_shape *in, int B, uint64_t seed) {
    memset(t, 0, sizeof *t);
    sn_status st = sn_spec_parse(&t->spec, spec);
    if (st) return st;
    if (t->spec.n_calls != 1) return sn_error(SN_ERR_ARG, "lc_create: one layer expected");
    t->L = sn_layer_create(t->spec.calls[0]);
    if (!t->L) return SN_ERR_PARSE;
    st = sn_layer_build(t->L, in);
    if (st) return st;
    t->B = B;
    t->w = sn_aligned_calloc(t->L->n_params + 1, sizeof(float));
    t->g = sn_aligned_calloc(t->L->n_params + 1, sizeof(float));
    t->cache = sn_aligned_calloc(t->L->ops->cache_floats(t->L, B) + 1, sizeof(float));
    t->scratch = sn_aligned_calloc(t->L->ops->scratch_floats(t->L, B) + 1, sizeof(float));
    size_t tmax = (size_t)(t->L->out.rank == 2 ? t->L->out.d[0] : 1) + (size_t)(in->rank == 2 ? in->d[0] : 1);
    t->mask_buf = sn_aligned_calloc((size_t)B * tmax + 1, 1);
    t->L->w = t->w;
    t->L->g = t->g;
    if (t->L->ops->bind) t->L->ops->bind(t->L);
    sn_rng r;
    sn_rng_seed(&r, seed);
    return t->L->ops->init(t->L, &r);
}

void lc_free(lc_layer *t) {
    sn_layer_free(t->L);
    sn_spec_free(&t->spec);
    free(t->w);
    free(t->g);
    free(t->cache);
    free(t->scratch);
    free(t->mask_buf);
    memset(t, 0, sizeof *t);
}

void lc_forward(lc_layer *t, const float *x, const sn_csr *xs, float *y, const uint8_t *mask, int training,
                uint64_t rng_seed, const uint8_t **mask_out) {
    sn_rng r;
    sn_rng_seed(&r, rng_seed);
    sn_fwd f = {0};
    f.B = t->B;
    f.training = training;
    f.x = x;
    f.xs = xs;
    f.y = y;
    f.mask = mask;
    f.mask_buf = t->mask_buf;
    f.rng = &r;
    f.cache = t->cache;
    f.scratch = t->scratch;
    t->L->ops->forward(t->L, &f);
    if (mask_out) {
        if (t->L->ops->mask_policy == SN_MASK_PASS)
            *mask_out = mask;
        else if (t->L->ops->mask_policy == SN_MASK_OWN)
            *mask_out = f.mask_out;
        else
            *mask_out = NULL;
    }
}

void lc_backward(lc_layer *t, const float *x, const sn_csr *xs, const float *y, const float *dy, float *dx,
                 const uint8_t *mask) {
    memset(t->g, 0, t->L->n_params * sizeof(float));
    if (dx) memset(dx, 0, (size_t)t->B * sn_shape_phys(&t->L->in) * sizeof(float));
    sn_bwd b = {0};
    b.B = t->B;
    b.x = x;
    b.xs = xs;
    b.y = y;
    b.dy = dy;
    b.dx = dx;
    b.mask = mask;
    b.cache = t->cache;
    b.scratch = t->scratch;
    t->L->ops->backward(t->L, &b);
}

void lc_random_input(float *x, size_t n, sn_rng *r, int vocab) {
    for (size_t i = 0; i < n; i++) x[i] = vocab > 0 ? (float)sn_rng_below(r, (uint64_t)vocab) : (float)sn_rng_normal(r);
}

static double loss_of(lc_layer *t, const float *x, const uint8_t *mask, int training, const float *rw, float *y,
                      size_t ny) {
    lc_forward(t, x, NULL, y, mask, training, 777, NULL);
    double s = 0;
    for (size_t i = 0; i < ny; i++) s += (double)y[i] * rw[i];
    return s;
}

double lc_gradcheck(lc_layer *t, const float *x0, const uint8_t *mask, int training, double h) {
    size_t nx = (size_t)t->B * sn_shape_phys(&t->L->in);
    size_t ny = (size_t)t->B * sn_shape_phys(&t->L->out);
    float *x = malloc((nx + 1) * sizeof(float)), *y = malloc((ny + 1) * sizeof(float));
    float *rw = malloc((ny + 1) * sizeof(float)), *dx = calloc(nx + 1, sizeof(float));
    float *ga = malloc((t->L->n_params + 1) * sizeof(float));
    memcpy(x, x0, nx * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, 99);
    for (size_t i = 0; i < ny; i++) rw[i] = (float)sn_rng_normal(&r);
    loss_of(t, x, mask, training, rw, y, ny);
    int dense_in = t->L->in.rep == SN_REP_DENSE;
    lc_backward(t, x, NULL, y, rw, dense_in ? dx : NULL, mask);
    memcpy(ga, t->g, t->L->n_params * sizeof(float));
    double worst = 0;
    const char *wname = "";
    size_t widx = 0;
    double wa = 0, wn = 0;
    /* parameters */
    for (size_t i = 0; i < t->L->n_params; i++) {
        int trainable = 0;
        for (int k = 0; k < t->L->n_tensors; k++)
            if (i >= t->L->tensors[k].offset && i < t->L->tensors[k].offset + t->L->tensors[k].numel)
                trainable = t->L->tensors[k].trainable;
        if (!trainable) continue;
        float old = t->w[i];
        t->w[i] = (float)(old + h);
        double lp = loss_of(t, x, mask, training, rw, y, ny);
        t->w[i] = (float)(old - h);
        double lm = loss_of(t, x, mask, training, rw, y, ny);
        t->w[i] = old;
        double num = (lp - lm) / (2 * h), an = ga[i];
        double err = fabs(an - num) / fmax(fabs(an) + fabs(num), 1e-2);
        if (err > worst) { worst = err; wname = "param"; widx = i; wa = an; wn = num; }
    }
    if (dense_in) {
        for (size_t i = 0; i < nx; i++) {
            float old = x[i];
            x[i] = (float)(old + h);
            double lp = loss_of(t, x, mask, training, rw, y, ny);
            x[i] = (float)(old - h);
            double lm = loss_of(t, x, mask, training, rw, y, ny);
            x[i] = old;
            double num = (lp - lm) / (2 * h), an = dx[i];
            double err = fabs(an - num) / fmax(fabs(an) + fabs(num), 1e-2);
            if (err > worst) { worst = err; wname = "input"; widx = i; wa = an; wn = num; }
        }
    }
    if (worst > 1e-3)
        fprintf(stderr, "    gradcheck worst: %s[%zu] analytic %.7g numeric %.7g (rel %.3g)\n", wname, widx, wa, wn, worst);
    free(x); free(y); free(rw); free(dx); free(ga);
    return worst;
}

/* Central difference of the loss in entry *v at step h; *curv gets the
 * second difference (L+ − 2·L0 + L−) / h² (l0: the loss at the point). */
static double cdiff(lc_layer *t, float *v, const float *x, const uint8_t *mask, int training, const float *rw,
                    float *y, size_t ny, double h, double l0, double *curv) {
    float old = *v;
    *v = (float)(old + h);
    double lp = loss_of(t, x, mask, training, rw, y, ny);
    *v = (float)(old - h);
    double lm = loss_of(t, x, mask, training, rw, y, ny);
    *v = old;
    *curv = fmax(*curv, fabs(lp - 2 * l0 + lm) / (h * h));
    return (lp - lm) / (2 * h);
}

static int is_trainable(const sn_layer *L, size_t i) {
    for (int k = 0; k < L->n_tensors; k++)
        if (i >= L->tensors[k].offset && i < L->tensors[k].offset + L->tensors[k].numel)
            return L->tensors[k].trainable;
    return 0;
}

double lc_gradcheck_measured(lc_layer *t, const float *x0, const uint8_t *mask, int training, double h) {
    size_t nx = (size_t)t->B * sn_shape_phys(&t->L->in);
    size_t ny = (size_t)t->B * sn_shape_phys(&t->L->out);
    int dense_in = t->L->in.rep == SN_REP_DENSE;
    size_t np = t->L->n_params, ne = np + (dense_in ? nx : 0);
    float *x = malloc((nx + 1) * sizeof(float)), *y = malloc((ny + 1) * sizeof(float));
    float *rw = malloc((ny + 1) * sizeof(float)), *dx = calloc(nx + 1, sizeof(float));
    double *an = malloc((ne + 1) * sizeof(double)), *d1 = malloc((ne + 1) * sizeof(double));
    double *d11 = malloc((ne + 1) * sizeof(double)), *kk = calloc(ne + 1, sizeof(double));
    uint8_t *use = calloc(ne + 1, 1);
    memcpy(x, x0, nx * sizeof(float));
    sn_rng r;
    sn_rng_seed(&r, 99);
    for (size_t i = 0; i < ny; i++) rw[i] = (float)sn_rng_normal(&r);
    double l0 = loss_of(t, x, mask, training, rw, y, ny);
    lc_backward(t, x, NULL, y, rw, dense_in ? dx : NULL, mask);
    double nu = 0;
    for (size_t e = 0; e < ne; e++) {
        float *v = e < np ? &t->w[e] : &x[e - np];
        if (e < np && !is_trainable(t->L, e)) continue;
        use[e] = 1;
        an[e] = e < np ? t->g[e] : dx[e - np];
        d1[e] = cdiff(t, v, x, mask, training, rw, y, ny, h, l0, &kk[e]);
        d11[e] = cdiff(t, v, x, mask, training, rw, y, ny, 1.1 * h, l0, &kk[e]);
        (void)cdiff(t, v, x, mask, training, rw, y, ny, 2 * h, l0, &kk[e]);
        nu = fmax(nu, fabs(d1[e] - d11[e]));
    }
    double worst = 0;
    size_t wi = 0;
    for (size_t e = 0; e < ne; e++) {
        if (!use[e]) continue;
        double tol = 2 * nu + h * kk[e] + 1e-12;
        double q = fabs(an[e] - d1[e]) / tol;
        if (q > worst) { worst = q; wi = e; }
    }
    if (worst > 0.5)
        fprintf(stderr, "    gradcheck worst: %s[%zu] analytic %.7g numeric %.7g (noise %.3g, ratio %.3g)\n",
                wi < np ? "param" : "input", wi < np ? wi : wi - np, an[wi], d1[wi], nu, worst);
    free(x); free(y); free(rw); free(dx); free(an); free(d1); free(d11); free(kk); free(use);
    return worst;
}

double lc_gamma(double n) {
    const double u = 1.0 / 16777216.0; /* 2^-24 */
    return n * u / (1.0 - n * u);
}

static double ref_ratio(const char *what, const float *a, const float *rf, const double *rd, const double *m,
                        size_t count, double n) {
    double g = lc_gamma(n), scale = 0, worst = 0;
    size_t wi = 0;
    if (!m)
        for (size_t i = 0; i < count; i++) scale = fmax(scale, fabs(rf ? (double)rf[i] : rd[i]));
    for (size_t i = 0; i < count; i++) {
        double r = rf ? (double)rf[i] : rd[i];
        double M = m ? m[i] : fabs(r) + scale;
        double q = fabs((double)a[i] - r) / (g * M + 1e-300);
        if (!(q <= worst)) {
            worst = q;
            wi = i;
        }
    }
    if (!(worst <= 1))
        fprintf(stderr, "    %s[%zu]: %.9g vs reference %.9g: %.3g times the bound (n = %.0f roundings)\n", what, wi,
                a[wi], rf ? (double)rf[wi] : rd[wi], worst, n);
    return worst;
}

double lc_ref_ratio(const char *what, const float *a, const float *r, size_t count, double n) {
    return ref_ratio(what, a, r, NULL, NULL, count, n);
}

double lc_ref_ratio_m(const char *what, const float *a, const double *r, const double *m, size_t count, double n) {
    return ref_ratio(what, a, NULL, r, m, count, n);
}

int lc_close(double a, double r, double n, double m) { return fabs(a - r) <= lc_gamma(n) * m; }
