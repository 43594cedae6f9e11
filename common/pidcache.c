/*
 * pidcache.c - getpid() once per process, forgotten across fork(); see
 * pidcache.h. Used by the audit record and the log line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "pidcache.h"

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static _Atomic pid_t cached;

static void forget(void)
{
    atomic_store(&cached, 0);
}

static void hook(void)
{
    pthread_atfork(NULL, NULL, forget);
}

pid_t pidcache_pid(void)
{
    pid_t pid;

    pthread_once(&hook_once, hook);
    if ((pid = atomic_load(&cached)) == 0) {
        pid = getpid();
        atomic_store(&cached, pid);
    }
    return pid;
}
