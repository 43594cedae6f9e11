/* placeholder until the run command lands */
#include <stdio.h>
#include "commands.h"
int cmd_run(int argc, char **argv) { (void) argc; (void) argv; fprintf(stderr, "postern: run: not built yet\n"); return 70; }
