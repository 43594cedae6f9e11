/*
 * main.c - postern-av, the antivirus milter: everything is in milterd
 * and av_milter.c.
 */
#include "milterd.h"

#include "av_milter.h"

int main(int argc, char **argv)
{
    return milterd_main(&av_milter_spec, argc, argv);
}
