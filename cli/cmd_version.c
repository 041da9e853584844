/* seqnn version [--verbose]: the version; with --verbose what this machine
 * runs: CPU, vector path, denormal mode, threads, BLAS library and the
 * kernel set its GEMMs run. Exit status 2 when $SEQNN_ISA names a path that
 * is unknown or that this CPU cannot run (CI uses that as its probe). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_version(int argc, char **argv) {
    cli_opt opts[] = {CLI_RAW("verbose", 0, "also print the CPU, vector path, denormal mode, threads and BLAS kernel"),
                      CLI_RAW("help", 0, "show this help"), CLI_END};
    if (cli_parse(argc, argv, 2, opts, "version")) return 2;
    if (cli_flag(opts, "help")) {
        cli_usage(opts, "version", "[--verbose]");
        return 0;
    }
    sn_status st = sn_isa_env_check();
    if (st) return cli_fail(st, NULL) + 1;
    printf("seqnn %s\n", SEQNN_VERSION);
    if (!cli_flag(opts, "verbose")) return 0;

    sn_cpu_info cpu;
    sn_cpu_info_get(&cpu);
    printf("cpu:          %s (%s family %d model %d stepping %d)\n", cpu.model_name[0] ? cpu.model_name : "unknown",
           cpu.vendor, cpu.family, cpu.model, cpu.stepping);
    sn_isa best = sn_isa_detect(), act = sn_isa_get();
    printf("vector paths: ");
    for (int p = SN_ISA_SSE2; p <= (int)best; p++) printf("%s%s", p ? " " : "", sn_isa_name((sn_isa)p));
    printf(" (this CPU runs)\n");
    const char *forced = getenv("SEQNN_ISA");
    printf("vector path:  %s (detected %s%s)\n", sn_isa_name(act), sn_isa_name(best),
           forced && *forced ? ", forced by SEQNN_ISA" : "");
    printf("denormals:    %s\n", sn_denormals_get() ? "flushed to zero (FTZ + DAZ) in seqnn's threads"
                                                    : "kept (IEEE gradual underflow; SEQNN_FLUSH_DENORMALS=0)");
    const char *wp = getenv("OMP_WAIT_POLICY");
    printf("threads:      %d (OMP_WAIT_POLICY=%s)\n", sn_threads_get(), wp ? wp : "unset");
    sn_blas_info bi;
    sn_blas_info_get(&bi);
    printf("blas:         %s\n", bi.library);
    printf("blas kernel:  %s (%s)\n", bi.core[0] ? bi.core : "unknown", bi.reason);
    return 0;
}
