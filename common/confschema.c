/*
 * confschema.c - the keys common to all components: [global], and the
 * runtime keys every milter section shares. Components declare their own
 * keys in their own directories and list conf_milter_keys first.
 */
#include <stddef.h>

#include "config.h"

const conf_key_t conf_global_keys[] = {
    { "log_level", CONF_ENUM, "info", "debug|info|notice|warning|err", 0, 0,
      "Least severe syslog level that is logged." },
    { "audit_log", CONF_PATH, "/var/log/postern/audit.jsonl", NULL, 0, 0,
      "JSON-lines audit log, one hash-chained record per decision; empty turns it off." },
    { "authserv_id", CONF_STRING, "", NULL, 0, 0,
      "authserv-id of our Authentication-Results fields; empty means the host name." },
    { "dns_upstream", CONF_LIST, "", NULL, 0, 0,
      "Resolvers to forward to, as ADDRESS or ADDRESS@PORT; empty means /etc/resolv.conf." },
    { "dns_timeout", CONF_DURATION, "5s", NULL, 100, 60000,
      "Time one DNS lookup may take before it counts as a temporary error." },
    { "dns_dnssec", CONF_BOOL, "no", NULL, 0, 0,
      "Validate DNSSEC and report secure or bogus answers." },
    { "dns_trust_anchor", CONF_PATH, "/usr/share/dns/root.key", NULL, 0, 0,
      "Root trust anchor used when dns_dnssec is on." },
    { "internal_hosts", CONF_LIST, "127.0.0.0/8, ::1", NULL, 0, 0,
      "Client networks treated as internal (CIDR; a path starting with / is a file of them)." },
    { "user", CONF_STRING, "postern", NULL, 0, 0,
      "Unprivileged user the daemons run as after opening their sockets." },
    { "run_dir", CONF_PATH, "/run/postern", NULL, 0, 0,
      "Directory for sockets and pid files." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};

const conf_key_t conf_milter_keys[] = {
    { "enable", CONF_BOOL, "no", NULL, 0, 0,
      "Start this component with \"postern run\"." },
    { "socket", CONF_STRING, NULL, NULL, 0, 0,
      "Where the milter listens: unix:PATH, inet:PORT@HOST or inet6:PORT@HOST." },
    { "mode", CONF_ENUM, "enforce", "enforce|monitor", 0, 0,
      "monitor decides and logs but changes no message and rejects nothing." },
    { "user", CONF_STRING, "", NULL, 0, 0,
      "User to run as; empty means the user of [global]." },
    { "pidfile", CONF_PATH, "", NULL, 0, 0,
      "File to write the daemon's process id to; empty means none." },
    { "socket_mode", CONF_MODE, "0660", NULL, 0, 0,
      "Permissions of a unix socket (the MTA's user must be able to write it)." },
    { "backlog", CONF_INT, "128", NULL, 1, 65535,
      "Listen backlog of the milter socket." },
    { "timeout", CONF_DURATION, "30s", NULL, 1000, 3600000,
      "Idle time after which a connection from the MTA is dropped." },
    { "tcp_nodelay", CONF_BOOL, "yes", NULL, 0, 0,
      "Disable Nagle's algorithm on inet sockets (avoids 40 ms stalls per reply)." },
    { "reply_every_stage", CONF_BOOL, "yes", NULL, 0, 0,
      "Negotiate only the stages the milter needs, each answered (over unix: sockets, not the ones that only collect), which keeps small packets from stalling." },
    { "metrics_listen", CONF_STRING, "", NULL, 0, 0,
      "HOST:PORT on loopback where Prometheus metrics are served; empty means none." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};

static const conf_key_t *const global_keysets[] = { conf_global_keys, NULL };

const conf_section_t conf_global_section = {
    "global", "Settings every component shares.", global_keysets, false
};
