/*
 * main.c - postern-attach: the attachment policy milter. Everything
 * around the callbacks is common/milterd.
 */
#include "milterd.h"

#include "attach_milter.h"

int main(int argc, char **argv)
{
    return milterd_main(&attach_milterd_spec, argc, argv);
}
