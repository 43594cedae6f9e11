/* test_dns.c - common/dns against a real dnsmasq serving
 * tests/data/zones/test.dnsmasq on a loopback port, plus a silent UDP
 * socket for timeouts and table tests of the rdata decoders. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "config.h"
#include "dns.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define ROOT_DS ". IN DS 20326 8 2 " \
    "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
#define OTHER_DS "anchor.invalid. IN DS 12345 8 2 " \
    "0000000000000000000000000000000000000000000000000000000000000000\n"

static struct {
    char dir[64];
    int port;
    pid_t pid;
    int silent_fd;          /* bound, never read: a server that never answers */
    int silent_port;
    char upstream[32];
    char silent_up[32];
    dnsr_t *r;
} T = { .pid = -1, .silent_fd = -1 };

/* ---- helpers: ports, dnsmasq ---------------------------------------- */

static int bind_udp(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *) &sa, &sl);
    return ntohs(sa.sin_port);
}

static int free_port(void)
{
    int fd = bind_udp(0);
    int port = fd >= 0 ? bound_port(fd) : -1;
    if (fd >= 0)
        close(fd);
    return port;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int write_dnsmasq_conf(char *conf, size_t conflen)
{
    const char *data = getenv("POSTERN_TEST_DATA");
    if (data == NULL) {
        fprintf(stderr, "test_dns: POSTERN_TEST_DATA is not set\n");
        return -1;
    }
    snprintf(conf, conflen, "%s/dnsmasq.conf", T.dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "port=%d\nlisten-address=127.0.0.1\nbind-interfaces\n"
               "no-resolv\nno-hosts\npid-file=\nlog-facility=%s/dnsmasq.log\n"
               "conf-file=%s/zones/test.dnsmasq\n", T.port, T.dir, data);
    if (geteuid() == 0)
        fputs("user=root\n", f);
    fclose(f);
    return 0;
}

/* dnsmasq is up once it holds the UDP port. */
static int wait_for_port(void)
{
    for (int i = 0; i < 100; i++) {
        int fd = bind_udp(T.port);
        if (fd < 0)
            return 0;
        close(fd);
        if (waitpid(T.pid, NULL, WNOHANG) == T.pid) {
            T.pid = -1;
            return -1;
        }
        usleep(50 * 1000);
    }
    return -1;
}

static void stop_dnsmasq(void)
{
    if (T.pid <= 0)
        return;
    kill(T.pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(T.pid, NULL, WNOHANG) == T.pid) {
            T.pid = -1;
            return;
        }
        usleep(20 * 1000);
    }
    kill(T.pid, SIGKILL);
    waitpid(T.pid, NULL, 0);
    T.pid = -1;
}

static int start_dnsmasq(void)
{
    char conf[128], arg[160];
    if (access(DNSMASQ, X_OK) != 0) {
        fprintf(stderr, "test_dns: %s is required (Debian package "
                        "dnsmasq-base) and missing\n", DNSMASQ);
        return -1;
    }
    if (write_dnsmasq_conf(conf, sizeof conf) != 0)
        return -1;
    snprintf(arg, sizeof arg, "--conf-file=%s", conf);
    T.pid = fork();
    if (T.pid == 0) {
        /* never outlive the test, even when it is killed */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(DNSMASQ, "dnsmasq", "--keep-in-foreground", arg, (char *) NULL);
        _exit(127);
    }
    if (T.pid < 0 || wait_for_port() != 0) {
        fprintf(stderr, "test_dns: dnsmasq did not start (see %s)\n",
                T.dir);
        stop_dnsmasq();
        return -1;
    }
    return 0;
}

static dnsr_t *resolver(const char *up, int timeout_ms)
{
    const char *ups[] = { up };
    dnsr_opts_t o = { .upstreams = ups, .nupstreams = 1,
                      .timeout_ms = timeout_ms };
    char err[256] = "";
    dnsr_t *r = dnsr_new(&o, err, sizeof err);
    if (r == NULL)
        fprintf(stderr, "test_dns: %s\n", err);
    return r;
}

static void at_exit_stop(void)
{
    stop_dnsmasq();
}

static int group_setup(void **state)
{
    (void) state;
    snprintf(T.dir, sizeof T.dir, "/tmp/postern-dns-XXXXXX");
    if (mkdtemp(T.dir) == NULL)
        return -1;
    atexit(at_exit_stop);
    /* The silent socket first: a port free_port() just released could
     * otherwise be handed to it again. */
    T.silent_fd = bind_udp(0);
    T.port = free_port();
    if (T.port <= 0 || T.silent_fd < 0)
        return -1;
    T.silent_port = bound_port(T.silent_fd);
    snprintf(T.upstream, sizeof T.upstream, "127.0.0.1@%d", T.port);
    snprintf(T.silent_up, sizeof T.silent_up, "127.0.0.1@%d", T.silent_port);
    if (start_dnsmasq() != 0)
        return -1;
    T.r = resolver(T.upstream, 3000);
    return T.r != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void) state;
    dnsr_free(T.r);
    stop_dnsmasq();
    if (T.silent_fd >= 0)
        close(T.silent_fd);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", T.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Query name/type on the shared resolver, asserting the status. */
static dnsr_answer_t *query_expect(const char *name, int type,
                                   dnsr_status_t want)
{
    dnsr_answer_t *a = NULL;
    dnsr_status_t st = dnsr_query(T.r, name, type, &a);
    if (st != want)
        fail_msg("%s/%d: got %s, want %s", name, type, dnsr_status_name(st),
                 dnsr_status_name(want));
    assert_non_null(a);
    return a;
}

/* ---- records --------------------------------------------------------- */

static void txt_records_are_concatenated_per_record(void **state)
{
    (void) state;
    static const struct { const char *name, *text; size_t len; } cases[] = {
        { "example.test", "v=spf1 ip4:192.0.2.0/24 -all", 0 },
        { "split.example.test.", "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ~all", 0 },
        { "long._domainkey.example.test", "v=DKIM1; k=rsa; p=AAAA", 610 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dnsr_answer_t *a = query_expect(cases[i].name, DNSR_TXT, DNSR_OK);
        char buf[1024];
        assert_int_equal(dnsr_answer_count(a), 1);
        int n = dnsr_answer_txt(a, 0, buf, sizeof buf);
        if (cases[i].len != 0) {
            assert_int_equal(n, cases[i].len);
            assert_memory_equal(buf, cases[i].text, strlen(cases[i].text));
            assert_int_equal(buf[609], 'C');
            assert_int_equal(dnsr_answer_txt(a, 0, buf, 610), -1);
        } else {
            assert_string_equal(buf, cases[i].text);
        }
        assert_true(dnsr_answer_ttl(a) > 0);
        dnsr_answer_free(a);
    }
}

static void txt_name_with_two_records_returns_both(void **state)
{
    (void) state;
    dnsr_answer_t *a = query_expect("two.example.test", DNSR_TXT, DNSR_OK);
    assert_int_equal(dnsr_answer_count(a), 2);
    char b0[64], b1[64];
    assert_true(dnsr_answer_txt(a, 0, b0, sizeof b0) > 0);
    assert_true(dnsr_answer_txt(a, 1, b1, sizeof b1) > 0);
    assert_int_equal(dnsr_answer_txt(a, 2, b1, sizeof b1), -1);
    bool first = strcmp(b0, "first record") == 0;
    assert_string_equal(first ? b1 : b0, "second record");
    assert_string_equal(first ? b0 : b1, "first record");
    size_t plen;
    assert_non_null(dnsr_answer_packet(a, &plen));
    assert_true(plen > 12);
    dnsr_answer_free(a);
}

static void a_and_aaaa_records_decode(void **state)
{
    (void) state;
    dnsr_answer_t *a = query_expect("host.example.test", DNSR_A, DNSR_OK);
    struct in_addr v4;
    char txt[INET6_ADDRSTRLEN];
    assert_int_equal(dnsr_answer_count(a), 1);
    assert_int_equal(dnsr_answer_a(a, 0, &v4), 0);
    assert_string_equal(inet_ntop(AF_INET, &v4, txt, sizeof txt), "192.0.2.10");
    struct in6_addr v6;
    assert_int_equal(dnsr_answer_aaaa(a, 0, &v6), -1);  /* wrong size */
    dnsr_answer_free(a);

    a = query_expect("host.example.test", DNSR_AAAA, DNSR_OK);
    assert_int_equal(dnsr_answer_aaaa(a, 0, &v6), 0);
    assert_string_equal(inet_ntop(AF_INET6, &v6, txt, sizeof txt),
                        "2001:db8::10");
    dnsr_answer_free(a);
}

static void mx_records_carry_preferences(void **state)
{
    (void) state;
    dnsr_answer_t *a = query_expect("example.test", DNSR_MX, DNSR_OK);
    assert_int_equal(dnsr_answer_count(a), 2);
    int seen = 0;
    for (size_t i = 0; i < 2; i++) {
        unsigned pref = 0;
        char host[256];
        assert_true(dnsr_answer_mx(a, i, &pref, host, sizeof host) > 0);
        if (pref == 10 && strcmp(host, "mx1.example.test") == 0)
            seen |= 1;
        if (pref == 20 && strcmp(host, "mx2.example.test") == 0)
            seen |= 2;
    }
    assert_int_equal(seen, 3);
    dnsr_answer_free(a);
}

static void ptr_records_resolve_reverse_names(void **state)
{
    (void) state;
    static const struct { const char *addr, *host; } cases[] = {
        { "127.0.0.2", "client.example.test" },
        { "192.0.2.5", "mail.example.test" },
        { "192.0.2.10", "host.example.test" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct in_addr in;
        char rev[80], host[256];
        assert_int_equal(inet_pton(AF_INET, cases[i].addr, &in), 1);
        assert_true(dnsr_reverse_name(AF_INET, &in, rev, sizeof rev) > 0);
        dnsr_answer_t *a = query_expect(rev, DNSR_PTR, DNSR_OK);
        assert_true(dnsr_answer_ptr(a, 0, host, sizeof host) > 0);
        assert_string_equal(host, cases[i].host);
        dnsr_answer_free(a);
    }
}

static void missing_name_is_nxdomain_and_missing_type_nodata(void **state)
{
    (void) state;
    dnsr_answer_t *a = query_expect("nxdomain.example.test", DNSR_TXT,
                                    DNSR_NXDOMAIN);
    assert_int_equal(dnsr_answer_count(a), 0);
    assert_null(dnsr_answer_rdata(a, 0, NULL));
    dnsr_answer_free(a);
    a = query_expect("host.example.test", DNSR_TXT, DNSR_NODATA);
    assert_int_equal(dnsr_answer_count(a), 0);
    dnsr_answer_free(a);
}

/* ---- failures -------------------------------------------------------- */

static void silent_server_times_out_within_deadline(void **state)
{
    (void) state;
    dnsr_t *r = resolver(T.silent_up, 800);
    assert_non_null(r);
    static const int timeouts[] = { 0 /* resolver's 800 */, 300 };
    for (size_t i = 0; i < 2; i++) {
        dnsr_answer_t *a = NULL;
        long t0 = now_ms();
        dnsr_status_t st = dnsr_query_timeout(r, "example.test", DNSR_TXT,
                                              timeouts[i], &a);
        long took = now_ms() - t0;
        int want = timeouts[i] > 0 ? timeouts[i] : 800;
        assert_int_equal(st, DNSR_TIMEOUT);
        assert_non_null(a);
        assert_int_equal(dnsr_answer_count(a), 0);
        print_message("timeout %d ms: returned after %ld ms\n", want, took);
        /* Returns at the deadline, not before; the upper bound only
         * proves it does not hang (a loaded machine adds latency). */
        assert_true(took >= want - 20 && took <= want + 3000);
        dnsr_answer_free(a);
    }
    dnsr_free(r);
}

static void malformed_names_fail_without_network(void **state)
{
    (void) state;
    char long_name[300], long_label[80];
    memset(long_name, 'a', sizeof long_name);
    for (size_t i = 1; i < 252; i += 2)
        long_name[i] = '.';
    long_name[254] = '\0';                  /* 254 characters */
    memset(long_label, 'b', 64);
    strcpy(long_label + 64, ".test");       /* 64-byte label */
    const char *names[] = { "", ".", "a..b", ".a", "a b.test", "a\x01.test",
                            long_name, long_label, NULL };
    dnsr_t *r = resolver(T.silent_up, 3000);   /* would hang if sent */
    assert_non_null(r);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        dnsr_answer_t *a = NULL;
        long t0 = now_ms();
        assert_int_equal(dnsr_query(r, names[i], DNSR_A, &a), DNSR_ERROR);
        assert_true(now_ms() - t0 < 200);
        assert_non_null(a);
        assert_int_equal(dnsr_answer_count(a), 0);
        dnsr_answer_free(a);
    }
    dnsr_free(r);
}

static void bad_options_are_reported(void **state)
{
    (void) state;
    const char *bad[] = { "not an address" };
    char err[256] = "";
    dnsr_opts_t o = { .upstreams = bad, .nupstreams = 1 };
    assert_null(dnsr_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "not an address"));
    const char *good[] = { T.upstream };
    dnsr_opts_t d = { .upstreams = good, .nupstreams = 1, .dnssec = true };
    err[0] = '\0';
    assert_null(dnsr_new(&d, err, sizeof err));
    assert_non_null(strstr(err, "trust anchor"));
    d.trust_anchor = "/nonexistent/root.key";
    assert_null(dnsr_new(&d, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/root.key"));
}

/* ---- DNSSEC ---------------------------------------------------------- */

static dnsr_status_t dnssec_query(const char *anchor_text, dnsr_answer_t **a)
{
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/anchor.ds", T.dir);
    write_file(path, anchor_text);
    const char *ups[] = { T.upstream };
    dnsr_opts_t o = { .upstreams = ups, .nupstreams = 1, .timeout_ms = 3000,
                      .dnssec = true, .trust_anchor = path };
    dnsr_t *r = dnsr_new(&o, err, sizeof err);
    if (r == NULL)
        fail_msg("dnsr_new: %s", err);
    dnsr_status_t st = dnsr_query(r, "example.test", DNSR_TXT, a);
    dnsr_free(r);
    return st;
}

static void dnssec_unsigned_zone_outside_anchor_is_insecure(void **state)
{
    (void) state;
    dnsr_answer_t *a = NULL;
    assert_int_equal(dnssec_query(OTHER_DS, &a), DNSR_OK);
    assert_false(dnsr_answer_secure(a));
    dnsr_answer_free(a);
}

/* Our test upstream serves no root keys, so a root anchor cannot be
 * proven: the answer must come back as bogus, promptly. */
static void dnssec_unprovable_root_anchor_reports_bogus(void **state)
{
    (void) state;
    dnsr_answer_t *a = NULL;
    long t0 = now_ms();
    assert_int_equal(dnssec_query(ROOT_DS, &a), DNSR_BOGUS);
    assert_true(now_ms() - t0 < 3500);
    assert_false(dnsr_answer_secure(a));
    assert_int_equal(dnsr_answer_count(a), 0);
    dnsr_answer_free(a);
}

/* ---- concurrency and resources --------------------------------------- */

#define NTHREADS 50
#define PER_THREAD 20

static const struct { const char *name; int type; dnsr_status_t st;
                      const char *first; } mix[] = {
    { "example.test", DNSR_TXT, DNSR_OK, "v=spf1 ip4:192.0.2.0/24 -all" },
    { "spf-fail.example.test", DNSR_TXT, DNSR_OK, "v=spf1 -all" },
    { "_dmarc.example.test", DNSR_TXT, DNSR_OK,
      "v=DMARC1; p=reject; rua=mailto:dmarc@example.test" },
    { "mx1.example.test", DNSR_A, DNSR_OK, "192.0.2.21" },
    { "mx2.example.test", DNSR_A, DNSR_OK, "192.0.2.22" },
    { "v6only.example.test", DNSR_AAAA, DNSR_OK, "2001:db8::66" },
    { "v6only.example.test", DNSR_A, DNSR_NODATA, NULL },
    { "nxdomain.example.test", DNSR_A, DNSR_NXDOMAIN, NULL },
};
#define NMIX (sizeof mix / sizeof mix[0])

/* 0 when query k of the mix gives the expected status and first value. */
static int mix_check(size_t k)
{
    dnsr_answer_t *a = NULL;
    char buf[256] = "";
    dnsr_status_t st = dnsr_query(T.r, mix[k].name, mix[k].type, &a);
    if (st == DNSR_OK && mix[k].type == DNSR_TXT)
        dnsr_answer_txt(a, 0, buf, sizeof buf);
    else if (st == DNSR_OK) {
        size_t len;
        const void *rd = dnsr_answer_rdata(a, 0, &len);
        inet_ntop(len == 4 ? AF_INET : AF_INET6, rd, buf, sizeof buf);
    }
    dnsr_answer_free(a);
    if (st != mix[k].st)
        return -1;
    return mix[k].first == NULL || strcmp(buf, mix[k].first) == 0 ? 0 : -1;
}

static void *worker(void *arg)
{
    size_t seed = (size_t) (uintptr_t) arg;
    uintptr_t bad = 0;
    for (size_t i = 0; i < PER_THREAD; i++)
        bad += mix_check((seed + i) % NMIX) != 0;
    return (void *) bad;
}

static void fifty_threads_share_one_resolver(void **state)
{
    (void) state;
    pthread_t th[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *) i), 0);
    uintptr_t bad = 0;
    for (size_t i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        bad += (uintptr_t) ret;
    }
    assert_int_equal(bad, 0);
}

/* Deadlines of 0-2 ms land while answers are arriving: each query is
 * either answered correctly or timed out, never freed twice (ASan). */
static atomic_int raced_timeouts;

static void *racer(void *arg)
{
    uintptr_t bad = 0;
    for (int i = 0; i < 50; i++) {
        dnsr_answer_t *a = NULL;
        char name[64];
        snprintf(name, sizeof name, "r%u-%d.example.test",
                 (unsigned) (uintptr_t) arg, i);
        dnsr_status_t st = dnsr_query_timeout(T.r, name, DNSR_A, 1 + i % 2,
                                              &a);
        bad += st != DNSR_NXDOMAIN && st != DNSR_TIMEOUT;
        bad += a == NULL;
        if (st == DNSR_TIMEOUT)
            atomic_fetch_add(&raced_timeouts, 1);
        dnsr_answer_free(a);
    }
    return (void *) bad;
}

static void deadlines_racing_answers_are_safe(void **state)
{
    (void) state;
    pthread_t th[16];
    for (uintptr_t i = 0; i < 16; i++)
        assert_int_equal(pthread_create(&th[i], NULL, racer, (void *) i), 0);
    uintptr_t bad = 0;
    for (size_t i = 0; i < 16; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        bad += (uintptr_t) ret;
    }
    assert_int_equal(bad, 0);
    print_message("%d of 800 racing queries timed out\n",
                  atomic_load(&raced_timeouts));
    assert_int_equal(mix_check(0), 0);      /* still serving */
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* n queries for distinct names that the silent server never answers. */
static int silent_timeouts(dnsr_t *silent, int from, int n)
{
    int bad = 0;
    for (int i = from; i < from + n; i++) {
        dnsr_answer_t *a = NULL;
        char name[64];
        snprintf(name, sizeof name, "t%d.example.test", i);
        bad += dnsr_query(silent, name, DNSR_TXT, &a) != DNSR_TIMEOUT;
        dnsr_answer_free(a);
    }
    return bad;
}

/* Both resolvers stay alive across the count, so abandoned queries must
 * give their sockets back; the warm-up queries open unbound's lazy pipes. */
static void thousand_queries_with_timeouts_leak_no_fds(void **state)
{
    (void) state;
    dnsr_t *silent = resolver(T.silent_up, 50);
    assert_non_null(silent);
    assert_int_equal(mix_check(0), 0);
    assert_int_equal(silent_timeouts(silent, 0, 1), 0);
    int before = count_fds();
    int bad = 0;
    for (size_t i = 0; i < 980; i++)
        bad += mix_check(i % NMIX) != 0;
    bad += silent_timeouts(silent, 1, 20);
    /* unbound keeps retrying an abandoned query (about 15 s against a
     * dead server) and holds its socket until then: wait for that. */
    int at_once = count_fds(), after = at_once, waited = 0;
    for (; waited < 30000 && after > before + 4; waited += 250) {
        usleep(250 * 1000);
        after = count_fds();
    }
    dnsr_free(silent);
    assert_int_equal(bad, 0);
    print_message("fds: %d before, %d right after 1000 queries, %d after "
                  "%d ms\n", before, at_once, after, waited);
    if (after > before + 4)
        fail_msg("fds grew from %d to %d", before, after);
}

/* Runs last: it stops the server for good. */
static void cached_answer_survives_server_stop(void **state)
{
    (void) state;
    dnsr_answer_free(query_expect("_dmarc.example.test", DNSR_TXT, DNSR_OK));
    stop_dnsmasq();
    dnsr_answer_t *a = query_expect("_dmarc.example.test", DNSR_TXT, DNSR_OK);
    char buf[128];
    assert_true(dnsr_answer_txt(a, 0, buf, sizeof buf) > 0);
    assert_string_equal(buf, mix[2].first);
    dnsr_answer_free(a);
    /* and a name never asked before really has no server now */
    dnsr_status_t st = dnsr_query_timeout(T.r, "uncached.example.test",
                                          DNSR_TXT, 500, &a);
    assert_true(st == DNSR_TIMEOUT || st == DNSR_SERVFAIL);
    dnsr_answer_free(a);
}

/* ---- pure functions -------------------------------------------------- */

static void reverse_names_follow_rfc1035_and_rfc3596(void **state)
{
    (void) state;
    struct in_addr v4;
    struct in6_addr v6;
    char buf[80];
    inet_pton(AF_INET, "192.0.2.1", &v4);
    assert_int_equal(dnsr_reverse_name(AF_INET, &v4, buf, sizeof buf), 22);
    assert_string_equal(buf, "1.2.0.192.in-addr.arpa");
    inet_pton(AF_INET6, "2001:db8::567:89ab", &v6);
    assert_int_equal(dnsr_reverse_name(AF_INET6, &v6, buf, sizeof buf), 72);
    assert_string_equal(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
                             "8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(dnsr_reverse_name(AF_INET6, &v6, buf, 72), -1);
    assert_int_equal(dnsr_reverse_name(AF_UNIX, &v4, buf, sizeof buf), -1);
}

typedef int (*decoder_fn)(const unsigned char *, size_t, char *, size_t);

/* One table for both rdata decoders: untrusted bytes in, text or -1. */
static void rdata_decoders_reject_malformed_data(void **state)
{
    (void) state;
    static const struct { decoder_fn fn; const char *rd; size_t len;
                          size_t buflen; int want; const char *text; } cases[] = {
        { dnsr_rdata_txt, "\x03" "abc", 4, 16, 3, "abc" },
        { dnsr_rdata_txt, "\x02" "ab" "\x01" "c", 5, 16, 3, "abc" },
        { dnsr_rdata_txt, "\x00", 1, 16, 0, "" },      /* one empty string */
        { dnsr_rdata_txt, "\x04" "abc", 4, 16, -1, NULL },  /* past end */
        { dnsr_rdata_txt, "\x03" "abc", 4, 3, -1, NULL },   /* no room */
        { dnsr_rdata_txt, "", 0, 16, -1, NULL },         /* no strings */
        { dnsr_rdata_name, "\x02" "mx" "\x04" "test" "\x00", 9, 64, 7,
          "mx.test" },
        { dnsr_rdata_name, "\x00", 1, 64, 1, "." },
        { dnsr_rdata_name, "\x03" "a.b" "\x00", 5, 64, 6, "a\\046b" },
        { dnsr_rdata_name, "\x02" "mx" "\xc0\x0c", 5, 64, -1, NULL },
        { dnsr_rdata_name, "\x02" "mx" "\x04" "te", 6, 64, -1, NULL },
        { dnsr_rdata_name, "\x02" "mx", 3, 64, -1, NULL }, /* no root */
        { dnsr_rdata_name, "\x02" "mx" "\x04" "test" "\x00", 9, 7, -1,
          NULL },                                        /* no room */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        int n = cases[i].fn((const unsigned char *) cases[i].rd,
                            cases[i].len, buf, cases[i].buflen);
        assert_int_equal(n, cases[i].want);
        if (cases[i].text != NULL)
            assert_string_equal(buf, cases[i].text);
    }
}

static void resolver_comes_from_the_global_keys(void **state)
{
    static const conf_section_t *const sections[] = { &conf_global_section, NULL };
    char text[200], err[256] = "";
    dnsr_answer_t *a = NULL;
    config_t *cfg;
    dnsr_t *r;

    (void) state;
    snprintf(text, sizeof(text), "[global]\ndns_upstream = %s\ndns_timeout = 2s\n",
             T.upstream);
    cfg = config_load_string("t.conf", text, sections, err, sizeof(err));
    assert_non_null(cfg);
    r = dnsr_new_from_config(cfg, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(dnsr_query(r, "host.example.test", DNSR_A, &a), DNSR_OK);
    assert_int_equal(dnsr_answer_count(a), 1);
    dnsr_answer_free(a);
    dnsr_free(r);
    config_unref(cfg);
}

static void status_names_are_distinct(void **state)
{
    (void) state;
    assert_string_equal(dnsr_status_name(DNSR_OK), "ok");
    assert_string_equal(dnsr_status_name(DNSR_TIMEOUT), "timeout");
    for (int i = DNSR_OK; i < DNSR_ERROR; i++)
        assert_string_not_equal(dnsr_status_name((dnsr_status_t) i),
                                dnsr_status_name((dnsr_status_t) (i + 1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_names_are_distinct),
        cmocka_unit_test(resolver_comes_from_the_global_keys),
        cmocka_unit_test(reverse_names_follow_rfc1035_and_rfc3596),
        cmocka_unit_test(rdata_decoders_reject_malformed_data),
        cmocka_unit_test(txt_records_are_concatenated_per_record),
        cmocka_unit_test(txt_name_with_two_records_returns_both),
        cmocka_unit_test(a_and_aaaa_records_decode),
        cmocka_unit_test(mx_records_carry_preferences),
        cmocka_unit_test(ptr_records_resolve_reverse_names),
        cmocka_unit_test(missing_name_is_nxdomain_and_missing_type_nodata),
        cmocka_unit_test(silent_server_times_out_within_deadline),
        cmocka_unit_test(malformed_names_fail_without_network),
        cmocka_unit_test(bad_options_are_reported),
        cmocka_unit_test(dnssec_unsigned_zone_outside_anchor_is_insecure),
        cmocka_unit_test(dnssec_unprovable_root_anchor_reports_bogus),
        cmocka_unit_test(fifty_threads_share_one_resolver),
        cmocka_unit_test(deadlines_racing_answers_are_safe),
        cmocka_unit_test(thousand_queries_with_timeouts_leak_no_fds),
        cmocka_unit_test(cached_answer_survives_server_stop),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
