/* A group of threads posing as MPI ranks (tests only): an sn_comm whose
 * collectives meet at a barrier, so chunked training can be run on 1, 2 or
 * 3 "ranks" inside `make test`, without MPI. Operations are blocking (a
 * started operation completes at once; wait is a no-op), which the
 * sn_comm contract allows: every rank issues the same sequence. */
#ifndef SEQNN_TEST_DIST_FAKE_H
#define SEQNN_TEST_DIST_FAKE_H

#include <pthread.h>
#include "seqnn.h"

#define FAKE_MAX_RANKS 8

typedef struct fake_group {
    int size;
    pthread_barrier_t bar;
    const void *slot[FAKE_MAX_RANKS];
    long ops[FAKE_MAX_RANKS];  /* collectives each rank has called */
} fake_group;

typedef struct fake_rank {
    fake_group *g;
    int rank;
    sn_comm comm;
} fake_rank;

/* Sets up a group of `size` ranks (fills r[0..size)); free with fake_group_free. */
void fake_group_init(fake_group *g, fake_rank *r, int size);
void fake_group_free(fake_group *g);

/* Runs fn(rank, user) on `size` threads, one per rank, and joins them. */
void fake_group_run(int size, void (*fn)(fake_rank *r, void *user), void *user);

#endif
