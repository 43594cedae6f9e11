/*
 * spf_cve.c - hostile SPF records behind the memory-safety bugs reported
 * against libspf2 1.2.10 (CVE-2021-20314, CVE-2021-33912, CVE-2021-33913,
 * CVE-2023-42118), run through our evaluation and through Debian's
 * libspf2 on the same in-memory zone.
 *
 * Our evaluation must give a defined RFC 7208 result (the ASan build
 * turns any overrun into a failure). libspf2 runs in a child process so
 * that a crash is observed, not suffered: unguarded, the child must
 * crash exactly for the bugs Debian has not fixed (the finding recorded
 * in docs/spf.md; a change in Debian's package makes this test fail so
 * the finding gets updated); guarded (spf_libspf2_record_safe), it must
 * finish cleanly because the trigger is withheld.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spf_eval.h"
#include "spf_libspf2.h"
#include "spf_zone.h"

#define LONG_LABEL "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct cve_case {
    const char *cve;
    const char *domain;         /* the sender's domain and its record */
    const char *record;
    const char *exp_name;       /* the record's exp= target */
    const char *exp_head;       /* its text: HEAD, then "%{d}" MACROS times, */
    unsigned macros;            /* then TAIL */
    const char *exp_tail;
    const char *mailfrom;
    spf_result_t ours;          /* RFC 7208 result of our evaluation */
    int debian_vulnerable;      /* libspf2 1.2.10-7.2 crashes on it */
    const char *fixed_sign;     /* else: what its explanation shows */
} cve_case_t;

static const cve_case_t cases[] = {
    /* spf_compile.c gave a string literal 4 bytes more room than its
     * buffer had: a literal after 126 macros in an explanation ran off
     * the end of a stack buffer. Fixed in Debian's 1.2.10-7.1. */
    { "CVE-2021-20314", "cve20314.test", "v=spf1 -all exp=e.cve20314.test",
      "e.cve20314.test", "", 126, "ABCDEFG", "a@cve20314.test",
      SPF_RESULT_FAIL, 0, "Please see" },   /* the literal is refused */
    /* spf_expand.c URL-encoded with sprintf("%%%02x", char): a byte
     * over 0x7f in an uppercase macro ("%{L}") printed "%ffffffXX", 10
     * bytes where 4 were counted. Fixed in Debian's 1.2.10-7.1. */
    { "CVE-2021-33912", "cve33912.test", "v=spf1 -all exp=e.cve33912.test",
      "e.cve33912.test", "%{L}", 0, " is not allowed", "\xff\xfe\xfd\xfc\xfb@cve33912.test",
      SPF_RESULT_FAIL, 0, "fail %ff%fe%fd%fc%fb" },   /* 3 bytes a byte */
    /* The reverse ("r") transformer reused the length variable, so an
     * URL-encoded reversed macro got a buffer sized for one label and
     * wrote the whole name into it. Fixed in Debian's 1.2.10-7.1. */
    { "CVE-2021-33913", "a." LONG_LABEL ".cve33913.test",
      "v=spf1 -all exp=e.cve33913.test", "e.cve33913.test", "%{Dr}", 0, "",
      "u@a." LONG_LABEL ".cve33913.test", SPF_RESULT_FAIL, 0,
      "test.cve33913." LONG_LABEL ".a" },
    /* The 2021 fix subtracts the item header from the room left without
     * checking it is there: with 127 macros (508 of 511 bytes) the room
     * underflows and the next literal is copied past the stack buffer.
     * Upstream's d14abff (2023) is not in Debian's 1.2.10-7.2. */
    { "CVE-2023-42118", "cve42118.test", "v=spf1 -all exp=e.cve42118.test",
      "e.cve42118.test", "", 127, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "a@cve42118.test", SPF_RESULT_FAIL, 1, NULL },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define CLIENT_IP "192.0.2.1"

/* The explanation text of C into BUF; its length. */
static size_t exp_text(const cve_case_t *c, char *buf, size_t len)
{
    size_t off = (size_t) snprintf(buf, len, "%s", c->exp_head);

    for (unsigned i = 0; i < c->macros && off + 4 < len; i++)
        off += (size_t) snprintf(buf + off, len - off, "%%{d}");
    off += (size_t) snprintf(buf + off, len - off, "%s", c->exp_tail);
    return off < len ? off : len - 1;
}

static spf_zone_t *zone_of(const cve_case_t *c)
{
    spf_zone_t *z = spf_zone_new();
    char text[1024];

    assert_non_null(z);
    assert_int_equal(spf_zone_add(z, c->domain, SPF_ZONE_TXT, c->record, strlen(c->record)), 0);
    assert_int_equal(spf_zone_add(z, c->exp_name, SPF_ZONE_TXT, text,
                                  exp_text(c, text, sizeof(text))), 0);
    return z;
}

static void ours_give_defined_results(void **state)
{
    (void) state;
    for (size_t i = 0; i < NCASES; i++) {
        spf_zone_t *z = zone_of(&cases[i]);
        spf_dns_source_t src;
        spf_eval_opts_t o = { .receiver = "mx.example.org" };
        spf_verdict_t v;
        char err[256];
        spf_eval_t *ev;

        spf_zone_source(z, &src);
        ev = spf_eval_new(&o, &src, err, sizeof(err));
        assert_non_null(ev);
        spf_eval_mailfrom(ev, CLIENT_IP, "helo.example.net", cases[i].mailfrom, &v);
        printf("%s: ours: %s%s%s\n", cases[i].cve, spf_result_name(v.result),
               v.explanation[0] ? " exp=" : "", v.explanation);
        assert_int_equal(v.result, cases[i].ours);
        spf_eval_free(ev);
        spf_zone_free(z);
    }
}

/* Runs libspf2 on C in a child; its wait status, and "RESULT EXPLANATION"
 * in GOT when it finished. */
static int libspf2_in_child(const cve_case_t *c, int guard, char *got, size_t len)
{
    spf_zone_t *z = zone_of(c);     /* built here: no cmocka in the child */
    int fd[2], status;
    pid_t pid;
    ssize_t n;

    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char result[32] = "", exp[512] = "";
        spf_dns_source_t src;

        close(fd[0]);
        spf_zone_source(z, &src);
        spf_libspf2_check(&src, guard, CLIENT_IP, "helo.example.net", c->mailfrom,
                          result, sizeof(result), exp, sizeof(exp));
        if (dprintf(fd[1], "%s %s", result, exp) < 0)
            _exit(3);
        _exit(0);   /* no atexit work: the child reports only crashes */
    }
    close(fd[1]);
    n = read(fd[0], got, len - 1);
    got[n > 0 ? n : 0] = '\0';
    close(fd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    spf_zone_free(z);
    return status;
}

static int crashed(int status)
{
    return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

static void libspf2_unguarded_crashes_where_debian_is_vulnerable(void **state)
{
    (void) state;
    for (size_t i = 0; i < NCASES; i++) {
        char got[640];
        int st = libspf2_in_child(&cases[i], 0, got, sizeof(got));

        if (WIFSIGNALED(st))
            printf("%s: libspf2 unguarded: killed by signal %d\n", cases[i].cve, WTERMSIG(st));
        else
            printf("%s: libspf2 unguarded: exit %d, %s\n", cases[i].cve, WEXITSTATUS(st), got);
        assert_int_equal(crashed(st), cases[i].debian_vulnerable);
        /* The fixed code ran: its output shows the corrected handling. */
        if (!cases[i].debian_vulnerable)
            assert_non_null(strstr(got, cases[i].fixed_sign));
    }
}

static void guard_withholds_the_triggers(void **state)
{
    char text[1024];

    (void) state;
    for (size_t i = 0; i < NCASES; i++) {
        const cve_case_t *c = &cases[i];
        char got[640];
        int st;

        if (c->debian_vulnerable) {
            assert_int_equal(spf_libspf2_record_safe(text, exp_text(c, text, sizeof(text))), 0);
        }
        st = libspf2_in_child(c, 1, got, sizeof(got));
        printf("%s: libspf2 guarded: %s\n", c->cve, crashed(st) ? "crashed" : got);
        assert_false(crashed(st));
        /* The sender's record itself is shown: "-all" still fails. */
        assert_memory_equal(got, "fail ", 5);
        /* A withheld explanation leaves libspf2's default one. */
        if (c->debian_vulnerable)
            assert_non_null(strstr(got, "Please see"));
    }
}

/* Records real senders publish pass the guard. */
static void guard_lets_ordinary_records_through(void **state)
{
    static const char *ok[] = {
        "v=spf1 -all",
        "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net ~all",
        "v=spf1 exists:%{i}._spf.%{d} -all",
        "%{i} is not one of %{d}'s designated mail servers.",
    };

    (void) state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(spf_libspf2_record_safe(ok[i], strlen(ok[i])), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ours_give_defined_results),
        cmocka_unit_test(libspf2_unguarded_crashes_where_debian_is_vulnerable),
        cmocka_unit_test(guard_withholds_the_triggers),
        cmocka_unit_test(guard_lets_ordinary_records_through),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
