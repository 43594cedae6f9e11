"""postern run: starts the enabled components from one config, restarts
one that dies, and stops them all on SIGTERM."""
import os
import signal
import socket
import subprocess
import time

import harness


def write_conf(workdir, port):
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\nrun_dir = %s/run\naudit_log = %s/log/audit.jsonl\n"
                "[policyd]\nenable = yes\nlisten = inet:%d@127.0.0.1\n"
                "state_file = %s/state/policyd.state\n"
                "[limit s]\nkey = sender\nstage = rcpt\nrate = 1/1h\n"
                % (workdir, workdir, port, workdir))
    return conf


def ask(port, sender):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\n"
                  b"recipient_count=0\nclient_address=192.0.2.1\n\n" % sender.encode())
        return s.recv(1000).decode().strip()


def policyd_pids(parent):
    """The live postern-policyd children of PARENT."""
    pids = []
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"postern-policyd" in cmd and ppid == parent and harness.pid_alive(int(p)):
            pids.append(int(p))
    return pids


def test_run_supervises_and_stops_the_policy_daemon(workdir):
    port = harness.free_port()
    conf = write_conf(workdir, port)
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    log = open(os.path.join(workdir, "run.log"), "w")
    proc = subprocess.Popen([exe, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    harness.STARTED_PIDS.add(proc.pid)
    try:
        harness.wait_until(lambda: harness.tcp_accepts(port), 10, "policyd on %d" % port)
        assert ask(port, "a@example.net") == "action=DUNNO"
        assert ask(port, "a@example.net").startswith("action=DEFER_IF_PERMIT 4.7.1")
        # The directories postern run prepares exist.
        assert os.path.isdir(os.path.join(workdir, "state"))
        # A crashed component comes back, with its counters (state file).
        [child] = policyd_pids(proc.pid)
        os.kill(child, signal.SIGKILL)
        harness.wait_until(lambda: policyd_pids(proc.pid) not in ([], [child]), 10,
                           "policyd restarted")
        harness.wait_until(lambda: harness.tcp_accepts(port), 10, "policyd back")
        assert ask(port, "b@example.net") == "action=DUNNO"
        proc.send_signal(signal.SIGTERM)
        children = policyd_pids(proc.pid)
        assert proc.wait(timeout=40) == 0
        assert not any(harness.pid_alive(p) for p in children)
    finally:
        for p in policyd_pids(proc.pid):
            os.kill(p, signal.SIGKILL)
        harness.stop_process(proc)
    text = open(os.path.join(workdir, "run.log")).read()
    assert "check_policy_service" in text
