/* seqnn classify under MPI, reading in parts (classify.h, docs/distributed.md
 * "Reading only a rank's share of the data"): the corpus was indexed (the
 * documents, labels and where each lies, no texts) and split like a whole
 * load; here each rank reads the texts of its training share (the samples
 * its chunk positions train on, sn_fit_shard) and the validation and test
 * texts. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "classify.h"

/* Texts [lo, hi) of index part x, from the source of the corpus's training
 * documents, or (own) of its separate test set. */
static sn_status read_part(const cl_corpus *c, const cl_opts *o, int own, sn_text_corpus *x, size_t lo, size_t hi) {
    if (c->folders) {
        sn_text_load_opts lo_opts;
        sn_text_load_opts_default(&lo_opts);
        lo_opts.subdir = c->sub[own ? 1 : 0];
        sn_status st = sn_text_folder_read(x, lo, hi, o->data, &lo_opts);
        /* folders hold raw bytes: decoded (or validated) as a whole load does */
        return st ? st : sn_text_corpus_decode(x, o->enc, o->data);
    }
    sn_text_table_opts t;
    cl_table_opts(o, &t);
    if (own) t.format = SN_TEXT_FORMAT_AUTO; /* --test-data is read by its own name */
    return sn_text_table_read(x, lo, hi, own ? o->test_data : o->data, &t);
}

int cl_read_shard(const cl_corpus *c, const cl_opts *o, int test_own, cl_data *d) {
    sn_status st = sn_fit_shard(d->train.n, o->t.batch, cli_fit_chunks(o->t.batch), cli_rank, cli_comm->size, &d->lo,
                                &d->hi);
    if (!st) st = read_part(c, o, 0, &d->train, d->lo, d->hi);
    if (!st) st = read_part(c, o, 0, &d->val, 0, d->val.n);
    if (!st) st = read_part(c, o, test_own, &d->test, 0, d->test.n);
    if ((st = sn_comm_agree(cli_comm, st))) { /* every rank fails alike; rank 0 says which rank and why */
        cli_dist_agreed = 1;
        return cli_is_root() ? cli_fail(st, NULL) : 1;
    }
    d->sharded = 1;
    if (getenv("SEQNN_DIST_VERBOSE"))
        fprintf(stderr, "seqnn [rank %d]: read the texts of training documents [%zu, %zu) of %zu, %zu validation, %zu test\n",
                cli_rank, d->lo, d->hi, d->train.n, d->val.n, d->test.n);
    return 0;
}
