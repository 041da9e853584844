/* seqnn: Keras-grade sequence modelling in C11. Umbrella header. */
#ifndef SEQNN_H
#define SEQNN_H
#include "seqnn/core.h"
#include "seqnn/dataset.h"
#include "seqnn/train.h"
#include "seqnn/comm.h"
#include "seqnn/model.h"
#include "seqnn/data.h"
#include "seqnn/text.h"
#include "seqnn/classify.h"
#include "seqnn/wordvec.h"
#include "seqnn/interop.h"
#include "seqnn/npy.h"
#include "seqnn/forecast.h"
#include "seqnn/keras.h"
#include "seqnn/cexport.h"
#include "seqnn/stream.h"
#endif
