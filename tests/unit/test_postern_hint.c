/*
 * test_postern_hint.c - the socket spec a daemon listens on, turned into
 * the address Postfix's smtpd_milters connects to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "postfix_hint.h"

static const struct {
    const char *spec;
    const char *postfix;        /* NULL: rejected */
} cases[] = {
    { "unix:/run/postern/dkim.sock", "unix:/run/postern/dkim.sock" },
    { "local:/run/postern/spf.sock", "unix:/run/postern/spf.sock" },
    { "inet:8891@127.0.0.1", "inet:127.0.0.1:8891" },
    { "inet:8891", "inet:127.0.0.1:8891" },
    { "inet:8891@0.0.0.0", "inet:127.0.0.1:8891" },
    { "inet6:8891@::1", "inet:[::1]:8891" },
    { "inet6:8891@[::1]", "inet:[::1]:8891" },
    { "inet6:8891", "inet:[::1]:8891" },
    { "inet:@127.0.0.1", NULL },
    { "inet:88x1@127.0.0.1", NULL },
    { "inet:123456789@127.0.0.1", NULL },
    { "inet:65536@127.0.0.1", NULL },
    { "inet:0@127.0.0.1", NULL },
    { "tcp:8891", NULL },
    { "", NULL },
};

static void milter_address_matches_postfix_syntax(void **state)
{
    char buf[128];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = postfix_milter_address(cases[i].spec, NULL, buf, sizeof(buf));
        if (cases[i].postfix == NULL) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(buf, cases[i].postfix);
        }
    }
}

static void milter_address_fails_when_buffer_too_small(void **state)
{
    char buf[8];

    (void) state;
    assert_int_equal(postfix_milter_address("unix:/run/postern/dkim.sock", NULL,
                                            buf, sizeof(buf)), -1);
}

static const struct {
    const char *spec, *queue_dir, *postfix;
} chroot_cases[] = {
    { "unix:/var/spool/postfix/postern/dkim.sock", "/var/spool/postfix",
      "unix:postern/dkim.sock" },
    { "unix:/var/spool/postfix/postern/dkim.sock", "/var/spool/postfix/",
      "unix:postern/dkim.sock" },
    { "unix:/var/spool/postfix2/dkim.sock", "/var/spool/postfix",
      "unix:/var/spool/postfix2/dkim.sock" },          /* not below it */
    { "unix:/run/postern/dkim.sock", "/var/spool/postfix", "unix:/run/postern/dkim.sock" },
    { "unix:/var/spool/postfix/", "/var/spool/postfix", "unix:/var/spool/postfix/" },
    { "inet:8891@127.0.0.1", "/var/spool/postfix", "inet:127.0.0.1:8891" },
};

static void sockets_in_the_queue_directory_are_named_relative_to_it(void **state)
{
    char buf[128];

    (void) state;
    for (size_t i = 0; i < sizeof(chroot_cases) / sizeof(chroot_cases[0]); i++) {
        assert_int_equal(postfix_milter_address(chroot_cases[i].spec, chroot_cases[i].queue_dir,
                                                buf, sizeof(buf)), 0);
        assert_string_equal(buf, chroot_cases[i].postfix);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(milter_address_matches_postfix_syntax),
        cmocka_unit_test(milter_address_fails_when_buffer_too_small),
        cmocka_unit_test(sockets_in_the_queue_directory_are_named_relative_to_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
