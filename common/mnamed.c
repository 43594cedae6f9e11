/*
 * mnamed.c - counters per configured name over the metrics registry,
 * with a catch-all for names that arrive with a reload.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "metrics.h"
#include "mnamed.h"

#define NAME_MAX_LEN 64

struct mnamed {
    size_t n;
    char names[MNAMED_MAX][NAME_MAX_LEN + 1];
    metric_t *counters[MNAMED_MAX];
    metric_t *other;
};

/* A label value that needs no escaping in the text format. */
static void clean(char *out, const char *in)
{
    size_t i;

    for (i = 0; i < NAME_MAX_LEN && in[i] != '\0'; i++) {
        unsigned char ch = (unsigned char) in[i];
        out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                 || strchr(".-_:@", ch) != NULL ? (char) ch : '_';
    }
    out[i] = '\0';
}

static metric_t *counter(const char *metric, const char *help, const char *label,
                         const char *value)
{
    char labels[160];

    snprintf(labels, sizeof(labels), "%s=\"%s\"", label, value);
    return metrics_counter(metric, help, labels);
}

mnamed_t *mnamed_new(const char *metric, const char *help, const char *label,
                     const char *const *names, size_t n)
{
    mnamed_t *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < n && m->n < MNAMED_MAX; i++) {
        if (names[i] == NULL || strlen(names[i]) > NAME_MAX_LEN)
            continue;
        snprintf(m->names[m->n], sizeof(m->names[m->n]), "%s", names[i]);
        char value[NAME_MAX_LEN + 1];
        clean(value, names[i]);
        m->counters[m->n++] = counter(metric, help, label, value);
    }
    m->other = counter(metric, help, label, "other");
    return m;
}

void mnamed_add(mnamed_t *m, const char *name, uint64_t n)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0) {
            metric_add(m->counters[i], n);
            return;
        }
    metric_add(m->other, n);
}

void mnamed_free(mnamed_t *m)
{
    free(m);
}
