/* seqnn predict: one function per kind of model file, called by
 * cmd_predict.c with the parsed options and the model's metadata blob. Each
 * returns the process exit status (0 ok, 1 failure, 2 usage) and prints its
 * own errors. */
#ifndef SEQNN_CLI_PREDICT_H
#define SEQNN_CLI_PREDICT_H

#include <stddef.h>
#include "cli.h"

int cli_predict_forecast(sn_model *m, const void *blob, size_t blen, const cli_opt *opts);
int cli_predict_text(sn_model *m, const void *blob, size_t blen, const cli_opt *opts);
/* predict_array.c: --npy X.npy --out Y.npy, and --stream (stdin lines). */
int cli_predict_npy(sn_model *m, const char *in, const char *out);
int cli_predict_stream(sn_model *m);

#endif
