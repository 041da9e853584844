/* Keras import / export internals (src/interop): the translated model a
 * Keras config becomes, and the pieces the reader and writer share.
 *
 * Import runs in three steps, none of which writes anything:
 *   1. keras_config.c / keras_layers.c: the model config JSON (Sequential or
 *      a single-chain Functional) becomes a kx_model — one kx_layer per Keras
 *      layer with the seqnn spec call it maps to and where its weights live;
 *   2. keras_import.c: the spec is built into an sn_model and every weight is
 *      read from the HDF5 file (shape-checked) into the model's tensors;
 *   3. the caller saves the model (atomically).
 * Export (keras_export.c) walks a model's canonical spec and writes the
 * Keras 3 config.json, metadata.json and model.weights.h5 in the layout of
 * keras/src/saving/saving_lib.py, zipped by keras_zip.c. */
#ifndef SEQNN_KERAS_INTERNAL_H
#define SEQNN_KERAS_INTERNAL_H

#include <stddef.h>
#include "core/json.h"
#include "seqnn/core.h"
#include "seqnn/keras.h"

#define KX_NAME 64
#define KX_SPEC 2048

typedef struct kx_layer {
    char name[KX_NAME];   /* the Keras layer name (config "name") */
    char cls[48];         /* Keras class */
    char spec[KX_SPEC];   /* seqnn call, without name=; "" for layers with no seqnn counterpart (InputLayer) */
    int trainable;        /* config "trainable" */
    int flip_kernel;      /* Conv1D saved by the theano backend: kernel reversed along K (Keras 2's convert_kernel) */
    /* Keras 3 archive: the groups whose vars/ hold this layer's weights
     * ("layers/lstm/cell"; Bidirectional: forward then backward) */
    char k3path[2][256];
    int n_k3path;
} kx_layer;

typedef struct kx_model {
    kx_layer *L;
    int n, cap;
    char model_class[32];     /* Sequential | Functional | Model */
    char version[32];         /* keras_version ("" when the file has none) */
    int major;                /* 2 or 3: which formulas version-dependent activations follow */
    int theano;               /* backend "theano" (Conv kernels flipped) */
    /* input shape without the batch: rank 1 or 2, -1 for a dimension the
     * file leaves open (None) */
    int in_rank, in_shape[2];
    int cur_rank;             /* rank of the current layer's output while translating (axis checks) */
} kx_model;

void kx_model_free(kx_model *km);

/* Translates the model config (the object with class_name / config: a
 * .keras config.json, a legacy HDF5 model_config, or model.to_json()) into
 * km. `version` / `backend` come from the file (metadata.json or HDF5
 * attributes; NULL: the config's own keras_version / backend keys, else
 * Keras 3 semantics). `what` names the source in messages. Errors:
 * SN_ERR_UNSUPPORTED for a layer or setting seqnn does not have (naming the
 * layer's name and class), SN_ERR_FORMAT for a malformed config. */
sn_status kx_translate(kx_model *km, const sn_json *root, const char *version, const char *backend, const char *what);

/* Translates one layer config (class_name + config) into L->spec (keras_layers.c).
 * `pos` is the layer's index, for messages. */
sn_status kx_layer_translate(kx_model *km, kx_layer *L, const sn_json *layer, const char *what);

/* Builds the seqnn model of km (keras_import.c): the input shape from km
 * with open dimensions from o, every layer with its Keras name, trainable
 * flags; weights left zero. o->max_params refuses big models before
 * allocating them. */
struct sn_model;
sn_status kx_build(struct sn_model **out, const kx_model *km, const sn_keras_import_opts *o, const char *what);

/* Keras's to_snake_case of a class name ("SimpleRNN" -> "simple_rnn"). */
void kx_snake(const char *cls, char *out, size_t n);

/* Shortest "%.*g" text that reads back as the same double. */
void kx_num(char *buf, size_t n, double v);

/* Appends printf text to a fixed buffer; returns SN_ERR_FORMAT when it does not fit. */
sn_status kx_cat(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- .keras zip (keras_zip.c) ---- */
typedef struct kx_archive {
    char *config;     size_t config_n;    /* config.json */
    char *metadata;   size_t metadata_n;  /* metadata.json (NULL when absent) */
    void *weights;    size_t weights_n;   /* model.weights.h5 */
} kx_archive;

/* Reads the three members of a .keras archive at path; max_bytes bounds
 * each member. SN_ERR_FORMAT names the file and the member (missing,
 * truncated, too large, a model.weights.npz instead of .h5). */
sn_status kx_archive_read(kx_archive *a, const char *path, size_t max_bytes);
void kx_archive_free(kx_archive *a);
/* Writes a zip of the given members (stored, fixed timestamps) to path atomically. */
sn_status kx_archive_write(const char *path, const char *const *names, const void *const *data, const size_t *sizes,
                           int n);

#endif
