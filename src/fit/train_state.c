/* The training-state (resume) file: a model file (docs/format.md) with one
 * more section, TRST, holding what the training loop needs to continue an
 * interrupted run exactly: completed epochs, the callbacks' monitors, the
 * history, the best weights and the running sums of an interrupted epoch. */
#include <string.h>

#include "fit/history.h"
#include "fit/train_state.h"
#include "model/model_file.h"

/* A fresh state: nothing done, no best values, no interrupted epoch. */
void sn_train_state_init(sn_train_state *ts) { memset(ts, 0, sizeof *ts); }

/* Writes the resume file (docs/format.md, "The resume file"): m's model
 * sections plus TRST with ts, the history h and best_w (n_params floats, or
 * NULL when not kept), atomically. Errors: SN_ERR_NOMEM, SN_ERR_IO. */
sn_status sn_train_state_save(const sn_model *m, const char *path, const sn_train_state *ts, const sn_history *h,
                              const float *best_w) {
    sn_wbuf b = {0};
    uint32_t count = 0;
    sn_w_file_begin(&b);
    sn_model_write_sections(&b, m, &count);
    size_t s = sn_w_section_begin(&b, "TRST");
    sn_w_u32(&b, (uint32_t)ts->epoch_done);
    sn_w_f64(&b, ts->best_ckpt);
    sn_w_u32(&b, (uint32_t)ts->have_best_ckpt);
    sn_w_f64(&b, ts->best_es);
    sn_w_u32(&b, (uint32_t)ts->have_best_es);
    sn_w_u32(&b, (uint32_t)ts->wait);
    sn_w_u32(&b, (uint32_t)h->epochs);
    sn_w_u32(&b, (uint32_t)h->n_keys);
    for (int k = 0; k < h->n_keys; k++) sn_w_str(&b, h->key[k]);
    for (int e = 0; e < h->epochs; e++) {
        for (int k = 0; k < h->n_keys; k++) sn_w_f64(&b, h->val[(size_t)e * SN_LOGS_MAX + k]);
        sn_w_f64(&b, h->seconds[e]);
    }
    sn_w_u32(&b, best_w != NULL);
    if (best_w) sn_w_f32s(&b, best_w, m->n_params);
    sn_w_u32(&b, (uint32_t)ts->step_done);
    sn_w_f64(&b, ts->ltot);
    sn_w_f64(&b, ts->lcnt);
    sn_w_f64(&b, ts->elapsed);
    for (int i = 0; i < 4; i++) {
        sn_w_f64(&b, ts->mtotal[i]);
        sn_w_f64(&b, ts->mcount[i]);
    }
    sn_w_u32(&b, (uint32_t)ts->batch_size);
    sn_w_u32(&b, (uint32_t)ts->chunks);
    sn_w_section_end(&b, s, &count);
    return sn_w_file_finish(&b, count, path);
}

/* Replaces *h by the history stored in TRST (r positioned at its count). */
static sn_status read_history(sn_rbuf *r, sn_history *h) {
    uint32_t epochs = sn_r_u32(r), nk = sn_r_u32(r);
    if (r->bad) return SN_ERR_FORMAT;
    if (nk > SN_LOGS_MAX || epochs > 1000000 || (size_t)epochs * (nk + 1) * 8 > r->n - r->off)
        return sn_r_fail(r, "history size out of range");
    sn_history_free(h);
    char keys[SN_LOGS_MAX][32];
    for (uint32_t k = 0; k < nk; k++)
        if (!sn_r_str(r, keys[k], sizeof keys[k])) break;
    for (uint32_t e = 0; e < epochs && !r->bad; e++) {
        sn_logs l;
        memset(&l, 0, sizeof l);
        l.n = (int)nk;
        for (uint32_t k = 0; k < nk; k++) {
            memcpy(l.key[k], keys[k], sizeof keys[k]);
            l.val[k] = sn_r_f64(r);
        }
        double secs = sn_r_f64(r);
        sn_status st = sn_history_add(h, &l, secs);
        if (st) return st;
    }
    return SN_OK;
}

/* Reads the TRST payload into ts, h and best_w (may be NULL: skipped). */
static sn_status read_trst(sn_rbuf *r, const sn_model *m, sn_train_state *ts, sn_history *h, float *best_w) {
    ts->epoch_done = (int)sn_r_u32(r);
    ts->best_ckpt = sn_r_f64(r);
    ts->have_best_ckpt = (int)sn_r_u32(r);
    ts->best_es = sn_r_f64(r);
    ts->have_best_es = (int)sn_r_u32(r);
    ts->wait = (int)sn_r_u32(r);
    sn_status st = read_history(r, h);
    if (st) return st;
    uint32_t has_best = sn_r_u32(r);
    if (!r->bad && has_best) {
        if ((size_t)(r->n - r->off) < m->n_params * sizeof(float)) return sn_r_fail(r, "best weights truncated");
        if (best_w) sn_r_f32s(r, best_w, m->n_params);
        else r->off += m->n_params * sizeof(float);
    }
    ts->step_done = (int)sn_r_u32(r);
    ts->ltot = sn_r_f64(r);
    ts->lcnt = sn_r_f64(r);
    ts->elapsed = sn_r_f64(r);
    for (int i = 0; i < 4; i++) {
        ts->mtotal[i] = sn_r_f64(r);
        ts->mcount[i] = sn_r_f64(r);
    }
    ts->have_mode = !r->bad && r->n - r->off >= 8; /* absent from files written before */
    if (ts->have_mode) {
        ts->batch_size = (int)sn_r_u32(r);
        ts->chunks = (int)sn_r_u32(r);
    }
    return r->bad ? SN_ERR_FORMAT : SN_OK;
}

/* Restores a resume file into m, which must have the file's spec: weights,
 * optimizer slots and step count, RNG (sn_model_copy_state), then *ts, *h
 * (replaced) and best_w (n_params floats, may be NULL: skipped). Errors:
 * SN_ERR_IO with ts->missing = 1 when the file does not exist (the caller
 * then starts fresh), SN_ERR_FORMAT naming the file for another model's
 * state, a plain model file or a corrupt one, SN_ERR_NOMEM. On a format
 * error m may already hold the file's weights. */
sn_status sn_train_state_load(sn_model *m, const char *path, sn_train_state *ts, sn_history *h, float *best_w) {
    sn_model_file f;
    sn_status st = sn_model_file_open(&f, path);
    if (st) {
        ts->missing = f.missing;
        return st;
    }
    sn_model *saved = NULL;
    st = sn_model_from_file(&saved, &f);
    if (st) goto out;
    if (strcmp(saved->spec, m->spec) || saved->n_params != m->n_params) {
        st = sn_error(SN_ERR_FORMAT, "%s: resume state is for model `%s`, not `%s`", path, saved->spec, m->spec);
        goto out;
    }
    const sn_file_section *s = sn_model_file_find(&f, "TRST");
    if (!s) {
        st = sn_error(SN_ERR_FORMAT, "%s: no training state section (not a resume file)", path);
        goto out;
    }
    sn_model_copy_state(m, saved);
    sn_rbuf r = sn_rbuf_of(s, path);
    st = read_trst(&r, m, ts, h, best_w);
out:
    sn_model_free(saved);
    sn_model_file_close(&f);
    return st;
}
