/* compile / fit / evaluate / predict, the Keras callbacks (ModelCheckpoint,
 * EarlyStopping, TerminateOnNaN), History, and crash-safe resume state. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "model/model_impl.h"
#include "fit/train_state.h"

double sn_logs_get(const sn_logs *l, const char *key) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->key[i], key)) return l->val[i];
    return NAN;
}

static void logs_set(sn_logs *l, const char *key, double v) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->key[i], key)) {
            l->val[i] = v;
            return;
        }
    if (l->n >= SN_LOGS_MAX) return;
    snprintf(l->key[l->n], sizeof l->key[0], "%s", key);
    l->val[l->n++] = v;
}

void sn_fit_opts_default(sn_fit_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->batch_size = 32;
    o->shuffle = 1;
    o->early_stopping_patience = -1;
}

sn_status sn_model_compile(sn_model *m, const sn_optimizer_cfg *opt, sn_loss_kind loss, const sn_metric_kind *metrics,
                           int n_metrics) {
    if (!m || !opt) return sn_error(SN_ERR_ARG, "sn_model_compile: NULL argument");
    if (n_metrics < 0 || n_metrics > 4) return sn_error(SN_ERR_ARG, "at most 4 metrics, got %d", n_metrics);
    size_t rows, width;
    sn_model_loss_layout(m, 1, &rows, &width);
    if ((loss == SN_LOSS_BCE || loss == SN_LOSS_BCE_LOGITS) && width < 1)
        return sn_error(SN_ERR_SHAPE, "binary crossentropy needs an output");
    sn_optimizer_free(&m->opt);
    sn_status st = sn_optimizer_init(&m->opt, opt, m->n_params);
    if (st) return st;
    m->loss = loss;
    m->n_metrics = n_metrics;
    for (int i = 0; i < n_metrics; i++) m->metrics[i] = metrics[i];
    m->compiled = 1;
    return SN_OK;
}

/* Log key of metric i: the Keras name the user would see ("mae", "accuracy"). */
static const char *metric_key(const sn_model *m, int i) { return sn_metric_name(m->metrics[i]); }

/* "accuracy" means binary, categorical or sparse categorical accuracy
 * depending on the loss and output width, as Keras decides at compile. */
static sn_metric_kind resolved_metric(const sn_model *m, int i) {
    size_t rows, width;
    sn_model_loss_layout(m, 1, &rows, &width);
    return sn_metric_resolve(m->metrics[i], m->loss, width);
}

/* Fills the batch for idx[0..B) into the arena. */
static sn_status load_batch(sn_model *m, const sn_dataset *d, const size_t *idx, int B, sn_csr *csr, int *has_csr) {
    sn_batch b;
    memset(&b, 0, sizeof b);
    b.B = B;
    b.x = m->act[0];
    b.y = m->ytrue;
    sn_status st = d->fill(d->ctx, idx, B, &b);
    if (st) return st;
    *has_csr = 0;
    if (m->in_shape.rep == SN_REP_SPARSE) {
        if (!b.sp_row_ptr || !b.sp_col || !b.sp_val)
            return sn_error(SN_ERR_ARG, "the model takes a sparse input but the dataset gave a dense batch");
        csr->rows = B;
        csr->row_ptr = b.sp_row_ptr;
        csr->col = b.sp_col;
        csr->val = b.sp_val;
        *has_csr = 1;
    }
    return sn_model_check_input(m, B, *has_csr ? csr : NULL);
}

static sn_status check_dataset(const sn_model *m, const sn_dataset *d, const char *what, int need_y) {
    if (!d || !d->fill || d->n == 0) return sn_error(SN_ERR_ARG, "%s dataset is empty", what);
    if (d->x_numel != sn_model_input_numel(m))
        return sn_error(SN_ERR_SHAPE, "%s samples have %zu input values but the model takes %zu", what, d->x_numel,
                        sn_model_input_numel(m));
    if ((m->in_shape.rep == SN_REP_SPARSE) != (d->sparse != 0))
        return sn_error(SN_ERR_SHAPE, "%s dataset is %s but the model input is %s", what, d->sparse ? "sparse" : "dense",
                        m->in_shape.rep == SN_REP_SPARSE ? "sparse" : "dense");
    if (need_y) {
        size_t rows, width;
        sn_model_loss_layout(m, 1, &rows, &width);
        size_t want = m->loss == SN_LOSS_SCCE ? rows : rows * width;
        if (d->y_numel != want)
            return sn_error(SN_ERR_SHAPE, "%s targets have %zu values per sample but the model output needs %zu", what,
                            d->y_numel, want);
    }
    return SN_OK;
}

/* Loss rows weights from the output mask (sequence outputs), or NULL. */
static const float *row_weights(sn_model *m, int B) {
    const sn_shape *o = &m->layers[m->n_layers - 1]->out;
    const uint8_t *mk = m->mask[m->n_layers];
    if (o->rank != 2 || !mk) return NULL;
    size_t n = (size_t)B * (size_t)o->d[0];
    for (size_t i = 0; i < n; i++) m->rowweight[i] = mk[i] ? 1.0f : 0.0f;
    return m->rowweight;
}

/* Fresh epoch accumulators for the compiled metrics. */
static void metrics_init(const sn_model *m, sn_metric_acc acc[4]) {
    for (int i = 0; i < m->n_metrics; i++) {
        acc[i].kind = resolved_metric(m, i);
        acc[i].logits = m->loss == SN_LOSS_BCE_LOGITS;
        sn_metric_reset(&acc[i]);
    }
}

/* Runs the model in inference mode over `data` in order, batch by batch, and
 * calls `each` after every forward pass (outputs in act[n_layers], targets in
 * ytrue). Shared by evaluate and predict. */
typedef void (*batch_fn)(sn_model *m, size_t first, int nb, void *user);
static sn_status infer_batches(sn_model *m, const sn_dataset *data, int batch_size, const char *what, batch_fn each,
                               void *user) {
    if (batch_size <= 0) return sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", batch_size);
    int B = (int)SN_MIN((size_t)batch_size, data->n);
    sn_status st = sn_model_plan(m, B);
    if (st) return st;
    size_t *idx = sn_malloc((size_t)B, sizeof(size_t));
    if (!idx) return SN_ERR_NOMEM;
    for (size_t s = 0; s < data->n; s += (size_t)B) {
        int nb = (int)SN_MIN((size_t)B, data->n - s);
        for (int i = 0; i < nb; i++) idx[i] = s + (size_t)i;
        sn_csr csr;
        int has;
        if ((st = load_batch(m, data, idx, nb, &csr, &has))) {
            free(idx);
            return sn_error_prefix(st, "%s batch at sample %zu", what, s);
        }
        sn_model_forward(m, nb, has ? &csr : NULL, 0);
        each(m, s, nb, user);
    }
    free(idx);
    return SN_OK;
}

typedef struct eval_acc {
    sn_metric_acc acc[4];
    double ltot, lcnt;
} eval_acc;

static void eval_batch(sn_model *m, size_t first, int nb, void *user) {
    (void)first;
    eval_acc *e = user;
    size_t rows, width;
    sn_model_loss_layout(m, nb, &rows, &width);
    const float *rw = row_weights(m, nb);
    double l = sn_loss_eval(m->loss, m->act[m->n_layers], m->ytrue, rw, rows, width, NULL);
    e->ltot += l * nb;
    e->lcnt += nb;
    for (int i = 0; i < m->n_metrics; i++) sn_metric_update(&e->acc[i], m->act[m->n_layers], m->ytrue, rw, rows, width);
}

sn_status sn_model_evaluate(sn_model *m, const sn_dataset *data, int batch_size, sn_logs *out) {
    if (!m || !out) return sn_error(SN_ERR_ARG, "sn_model_evaluate: NULL argument");
    if (!m->compiled) return sn_error(SN_ERR_STATE, "model is not compiled");
    sn_status st = check_dataset(m, data, "evaluation", 1);
    if (st) return st;
    eval_acc e = {0};
    metrics_init(m, e.acc);
    if ((st = infer_batches(m, data, batch_size, "evaluation", eval_batch, &e))) return st;
    memset(out, 0, sizeof *out);
    logs_set(out, "loss", e.ltot / e.lcnt);
    for (int i = 0; i < m->n_metrics; i++) logs_set(out, metric_key(m, i), sn_metric_result(&e.acc[i]));
    return SN_OK;
}

typedef struct pred_out {
    float *out;
    size_t on;
} pred_out;

static void pred_batch(sn_model *m, size_t first, int nb, void *user) {
    pred_out *p = user;
    memcpy(p->out + first * p->on, m->act[m->n_layers], (size_t)nb * p->on * sizeof(float));
}

sn_status sn_model_predict(sn_model *m, const sn_dataset *data, int batch_size, float *out) {
    if (!m || !out) return sn_error(SN_ERR_ARG, "sn_model_predict: NULL argument");
    sn_status st = check_dataset(m, data, "prediction", 0);
    if (st) return st;
    /* The dataset may write targets into ytrue; they are not used. */
    pred_out p = {out, sn_model_output_numel(m)};
    return infer_batches(m, data, batch_size, "prediction", pred_batch, &p);
}

/* ---- History ---- */
void sn_history_free(sn_history *h) {
    if (!h) return;
    free(h->val);
    free(h->seconds);
    memset(h, 0, sizeof *h);
}

static sn_status history_add(sn_history *h, const sn_logs *l, double secs) {
    if (h->epochs == h->cap) {
        int nc = h->cap ? h->cap * 2 : 16;
        double *nv = sn_realloc(h->val, (size_t)nc * SN_LOGS_MAX, sizeof(double));
        if (!nv) return SN_ERR_NOMEM;
        h->val = nv;
        double *ns = sn_realloc(h->seconds, (size_t)nc, sizeof(double));
        if (!ns) return SN_ERR_NOMEM;
        h->seconds = ns;
        h->cap = nc;
    }
    if (h->n_keys == 0) {
        h->n_keys = l->n;
        for (int i = 0; i < l->n; i++) memcpy(h->key[i], l->key[i], sizeof h->key[0]);
    }
    for (int k = 0; k < h->n_keys; k++) h->val[(size_t)h->epochs * SN_LOGS_MAX + k] = sn_logs_get(l, h->key[k]);
    h->seconds[h->epochs] = secs;
    h->epochs++;
    return SN_OK;
}

const double *sn_history_column(const sn_history *h, const char *key, double *tmp) {
    for (int k = 0; k < h->n_keys; k++)
        if (!strcmp(h->key[k], key)) {
            for (int e = 0; e < h->epochs; e++) tmp[e] = h->val[(size_t)e * SN_LOGS_MAX + k];
            return tmp;
        }
    return NULL;
}

/* Growable text buffer for the CSV / JSON writers. */
typedef struct tbuf {
    char *s;
    size_t n, cap;
} tbuf;

static int tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tb_printf(tbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return -1;
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return 0;
        }
        size_t nc = (b->cap + (size_t)k + 64) * 2;
        char *ns = realloc(b->s, nc);
        if (!ns) return -1;
        b->s = ns;
        b->cap = nc;
    }
}

sn_status sn_history_write_csv(const sn_history *h, const char *path) {
    tbuf b = {0};
    int bad = tb_printf(&b, "epoch");
    for (int k = 0; k < h->n_keys; k++) bad |= tb_printf(&b, ",%s", h->key[k]);
    bad |= tb_printf(&b, ",seconds\n");
    for (int e = 0; e < h->epochs; e++) {
        bad |= tb_printf(&b, "%d", e + 1);
        for (int k = 0; k < h->n_keys; k++) bad |= tb_printf(&b, ",%.9g", h->val[(size_t)e * SN_LOGS_MAX + k]);
        bad |= tb_printf(&b, ",%.3f\n", h->seconds[e]);
    }
    sn_status st = bad ? sn_error(SN_ERR_NOMEM, "out of memory writing %s", path) : sn_file_write_atomic(path, b.s, b.n);
    free(b.s);
    return st;
}

sn_status sn_history_write_json(const sn_history *h, const char *path) {
    tbuf b = {0};
    int bad = tb_printf(&b, "{");
    for (int k = 0; k <= h->n_keys; k++) {
        bad |= tb_printf(&b, "%s\n  \"%s\": [", k ? "," : "", k < h->n_keys ? h->key[k] : "seconds");
        for (int e = 0; e < h->epochs; e++) {
            double v = k < h->n_keys ? h->val[(size_t)e * SN_LOGS_MAX + k] : h->seconds[e];
            if (isfinite(v))
                bad |= tb_printf(&b, "%s%.9g", e ? ", " : "", v);
            else
                bad |= tb_printf(&b, "%snull", e ? ", " : "");
        }
        bad |= tb_printf(&b, "]");
    }
    bad |= tb_printf(&b, "\n}\n");
    sn_status st = bad ? sn_error(SN_ERR_NOMEM, "out of memory writing %s", path) : sn_file_write_atomic(path, b.s, b.n);
    free(b.s);
    return st;
}

/* ---- Monitors ---- */
static int improved(const char *key, double cur, double best, double min_delta, int have_best) {
    if (!isfinite(cur)) return 0;
    if (!have_best) return 1;
    if (sn_metric_higher_is_better(key)) return cur - min_delta > best;
    return cur + min_delta < best;
}

static uint64_t epoch_seed(uint64_t seed, int epoch) { return seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(epoch + 1)); }

static int grads_finite(const sn_model *m) {
    for (int s = 0; s < m->n_seg; s++) {
        const float *g = m->grads + m->seg[s].offset;
        float acc = 0;
        for (size_t i = 0; i < m->seg[s].n; i++) acc += g[i] * 0.0f;
        if (acc != 0.0f) return 0; /* NaN*0 = NaN, Inf*0 = NaN: any non-finite makes acc NaN */
    }
    return 1;
}

sn_status sn_model_fit(sn_model *m, const sn_dataset *train, const sn_fit_opts *o, sn_history *hist) {
    if (!m || !train || !o) return sn_error(SN_ERR_ARG, "sn_model_fit: NULL argument");
    if (!m->compiled) return sn_error(SN_ERR_STATE, "model is not compiled: call sn_model_compile first");
    sn_status st = check_dataset(m, train, "training", 1);
    if (st) return st;
    if (o->val && (st = check_dataset(m, o->val, "validation", 1))) return st;
    if (o->epochs <= 0) return sn_error(SN_ERR_ARG, "epochs must be > 0, got %d", o->epochs);
    if (o->batch_size <= 0) return sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", o->batch_size);
    int B = (int)SN_MIN((size_t)o->batch_size, train->n);
    if ((st = sn_model_plan(m, B))) return st;

    sn_history local_hist = {0};
    sn_history *h = hist ? hist : &local_hist;
    sn_train_state ts;
    sn_train_state_init(&ts);
    const char *ck_mon = o->checkpoint_monitor ? o->checkpoint_monitor : (o->val ? "val_loss" : "loss");
    const char *es_mon = o->early_stopping_monitor ? o->early_stopping_monitor : (o->val ? "val_loss" : "loss");
    float *best_w = NULL;
    size_t *idx = sn_malloc(train->n, sizeof(size_t));
    if (!idx) return SN_ERR_NOMEM;
    if (o->restore_best_weights && o->early_stopping_patience >= 0) {
        best_w = sn_malloc(m->n_params + 1, sizeof(float));
        if (!best_w) {
            free(idx);
            return SN_ERR_NOMEM;
        }
    }
    /* Resume: weights, optimizer, RNG, epoch, history, monitors. */
    if (o->resume && o->resume_path) {
        st = sn_train_state_load(m, o->resume_path, &ts, h, best_w);
        if (st == SN_ERR_IO && ts.missing) st = SN_OK; /* nothing to resume from: start fresh */
        if (st) goto out;
    }
    size_t steps = (train->n + (size_t)B - 1) / (size_t)B;
    for (int epoch = ts.epoch_done; epoch < o->epochs; epoch++) {
        /* An epoch interrupted by a signal resumes at its next step with its
         * running sums; the shuffle is a function of (seed, epoch) and the
         * dropout RNG was saved, so the result equals an uninterrupted run. */
        size_t first_step = ts.step_done > 0 ? (size_t)ts.step_done : 0;
        double t0 = sn_time_now() - (first_step ? ts.elapsed : 0);
        for (size_t i = 0; i < train->n; i++) idx[i] = i;
        if (o->shuffle) {
            sn_rng sr;
            sn_rng_seed(&sr, epoch_seed(o->seed, epoch));
            sn_rng_shuffle(&sr, idx, train->n);
        }
        sn_metric_acc acc[4];
        metrics_init(m, acc);
        double ltot = 0, lcnt = 0;
        if (first_step) {
            ltot = ts.ltot;
            lcnt = ts.lcnt;
            for (int i = 0; i < m->n_metrics; i++) {
                acc[i].total = ts.mtotal[i];
                acc[i].count = ts.mcount[i];
            }
            ts.step_done = 0;
        }
        sn_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.epoch = epoch + 1;
        pr.epochs = o->epochs;
        pr.steps = (int)steps;
        for (size_t step = first_step; step < steps; step++) {
            size_t s0 = step * (size_t)B;
            int nb = (int)SN_MIN((size_t)B, train->n - s0);
            sn_csr csr;
            int has;
            if ((st = load_batch(m, train, idx + s0, nb, &csr, &has))) {
                sn_error_prefix(st, "epoch %d step %zu", epoch + 1, step + 1);
                goto out;
            }
            sn_model_forward(m, nb, has ? &csr : NULL, 1);
            size_t rows, width;
            sn_model_loss_layout(m, nb, &rows, &width);
            const float *rw = row_weights(m, nb);
            float *dlast = m->dbuf[m->n_layers % 2];
            double l = sn_loss_eval(m->loss, m->act[m->n_layers], m->ytrue, rw, rows, width, dlast);
            if (!isfinite(l)) {
                st = sn_error(SN_ERR_NUMERIC,
                              "loss is %s at epoch %d step %zu: training stopped (TerminateOnNaN); the last saved "
                              "checkpoint is unchanged",
                              isnan(l) ? "NaN" : "Inf", epoch + 1, step + 1);
                goto out;
            }
            sn_model_backward(m, nb, has ? &csr : NULL, dlast);
            if (!grads_finite(m)) {
                st = sn_error(SN_ERR_NUMERIC,
                              "gradient holds NaN or Inf at epoch %d step %zu: training stopped; the last saved "
                              "checkpoint is unchanged",
                              epoch + 1, step + 1);
                goto out;
            }
            if ((st = sn_optimizer_step(&m->opt, m->params, m->grads, m->seg, m->n_seg))) goto out;
            ltot += l * nb;
            lcnt += nb;
            for (int i = 0; i < m->n_metrics; i++)
                sn_metric_update(&acc[i], m->act[m->n_layers], m->ytrue, rw, rows, width);
            if (o->progress) {
                pr.step = (int)step + 1;
                pr.elapsed = sn_time_now() - t0;
                pr.logs.n = 0;
                logs_set(&pr.logs, "loss", ltot / lcnt);
                for (int i = 0; i < m->n_metrics; i++) logs_set(&pr.logs, metric_key(m, i), sn_metric_result(&acc[i]));
                pr.done = 0;
                if (step + 1 < steps) o->progress(&pr, o->user);
            }
            if (o->stop_flag && *o->stop_flag && step + 1 < steps) {
                /* The step is finished: save where this epoch stands, then stop. */
                if (o->resume_path) {
                    ts.step_done = (int)step + 1;
                    ts.ltot = ltot;
                    ts.lcnt = lcnt;
                    ts.elapsed = sn_time_now() - t0;
                    for (int i = 0; i < m->n_metrics; i++) {
                        ts.mtotal[i] = acc[i].total;
                        ts.mcount[i] = acc[i].count;
                    }
                    if ((st = sn_train_state_save(m, o->resume_path, &ts, h, best_w))) goto out;
                    st = sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d step %zu; state saved to %s",
                                  epoch + 1, step + 1, o->resume_path);
                } else {
                    st = sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d step %zu (no resume path: not saved)",
                                  epoch + 1, step + 1);
                }
                goto out;
            }
        }
        sn_logs logs;
        memset(&logs, 0, sizeof logs);
        logs_set(&logs, "loss", ltot / lcnt);
        for (int i = 0; i < m->n_metrics; i++) logs_set(&logs, metric_key(m, i), sn_metric_result(&acc[i]));
        if (o->val) {
            sn_logs vl;
            if ((st = sn_model_evaluate(m, o->val, o->batch_size, &vl))) goto out;
            for (int i = 0; i < vl.n; i++) {
                char k[40];
                snprintf(k, sizeof k, "val_%s", vl.key[i]);
                logs_set(&logs, k, vl.val[i]);
            }
        }
        double secs = sn_time_now() - t0;
        if ((st = history_add(h, &logs, secs))) goto out;
        if (o->progress) {
            pr.step = (int)steps;
            pr.elapsed = secs;
            pr.logs = logs;
            pr.done = 1;
            o->progress(&pr, o->user);
        }
        /* ModelCheckpoint */
        double cv = sn_logs_get(&logs, ck_mon);
        if (o->checkpoint_path) {
            if (isnan(cv) && o->save_best_only) sn_log(SN_LOG_WARN, "checkpoint monitor '%s' not in logs; saving anyway", ck_mon);
            if (!o->save_best_only || isnan(cv) || improved(ck_mon, cv, ts.best_ckpt, 0, ts.have_best_ckpt)) {
                if ((st = sn_model_save(m, o->checkpoint_path))) goto out;
                sn_log(SN_LOG_INFO, "epoch %d: %s %s %.5g, saved %s", epoch + 1, ck_mon,
                       ts.have_best_ckpt ? "improved to" : "=", cv, o->checkpoint_path);
            }
        }
        if (isfinite(cv) && improved(ck_mon, cv, ts.best_ckpt, 0, ts.have_best_ckpt)) {
            ts.best_ckpt = cv;
            ts.have_best_ckpt = 1;
        }
        /* EarlyStopping (Keras 3 semantics) */
        int stop = 0;
        if (o->early_stopping_patience >= 0) {
            double ev = sn_logs_get(&logs, es_mon);
            if (!isnan(ev)) {
                ts.wait++;
                if (improved(es_mon, ev, ts.best_es, o->early_stopping_min_delta, ts.have_best_es)) {
                    ts.best_es = ev;
                    ts.have_best_es = 1;
                    ts.wait = 0;
                    if (best_w) memcpy(best_w, m->params, m->n_params * sizeof(float));
                } else if (ts.wait >= o->early_stopping_patience && epoch > 0) {
                    stop = 1;
                    sn_log(SN_LOG_INFO, "epoch %d: early stopping (%s did not improve for %d epochs)", epoch + 1, es_mon,
                           ts.wait);
                }
            }
        }
        ts.epoch_done = epoch + 1;
        if (o->resume_path && (st = sn_train_state_save(m, o->resume_path, &ts, h, best_w))) goto out;
        if (stop) break;
        if (o->stop_flag && *o->stop_flag && epoch + 1 < o->epochs) {
            st = sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d%s%s", epoch + 1,
                          o->resume_path ? "; state saved to " : " (no resume path: not saved)",
                          o->resume_path ? o->resume_path : "");
            goto out;
        }
    }
    if (best_w && ts.have_best_es) memcpy(m->params, best_w, m->n_params * sizeof(float));
out:
    free(idx);
    free(best_w);
    if (!hist) sn_history_free(&local_hist);
    return st;
}
