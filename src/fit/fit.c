/* The training loop: sn_model_fit with the Keras callbacks
 * (ModelCheckpoint, EarlyStopping, TerminateOnNaN), interruption and resume
 * (train_state.c), history rows (history.c). */
#include <math.h>
#include <string.h>

#include "fit/history.h"
#include "fit/train_state.h"

void sn_fit_opts_default(sn_fit_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1;
    o->batch_size = 32;
    o->shuffle = 1;
    o->early_stopping_patience = -1;
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
    sn_status st = sn_model_check_dataset(m, train, "training", 1);
    if (st) return st;
    if (o->val && (st = sn_model_check_dataset(m, o->val, "validation", 1))) return st;
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
        sn_model_metrics_init(m, acc);
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
            if ((st = sn_model_load_batch(m, train, idx + s0, nb, &csr, &has))) {
                sn_error_prefix(st, "epoch %d step %zu", epoch + 1, step + 1);
                goto out;
            }
            sn_model_forward(m, nb, has ? &csr : NULL, 1);
            size_t rows, width;
            sn_model_loss_layout(m, nb, &rows, &width);
            const float *rw = sn_model_row_weights(m, nb);
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
                sn_logs_set(&pr.logs, "loss", ltot / lcnt);
                for (int i = 0; i < m->n_metrics; i++) sn_logs_set(&pr.logs, sn_model_metric_key(m, i), sn_metric_result(&acc[i]));
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
        sn_logs_set(&logs, "loss", ltot / lcnt);
        for (int i = 0; i < m->n_metrics; i++) sn_logs_set(&logs, sn_model_metric_key(m, i), sn_metric_result(&acc[i]));
        if (o->val) {
            sn_logs vl;
            if ((st = sn_model_evaluate(m, o->val, o->batch_size, &vl))) goto out;
            for (int i = 0; i < vl.n; i++) {
                char k[40];
                snprintf(k, sizeof k, "val_%s", vl.key[i]);
                sn_logs_set(&logs, k, vl.val[i]);
            }
        }
        double secs = sn_time_now() - t0;
        if ((st = sn_history_add(h, &logs, secs))) goto out;
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
