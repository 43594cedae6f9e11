/* placeholder until the check command lands */
#include <stdio.h>
#include "commands.h"
int cmd_check(int argc, char **argv) { (void) argc; (void) argv; fprintf(stderr, "postern: check: not built yet\n"); return 70; }
