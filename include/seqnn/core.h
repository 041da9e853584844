/* seqnn core: status codes, error messages, logging, RNG, threads, GEMM.
 *
 * Every public call returns sn_status (SN_OK = 0, errors negative). On error a
 * human-readable message naming the file / line / field or both shapes is kept
 * in a thread-local buffer readable with sn_error_last(). The library never
 * prints and never exits; it logs through the callback installed with
 * sn_log_set(). */
#ifndef SEQNN_CORE_H
#define SEQNN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEQNN_VERSION "0.1.0"

/* Marks the public API: the shared library is built with hidden visibility,
 * so only what the headers in include/ declare with SN_API is exported. */
#if defined(__GNUC__)
#define SN_API __attribute__((visibility("default")))
#else
#define SN_API
#endif

typedef enum sn_status {
    SN_OK = 0,
    SN_ERR_ARG = -1,         /* invalid argument value */
    SN_ERR_SHAPE = -2,       /* shapes do not fit */
    SN_ERR_NOMEM = -3,       /* allocation failed or size absurd */
    SN_ERR_IO = -4,          /* open / read / write / rename failed */
    SN_ERR_FORMAT = -5,      /* malformed file content */
    SN_ERR_PARSE = -6,       /* malformed model spec or option text */
    SN_ERR_NUMERIC = -7,     /* NaN or Inf met */
    SN_ERR_STATE = -8,       /* call not valid in this state */
    SN_ERR_INTERRUPTED = -9, /* stopped by a signal / callback */
    SN_ERR_UNSUPPORTED = -10 /* valid request this build cannot do */
} sn_status;

/* Short fixed name of a status code ("invalid argument", ...). Never NULL. */
SN_API const char *sn_status_str(sn_status s);

/* Message of the last failing call on this thread ("" if none). The buffer is
 * thread-local and owned by the library: copy it before the next call. */
SN_API const char *sn_error_last(void);

/* Records a formatted message for sn_error_last() and returns `s`, so a
 * failing path reads `return sn_error(SN_ERR_ARG, "units must be > 0, got %d", u);` */
SN_API sn_status sn_error(sn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with "context: " (e.g. a file name). Returns s. */
SN_API sn_status sn_error_prefix(sn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

typedef enum sn_log_level { SN_LOG_DEBUG = 0, SN_LOG_INFO = 1, SN_LOG_WARN = 2 } sn_log_level;
typedef void (*sn_log_fn)(sn_log_level level, const char *msg, void *user);

/* Installs the process-wide log sink (NULL silences the library, the default). */
SN_API void sn_log_set(sn_log_fn fn, void *user);
/* Formats and sends a message to the installed sink (no-op without one). */
SN_API void sn_log(sn_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- RNG: xoshiro256** seeded through splitmix64. State is explicit: pass
 * an sn_rng to whatever draws numbers; there is no global generator. ---- */
typedef struct sn_rng { uint64_t s[4]; } sn_rng;
SN_API void sn_rng_seed(sn_rng *r, uint64_t seed);
SN_API uint64_t sn_rng_u64(sn_rng *r);
/* Uniform float in [0, 1) with 24 random bits. */
SN_API float sn_rng_uniform(sn_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
SN_API double sn_rng_double(sn_rng *r);
/* Standard normal (Box-Muller, double precision). */
SN_API double sn_rng_normal(sn_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire). n == 0 (an empty range)
 * returns 0 and draws nothing: the generator's state does not change. */
SN_API uint64_t sn_rng_below(sn_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
SN_API void sn_rng_shuffle(sn_rng *r, size_t *idx, size_t n);
/* Derives an independent stream (for a layer, a thread, an epoch). */
SN_API sn_rng sn_rng_split(sn_rng *r);

/* ---- Threads. The count used by parallel kernels (OpenMP and OpenBLAS).
 * Defaults to $SEQNN_THREADS, else the number of online CPUs. Results do not
 * depend on it: every kernel splits work so each thread writes disjoint
 * outputs and reductions keep a fixed order. ---- */
SN_API void sn_threads_set(int n);
SN_API int sn_threads_get(void);

/* ---- Denormals. seqnn flushes denormal floats to zero (FTZ and DAZ) in
 * every thread while it computes, and restores the caller's floating-point
 * mode before returning: on many CPUs each denormal operand costs a
 * micro-code assist (100x slower), and long back-propagation through time
 * produces many. On by default; sn_denormals_set(0) or
 * $SEQNN_FLUSH_DENORMALS=0 keeps IEEE denormals (slower, results differ only
 * in values below 1.2e-38). ---- */
SN_API void sn_denormals_set(int flush);
/* 1 when seqnn flushes denormals (the default), 0 when it keeps them. */
SN_API int sn_denormals_get(void);

/* ---- Vector paths. seqnn's kernels come in an SSE2 (baseline x86-64),
 * an AVX2 + FMA and an AVX-512 version; the active path is the best the CPU
 * has, or the one named by $SEQNN_ISA ("sse2", "avx2", "avx512") or set with
 * sn_isa_set. ---- */
typedef enum sn_isa { SN_ISA_SSE2 = 0, SN_ISA_AVX2 = 1, SN_ISA_AVX512 = 2 } sn_isa;
/* The best path this CPU runs. */
SN_API sn_isa sn_isa_detect(void);
/* The active path (read once from $SEQNN_ISA on first use; a value this CPU
 * cannot run, or an unknown one, is ignored with a warning through the log
 * sink; sn_isa_env_check reports it as an error). */
SN_API sn_isa sn_isa_get(void);
/* Selects the path for later calls (process-wide, not while seqnn runs in
 * another thread). SN_ERR_UNSUPPORTED when the CPU lacks its instructions. */
SN_API sn_status sn_isa_set(sn_isa isa);
/* "sse2" | "avx2" | "avx512". */
SN_API const char *sn_isa_name(sn_isa isa);
/* Parses a path name. SN_ERR_PARSE for an unknown one. */
SN_API sn_status sn_isa_parse(const char *s, sn_isa *out);
/* Applies $SEQNN_ISA if set: SN_ERR_PARSE for an unknown name,
 * SN_ERR_UNSUPPORTED for a path this CPU lacks (the CLI exits on either). */
SN_API sn_status sn_isa_env_check(void);

/* The CPU seqnn runs on, from CPUID (x86-64; elsewhere vendor "unknown"). */
typedef struct sn_cpu_info {
    char vendor[16];      /* "GenuineIntel", "AuthenticAMD", ... */
    char model_name[64];  /* brand string, e.g. "AMD EPYC 9B45" */
    int family, model, stepping; /* display family / model (base + extended) */
} sn_cpu_info;
SN_API void sn_cpu_info_get(sn_cpu_info *out);

/* ---- BLAS kernel. seqnn's GEMMs run OpenBLAS single-threaded (sn_gemm
 * splits them itself). A DYNAMIC_ARCH OpenBLAS picks its kernel set ("core")
 * from a table of known CPUs and silently runs generic SSE kernels, several
 * times slower, on a CPU it does not know. So before its first GEMM seqnn
 * makes OpenBLAS run the one core of the active vector path: SkylakeX for
 * avx512, Haswell for avx2, Prescott for a forced sse2 (Sandybridge on an
 * AVX-only CPU), so that a path runs the same BLAS kernels on every CPU;
 * unless $OPENBLAS_CORETYPE is set (then it is honoured, with a warning
 * through the log sink when it runs below the path). The choice is made once, under a
 * lock, and again after sn_isa_set changes the path; where OpenBLAS cannot
 * switch (not a DYNAMIC_ARCH build) a warning says which kernel runs.
 * The switch briefly sets $OPENBLAS_CORETYPE and re-initialises OpenBLAS:
 * an application calling OpenBLAS itself from other threads should call
 * sn_blas_info_get once at start-up, before those threads run. ---- */
typedef struct sn_blas_info {
    char library[160];  /* openblas_get_config(): "OpenBLAS 0.3.21 ... DYNAMIC_ARCH ..." */
    char core[32];      /* the kernel set GEMMs run now ("SkylakeX"); "" if unknown */
    char own_core[32];  /* the one OpenBLAS chose for this CPU by itself */
    char reason[96];    /* why `core` runs */
} sn_blas_info;
/* Makes the choice above if no GEMM has yet, then fills *out (copies). */
SN_API void sn_blas_info_get(sn_blas_info *out);

/* ---- GEMM, row-major: C = alpha * op(A) op(B) + beta * C, with
 * op(A) (M,K), op(B) (K,N), C (M,N). Every matmul in seqnn goes through it.
 * Contract: M, N, K >= 0 and lda >= (trans_a ? M : K), ldb >= (trans_b ? K : N),
 * ldc >= N for a matrix that has elements; a negative dimension or a short
 * leading dimension is a bug in the caller and stops the process (SN_ASSERT:
 * there is no status to return). M == 0 or N == 0 is an empty product (C is
 * not touched); K == 0 sets C = beta * C (C = 0 when beta == 0, whatever C
 * held). beta == 0 never reads C. Denormals are flushed in every thread the
 * product runs on (sn_denormals_set) and the caller's mode is restored.
 * The result does not depend on the thread count. ---- */
/* SN_GEMM_BLAS (default): BLAS, and seqnn's own kernel for the shapes
 * where it is faster (docs/performance.md); SN_GEMM_PORTABLE: the portable
 * reference loop; SN_GEMM_BLAS_ONLY: every product on BLAS (comparisons). */
typedef enum sn_gemm_backend { SN_GEMM_BLAS = 0, SN_GEMM_PORTABLE = 1, SN_GEMM_BLAS_ONLY = 2 } sn_gemm_backend;
SN_API void sn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
             const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Selects the backend for later sn_gemm calls (process-wide; tests use it). */
SN_API void sn_gemm_set_backend(sn_gemm_backend b);
SN_API sn_gemm_backend sn_gemm_get_backend(void);

/* ---- Small utilities shared by modules. ---- */
/* Wall clock in seconds (monotonic). */
SN_API double sn_time_now(void);
/* Writes `n` bytes atomically: to a fresh temporary file beside `path`
 * ("path.tmp.PID.SEQ", created with O_EXCL, unique per call, so threads and
 * processes writing the same path never share one), fsync, rename over
 * path, fsync of the directory (so that the rename survives a crash). On
 * failure up to the rename nothing at `path` changes and the temporary file
 * is removed; when only the final directory sync fails the new content is
 * in place and SN_ERR_IO says that it may not survive a crash. Concurrent
 * writers of one path: each call succeeds and the file holds one of their
 * contents whole (the last rename). */
SN_API sn_status sn_file_write_atomic(const char *path, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
