/* The CLI under MPI (built with `make MPI=1`, started by mpirun): the group
 * every training command trains over, rank 0 alone printing and writing
 * (docs/distributed.md). In the default build, and in the MPI build when
 * not started by a launcher, there is one process: rank 0, no group. */
#ifndef SEQNN_CLI_DIST_H
#define SEQNN_CLI_DIST_H

#include "seqnn.h"

extern int cli_rank;              /* this process's rank (0 without MPI) */
extern const sn_comm *cli_comm;   /* the group of all ranks, or NULL */
extern int cli_chunks;            /* --chunks K (global option), 0 when not given */
extern int cli_dist_agreed;       /* set when a failure was returned on every rank alike */

/* In the MPI build started by a launcher: initialises MPI and the group;
 * on ranks > 0 sends stdout to /dev/null and silences the library log
 * (errors on stderr name the rank). Returns 0, or 1 after printing why. */
int cli_dist_start(int *argc, char ***argv);

/* Ends the MPI run with the command's exit status rc: a failure only this
 * rank saw (rc != 0 without cli_dist_agreed, usage errors aside) ends
 * every rank (MPI_Abort) so that none waits forever; else finalises.
 * Returns rc. Without MPI: returns rc. */
int cli_dist_end(int rc);

/* Chunks per batch for fit: --chunks when given; under MPI the largest
 * divisor of batch not above 8; else 0 (classic training). */
int cli_fit_chunks(int batch);

/* Under MPI: every rank's n bytes at buf become rank 0's (collective; for
 * results a rank computes differently, e.g. Hogwild word vectors). The
 * ranks first check that they all hold n bytes. Without a group: SN_OK. */
sn_status cli_dist_share(void *buf, size_t n);

/* 1 on the rank that prints and writes files. */
int cli_is_root(void);

#endif
