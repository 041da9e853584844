/* seqnn command-line tool (placeholder until the CLI lands). */
#include <stdio.h>
#include "seqnn.h"
int main(void) {
    printf("seqnn %s\n", SEQNN_VERSION);
    return 0;
}
