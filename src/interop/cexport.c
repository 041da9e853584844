/* sn_cexport: see include/seqnn/cexport.h. */
#include <string.h>

#include "seqnn/cexport.h"

void sn_cexport_opts_default(sn_cexport_opts *o) { memset(o, 0, sizeof *o); }

sn_status sn_cexport(const sn_model *m, const char *path, const sn_cexport_opts *o) {
    (void)m, (void)path, (void)o;
    return sn_error(SN_ERR_UNSUPPORTED, "C export: not written yet");
}
