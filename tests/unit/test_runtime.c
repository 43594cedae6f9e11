/*
 * test_runtime.c - the milter runtime's parts that need no MTA: socket
 * specs, the pid file, TCP_NODELAY on listening sockets, and the
 * mapping from config keys to runtime options.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "runtime.h"
#include "sockspec.h"

static const struct {
    const char *spec;
    const char *milter;         /* NULL: rejected */
    const char *why;            /* part of the error */
} specs[] = {
    { "unix:/run/postern/dkim.sock", "unix:/run/postern/dkim.sock", NULL },
    { "local:/tmp/x.sock", "unix:/tmp/x.sock", NULL },
    { "inet:8891@127.0.0.1", "inet:8891@127.0.0.1", NULL },
    { "inet:8891", "inet:8891", NULL },
    { "inet6:8891@[::1]", "inet6:8891@::1", NULL },
    { "inet6:8891@::1", "inet6:8891@::1", NULL },
    { "inet:0@127.0.0.1", NULL, "bad port" },
    { "inet:65536@127.0.0.1", NULL, "bad port" },
    { "inet:8891@localhost", NULL, "not a numeric IPv4 address" },
    { "inet6:8891@127.0.0.1", NULL, "not a numeric IPv6 address" },
    { "unix:relative.sock", NULL, "must be absolute" },
    { "tcp:25", NULL, "unknown socket type" },
    { "", NULL, "empty" },
};

static void socket_specs_parse_or_say_why(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        sockspec_t ss;
        char err[256] = "";
        int rc = sockspec_parse(specs[i].spec, &ss, err, sizeof(err));
        if (specs[i].milter != NULL) {
            if (rc != 0 || strcmp(ss.milter, specs[i].milter) != 0)
                fail_msg("'%s': rc %d, got '%s' (%s)", specs[i].spec, rc, ss.milter, err);
        } else if (rc != -1 || strstr(err, specs[i].why) == NULL) {
            fail_msg("'%s': rc %d, error '%s'", specs[i].spec, rc, err);
        }
    }
}

static void overlong_unix_path_is_refused(void **state)
{
    char spec[200], err[128];
    sockspec_t ss;

    (void) state;
    strcpy(spec, "unix:/");
    memset(spec + 6, 'a', 150);
    spec[156] = '\0';
    assert_int_equal(sockspec_parse(spec, &ss, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than"));
}

static void nodelay_is_set_on_listening_tcp_sockets_only(void **state)
{
    int lsn = socket(AF_INET, SOCK_STREAM, 0), other = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int v = 0;
    socklen_t len = sizeof(v);

    (void) state;
    assert_int_equal(bind(lsn, (struct sockaddr *) &sa, sizeof(sa)), 0);
    assert_int_equal(listen(lsn, 4), 0);
    assert_true(runtime_nodelay_listeners() >= 1);
    getsockopt(lsn, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    assert_int_equal(v, 1);
    v = 0;
    getsockopt(other, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    assert_int_equal(v, 0);     /* not listening: left alone */
    close(lsn);
    close(other);
}

static void pidfile_refuses_a_live_owner_and_replaces_a_dead_one(void **state)
{
    char path[] = "/tmp/postern-test-pid.XXXXXX", err[256], buf[32];
    int fd = mkstemp(path);
    pid_t child;
    FILE *f;

    (void) state;
    close(fd);
    /* A live process other than us owns it: our parent will do. */
    assert_int_equal(runtime_pidfile_write(path, (long) getppid(), err, sizeof(err)), 0);
    assert_int_equal(runtime_pidfile_write(path, (long) getpid(), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "already running"));
    /* A dead one does not block. */
    if ((child = fork()) == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    f = fopen(path, "w");
    fprintf(f, "%ld\n", (long) child);
    fclose(f);
    assert_int_equal(runtime_pidfile_write(path, (long) getpid(), err, sizeof(err)), 0);
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_int_equal(atol(buf), (long) getpid());
    unlink(path);
}

static void unknown_user_is_an_error(void **state)
{
    char err[128];

    (void) state;
    assert_int_equal(runtime_drop_user("no-such-user-postern", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown user"));
    assert_int_equal(runtime_drop_user("", err, sizeof(err)), 0);
}

static const conf_key_t no_keys[] = { { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL } };
static const conf_key_t *const ks[] = { conf_milter_keys, no_keys, NULL };
static const conf_section_t sect = { "testmilter", "", ks, false };
static const conf_section_t *const sections[] = { &conf_global_section, &sect, NULL };

static void options_come_from_the_milter_keys(void **state)
{
    char err[256] = "";
    runtime_opts_t o = { 0 };
    config_t *cfg = config_load_string("t.conf",
        "[global]\nuser = mail\n[testmilter]\nsocket = inet:8891@127.0.0.1\n"
        "timeout = 2m\nbacklog = 50\ntcp_nodelay = no\nsocket_mode = 0600\n",
        sections, err, sizeof(err));

    (void) state;
    assert_non_null(cfg);
    assert_int_equal(runtime_opts_from_config(&o, cfg, "testmilter", err, sizeof(err)), 0);
    assert_string_equal(o.socket, "inet:8891@127.0.0.1");
    assert_string_equal(o.user, "mail");
    assert_int_equal(o.timeout_s, 120);
    assert_int_equal(o.backlog, 50);
    assert_false(o.tcp_nodelay);
    assert_true(o.reply_every_stage);
    assert_int_equal(o.socket_mode, 0600);
    config_unref(cfg);
}

static void bad_or_missing_socket_names_the_key(void **state)
{
    char err[256] = "";
    runtime_opts_t o = { 0 };
    config_t *cfg = config_load_string("t.conf", "[testmilter]\nenable = yes\n",
                                       sections, err, sizeof(err));

    (void) state;
    assert_int_equal(runtime_opts_from_config(&o, cfg, "testmilter", err, sizeof(err)), -1);
    assert_string_equal(err, "t.conf: [testmilter] socket: required");
    config_unref(cfg);
    cfg = config_load_string("t.conf", "[testmilter]\n\nsocket = inet:http@127.0.0.1\n",
                             sections, err, sizeof(err));
    assert_int_equal(runtime_opts_from_config(&o, cfg, "testmilter", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "t.conf:3: [testmilter] socket: bad port"));
    config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socket_specs_parse_or_say_why),
        cmocka_unit_test(overlong_unix_path_is_refused),
        cmocka_unit_test(nodelay_is_set_on_listening_tcp_sockets_only),
        cmocka_unit_test(pidfile_refuses_a_live_owner_and_replaces_a_dead_one),
        cmocka_unit_test(unknown_user_is_an_error),
        cmocka_unit_test(options_come_from_the_milter_keys),
        cmocka_unit_test(bad_or_missing_socket_names_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
