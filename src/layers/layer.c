/* Shared layer machinery: creation from an ops table, tensor bookkeeping,
 * shapes. Initializers are in initializers.c, activations in activations.c. */
#include "layers/layer.h"

#include <string.h>

size_t sn_shape_phys(const sn_shape *s) {
    if (s->rep == SN_REP_SPARSE) return 0;
    if (s->rep == SN_REP_IDS) return (size_t)s->d[0];
    return sn_shape_numel(s);
}

size_t sn_shape_numel(const sn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->d[i];
    return n;
}

void sn_shape_str(const sn_shape *s, char *buf, size_t n) {
    int k = snprintf(buf, n, "(None");
    for (int i = 0; i < s->rank && k > 0 && (size_t)k < n; i++) k += snprintf(buf + k, n - (size_t)k, ", %d", s->d[i]);
    if (k > 0 && (size_t)k < n) snprintf(buf + k, n - (size_t)k, ")");
}

/* Rejects a table with a missing mandatory entry: an internal bug surfaced as
 * an error at model build instead of a crash mid-training. */
static sn_status check_ops(const sn_layer_ops *o) {
    if (!o->kind || !o->class_name || !o->configure || !o->build || !o->init || !o->cache_floats ||
        !o->scratch_floats || !o->forward || !o->backward || !o->describe)
        return sn_error(SN_ERR_STATE, "layer table '%s' has a missing entry", o->kind ? o->kind : "?");
    return SN_OK;
}

sn_layer *sn_layer_new(const sn_layer_ops *ops, const sn_spec_call *call) {
    if (check_ops(ops)) return NULL;
    sn_layer *L = sn_calloc(1, sizeof *L);
    if (!L) return NULL;
    L->ops = ops;
    L->trainable = 1;
    L->threads = 1;
    snprintf(L->name, sizeof L->name, "%s", ops->kind);
    sn_status st = ops->configure(L, call);
    if (st == SN_OK) st = sn_spec_check_used(call);
    if (st) {
        sn_layer_free(L);
        return NULL;
    }
    return L;
}

void sn_layer_free(sn_layer *L) {
    if (!L) return;
    if (L->ops && L->ops->destroy)
        L->ops->destroy(L);
    else
        free(L->cfg);
    free(L);
}

size_t sn_layer_add_tensor(sn_layer *L, const char *name, int rank, const int *dims, int trainable) {
    SN_ASSERT(L->n_tensors < SN_MAX_TENSORS && rank >= 1 && rank <= 4);
    sn_tensor_info *t = &L->tensors[L->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->numel = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        t->numel *= (size_t)dims[i];
    }
    t->offset = L->n_params;
    t->trainable = trainable;
    L->n_params += t->numel;
    return t->offset;
}

sn_status sn_layer_build(sn_layer *L, const sn_shape *in) {
    L->in = *in;
    L->n_tensors = 0;
    L->n_params = 0;
    memset(&L->out, 0, sizeof L->out);
    return L->ops->build(L);
}
