/* The training loop: sn_model_fit with the Keras callbacks
 * (ModelCheckpoint, EarlyStopping, TerminateOnNaN), interruption and resume
 * (train_state.c), history rows (history.c). */
#include <math.h>
#include <string.h>

#include "fit/chunk.h"
#include "fit/fit_dp.h"
#include "fit/history.h"
#include "fit/train_state.h"
#include "model/dp.h"

/* Fills *o with fit's defaults: 1 epoch, batch 32, shuffling with seed 0,
 * no validation, no checkpoint, early stopping off (patience -1), no resume
 * file, no stop flag, no progress callback. */
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

/* One call of sn_model_fit: its inputs, the state the callbacks keep
 * (ts: also what the resume file saves) and its buffers. */
typedef struct fit_run {
    sn_model *m;
    const sn_dataset *train;
    const sn_fit_opts *o;
    sn_history *h;            /* the caller's history or a local one */
    sn_train_state ts;
    const char *ck_mon;       /* ModelCheckpoint monitor */
    const char *es_mon;       /* EarlyStopping monitor */
    float *best_w;            /* (n_params) best weights for restore_best_weights, or NULL */
    size_t *idx;              /* (train->n) sample order of the epoch */
    int B;                    /* rows per step (batch size, at most n) */
    size_t steps;             /* steps per epoch */
    fit_dp *dp;               /* chunked training (o->chunks > 0), else NULL */
    int dp_stop;              /* the last chunked step saw a rank's stop flag */
    sn_fp_state fp;           /* the caller's floating-point mode, saved on entry */
} fit_run;

/* The running (sample-weighted) sums of one epoch and its progress report. */
typedef struct epoch_run {
    int epoch;                /* 0-based */
    double t0;                /* start time (moved back by a resumed epoch's elapsed time) */
    double ltot, lcnt;        /* loss sum and sample count */
    sn_metric_acc acc[4];
    sn_progress pr;
} epoch_run;

static sn_status check_fit_args(const sn_model *m, const sn_dataset *train, const sn_fit_opts *o) {
    if (!m || !train || !o) return sn_error(SN_ERR_ARG, "sn_model_fit: NULL argument");
    if (!m->compiled) return sn_error(SN_ERR_STATE, "model is not compiled: call sn_model_compile first");
    sn_status st = sn_model_check_dataset(m, train, "training", 1);
    if (st) return st;
    if (o->val && (st = sn_model_check_dataset(m, o->val, "validation", 1))) return st;
    if (o->epochs <= 0) return sn_error(SN_ERR_ARG, "epochs must be > 0, got %d", o->epochs);
    if (o->batch_size <= 0) return sn_error(SN_ERR_ARG, "batch size must be > 0, got %d", o->batch_size);
    if (o->chunks < 0) return sn_error(SN_ERR_ARG, "chunks must be >= 0, got %d", o->chunks);
    if (o->chunks > 0 && o->batch_size % o->chunks)
        return sn_error(SN_ERR_ARG, "batch size %d is not a multiple of %d chunks", o->batch_size, o->chunks);
    if (o->comm && !o->chunks) return sn_error(SN_ERR_ARG, "training over a group of ranks needs chunks > 0");
    return SN_OK;
}

/* Plans the arena, allocates the buffers and, with o->resume, restores
 * weights, optimizer, RNG, epoch, history and monitors from the resume file
 * (a missing file starts fresh). On error the caller still runs fit_end. */
static sn_status fit_begin(fit_run *r) {
    const sn_fit_opts *o = r->o;
    /* chunked: the arena holds one chunk */
    r->B = o->chunks > 0 ? o->batch_size / o->chunks : (int)SN_MIN((size_t)o->batch_size, r->train->n);
    sn_status st = sn_model_plan(r->m, r->B);
    if (st) return st;
    sn_train_state_init(&r->ts);
    r->ck_mon = o->checkpoint_monitor ? o->checkpoint_monitor : (o->val ? "val_loss" : "loss");
    r->es_mon = o->early_stopping_monitor ? o->early_stopping_monitor : (o->val ? "val_loss" : "loss");
    r->idx = sn_malloc(r->train->n, sizeof(size_t));
    if (!r->idx) return SN_ERR_NOMEM;
    if (o->restore_best_weights && o->early_stopping_patience >= 0) {
        r->best_w = sn_malloc(r->m->n_params + 1, sizeof(float));
        if (!r->best_w) return SN_ERR_NOMEM;
    }
    if (o->resume && o->resume_path) {
        st = sn_train_state_load(r->m, o->resume_path, &r->ts, r->h, r->best_w);
        if (st == SN_ERR_IO && r->ts.missing) st = SN_OK; /* nothing to resume from: start fresh */
        if (st) return st;
        /* an interrupted epoch continues in the order it started in */
        if (r->ts.step_done > 0 && r->ts.have_mode &&
            (r->ts.batch_size != o->batch_size || r->ts.chunks != o->chunks))
            return sn_error(SN_ERR_ARG,
                            "%s: the interrupted epoch ran with batch size %d in %d chunks (0: unchunked), this run "
                            "has batch size %d in %d chunks; resume it with the same",
                            o->resume_path, r->ts.batch_size, r->ts.chunks, o->batch_size, o->chunks);
    }
    r->ts.batch_size = o->batch_size;
    r->ts.chunks = o->chunks;
    r->steps = o->chunks > 0 ? sn_chunk_steps(r->train->n, o->chunks, (size_t)r->B)
                             : (r->train->n + (size_t)r->B - 1) / (size_t)r->B;
    return SN_OK;
}

/* Starts epoch e->epoch: the sample order (a function of (seed, epoch)) and
 * fresh sums, or, for an epoch a signal interrupted, the saved sums. Returns
 * the first step to run. */
static size_t epoch_begin(fit_run *r, epoch_run *e) {
    const sn_fit_opts *o = r->o;
    sn_train_state *ts = &r->ts;
    size_t first_step = ts->step_done > 0 ? (size_t)ts->step_done : 0;
    e->t0 = sn_time_now() - (first_step ? ts->elapsed : 0);
    if (r->dp) fit_dp_order(r->dp, r->idx, epoch_seed(o->seed, e->epoch), o->shuffle);
    else for (size_t i = 0; i < r->train->n; i++) r->idx[i] = i;
    if (o->shuffle && !r->dp) {
        sn_rng sr;
        sn_rng_seed(&sr, epoch_seed(o->seed, e->epoch));
        sn_rng_shuffle(&sr, r->idx, r->train->n);
    }
    sn_model_metrics_init(r->m, e->acc);
    e->ltot = 0;
    e->lcnt = 0;
    if (first_step) {
        e->ltot = ts->ltot;
        e->lcnt = ts->lcnt;
        for (int i = 0; i < r->m->n_metrics; i++) {
            e->acc[i].total = ts->mtotal[i];
            e->acc[i].count = ts->mcount[i];
        }
        ts->step_done = 0;
    }
    memset(&e->pr, 0, sizeof e->pr);
    e->pr.epoch = e->epoch + 1;
    e->pr.epochs = o->epochs;
    e->pr.steps = (int)r->steps;
    return first_step;
}

/* Chunked training's step (fit_dp.c): the same on every rank; adds the
 * batch into the epoch's sums. */
static sn_status chunked_step(fit_run *r, epoch_run *e, size_t step) {
    fit_dp_result res;
    sn_status st = fit_dp_step(r->dp, r->idx, step, e->epoch, &res);
    if (st) return st;
    e->ltot += res.loss * res.rows;
    e->lcnt += res.rows;
    for (int i = 0; i < r->m->n_metrics; i++) {
        e->acc[i].total += res.mtotal[i];
        e->acc[i].count += res.mcount[i];
    }
    r->dp_stop = res.stop;
    return SN_OK;
}

/* One optimizer step on the batch at `step`: forward, loss, backward,
 * update, and the epoch's sums. A NaN/Inf loss or gradient stops training
 * (TerminateOnNaN) with SN_ERR_NUMERIC before the weights change. */
static sn_status train_step(fit_run *r, epoch_run *e, size_t step) {
    if (r->dp) return chunked_step(r, e, step);
    sn_model *m = r->m;
    size_t s0 = step * (size_t)r->B;
    int nb = (int)SN_MIN((size_t)r->B, r->train->n - s0);
    sn_csr csr;
    int has;
    sn_status st = sn_model_load_batch(m, r->train, r->idx + s0, nb, &csr, &has);
    if (st) return sn_error_prefix(st, "epoch %d step %zu", e->epoch + 1, step + 1);
    sn_model_forward(m, nb, has ? &csr : NULL, 1);
    size_t rows, width;
    sn_model_loss_layout(m, nb, &rows, &width);
    const float *rw = sn_model_row_weights(m, nb);
    float *dlast = m->dbuf[m->n_layers % 2];
    double ws = 1.0; /* class / sample weights: the loss is Σ w ℓ / B (run.c) */
    const float *lw = r->train->sample_weights ? sn_model_sample_weights(m, nb, &ws) : rw;
    double l = sn_model_loss_eval(m, m->act[m->n_layers], m->ytrue, lw, rows, width, dlast);
    if (ws != 1.0) {
        l *= ws;
        for (size_t i = 0; i < rows * width; i++) dlast[i] = (float)(dlast[i] * ws);
    }
    if (!isfinite(l))
        return sn_error(SN_ERR_NUMERIC,
                        "loss is %s at epoch %d step %zu: training stopped (TerminateOnNaN); the last saved "
                        "checkpoint is unchanged",
                        isnan(l) ? "NaN" : "Inf", e->epoch + 1, step + 1);
    sn_model_backward(m, nb, has ? &csr : NULL, dlast);
    if (!grads_finite(m))
        return sn_error(SN_ERR_NUMERIC,
                        "gradient holds NaN or Inf at epoch %d step %zu: training stopped; the last saved "
                        "checkpoint is unchanged",
                        e->epoch + 1, step + 1);
    if ((st = sn_optimizer_step(&m->opt, m->params, m->grads, m->seg, m->n_seg))) return st;
    e->ltot += l * nb;
    e->lcnt += nb;
    for (int i = 0; i < m->n_metrics; i++) sn_metric_update(&e->acc[i], m->act[m->n_layers], m->ytrue, rw, rows, width);
    return SN_OK;
}

/* Running logs of the epoch into l: loss and the compiled metrics. */
static void running_logs(const fit_run *r, const epoch_run *e, sn_logs *l) {
    l->n = 0;
    sn_logs_set(l, "loss", e->ltot / e->lcnt);
    for (int i = 0; i < r->m->n_metrics; i++) sn_logs_set(l, sn_model_metric_key(r->m, i), sn_metric_result(&e->acc[i]));
}

/* Files are written by rank 0 alone; every rank learns whether it worked. */
static sn_status save_state(fit_run *r) {
    sn_status st = SN_OK;
    if (!r->dp || fit_dp_root(r->dp)) st = sn_train_state_save(r->m, r->o->resume_path, &r->ts, r->h, r->best_w);
    return r->dp ? fit_dp_agree(r->dp, st) : st;
}
static sn_status save_model(fit_run *r, const char *path) {
    sn_status st = SN_OK;
    if (!r->dp || fit_dp_root(r->dp)) st = sn_model_save(r->m, path);
    return r->dp ? fit_dp_agree(r->dp, st) : st;
}

/* A signal set the stop flag after `step` (not the last of the epoch):
 * saves where the epoch stands (when there is a resume path) and returns
 * SN_ERR_INTERRUPTED saying so. */
static sn_status stop_mid_epoch(fit_run *r, const epoch_run *e, size_t step) {
    const sn_fit_opts *o = r->o;
    if (!o->resume_path)
        return sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d step %zu (no resume path: not saved)",
                        e->epoch + 1, step + 1);
    sn_train_state *ts = &r->ts;
    ts->step_done = (int)step + 1;
    ts->ltot = e->ltot;
    ts->lcnt = e->lcnt;
    ts->elapsed = sn_time_now() - e->t0;
    for (int i = 0; i < r->m->n_metrics; i++) {
        ts->mtotal[i] = e->acc[i].total;
        ts->mcount[i] = e->acc[i].count;
    }
    sn_status st = save_state(r);
    if (st) return st;
    return sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d step %zu; state saved to %s", e->epoch + 1,
                    step + 1, o->resume_path);
}

/* Calls the progress callback in the caller's floating-point mode (user
 * code does not run with seqnn's flushed denormals). */
static void report(fit_run *r, const sn_progress *pr) {
    sn_fp_leave(r->fp);
    r->o->progress(pr, r->o->user);
    r->fp = sn_fp_enter();
}

/* The steps of one epoch from first_step on, with progress reports and the
 * signal stop between steps. */
static sn_status run_steps(fit_run *r, epoch_run *e, size_t first_step) {
    const sn_fit_opts *o = r->o;
    for (size_t step = first_step; step < r->steps; step++) {
        sn_status st = train_step(r, e, step);
        if (st) return st;
        if (o->progress) {
            e->pr.step = (int)step + 1;
            e->pr.elapsed = sn_time_now() - e->t0;
            running_logs(r, e, &e->pr.logs);
            e->pr.done = 0;
            if (step + 1 < r->steps) report(r, &e->pr);
        }
        int stop = r->dp ? r->dp_stop : o->stop_flag && *o->stop_flag; /* chunked: folded into the step */
        if (stop && step + 1 < r->steps) return stop_mid_epoch(r, e, step);
    }
    return SN_OK;
}

/* The epoch's logs: training loss and metrics, then val_ values. */
static sn_status epoch_logs(fit_run *r, const epoch_run *e, sn_logs *logs) {
    memset(logs, 0, sizeof *logs);
    running_logs(r, e, logs);
    if (!r->o->val) return SN_OK;
    sn_logs vl;
    sn_status st = r->dp ? sn_model_evaluate_chunked(r->m, r->o->val, r->o->batch_size, r->o->comm, &vl)
                         : sn_model_evaluate(r->m, r->o->val, r->o->batch_size, &vl);
    if (st) return st;
    for (int i = 0; i < vl.n; i++) {
        char k[40];
        snprintf(k, sizeof k, "val_%s", vl.key[i]);
        sn_logs_set(logs, k, vl.val[i]);
    }
    return SN_OK;
}

/* ModelCheckpoint at the end of epoch `epoch` (0-based). */
static sn_status checkpoint(fit_run *r, int epoch, const sn_logs *logs) {
    const sn_fit_opts *o = r->o;
    sn_train_state *ts = &r->ts;
    const char *mon = r->ck_mon;
    double cv = sn_logs_get(logs, mon);
    if (o->checkpoint_path) {
        if (isnan(cv) && o->save_best_only) sn_log(SN_LOG_WARN, "checkpoint monitor '%s' not in logs; saving anyway", mon);
        if (!o->save_best_only || isnan(cv) || improved(mon, cv, ts->best_ckpt, 0, ts->have_best_ckpt)) {
            sn_status st = save_model(r, o->checkpoint_path);
            if (st) return st;
            sn_log(SN_LOG_INFO, "epoch %d: %s %s %.5g, saved %s", epoch + 1, mon,
                   ts->have_best_ckpt ? "improved to" : "=", cv, o->checkpoint_path);
        }
    }
    if (isfinite(cv) && improved(mon, cv, ts->best_ckpt, 0, ts->have_best_ckpt)) {
        ts->best_ckpt = cv;
        ts->have_best_ckpt = 1;
    }
    return SN_OK;
}

/* EarlyStopping (Keras 3 semantics) at the end of epoch `epoch`: keeps the
 * best weights, returns 1 when training should stop. */
static int early_stopping(fit_run *r, int epoch, const sn_logs *logs) {
    const sn_fit_opts *o = r->o;
    sn_train_state *ts = &r->ts;
    if (o->early_stopping_patience < 0) return 0;
    double ev = sn_logs_get(logs, r->es_mon);
    if (isnan(ev)) return 0;
    ts->wait++;
    if (improved(r->es_mon, ev, ts->best_es, o->early_stopping_min_delta, ts->have_best_es)) {
        ts->best_es = ev;
        ts->have_best_es = 1;
        ts->wait = 0;
        if (r->best_w) memcpy(r->best_w, r->m->params, r->m->n_params * sizeof(float));
    } else if (ts->wait >= o->early_stopping_patience && epoch > 0) {
        sn_log(SN_LOG_INFO, "epoch %d: early stopping (%s did not improve for %d epochs)", epoch + 1, r->es_mon,
               ts->wait);
        return 1;
    }
    return 0;
}

/* One epoch: steps, logs, history, the final progress report, the
 * callbacks, the resume file. *stop = 1 when early stopping ends training. */
static sn_status run_epoch(fit_run *r, int epoch, int *stop) {
    const sn_fit_opts *o = r->o;
    epoch_run e;
    e.epoch = epoch;
    size_t first_step = epoch_begin(r, &e);
    sn_status st = run_steps(r, &e, first_step);
    if (st) return st;
    sn_logs logs;
    if ((st = epoch_logs(r, &e, &logs))) return st;
    double secs = sn_time_now() - e.t0;
    if ((st = sn_history_add(r->h, &logs, secs))) return st;
    if (o->progress) {
        e.pr.step = (int)r->steps;
        e.pr.elapsed = secs;
        e.pr.logs = logs;
        e.pr.done = 1;
        report(r, &e.pr);
    }
    if ((st = checkpoint(r, epoch, &logs))) return st;
    *stop = early_stopping(r, epoch, &logs);
    r->ts.epoch_done = epoch + 1;
    if (o->resume_path) return save_state(r);
    return SN_OK;
}

/* Keras fit(): trains the compiled model for o->epochs epochs over train in
 * batches of o->batch_size (shuffled per epoch from (o->seed, epoch)), with
 * the callbacks of o: validation at each epoch end, ModelCheckpoint,
 * EarlyStopping (restoring the best weights at the end when asked),
 * TerminateOnNaN (always on), a resume file written after every epoch and
 * read first with o->resume, and a stop flag checked after every step (the
 * state is saved, then SN_ERR_INTERRUPTED). Appends one row per epoch to
 * *hist (may be NULL; a resumed run first restores the saved rows); the
 * caller frees it with sn_history_free.
 * Errors: SN_ERR_ARG, SN_ERR_STATE (not compiled), the dataset checks,
 * SN_ERR_NUMERIC naming epoch and step (the weights are those of the
 * previous step, files on disk untouched), SN_ERR_INTERRUPTED, the resume
 * file's and the checkpoint's I/O and format errors, SN_ERR_NOMEM. The model
 * keeps the weights of the last finished step on any error.
 * With o->chunks > 0 training is chunked (fit_dp.c, docs/distributed.md):
 * the batches come from per-chunk shards, validation is
 * sn_model_evaluate_chunked, and over o->comm the call is collective:
 * every rank returns the same status (a rank's failure named on all of
 * them), stops at the same step, and only rank 0 writes files.
 * Runs with denormals flushed (core/internal.h) and restores the caller's
 * mode on return and around the progress callback. */
sn_status sn_model_fit(sn_model *m, const sn_dataset *train, const sn_fit_opts *o, sn_history *hist) {
    sn_status st = check_fit_args(m, train, o);
    if (o && o->comm) st = sn_dp_agree(o->comm, st); /* a group fails together */
    if (st) return st;
    sn_history local_hist = {0};
    fit_run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.train = train;
    r.o = o;
    r.h = hist ? hist : &local_hist;
    r.fp = sn_fp_enter();
    st = fit_begin(&r);
    if (o->chunks > 0) st = fit_dp_begin(&r.dp, st, m, train, o, &r.ts);
    if (st) goto out;
    for (int epoch = r.ts.epoch_done; epoch < o->epochs; epoch++) {
        int stop = 0;
        if ((st = run_epoch(&r, epoch, &stop))) goto out;
        if (stop) break;
        int sig = o->stop_flag && *o->stop_flag;
        if (r.dp && (st = fit_dp_any(r.dp, &sig))) goto out; /* every rank stops at the same epoch */
        if (sig && epoch + 1 < o->epochs) {
            st = sn_error(SN_ERR_INTERRUPTED, "interrupted after epoch %d%s%s", epoch + 1,
                          o->resume_path ? "; state saved to " : " (no resume path: not saved)",
                          o->resume_path ? o->resume_path : "");
            goto out;
        }
    }
    if (r.best_w && r.ts.have_best_es) memcpy(m->params, r.best_w, m->n_params * sizeof(float));
out:
    sn_fp_leave(r.fp);
    fit_dp_free(r.dp);
    free(r.idx);
    free(r.best_w);
    if (!hist) sn_history_free(&local_hist);
    return st;
}
