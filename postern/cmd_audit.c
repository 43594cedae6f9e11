/* placeholder until the audit command lands */
#include <stdio.h>
#include "commands.h"
int cmd_audit(int argc, char **argv) { (void) argc; (void) argv; fprintf(stderr, "postern: audit: not built yet\n"); return 70; }
