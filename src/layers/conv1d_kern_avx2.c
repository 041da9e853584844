/* The Conv1D direct kernels (conv1d_kern_body.h) for the avx2 vector path
 * (also run by the avx512 path), chosen through sn_isa_get() (conv1d.c).
 * The Makefile compiles this file with -mavx2: 16 registers of 8 floats,
 * the wide register blocks. */
#include "layers/conv1d_kern.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#error "conv1d_kern_avx2.c must be compiled with -mavx2 (see the Makefile)"
#endif

#if CONV_HAVE_DIRECT
#define CONV_KERN_WIDE 1
#include "layers/conv1d_kern_body.h"
CONV_KERNEL_TABLE(avx2);
#else
typedef int conv_kern_avx2_empty; /* no direct kernels without GCC vector extensions */
#endif
