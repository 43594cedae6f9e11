/*
 * main.c - postern-dkim: DKIM signing and verification milter.
 */
#include "milterd.h"

#include "dkim_milter.h"

int main(int argc, char **argv)
{
    return milterd_main(&dkim_milter_spec, argc, argv);
}
