/* Training across processes over MPI (src/dist; built only with
 * `make MPI=1`, which compiles with mpicc and links Open MPI or another
 * MPI-3 library). sn_dist_init gives the sn_comm (seqnn/comm.h) of all
 * ranks for sn_fit_opts.comm and sn_model_evaluate_chunked; chunked
 * training over it is bit-identical to one process (docs/distributed.md).
 * Not included by seqnn.h: include it where MPI is wanted. One thread per
 * process calls MPI (MPI_THREAD_FUNNELED); seqnn's worker threads never do. */
#ifndef SEQNN_DIST_H
#define SEQNN_DIST_H

#include "seqnn/comm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this process was started by an MPI launcher (mpirun, mpiexec,
 * srun with PMI / PMIx), from the environment the launcher sets; 0 for a
 * plain start. Needs no MPI call. */
SN_API int sn_dist_launched(void);

/* Initialises MPI (when not yet initialised; argc / argv may be NULL) and
 * sets *comm to the group of every rank (a duplicate of MPI_COMM_WORLD;
 * owned by the library, valid until sn_dist_finalize). MPI errors on it
 * are returned as SN_ERR_IO with MPI's message instead of aborting.
 * Errors: SN_ERR_UNSUPPORTED when the MPI library lacks
 * MPI_THREAD_FUNNELED; SN_ERR_IO when MPI_Init fails. */
SN_API sn_status sn_dist_init(int *argc, char ***argv, const sn_comm **comm);

/* Frees the group and finalises MPI if sn_dist_init initialised it.
 * Collective: every rank calls it. */
SN_API void sn_dist_finalize(void);

/* For a rank that failed outside a collective: whether every rank failed
 * too. Each failing rank enters a non-blocking barrier; 1 when all ranks
 * entered it within `seconds` (then each can end normally: no rank waits
 * for another), 0 when some rank did not (it is still working or waits in
 * a collective: end the job with sn_dist_abort). 0 without sn_dist_init. */
SN_API int sn_dist_all_failed(double seconds);

/* Ends the whole job (MPI_Abort with `code`): for a failure on one rank
 * outside a collective, where the other ranks would wait for it forever.
 * Returns only when sn_dist_init has not succeeded (then it does nothing). */
SN_API void sn_dist_abort(int code);

#ifdef __cplusplus
}
#endif
#endif
