/*
 * menv.c - connection and envelope of one milter session: bounded,
 * sanitised copies of what the MTA told us, and the audit fields.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "menv.h"

struct menv {
    char conn_id[32];
    char client_ip[INET6_ADDRSTRLEN];
    char client_host[MENV_MAX_NAME];
    int af;
    unsigned char addr[16];
    char helo[MENV_MAX_NAME];
    char from[MENV_MAX_ADDR];
    char qid[64];
    bool have_qid;
    char auth[MENV_MAX_ADDR];
    bool have_auth;
    char dname[64];
    bool have_dname;
    char msgid[MENV_MAX_MSGID];
    bool have_msgid;
    char *rcpt[MENV_MAX_RCPT];
    size_t nrcpt, rcpt_total;
    struct timespec start;
};

/* Copies SRC into DST (size N): control characters become '?', the copy
 * is cut at N - 1 bytes. Logs and audit records stay one line each. */
static void copy_clean(char *dst, size_t n, const char *src)
{
    size_t i = 0;

    if (src != NULL)
        for (; src[i] != '\0' && i + 1 < n; i++) {
            unsigned char c = (unsigned char) src[i];
            dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
        }
    dst[i] = '\0';
}

/* "<a@b>" -> "a@b"; the null sender "<>" -> "". */
static void copy_addr(char *dst, size_t n, const char *src)
{
    size_t len;

    if (src != NULL && *src == '<')
        src++;
    copy_clean(dst, n, src);
    len = strlen(dst);
    if (len > 0 && dst[len - 1] == '>')
        dst[len - 1] = '\0';
}

static void set_client(menv_t *e, const struct sockaddr *sa)
{
    e->af = AF_UNSPEC;
    snprintf(e->client_ip, sizeof(e->client_ip), "unknown");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        memcpy(e->addr, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        memcpy(e->addr, &in6->sin6_addr, 16);
    } else {
        return;
    }
    e->af = sa->sa_family;
    inet_ntop(e->af, e->addr, e->client_ip, sizeof(e->client_ip));
}

menv_t *menv_new(const char *hostname, const struct sockaddr *sa)
{
    static atomic_ulong next = 1;
    menv_t *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return NULL;
    /* pid and a counter: unique among the daemons writing one audit log. */
    snprintf(e->conn_id, sizeof(e->conn_id), "%ld.%lu", (long) getpid(),
             atomic_fetch_add(&next, 1));
    copy_clean(e->client_host, sizeof(e->client_host), hostname);
    set_client(e, sa);
    clock_gettime(CLOCK_MONOTONIC, &e->start);
    return e;
}

static void clear_rcpts(menv_t *e)
{
    for (size_t i = 0; i < e->nrcpt; i++)
        free(e->rcpt[i]);
    e->nrcpt = e->rcpt_total = 0;
}

void menv_free(menv_t *e)
{
    if (e == NULL)
        return;
    clear_rcpts(e);
    free(e);
}

void menv_set_helo(menv_t *e, const char *helo)
{
    copy_clean(e->helo, sizeof(e->helo), helo);
}

/* Copies an optional macro value; absent or empty means "not known". */
static bool copy_opt(char *dst, size_t n, const char *src)
{
    copy_clean(dst, n, src);
    return src != NULL && *src != '\0';
}

void menv_mail(menv_t *e, const char *from, const char *qid, const char *auth,
               const char *dname)
{
    clear_rcpts(e);
    copy_addr(e->from, sizeof(e->from), from);
    e->have_qid = copy_opt(e->qid, sizeof(e->qid), qid);
    e->have_auth = copy_opt(e->auth, sizeof(e->auth), auth);
    e->have_msgid = false;
    /* The daemon name comes at connect; keep it when MAIL has none. */
    if (dname != NULL && *dname != '\0')
        e->have_dname = copy_opt(e->dname, sizeof(e->dname), dname);
    clock_gettime(CLOCK_MONOTONIC, &e->start);
}

void menv_rcpt(menv_t *e, const char *rcpt)
{
    char buf[MENV_MAX_ADDR];

    e->rcpt_total++;
    if (e->nrcpt >= MENV_MAX_RCPT)
        return;
    copy_addr(buf, sizeof(buf), rcpt);
    if ((e->rcpt[e->nrcpt] = strdup(buf)) != NULL)
        e->nrcpt++;
}

void menv_set_qid(menv_t *e, const char *qid)
{
    if (qid != NULL && *qid != '\0')
        e->have_qid = copy_opt(e->qid, sizeof(e->qid), qid);
}

void menv_set_daemon_name(menv_t *e, const char *dname)
{
    if (dname != NULL && *dname != '\0')
        e->have_dname = copy_opt(e->dname, sizeof(e->dname), dname);
}

void menv_header(menv_t *e, const char *name, const char *value)
{
    size_t n;

    if (name == NULL || value == NULL || strcasecmp(name, "Message-ID") != 0 || e->have_msgid)
        return;
    value += strspn(value, " \t\r\n");
    copy_clean(e->msgid, sizeof(e->msgid), value);
    n = strlen(e->msgid);
    while (n > 0 && (e->msgid[n - 1] == ' ' || e->msgid[n - 1] == '?'))
        e->msgid[--n] = '\0';       /* trailing blanks and folded line ends */
    e->have_msgid = n > 0;
}

const char *menv_msgid(const menv_t *e) { return e->have_msgid ? e->msgid : NULL; }
const char *menv_conn_id(const menv_t *e) { return e->conn_id; }
const char *menv_client_ip(const menv_t *e) { return e->client_ip; }
const char *menv_client_host(const menv_t *e) { return e->client_host; }
const char *menv_helo(const menv_t *e) { return e->helo; }
const char *menv_from(const menv_t *e) { return e->from; }
const char *menv_qid(const menv_t *e) { return e->have_qid ? e->qid : NULL; }
const char *menv_auth(const menv_t *e) { return e->have_auth ? e->auth : NULL; }
const char *menv_daemon_name(const menv_t *e) { return e->have_dname ? e->dname : NULL; }
size_t menv_rcpt_total(const menv_t *e) { return e->rcpt_total; }

int menv_client_af(const menv_t *e, const void **addr)
{
    if (addr != NULL)
        *addr = e->af == AF_UNSPEC ? NULL : e->addr;
    return e->af;
}

const char *menv_from_domain(const menv_t *e)
{
    const char *at = strrchr(e->from, '@');

    return at != NULL ? at + 1 : "";
}

size_t menv_rcpts(const menv_t *e, const char *const **list)
{
    if (list != NULL)
        *list = (const char *const *) e->rcpt;
    return e->nrcpt;
}

double menv_elapsed_ms(const menv_t *e)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - e->start.tv_sec) * 1e3
        + (double) (now.tv_nsec - e->start.tv_nsec) / 1e6;
}

bool menv_client_in(const menv_t *e, const netlist_t *nl)
{
    return nl != NULL && e->af != AF_UNSPEC && netlist_match(nl, e->af, e->addr);
}

void menv_audit_fill(const menv_t *e, audit_record_t *r)
{
    r->qid = menv_qid(e);
    r->conn = e->conn_id;
    r->client_ip = e->client_ip;
    r->helo = e->helo;
    r->from = e->from;
    r->rcpt = (const char *const *) e->rcpt;
    r->nrcpt = e->nrcpt;
    r->msgid = menv_msgid(e);
}
