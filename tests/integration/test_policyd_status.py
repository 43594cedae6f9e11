"""postern policyd status: counters, one key's state and the most used
keys of a limit, from the running daemon's status socket."""
import os
import socket
import subprocess

import harness


def start_policyd(workdir, start):
    port = harness.free_port()
    conf = os.path.join(workdir, "p.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\naudit_log =\n[policyd]\nlisten = inet:%d@127.0.0.1\n"
                "state_file =\nstatus_socket = unix:%s/status.sock\n"
                "[limit s]\nkey = sender\nstage = rcpt\nrate = 10/1h\n" % (port, workdir))
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    start(harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir, "pd"))
    return conf, port


def send(port, sender, n):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for _ in range(n):
            s.sendall(b"protocol_state=RCPT\nsender=%s\nrecipient_count=0\n\n" % sender.encode())
            assert s.recv(1000).startswith(b"action=")


def status(conf, *args):
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    return subprocess.run([exe, "policyd", "status", "-c", conf, *args], capture_output=True,
                          text=True, timeout=10)


def test_status_shows_counters_keys_and_top_talkers(workdir, start):
    conf, port = start_policyd(workdir, start)
    send(port, "alice@example.net", 12)
    send(port, "bob@example.net", 3)
    send(port, "carol@example.net", 6)
    r = status(conf)
    assert r.returncode == 0, r.stderr
    assert "requests=21" in r.stdout and "over_limit=2" in r.stdout
    r = status(conf, "-l", "s", "-k", "Bob@Example.NET")
    assert r.returncode == 0
    assert "used=3" in r.stdout and "remaining=7" in r.stdout and "burst=10" in r.stdout
    r = status(conf, "-l", "s", "-t", "2")
    lines = r.stdout.strip().splitlines()
    assert lines == ["key=alice@example.net used=10", "key=carol@example.net used=6"], lines
    r = status(conf, "-l", "nosuch", "-k", "x")
    assert r.returncode == 1 and "error=no such limit" in r.stdout


def test_status_without_a_daemon_says_so(workdir):
    conf = os.path.join(workdir, "p.conf")
    with open(conf, "w") as f:
        f.write("[policyd]\nstatus_socket = unix:%s/none.sock\n" % workdir)
    r = status(conf)
    assert r.returncode == 69
    assert "is it running" in r.stderr
    assert status(conf, "-k", "x").returncode == 64
