/* The Conv1D direct kernels (conv1d_kern_body.h) for the sse2 vector path,
 * chosen through sn_isa_get() (conv1d.c). Baseline x86-64 has 16 registers
 * of 4 floats: the narrow register blocks (elsewhere the wide ones). */
#include "layers/conv1d_kern.h"

#if CONV_HAVE_DIRECT
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX__)
#define CONV_KERN_WIDE 0
#else
#define CONV_KERN_WIDE 1
#endif
#include "layers/conv1d_kern_body.h"
CONV_KERNEL_TABLE(sse2);
#else
typedef int conv_kern_sse2_empty; /* no direct kernels without GCC vector extensions */
#endif
