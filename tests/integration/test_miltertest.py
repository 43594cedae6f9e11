"""The test milter, driven by miltertest (an MTA-side milter client that
is not Postfix), over unix and inet sockets; and the runtime's signal
handling: SIGHUP reloads and keeps serving, SIGTERM lets the message in
progress finish before the daemon exits."""
import os
import signal
import subprocess
import threading
import time

import pytest

import harness

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "miltertest",
                      "testmilter.lua")


def miltertest(spec, script=SCRIPT):
    return subprocess.run(["miltertest", "-D", "SOCKET=" + spec, "-s", script],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", ["unix", "inet"])
def test_miltertest_sees_replies_and_added_header(testmilter, kind):
    m = testmilter(kind)
    r = miltertest(m.spec)
    assert r.returncode == 0, r.stdout + r.stderr + m.log_text()
    assert "testmilter.lua: ok" in r.stdout
    assert "MT0001: testmilter: from=<alice@example.net> rcpts=2" in m.log_text()


def test_sighup_reloads_and_keeps_serving(testmilter):
    m = testmilter("unix")
    # One session first: libmilter starts a thread of its own that takes
    # SIGHUP as "stop", and until it is parked in sigwait() (it may start
    # after the socket accepts) the runtime cannot keep it from taking one.
    assert miltertest(m.spec).returncode == 0
    m.signal(signal.SIGHUP)
    harness.wait_until(lambda: "testmilter: reload" in m.log_text(), 5, "reload log")
    r = miltertest(m.spec)
    assert r.returncode == 0, r.stdout + r.stderr
    assert m.proc.poll() is None


def test_sigterm_finishes_the_message_in_progress(testmilter):
    m = testmilter("unix", extra_args=["-s", "1500"])
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", miltertest(m.spec)))
    t.start()
    # Wait until the milter is inside its slow end-of-message callback
    # (it logs before pausing), however loaded the machine is.
    harness.wait_until(lambda: "end of message, pausing" in m.log_text(), 20,
                       "slow callback")
    t0 = time.monotonic()
    m.signal(signal.SIGTERM)
    t.join(30)
    rc = m.proc.wait(timeout=15)
    elapsed = time.monotonic() - t0
    assert result["r"].returncode == 0, result["r"].stdout + result["r"].stderr
    assert rc == 0
    assert elapsed < 5, "stop took %.1fs" % elapsed
    log = m.log_text()
    # The signal came while the message was in its callback, which then
    # completed (its log line follows the signal's).
    assert 0 <= log.find("finishing messages in progress") < log.find("MT0001: testmilter")
    assert not os.path.exists(m.spec.split(":", 1)[1])


def test_bad_socket_spec_is_refused_with_a_message(workdir):
    r = subprocess.run([harness.testmilter_path(), "-f", "-p", "inet:99999@127.0.0.1"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "bad port" in r.stderr
