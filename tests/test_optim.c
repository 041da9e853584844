/* Optimizers: 20-step trajectories against the Keras 3 formulas written in
 * torch and against torch.optim where it shares the maths
 * (tests/gen_train_fixtures.py explains which), validation, and bit-identical
 * results for 1 and 2 threads. */
#include <stdlib.h>
#include "seqnn.h"
#include "seqnn/train.h"
#include "test.h"

typedef struct {
    const char *name;
    sn_opt_kind kind;
    double lr, momentum;
    int nesterov;
    int centered, legacy;
    double eps, clipnorm, clipvalue, gclip, wd;
} opt_case;

/* Same table as case_table() in tests/gen_train_fixtures.py (checked against
 * the stored "<name>/cfg" vectors). rho 0.9, beta 0.9/0.999 throughout. */
#define CLIPS(nm, k, lr, mom, nest, cen)                                   \
    {nm, k, lr, mom, nest, cen, 0, 1e-7, 0, 0, 0, 0},                      \
    {nm "_clipnorm", k, lr, mom, nest, cen, 0, 1e-7, 0.5, 0, 0, 0},        \
    {nm "_clipvalue", k, lr, mom, nest, cen, 0, 1e-7, 0, 0.1, 0, 0},       \
    {nm "_gclip", k, lr, mom, nest, cen, 0, 1e-7, 0, 0, 0.5, 0}
static const opt_case cases[] = {
    CLIPS("sgd", SN_OPT_SGD, 0.05, 0, 0, 0),
    CLIPS("sgd_mom", SN_OPT_SGD, 0.05, 0.9, 0, 0),
    CLIPS("sgd_nesterov", SN_OPT_SGD, 0.05, 0.9, 1, 0),
    CLIPS("rmsprop", SN_OPT_RMSPROP, 0.01, 0, 0, 0),
    CLIPS("rmsprop_centered", SN_OPT_RMSPROP, 0.01, 0, 0, 1),
    CLIPS("rmsprop_mom", SN_OPT_RMSPROP, 0.01, 0.9, 0, 0),
    CLIPS("rmsprop_centered_mom", SN_OPT_RMSPROP, 0.01, 0.9, 0, 1),
    CLIPS("adam", SN_OPT_ADAM, 0.05, 0, 0, 0),
    {"adam_wd", SN_OPT_ADAM, 0.05, 0, 0, 0, 0, 1e-7, 0, 0, 0, 0.1},
    {"sgd_mom_wd", SN_OPT_SGD, 0.05, 0.9, 0, 0, 0, 1e-7, 0, 0, 0, 0.1},
    {"rmsprop_legacy", SN_OPT_RMSPROP, 0.01, 0, 0, 0, 1, 1e-7, 0, 0, 0, 0},
    {"rmsprop_legacy_centered", SN_OPT_RMSPROP, 0.01, 0, 0, 1, 1, 1e-7, 0, 0, 0, 0},
    {"rmsprop_legacy_mom", SN_OPT_RMSPROP, 0.01, 0.9, 0, 0, 1, 0.1, 0, 0, 0, 0},
    {"adam_eps", SN_OPT_ADAM, 0.05, 0, 0, 0, 0, 0.1, 0, 0, 0, 0},
    {"rmsprop_eps", SN_OPT_RMSPROP, 0.01, 0, 0, 0, 0, 0.1, 0, 0, 0, 0},
    {"rmsprop_legacy_eps", SN_OPT_RMSPROP, 0.01, 0, 0, 0, 1, 0.1, 0, 0, 0, 0},
};
#define N_CASES (sizeof cases / sizeof *cases)

static sn_optimizer_cfg case_cfg(const opt_case *c) {
    sn_optimizer_cfg g;
    sn_optimizer_cfg_default(&g, c->kind);
    g.lr = c->lr;
    g.momentum = c->momentum;
    g.nesterov = c->nesterov;
    g.centered = c->centered;
    g.legacy_rmsprop_eps = c->legacy;
    g.epsilon = c->eps;
    g.clipnorm = c->clipnorm;
    g.clipvalue = c->clipvalue;
    g.global_clipnorm = c->gclip;
    g.weight_decay = c->wd;
    return g;
}

/* Gradient of mean((X Wᵀ + b − Y)²) over X (16,4), Y (16,2) at params
 * w = [W (2,4) row-major, b (2)], in double, rounded to float (as the generator). */
static void lsq_grad(const float *X, const float *Y, const float *w, float *g) {
    double gd[10] = {0};
    const double scale = 2.0 / 32.0;
    for (int s = 0; s < 16; s++)
        for (int o = 0; o < 2; o++) {
            double e = w[8 + o] - (double)Y[s * 2 + o];
            for (int i = 0; i < 4; i++) e += (double)X[s * 4 + i] * w[o * 4 + i];
            for (int i = 0; i < 4; i++) gd[o * 4 + i] += scale * e * X[s * 4 + i];
            gd[8 + o] += scale * e;
        }
    for (int i = 0; i < 10; i++) g[i] = (float)gd[i];
}

TEST(optim_trajectories_match_reference) {
    sn_fixture *f = sn_fixture_load(sn_test_path("optim_traj.bin"));
    CHECK_MSG(f != NULL, "missing fixture optim_traj.bin (run /usr/bin/python3 tests/gen_train_fixtures.py)");
    const float *X = sn_fixture_get(f, "X", NULL, NULL), *Y = sn_fixture_get(f, "Y", NULL, NULL);
    const float *w0 = sn_fixture_get(f, "w0", NULL, NULL);
    CHECK(X && Y && w0);
    const sn_param_segment seg[2] = {{0, 8}, {8, 2}};
    int n_torch = 0;
    for (size_t c = 0; c < N_CASES; c++) {
        char key[160];
        snprintf(key, sizeof key, "%s/cfg", cases[c].name);
        const float *cf = sn_fixture_get(f, key, NULL, NULL);
        snprintf(key, sizeof key, "%s/traj", cases[c].name);
        const float *traj = sn_fixture_get(f, key, NULL, NULL);
        snprintf(key, sizeof key, "%s/torch", cases[c].name);
        const float *ttraj = sn_fixture_numel(f, key) ? sn_fixture_get(f, key, NULL, NULL) : NULL;
        CHECK_MSG(cf && traj, "case %s missing from the fixture", cases[c].name);
        sn_optimizer_cfg cfg = case_cfg(&cases[c]);
        /* kind lr momentum nesterov rho centered beta1 beta2 eps legacy clipnorm clipvalue gclip wd */
        const double want[14] = {cfg.kind,     cfg.lr,    cfg.momentum, cfg.nesterov,  cfg.rho,
                                 cfg.centered, cfg.beta1, cfg.beta2,    cfg.epsilon,   cfg.legacy_rmsprop_eps,
                                 cfg.clipnorm, cfg.clipvalue, cfg.global_clipnorm, cfg.weight_decay};
        for (int i = 0; i < 14; i++)
            CHECK_MSG(cf[i] == (float)want[i], "case %s: config field %d is %g in the fixture, %g here",
                      cases[c].name, i, cf[i], want[i]);
        sn_optimizer o;
        CHECK_OK(sn_optimizer_init(&o, &cfg, 10));
        float w[10], g[10];
        memcpy(w, w0, sizeof w);
        double worst = 0, worst_t = 0;
        for (int t = 0; t < 20; t++) {
            lsq_grad(X, Y, w, g);
            sn_status st = sn_optimizer_step(&o, w, g, seg, 2);
            if (st != SN_OK) sn_optimizer_free(&o);
            CHECK_OK(st);
            double e = sn_test_max_relerr(w, traj + t * 10, 10, 0.1);
            CHECK_MSG(e < 1e-5, "case %s step %d: relerr %g vs the Keras formula", cases[c].name, t + 1, e);
            if (ttraj) {
                double et = sn_test_max_relerr(w, ttraj + t * 10, 10, 0.1);
                CHECK_MSG(et < 1e-5, "case %s step %d: relerr %g vs torch.optim", cases[c].name, t + 1, et);
                worst_t = fmax(worst_t, et);
            }
            worst = fmax(worst, e);
        }
        CHECK(o.iterations == 20);
        n_torch += ttraj != NULL;
        sn_optimizer_free(&o);
    }
    CHECK(n_torch == 7); /* sgd x3, sgd_clipvalue, rmsprop_legacy x3 against torch.optim */
    sn_fixture_free(f);
}

TEST(optim_formulas_are_distinguished) {
    /* The fixture cases must tell the ε placements apart, or the comparison
     * above could not catch a wrong formula. */
    sn_fixture *f = sn_fixture_load(sn_test_path("optim_traj.bin"));
    CHECK(f != NULL);
    const float *a = sn_fixture_get(f, "rmsprop_eps/traj", NULL, NULL);
    const float *b = sn_fixture_get(f, "rmsprop_legacy_eps/traj", NULL, NULL);
    const float *c = sn_fixture_get(f, "sgd_clipnorm/traj", NULL, NULL);
    const float *d = sn_fixture_get(f, "sgd_gclip/traj", NULL, NULL);
    CHECK(a && b && c && d);
    double e1 = 0, e2 = 0; /* relative differences after the 20th step */
    for (int i = 190; i < 200; i++) {
        e1 = fmax(e1, fabs(a[i] - b[i]) / fmax(fabs(b[i]), 0.1));
        e2 = fmax(e2, fabs(c[i] - d[i]) / fmax(fabs(d[i]), 0.1));
    }
    sn_fixture_free(f);
    CHECK(e1 > 1e-3);
    CHECK(e2 > 1e-3);
}

TEST(optim_first_steps_by_hand) {
    /* Adam's first step moves every weight by lr·g/(|g| + ε/√(1−β2)) ≈ lr·sign(g) */
    sn_optimizer_cfg c;
    sn_optimizer_cfg_default(&c, SN_OPT_ADAM);
    sn_optimizer o;
    CHECK_OK(sn_optimizer_init(&o, &c, 3));
    float w[3] = {1, 1, 1}, g[3] = {2, -0.5f, 0};
    const sn_param_segment seg = {0, 3};
    CHECK_OK(sn_optimizer_step(&o, w, g, &seg, 1));
    CHECK_CLOSE(w[0], 1 - 1e-3, 1e-7, 0);
    CHECK_CLOSE(w[1], 1 + 1e-3, 1e-7, 0);
    CHECK(w[2] == 1.0f);
    sn_optimizer_free(&o);
    /* RMSprop (Keras 3): Δ = lr·g/√(0.1 g² + ε);  legacy: lr·g/(√(0.1 g²) + ε) */
    sn_optimizer_cfg_default(&c, SN_OPT_RMSPROP);
    c.epsilon = 0.5;
    CHECK_OK(sn_optimizer_init(&o, &c, 1));
    float w1 = 0, g1 = 2;
    const sn_param_segment s1 = {0, 1};
    CHECK_OK(sn_optimizer_step(&o, &w1, &g1, &s1, 1));
    CHECK_CLOSE(w1, -1e-3 * 2 / sqrt(0.4 + 0.5), 1e-9, 1e-6);
    sn_optimizer_free(&o);
    c.legacy_rmsprop_eps = 1;
    CHECK_OK(sn_optimizer_init(&o, &c, 1));
    w1 = 0, g1 = 2;
    CHECK_OK(sn_optimizer_step(&o, &w1, &g1, &s1, 1));
    CHECK_CLOSE(w1, -1e-3 * 2 / (sqrt(0.4) + 0.5), 1e-9, 1e-6);
    sn_optimizer_free(&o);
    /* weight decay before the update: w ← w − lr·wd·w, then SGD w ← w − lr·g */
    sn_optimizer_cfg_default(&c, SN_OPT_SGD);
    c.weight_decay = 0.5;
    CHECK_OK(sn_optimizer_init(&o, &c, 1));
    CHECK(o.m == NULL && o.v == NULL && o.u == NULL); /* plain SGD keeps no slot */
    w1 = 2, g1 = 1;
    CHECK_OK(sn_optimizer_step(&o, &w1, &g1, &s1, 1));
    CHECK_CLOSE(w1, 2 - 0.01 * 0.5 * 2 - 0.01, 1e-7, 0);
    sn_optimizer_free(&o);
}

TEST(optim_rejects_bad_config_and_segments) {
    sn_optimizer o;
    sn_optimizer_cfg c;
    sn_optimizer_cfg_default(&c, SN_OPT_ADAM);
    CHECK(c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.epsilon == 1e-7);
    sn_optimizer_cfg d;
    sn_optimizer_cfg_default(&d, SN_OPT_SGD);
    CHECK(d.lr == 0.01);
    sn_optimizer_cfg_default(&d, SN_OPT_RMSPROP);
    CHECK(d.rho == 0.9);
    c.clipnorm = 1;
    c.clipvalue = 1;
    CHECK(sn_optimizer_init(&o, &c, 4) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "only one of") != NULL);
    CHECK(o.m == NULL);
    sn_optimizer_cfg_default(&c, SN_OPT_SGD);
    c.lr = 0;
    CHECK(sn_optimizer_init(&o, &c, 4) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "learning_rate") != NULL);
    sn_optimizer_cfg_default(&c, SN_OPT_RMSPROP);
    c.rho = 1;
    CHECK(sn_optimizer_init(&o, &c, 4) == SN_ERR_ARG);
    sn_optimizer_cfg_default(&c, SN_OPT_SGD);
    c.momentum = -0.1;
    CHECK(sn_optimizer_init(&o, &c, 4) == SN_ERR_ARG);
    c.momentum = 0.9;
    CHECK_OK(sn_optimizer_init(&o, &c, 4));
    float w[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
    const sn_param_segment bad = {3, 2}, huge = {1, (size_t)-1};
    CHECK(sn_optimizer_step(&o, w, g, &bad, 1) == SN_ERR_ARG);
    CHECK(strstr(sn_error_last(), "segment 0") != NULL);
    CHECK(sn_optimizer_step(&o, w, g, &huge, 1) == SN_ERR_ARG);
    CHECK(w[3] == 4 && o.iterations == 0);
    /* only the segments move */
    const sn_param_segment ok = {1, 2};
    CHECK_OK(sn_optimizer_step(&o, w, g, &ok, 1));
    CHECK(w[0] == 1 && w[3] == 4 && w[1] < 2 && w[2] < 3);
    sn_optimizer_free(&o);
    sn_opt_kind k;
    CHECK_OK(sn_optimizer_parse("RMSprop", &k));
    CHECK(k == SN_OPT_RMSPROP);
    CHECK(strcmp(sn_optimizer_name(SN_OPT_ADAM), "adam") == 0);
    CHECK(sn_optimizer_parse("adagrad", &k) == SN_ERR_PARSE);
}

/* Runs 3 steps on a large buffer with `threads` threads; params (n) out. */
static sn_status run_big(const sn_optimizer_cfg *c, int threads, float *params, size_t n) {
    static const sn_param_segment seg[3] = {{0, 100000}, {100000, 150003}, {250003, 7}};
    sn_threads_set(threads);
    sn_rng r;
    sn_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) params[i] = (float)sn_rng_normal(&r);
    float *g = malloc(sizeof(float) * n);
    if (!g) return SN_ERR_NOMEM;
    sn_optimizer o;
    sn_status st = sn_optimizer_init(&o, c, n);
    for (int s = 0; s < 3 && st == SN_OK; s++) {
        for (size_t i = 0; i < n; i++) g[i] = (float)sn_rng_normal(&r) * 0.01f;
        st = sn_optimizer_step(&o, params, g, seg, 3);
    }
    sn_optimizer_free(&o);
    free(g);
    return st;
}

TEST(optim_bit_identical_for_1_and_2_threads) {
    const size_t n = 300000;
    int saved = sn_threads_get();
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *orig = malloc(sizeof(float) * n);
    CHECK(a && b && orig);
    sn_rng r;
    sn_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) orig[i] = (float)sn_rng_normal(&r);
    sn_optimizer_cfg cfgs[4];
    sn_optimizer_cfg_default(&cfgs[0], SN_OPT_ADAM);
    cfgs[0].global_clipnorm = 1.0; /* the global norm is ~5.5: clipping active */
    sn_optimizer_cfg_default(&cfgs[1], SN_OPT_RMSPROP);
    cfgs[1].centered = 1, cfgs[1].momentum = 0.5, cfgs[1].clipnorm = 0.5;
    sn_optimizer_cfg_default(&cfgs[2], SN_OPT_SGD);
    cfgs[2].momentum = 0.9, cfgs[2].nesterov = 1, cfgs[2].clipvalue = 0.005, cfgs[2].weight_decay = 0.01;
    sn_optimizer_cfg_default(&cfgs[3], SN_OPT_RMSPROP);
    cfgs[3].legacy_rmsprop_eps = 1, cfgs[3].global_clipnorm = 2.0;
    int ok = 1;
    for (int c = 0; c < 4 && ok; c++) {
        sn_status s1 = run_big(&cfgs[c], 1, a, n), s2 = run_big(&cfgs[c], 2, b, n);
        ok = s1 == SN_OK && s2 == SN_OK;
        if (ok && memcmp(a, b, sizeof(float) * n) != 0) {
            fprintf(stderr, "    config %d differs between 1 and 2 threads\n", c);
            ok = 0;
        }
        /* the tail outside the segments is untouched, the rest moved */
        for (size_t i = 250010; ok && i < n; i++) ok = a[i] == orig[i];
        ok = ok && a[0] != orig[0] && a[250009] != orig[250009];
    }
    sn_threads_set(saved);
    free(a);
    free(b);
    free(orig);
    CHECK(ok);
}

/* Denormals (issue 9): sn_optimizer_step computes with denormals flushed and
 * gives the caller back its own mode. SGD, lr 1: w = 2.5e-38 − 1.5e-38 =
 * 1e-38, below FLT_MIN (1.1755e-38), a denormal result: flushed to 0 with
 * FTZ, kept without. Both operands are normal, so only the result decides. */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
TEST(optimizer_step_flushes_denormals_and_restores_the_callers_mode) {
    int old = sn_denormals_get();
    unsigned csr0 = _mm_getcsr();
    _mm_setcsr(csr0 & ~0x8040u); /* caller: IEEE denormals */
    float got[2];
    for (int flush = 0; flush < 2; flush++) {
        sn_denormals_set(flush);
        sn_optimizer_cfg c;
        sn_optimizer_cfg_default(&c, SN_OPT_SGD);
        c.lr = 1.0;
        sn_optimizer o;
        CHECK_OK(sn_optimizer_init(&o, &c, 1));
        float w = 2.5e-38f, g = 1.5e-38f;
        sn_param_segment seg = {0, 1};
        sn_status st = sn_optimizer_step(&o, &w, &g, &seg, 1);
        sn_optimizer_free(&o);
        CHECK_OK(st);
        CHECK((_mm_getcsr() & 0x8040u) == 0);
        got[flush] = w;
    }
    _mm_setcsr(csr0);
    sn_denormals_set(old);
    CHECK_MSG(got[0] > 0 && got[0] < 1.1755e-38f, "without flushing: %g", got[0]);
    CHECK_MSG(got[1] == 0.0f, "with flushing: %g", got[1]);
}
#endif
