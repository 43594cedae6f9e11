"""policy-load against a real policy server (postfwd) and against broken
ones: every request answered and tallied by action, exactly as many
REJECTs as requests from the blocked sender, and errors, not a hang,
when the server misbehaves."""
import json
import os
import socket
import subprocess
import threading

import pytest

import harness

RULES = """\
id=R1; sender==user0@example.org; action=REJECT blocked
id=DEFAULT; action=DUNNO
"""

MASK = (1 << 64) - 1


def mix64(x):
    """policy-load's key hash (SplitMix64's finaliser)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def sender_of(n, senders, seed=1):
    """The sender index of request n, as policy-load draws it."""
    return mix64((seed << 40) + n * 5) % senders


def policy_load():
    p = os.path.join(harness.build_dir(), "bin", "policy-load")
    if not os.access(p, os.X_OK):
        raise RuntimeError("%s is missing: build first" % p)
    return p


def run_load(workdir, spec, *args, timeout=60):
    out = os.path.join(workdir, "result.json")
    proc = subprocess.run([policy_load(), "-s", spec, "--json", out, *args],
                          capture_output=True, text=True, timeout=timeout)
    print(proc.stdout, proc.stderr)
    result = None
    if os.path.exists(out):
        with open(out) as f:
            result = json.load(f)
    return proc.returncode, result, proc.stdout


@pytest.fixture
def postfwd(workdir, start):
    return start(harness.PolicyServer(workdir, RULES))


def test_every_request_answered_and_rejects_match_the_blocked_sender(
        workdir, postfwd):
    rc, r, _ = run_load(workdir, postfwd.spec, "-n", "500", "-c", "4",
                        "--senders", "10", "-P", postfwd.pidfile)
    blocked = sum(1 for n in range(500) if sender_of(n, 10) == 0)
    assert rc == 0
    assert r["requests"] == 500
    assert r["errors"] == {"connect": 0, "protocol": 0, "timeout": 0, "io": 0}
    assert r["actions"]["REJECT"] == blocked
    assert r["actions"]["DUNNO"] == 500 - blocked
    assert 0 < blocked < 500
    assert r["connections"] == 4          # kept open for the whole run
    assert r["server"]["pid"] == postfwd.pid
    assert r["server"]["peak_rss_kb"] > 0


def test_requests_per_connection_reconnects_and_eom_stage_is_sent(
        workdir, postfwd):
    rc, r, out = run_load(workdir, postfwd.spec, "-n", "40", "-c", "1",
                          "-r", "5", "--stage", "eom", "--show", "1")
    assert rc == 0
    assert r["requests"] == 40 and r["connections"] == 8
    assert r["stage"] == "eom"
    assert "protocol_state=END-OF-MESSAGE\n" in out
    assert "recipient_count=1\n" in out


class FakeServer:
    """A loopback policy server that answers every request with REPLY
    (None: never answers), and closes the connection after each reply
    with close=True, in a thread; stop() closes everything. With path it
    listens on that UNIX socket."""

    def __init__(self, reply, close=False, path=None):
        self.reply = reply
        self.close = close
        if path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(path)
            self.spec = "unix:" + path
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.spec = "inet:%d@127.0.0.1" % self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.done = threading.Event()
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _serve(self):
        while not self.done.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            threading.Thread(target=self._answer, args=(c,), daemon=True).start()

    def _answer(self, c):
        c.settimeout(0.2)
        buf = b""
        while not self.done.is_set():
            try:
                data = c.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n\n" in buf:
                _, buf = buf.split(b"\n\n", 1)
                if self.reply is not None:
                    try:
                        c.sendall(self.reply)
                    except OSError:
                        return
                if self.close:
                    c.close()
                    return

    def stop(self):
        self.done.set()
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("reply,kind", [
    (b"HTTP/1.0 400 Bad Request\r\n\r\n", "protocol"),
    (b"action=DUNNO\nextra=1\n\n", "protocol"),
    (b"action=" + b"x" * 5000 + b"\n\n", "protocol"),
    (b"action=DUNNO\n\naction=OK\n\n", "protocol"),
    (None, "timeout"),
])
def test_broken_server_counts_errors_and_does_not_hang(workdir, start, reply,
                                                       kind):
    server = start(FakeServer(reply))
    # A short -T only where a timeout is the point: on a loaded machine
    # the Python server may take longer than 300 ms to send its garbage.
    wait = "300" if kind == "timeout" else "5000"
    rc, r, _ = run_load(workdir, server.spec, "-n", "12", "-c", "3",
                        "-T", wait, timeout=60)
    assert rc == 2
    assert r["requests"] == 0
    assert r["errors"][kind] == 12
    assert r["connections"] == 12      # re-opened after every error


def test_unix_socket_server_is_driven(workdir, start):
    server = start(FakeServer(b"action=OK\n\n",
                              path=os.path.join(workdir, "policy.sock")))
    rc, r, _ = run_load(workdir, server.spec, "-n", "50", "-c", "2",
                        timeout=30)
    assert rc == 0
    assert r["actions"] == {"OK": 50}
    assert r["connections"] == 2 and r["tcp_nodelay"] == "off"


def test_server_closing_idle_connections_costs_reconnects_not_errors(
        workdir, start):
    server = start(FakeServer(b"action=DUNNO\n\n", close=True))
    rc, r, _ = run_load(workdir, server.spec, "-n", "30", "-c", "2",
                        timeout=30)
    assert rc == 0
    assert r["actions"] == {"DUNNO": 30}
    assert r["connections"] == 30


def test_no_server_counts_connect_errors(workdir):
    port = harness.free_port()
    rc, r, _ = run_load(workdir, "inet:%d@127.0.0.1" % port, "-n", "3",
                        "-c", "1", "-T", "300", timeout=30)
    assert rc == 2
    assert r["errors"]["connect"] == 3


@pytest.mark.parametrize("args", [
    [],                                      # neither -n nor -t
    ["-n", "5", "-t", "5"],
    ["-n", "0"],
    ["-n", "5", "--stage", "data"],
    ["-n", "5", "--senders", "0"],
])
def test_usage_errors_exit_64(args):
    proc = subprocess.run([policy_load(), "-s", "inet:1@127.0.0.1", *args],
                          capture_output=True, timeout=10)
    assert proc.returncode == 64
