/*
 * main.c - postern-dmarc: DMARC evaluation and enforcement milter.
 */
#include "milterd.h"

#include "dmarc_milter.h"

int main(int argc, char **argv)
{
    return milterd_main(&dmarc_milter_spec, argc, argv);
}
