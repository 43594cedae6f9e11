/*
 * confholder.c - the running daemon's current config. SIGHUP reloads
 * through here: the new file is parsed completely before anything is
 * swapped, so a bad file leaves the old config in force.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct confholder {
    pthread_mutex_t lock;
    config_t *cur;
};

confholder_t *confholder_new(config_t *initial)
{
    confholder_t *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->cur = initial;
    return h;
}

config_t *confholder_acquire(confholder_t *h)
{
    config_t *cfg;

    pthread_mutex_lock(&h->lock);
    cfg = config_ref(h->cur);
    pthread_mutex_unlock(&h->lock);
    return cfg;
}

int confholder_reload(confholder_t *h, const conf_section_t *const *sections,
                      char *err, size_t errlen)
{
    config_t *old = confholder_acquire(h);
    char *path = strdup(config_path(old));
    config_t *next;

    config_unref(old);
    if (path == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    next = config_load(path, sections, err, errlen);
    free(path);
    if (next == NULL)
        return -1;
    pthread_mutex_lock(&h->lock);
    old = h->cur;
    h->cur = next;
    pthread_mutex_unlock(&h->lock);
    config_unref(old);           /* in-flight users hold their own refs */
    return 0;
}

void confholder_free(confholder_t *h)
{
    if (h == NULL)
        return;
    config_unref(h->cur);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
