/* Subcommands whose modules are still being integrated (temporary). */
#include "cli.h"
static int pending(const char *c) {
    fprintf(stderr, "seqnn %s: not available in this build yet\n", c);
    return 2;
}
int cmd_predict(int argc, char **argv) { (void)argc; (void)argv; return pending("predict"); }
int cmd_vectorize(int argc, char **argv) { (void)argc; (void)argv; return pending("vectorize"); }
int cmd_embed(int argc, char **argv) { (void)argc; (void)argv; return pending("embed"); }
