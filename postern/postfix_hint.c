/*
 * postfix_hint.c - build the main.cf lines for the enabled components.
 * Milters go into smtpd_milters in component-table order; the same list
 * serves non_smtpd_milters so locally submitted mail gets the same
 * treatment (signing, above all).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sockspec.h"

#include "components.h"
#include "postfix_hint.h"

/* PATH below QUEUE_DIR, as Postfix should name it: relative to the
 * queue directory, which is the working directory of every Postfix
 * daemon whether chrooted (Debian's default for smtpd and cleanup) or
 * not. An absolute path would name another file inside the chroot. */
static const char *queue_relative(const char *path, const char *queue_dir)
{
    size_t n = queue_dir ? strlen(queue_dir) : 0;

    while (n > 1 && queue_dir[n - 1] == '/')
        n--;
    if (n > 1 && strncmp(path, queue_dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0')
        return path + n + 1;
    return path;
}

int postfix_milter_address(const char *spec, const char *queue_dir, char *buf,
                           size_t buflen)
{
    sockspec_t ss;
    char err[160];
    const char *host;
    int n;

    if (sockspec_parse(spec, &ss, err, sizeof(err)) < 0)
        return -1;
    switch (ss.family) {
    case SOCKSPEC_UNIX:
        n = snprintf(buf, buflen, "unix:%s", queue_relative(ss.path, queue_dir));
        break;
    case SOCKSPEC_INET:
        /* A daemon listening on every address is reached on loopback. */
        host = ss.host[0] == '\0' || strcmp(ss.host, "0.0.0.0") == 0 ? "127.0.0.1"
                                                                      : ss.host;
        n = snprintf(buf, buflen, "inet:%s:%u", host, ss.port);
        break;
    default:
        host = ss.host[0] == '\0' || strcmp(ss.host, "::") == 0 ? "::1" : ss.host;
        n = snprintf(buf, buflen, "inet:[%s]:%u", host, ss.port);
        break;
    }
    return n > 0 && (size_t) n < buflen ? 0 : -1;
}

static int enabled(const config_t *cfg, const component_t *c)
{
    return config_bool(cfg, c->name, "enable");
}

static void write_milters(FILE *out, const config_t *cfg, const char *queue_dir)
{
    const char *sep = "smtpd_milters = ";
    char addr[512];
    int any = 0;

    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        if (c->kind != COMPONENT_MILTER || !enabled(cfg, c))
            continue;
        const char *spec = config_str(cfg, c->name, "socket");
        if (spec == NULL || postfix_milter_address(spec, queue_dir, addr, sizeof(addr)) < 0)
            continue;
        fprintf(out, "%s%s", sep, addr);
        sep = ",\n    ";
        any = 1;
    }
    if (!any)
        return;
    fprintf(out, "\nnon_smtpd_milters = $smtpd_milters\n"
                 "milter_protocol = 6\n"
                 "# Never accept silently when a milter is down.\n"
                 "milter_default_action = tempfail\n");
}

/* Which stages the configured limits count at: RCPT, END-OF-MESSAGE. */
static void limit_stages(const config_t *cfg, bool *rcpt, bool *eom)
{
    const char *const *names;
    size_t n = config_instances(cfg, "limit", &names);
    char sect[128];

    *rcpt = *eom = false;
    for (size_t i = 0; i < n; i++) {
        snprintf(sect, sizeof(sect), "limit %s", names[i]);
        const char *stage = config_str(cfg, sect, "stage");
        if (stage != NULL && strcmp(stage, "rcpt") == 0)
            *rcpt = true;
        else
            *eom = true;
    }
}

static void write_policy(FILE *out, const config_t *cfg)
{
    char addr[512];
    bool rcpt, eom;

    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        const char *listen;
        if (c->kind != COMPONENT_POLICY || !enabled(cfg, c)
            || (listen = config_str(cfg, c->name, "listen")) == NULL
            || postfix_milter_address(listen, NULL, addr, sizeof(addr)) < 0)
            continue;
        limit_stages(cfg, &rcpt, &eom);
        /* A policy server that does not answer must not stop mail:
         * DUNNO after 10 s, instead of Postfix's 451 after 100 s. */
        /* Relay control belongs to smtpd_relay_restrictions (Postfix
         * >= 2.10), so the limits see authenticated and local clients. */
        if (rcpt || !eom)
            fprintf(out, "# (append to your own list if you have one)\n"
                         "smtpd_recipient_restrictions =\n"
                         "    check_policy_service { %s, timeout=10s, default_action=DUNNO }\n",
                    addr);
        if (eom)
            fprintf(out, "smtpd_end_of_data_restrictions =\n"
                         "    check_policy_service { %s, timeout=10s, default_action=DUNNO }\n",
                    addr);
    }
}

int postfix_hint_write(FILE *out, const config_t *cfg, const char *queue_dir)
{
    int n = 0;

    for (size_t i = 0; i < components_count(); i++)
        n += enabled(cfg, components_get(i)) ? 1 : 0;
    if (n == 0)
        return 0;
    fprintf(out, "# Add to Postfix's main.cf, then run \"postfix reload\":\n");
    write_milters(out, cfg, queue_dir);
    write_policy(out, cfg);
    return n;
}

const char *postfix_queue_dir(char *buf, size_t buflen)
{
    FILE *p = popen("postconf -h queue_directory 2>/dev/null", "r");
    size_t n;

    snprintf(buf, buflen, "/var/spool/postfix");
    if (p == NULL)
        return buf;
    if (fgets(buf, (int) buflen, p) != NULL) {
        n = strcspn(buf, "\r\n");
        buf[n] = '\0';
    }
    /* No postconf, or no answer: the Debian default. */
    if (pclose(p) != 0 || buf[0] != '/')
        snprintf(buf, buflen, "/var/spool/postfix");
    return buf;
}
