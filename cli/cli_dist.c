/* The CLI under MPI: cli_dist.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli_dist.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#ifdef SN_HAVE_MPI
#include "seqnn/dist.h"
#endif

int cli_rank;
const sn_comm *cli_comm;
int cli_chunks;
int cli_dist_agreed;

int cli_is_root(void) { return cli_rank == 0; }

#ifdef SN_HAVE_MPI
/* mpirun forwards SIGUSR1 to every rank (SIGINT / SIGTERM to mpirun kill
 * the ranks a second later): the clean way to stop a whole job. */
static void on_usr1(int sig) {
    (void)sig;
    cli_stop_flag = 1;
}
#endif

int cli_dist_start(int *argc, char ***argv) {
#ifdef SN_HAVE_MPI
    if (!sn_dist_launched()) return 0;
    sn_status st = sn_dist_init(argc, argv, &cli_comm);
    if (st) return cli_fail(st, "MPI");
    cli_rank = cli_comm->rank;
    if (cli_rank > 0) {
        if (!freopen("/dev/null", "w", stdout)) return cli_fail(SN_ERR_IO, "/dev/null");
        sn_log_set(NULL, NULL);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
#else
    (void)argc;
    (void)argv;
#endif
    return 0;
}

int cli_dist_end(int rc) {
#ifdef SN_HAVE_MPI
    if (!cli_comm) return rc;
    /* a failure every rank reached (bad arguments, a bad spec or file every
     * rank reads) ends each normally; one that a rank met alone ends all */
    if (rc != 0 && !cli_dist_agreed && cli_comm->size > 1 && !sn_dist_all_failed(5.0)) {
        fprintf(stderr, "seqnn [rank %d]: failed on this rank alone: ending every rank\n", cli_rank);
        fflush(NULL);
        sn_dist_abort(rc);
    }
    sn_dist_finalize();
    cli_comm = NULL;
#endif
    return rc;
}

sn_status cli_dist_share(void *buf, size_t n) {
    if (!cli_comm || cli_comm->size < 2) return SN_OK;
    uint64_t n0 = n;
    sn_status st = cli_comm->bcast(cli_comm->ctx, &n0, sizeof n0, 0);
    if (st) return st;
    int32_t differ = n0 != (uint64_t)n;
    if ((st = cli_comm->max_i32(cli_comm->ctx, &differ, 1))) return st;
    if (differ)
        return sn_error(SN_ERR_STATE, "the ranks hold different sizes (%zu bytes here, %llu on rank 0)", n,
                        (unsigned long long)n0);
    return cli_comm->bcast(cli_comm->ctx, buf, n, 0);
}

int cli_fit_chunks(int batch) {
    if (cli_chunks > 0) return cli_chunks;
    if (!cli_comm) return 0;
    for (int k = 8; k > 1; k--)
        if (batch % k == 0) return k;
    return 1;
}
