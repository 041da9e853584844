/* Direct kernels of Conv1D for up to CONV_DIRECT_MAX_F filters (private to
 * src/layers/): the table type of one vector path, its tables and the
 * choice of table. The kernels themselves are in conv1d_kern_body.h,
 * compiled once per path by conv1d_kern_sse2.c and conv1d_kern_avx2.c (the
 * AVX-512 path runs the AVX2 kernels).
 *
 * The seed's layers are tiny products (depth K·C = 6..336, width filters = 8)
 * that BLAS runs far below its peak, and that sn_gemm cuts into 128-row
 * blocks. The direct kernels below keep a block of outputs in vector
 * registers across the whole reduction instead:
 *
 *   forward  y[b,t,:]  = act(Σ_{k,c} xp[b, t·s + k·d, c] · W[k,c,:] + bias)
 *            (AVX2: blocks of 8 rows × 8 filters or 4 rows × 16 filters;
 *             SSE2: 4 rows × 8 filters)
 *   dx       the same correlation over the up-sampled dz U (as in the GEMM
 *            path) with W'' (output width C), added to dx
 *   dW[j,:] += Σ_b Σ_t xp[b, t·s + k·d, c] · dz[b,t,:],  j = k·C + c
 *            (blocks of 8 rows j × 8 filters)
 *
 * With d = 1 the K taps of one output row are K·C consecutive floats, so
 * the (k, c) double loop runs as one loop of depth K·C. relu and linear
 * are applied in the kernel's store and in the dz pass, branch-free (relu's
 * data-dependent branch in sn_act_* cost as much as the convolution).
 *
 * Summation order. Each forward / dx output is one float sum in (k, c) order,
 * then + bias (forward) or added to dx; which thread or block computes it does
 * not matter. dW sums are formed in float over groups of max(1, 192/T_out)
 * consecutive samples (from the shape only), and the group sums are added
 * in sample order into a double total (float chains of <= ~256 terms, not the
 * single chain of B·T_out terms a GEMM forms). Forward and dx are split over
 * the batch, dW over fixed blocks of (K·C, filters): 1 and N threads give
 * identical bits. The results differ from the GEMM path only by rounding.
 *
 * Vector paths. The AVX2 kernels use wide register blocks (16 registers of
 * 8 floats), the SSE2 ones narrow blocks (16 registers of 4 floats, where a
 * block of 8 vectors of 8 floats would spill); both form every output as
 * the same sum in the same order with the same IEEE operations (no FMA:
 * -ffp-contract=off), so the paths give the same bits on one machine
 * (tests/test_isa_paths.c compares SEQNN_ISA=sse2 with avx2). */
#ifndef SEQNN_CONV1D_KERN_H
#define SEQNN_CONV1D_KERN_H

#include <stddef.h>

/* Direct kernels (GCC vector extensions) for up to this many filters; wider
 * layers use K accumulated sn_gemm calls (conv1d.c, the GEMM path). */
#define CONV_DIRECT_MAX_F 64
#if defined(__GNUC__)
#define CONV_HAVE_DIRECT 1
#else
#define CONV_HAVE_DIRECT 0
#endif

/* The direct kernels of one vector path. */
typedef struct conv_kernels {
    const char *name; /* "sse2" | "avx2" */
    /* One sample's correlation, rows i < rows, columns n < width:
     *   out[i·ldo + n] (=, or += when accum)
     *       Σ_{k<K} Σ_{c<C} in[i·rs + k·ks + c] · Wp[(k·C + c)·width8 + n] (+ bias[n]),
     * then relu when `relu`. Wp: (K·C, width8) with zero columns width..width8,
     * width8 = ⌈width/8⌉·8; bias: (width8) or NULL. */
    void (*direct)(float *restrict out, int ldo, int width, const float *restrict in, int rs, int ks, int C, int K,
                   const float *restrict Wp, const float *restrict bias, int accum, int relu, int rows);
    /* dW contribution of nb consecutive samples for the rows j0 <= j < min(j0 + 8, kernel_rows)
     * of the (kernel_rows = K·C, width8) sum table and its columns n0..n0+8:
     *   tot[j·width8 + n] += Σ_{b<nb} Σ_{t<T} in[b·ins + t·rs + off(j)] · dz[b·dzs + t·width8 + n],
     *   off(j) = ⌊j/C⌋·ks + j mod C (T: output steps). */
    void (*dw_block)(double *restrict tot, int width8, const float *restrict in, size_t ins, int rs, int ks, int C,
                     int kernel_rows, const float *restrict dz, size_t dzs, int T, int nb, int j0, int n0);
    /* Bias gradient of nb samples: tot[n] += Σ_{b<nb} Σ_{t<T} dz[b·dzs + t·width8 + n], n in n0..n0+8. */
    void (*db_block)(double *restrict tot, int width8, const float *restrict dz, size_t dzs, int T, int nb, int n0);
    /* dz[t·ldz + n] = relu ? (y > 0 ? dy : 0) : dy for rows t < rows, n < width,
     * zeros in columns width..ldz. y, dy: (rows, width). */
    void (*dz_relu)(float *restrict dz, int ldz, const float *restrict y, const float *restrict dy, int rows, int width,
                    int relu);
} conv_kernels;

#if CONV_HAVE_DIRECT
extern const conv_kernels sn_conv_kernels_sse2, sn_conv_kernels_avx2;
/* The table of the active vector path (sn_isa_get; AVX-512 runs AVX2's). */
const conv_kernels *sn_conv_kernels_get(void);
#endif

#endif
