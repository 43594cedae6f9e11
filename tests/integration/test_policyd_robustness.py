"""postern-policyd against hostile and sloppy clients: thousands of idle
connections, garbage, oversized requests, slow and half-open clients.
Each gets a clear log line and a safe answer; the daemon keeps serving
and its memory stays bounded."""
import os
import resource
import socket
import time

import harness

CONF = """[global]
user =
audit_log =
[policyd]
listen = inet:%d@127.0.0.1
state_file =
idle_timeout = 3s
[limit s]
key = sender
stage = rcpt
rate = 100/1h
"""

REQUEST = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@example.net\n"
           b"recipient_count=0\nclient_address=192.0.2.1\n\n")


def start_daemon(workdir, start):
    port = harness.free_port()
    conf = os.path.join(workdir, "p.conf")
    with open(conf, "w") as f:
        f.write(CONF % port)
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    d = start(harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir,
                             "policyd"))
    d.port = port
    return d


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def answer(s):
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_garbage_oversized_and_slow_clients(workdir, start):
    d = start_daemon(workdir, start)
    # Garbage: a safe deferral, then the connection is closed.
    s = connect(d.port)
    s.sendall(b"\x00\xff\xfe garbage \x01\n\n")
    assert answer(s).startswith("action=DEFER_IF_PERMIT 4.3.0")
    assert s.recv(10) == b""
    # Oversized: 20 KB without an empty line.
    s = connect(d.port)
    s.sendall(b"sender=" + b"x" * 20000 + b"\n")
    assert answer(s).startswith("action=DEFER_IF_PERMIT 4.3.0")
    # Slow: a request in three pieces is answered normally.
    s = connect(d.port)
    for part in (REQUEST[:10], REQUEST[10:40], REQUEST[40:]):
        s.sendall(part)
        time.sleep(0.3)
    assert answer(s) == "action=DUNNO\n\n"
    # Half-open: half a request, then silence: closed after idle_timeout.
    s = connect(d.port)
    s.sendall(REQUEST[:20])
    t0 = time.monotonic()
    assert s.recv(10) == b""
    assert 2 < time.monotonic() - t0 < 10
    log = d.log_text()
    assert "not a name=value line" in log and "longer than 16384 bytes" in log
    assert d.proc.poll() is None


def test_thousands_of_idle_connections(workdir, start):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    d = start_daemon(workdir, start)
    before = rss_kb(d.proc.pid)
    conns = [connect(d.port) for _ in range(3000)]
    try:
        # Every one of them still gets answers, in any order.
        for s in conns[::300]:
            s.sendall(REQUEST)
            assert answer(s) == "action=DUNNO\n\n"
        after = rss_kb(d.proc.pid)
        print("3000 connections: RSS %d KB -> %d KB" % (before, after))
        assert after - before < 64 * 1024
    finally:
        for s in conns:
            s.close()
    s = connect(d.port)
    s.sendall(REQUEST)
    assert answer(s) == "action=DUNNO\n\n"
