/*
 * policyd_conf.c - keys of the [policyd] section. The limits themselves
 * are "[limit NAME]" sections (limits.c).
 */
#include <stddef.h>

#include "config.h"

#include "limit.h"
#include "policyd_conf.h"

static const conf_key_t policyd_keys[] = {
    { "enable", CONF_BOOL, "no", NULL, 0, 0,
      "Start postern-policyd with \"postern run\"." },
    { "listen", CONF_STRING, "inet:10040@127.0.0.1", NULL, 0, 0,
      "Where Postfix connects: inet:PORT@HOST, inet6:PORT@HOST or unix:PATH." },
    { "mode", CONF_ENUM, "enforce", "enforce|monitor", 0, 0,
      "monitor counts, logs and audits limit hits but always answers DUNNO." },
    { "user", CONF_STRING, "", NULL, 0, 0,
      "User to run as; empty means the user of [global]." },
    { "pidfile", CONF_PATH, "", NULL, 0, 0,
      "File to write the daemon's process id to; empty means none." },
    { "status_socket", CONF_STRING, "unix:/run/postern/policyd.status", NULL, 0, 0,
      "Where \"postern policyd status\" asks for counters (unix:PATH); empty turns it off." },
    { "metrics_listen", CONF_STRING, "", NULL, 0, 0,
      "Serve Prometheus metrics on this 127.x.x.x:PORT (/metrics); empty turns it off." },
    { "backend", CONF_ENUM, "memory", "memory|redis", 0, 0,
      "Where limit state lives: memory (one MTA) or redis (shared by several MTAs)." },
    { "state_file", CONF_PATH, "/var/lib/postern/policyd.state", NULL, 0, 0,
      "memory back end: counters are saved here every minute and at stop, and loaded at start; empty turns it off." },
    { "max_keys", CONF_INT, "1000000", NULL, 1, 100000000,
      "memory back end: most keys held at once (idle keys expire)." },
    { "redis", CONF_STRING, "127.0.0.1:6379", NULL, 0, 0,
      "redis back end: HOST:PORT or a unix socket path." },
    { "redis_timeout", CONF_DURATION, "200ms", NULL, 10, 10000,
      "redis back end: time an answer may take before the failure action applies." },
    { "on_backend_error", CONF_ENUM, "dunno", "dunno|defer", 0, 0,
      "Answer when the back end cannot: dunno (fail open) or defer (fail closed, 4.3.0)." },
    { "idle_timeout", CONF_DURATION, "300s", NULL, 1000, 86400000,
      "Close a client connection idle this long (Postfix reconnects as needed)." },
    { "max_connections", CONF_INT, "10000", NULL, 1, 1000000,
      "Most client connections at once; more are closed at once and logged." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const policyd_keysets[] = { policyd_keys, NULL };

const conf_section_t policyd_conf_section = {
    "policyd", "postern-policyd, the Postfix policy daemon for rate limits.",
    policyd_keysets, false
};

const conf_section_t *const policyd_sections[] = {
    &conf_global_section, &policyd_conf_section, &limit_conf_section, NULL
};
