/* Keras models in and out.
 *
 * Import (sn_keras_import) reads
 *   - a Keras 3 `.keras` archive (zip: config.json, metadata.json,
 *     model.weights.h5 in the layout of keras/src/saving/saving_lib.py),
 *   - a legacy HDF5 full model (model.save("m.h5") by Keras 2.x, tf.keras or
 *     Keras 3: the model_config attribute and the model_weights group),
 *   - a JSON architecture (model.to_json()) with a weights-only HDF5
 *     (model.save_weights("w.h5")): opts.weights_path,
 * and builds the equivalent seqnn model: Sequential models and Functional
 * models that are one chain, of the layers InputLayer, Dense, Activation,
 * Dropout, Flatten, Reshape, Conv1D, MaxPooling1D, GlobalAveragePooling1D,
 * GlobalMaxPooling1D, BatchNormalization, LayerNormalization, SimpleRNN,
 * LSTM, GRU, Bidirectional, Embedding and Masking. Layer names, trainable
 * flags and weights come across; semantics that changed between Keras
 * versions follow the file's keras_version (hard_sigmoid is clip(0.2x+0.5)
 * before Keras 3 and clip(x/6+0.5) from Keras 3 on: seqnn's
 * hard_sigmoid_keras2 and hard_sigmoid). Optimizer state is not imported.
 *
 * Errors (nothing is created; *out is NULL): SN_ERR_UNSUPPORTED for a layer
 * class or setting seqnn does not have, naming the layer's name and class,
 * a branching model, Keras 1 files, HDF5 features Keras files do not use
 * (e.g. filters other than deflate / shuffle / fletcher32); SN_ERR_FORMAT
 * for a truncated or corrupt file or a
 * weight of the wrong shape (naming the file, layer and weight);
 * SN_ERR_SHAPE when the input length is left open (None) and not given in
 * opts; SN_ERR_IO; SN_ERR_NOMEM.
 *
 * Export (sn_keras_export) writes a seqnn model whose layers Keras has as a
 * Keras 3 archive that Keras 3's keras.saving.load_model and sn_keras_import
 * read; importing it gives back the same model file byte for byte (the
 * archive's metadata.json carries seqnn's seed and RNG states under
 * "seqnn"; optimizer state is not exported). Layers Keras lacks (OneHot,
 * hard_sigmoid_keras2) are refused with SN_ERR_UNSUPPORTED. The archive is
 * written atomically.
 *
 * HDF5 is read and written by seqnn's own code (no libhdf5), which checks
 * every offset, length and count in the file and bounds the work a file can
 * ask for; the two calls may run on several threads at once. */
#ifndef SEQNN_KERAS_H
#define SEQNN_KERAS_H

#include <stddef.h>
#include "seqnn/core.h"
#include "seqnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_keras_import_opts {
    const char *weights_path; /* weights-only HDF5 when the main path is a JSON config; else NULL */
    int input_rank;           /* 0: the shape comes from the file; else 1 or 2 ... */
    int input_shape[2];       /* ... and these fill the dimensions the file leaves open (None); a
                                 dimension the file fixes must agree */
    size_t max_bytes;         /* largest config / weights member read; default 4 GiB */
    size_t max_params;        /* refuse models with more parameters; default 0 = no limit */
} sn_keras_import_opts;

/* Defaults: no weights file, shape from the file, 4 GiB, no parameter limit. */
SN_API void sn_keras_import_opts_default(sn_keras_import_opts *o);

/* Imports the Keras model at path (kind told by its content: zip, HDF5 or
 * JSON). *out receives a new model (free with sn_model_free). o NULL =
 * defaults. */
SN_API sn_status sn_keras_import(sn_model **out, const char *path, const sn_keras_import_opts *o);

typedef struct sn_keras_export_opts {
    const char *date_saved;   /* metadata.json date_saved ("2024-01-31@12:00:00"); NULL: now */
} sn_keras_export_opts;

/* Writes m as a Keras 3 .keras archive at path (atomically). o may be NULL. */
SN_API sn_status sn_keras_export(const sn_model *m, const char *path, const sn_keras_export_opts *o);

#ifdef __cplusplus
}
#endif
#endif
