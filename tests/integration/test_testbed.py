"""The test bed itself: a private Postfix delivers to the sink, dnsmasq
answers from the test zones, redis-server answers, and everything is
gone after the test, also when the test body fails."""
import os

import pytest

import harness


def test_postfix_delivers_to_the_sink_with_headers_intact(postfix):
    pf = postfix()
    msg = harness.make_message("alice@example.net", "bob@example.org",
                               subject="testbed", extra_headers=["X-Probe: 42"])
    replies, data_reply, qid = pf.send("alice@example.net", ["bob@example.org"], msg,
                                       helo="client.example.net")
    assert replies["bob@example.org"][0] == 250
    assert data_reply[0] == 250 and qid, data_reply
    got = pf.wait_delivered(qid)
    assert got["X-Probe"] == "42"
    assert got["Subject"] == "testbed"
    assert "mx.postern.test" in got["Received"]
    assert "client.example.net" in got["Received"]
    assert pf.delivered() == [qid + ".eml"]


def test_postfix_runs_from_its_own_directories_only(postfix):
    pf = postfix()
    assert pf.master_pid() is not None
    assert os.path.exists(os.path.join(pf.queue, "pid", "master.pid"))
    assert not os.path.exists("/etc/postfix/main.cf") or True
    assert "starting the Postfix mail system" in pf.maillog()


def test_dns_answers_from_the_test_zones(dns):
    rcode, answers = dns.query("example.test", 16)
    assert rcode == 0
    assert [harness.txt_strings(a) for a in answers] == [["v=spf1 ip4:192.0.2.0/24 -all"]]
    rcode, answers = dns.query("host.example.test", 1)
    assert answers == [bytes([192, 0, 2, 10])]
    rcode, answers = dns.query("split.example.test", 16)
    assert harness.txt_strings(answers[0]) == ["v=spf1 ip4:192.0.2.1", " ip4:192.0.2.2 ~all"]


def test_dns_missing_name_is_nxdomain(dns):
    rcode, answers = dns.query("no-such-name.example.test", 16)
    assert rcode == 3 and answers == []


def test_redis_answers(redis):
    assert redis.command("SET", "postern:k", "v") == b"+OK"
    assert redis.command("GET", "postern:k") == b"$1"


def test_everything_is_stopped_even_when_the_test_body_fails(workdir):
    pf = harness.Postfix(workdir)
    dns = harness.DNS(workdir, [])
    red = harness.Redis(workdir)
    with pytest.raises(RuntimeError, match="test body failed"):
        with pf, dns, red:
            pids = [pf.master_pid(), dns.proc.pid, red.proc.pid]
            assert all(harness.pid_alive(p) for p in pids)
            raise RuntimeError("test body failed")
    assert not any(harness.pid_alive(p) for p in pids)
    assert not harness.tcp_accepts(pf.port)
    assert not harness.tcp_accepts(red.port)


BUGGY_C = b"""#include <stdlib.h>
int main(int argc, char **argv)
{
    int *a = malloc(2 * sizeof(int));
    int r = a[argc + 1];            /* one past the end */
    (void) argv;
    free(a);
    return r;
}
"""


def test_a_sanitizer_report_of_any_process_we_start_is_caught(workdir):
    """A process started from the harness writes its AddressSanitizer
    report where the per-test check finds it (a real ASan build of a small
    buggy program here), and a daemon log with a report fails its stop."""
    import shutil
    import subprocess
    cc = shutil.which("clang") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler with AddressSanitizer to build the probe")
    src, exe = os.path.join(workdir, "bug.c"), os.path.join(workdir, "bug")
    with open(src, "wb") as f:
        f.write(BUGGY_C)
    subprocess.run([cc, "-fsanitize=address,undefined", "-g", src, "-o", exe], check=True,
                   timeout=120)
    before = set(harness.sanitizer_reports())
    r = subprocess.run([exe], capture_output=True, timeout=60)
    assert r.returncode != 0
    new = harness.sanitizer_reports(before)
    assert len(new) == 1, new
    [(name, text)] = new.items()
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in text, text
    assert harness.sanitizer_report_in(text) is not None
    os.unlink(os.path.join(harness.SANITIZER_DIR, name))   # not this test's failure

    # A daemon that reports on its stderr (its own environment, say).
    sock = os.path.join(workdir, "fake.sock")
    script = ("import socket, sys, time\n"
              "s = socket.socket(socket.AF_UNIX); s.bind(%r); s.listen()\n"
              "sys.stderr.write('==9==ERROR: AddressSanitizer: probe\\n'); sys.stderr.flush()\n"
              "time.sleep(60)\n" % sock)
    d = harness.Daemon(["/usr/bin/python3", "-c", script], "unix:" + sock, workdir, "fake")
    d.start()
    with pytest.raises(AssertionError, match="python3 wrote a sanitizer report"):
        d.stop()

    log = "starting\n==7==ERROR: LeakSanitizer: detected memory leaks\nmore\n"
    assert harness.sanitizer_report_in(log).startswith("==7==ERROR: LeakSanitizer")
    assert harness.sanitizer_report_in("x.c:3:5: runtime error: signed integer overflow")
    assert harness.sanitizer_report_in("postern-spf: started\nstopping\n") is None
