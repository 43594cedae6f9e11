"""Metrics: postern-policyd serves Prometheus text on its loopback
listener while it works, and postern stats prints it."""
import os
import socket
import subprocess
import urllib.request

import harness


def test_metrics_are_scraped_during_work(workdir, start):
    port, mport = harness.free_port(), harness.free_port()
    conf = os.path.join(workdir, "p.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\naudit_log =\n[policyd]\nenable = yes\n"
                "listen = inet:%d@127.0.0.1\nstate_file =\nstatus_socket =\n"
                "metrics_listen = 127.0.0.1:%d\n"
                "[limit s]\nkey = sender\nstage = rcpt\nrate = 2/1h\naction = reject\n"
                % (port, mport))
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    start(harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir, "pd"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for _ in range(5):
            s.sendall(b"protocol_state=RCPT\nsender=a@example.net\nrecipient_count=0\n\n")
            s.recv(1000)
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport,
                                      timeout=5).read().decode()
    assert "postern_policyd_requests_total 5" in text
    assert "postern_policyd_over_limit_total 3" in text
    assert 'postern_policyd_limit_actions_total{action="reject"} 3' in text
    assert harness.metric(text, "postern_policyd_limit_hits_total", limit="s") == 3
    assert harness.metric(text, "postern_policyd_limit_hits_total", limit="other") == 0
    assert "# TYPE postern_policyd_decision_seconds histogram" in text
    assert 'postern_policyd_decision_seconds_bucket{le="+Inf"} 5' in text
    r = subprocess.run([os.path.join(harness.build_dir(), "bin", "postern"), "stats", "-c", conf],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "postern_policyd_requests_total 5" in r.stdout
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/other" % mport, timeout=5)
        assert False, "404 expected"
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_metrics_listener_must_be_loopback(workdir):
    conf = os.path.join(workdir, "p.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\naudit_log =\n[policyd]\nlisten = inet:%d@127.0.0.1\n"
                "state_file =\nstatus_socket =\nmetrics_listen = 0.0.0.0:9999\n"
                % harness.free_port())
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    r = subprocess.run([exe, "-f", "-c", conf], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert "must be a 127.x.x.x address" in r.stderr
