"""postern-policyd behind a real Postfix (check_policy_service): the
message over a sender's limit is deferred with our text, other senders
are not affected, the counters survive a restart, limit hits are in the
audit log, and monitor mode only reports."""
import json
import os
import subprocess

import pytest

import harness

RCPT_LIMIT = """
[limit per-sender]
key = sender
count = messages
stage = rcpt
rate = 3/1h
text = "Sender over its hourly quota"
"""

EOM_LIMIT = """
[limit bytes]
key = sender
count = bytes
stage = eom
rate = 10000/1h
burst = 10000
action = reject
text = "Too many bytes"
"""


def policyd(workdir, start, limits, mode="enforce"):
    port = harness.free_port()
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\naudit_log = %s/audit.jsonl\n"
                "[policyd]\nlisten = inet:%d@127.0.0.1\nstate_file = %s/policyd.state\n"
                "mode = %s\n%s" % (workdir, port, workdir, mode, limits))
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    d = harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir, "policyd")
    return start(d)


def postfix_with_policy(postfix, port):
    check = "check_policy_service { inet:127.0.0.1:%d, timeout=10s, default_action=DUNNO }" % port
    return postfix(extra_main_cf={"smtpd_recipient_restrictions": check,
                                  "smtpd_end_of_data_restrictions": check,
                                  "default_transport": "discard",
                                  "local_transport": "discard",
                                  "relay_transport": "discard"})


def send(pf, sender, size=0):
    msg = harness.make_message(sender, "bob@example.org", size=size)
    return pf.send(sender, ["bob@example.org"], msg)


def port_of(daemon):
    return int(daemon.spec.split(":")[1].split("@")[0])


def test_message_over_the_limit_is_deferred_and_others_pass(workdir, start, postfix):
    d = policyd(workdir, start, RCPT_LIMIT)
    pf = postfix_with_policy(postfix, port_of(d))
    for _ in range(3):
        replies, data, qid = send(pf, "alice@example.net")
        assert data and data[0] == 250, (replies, data)
    replies, data, qid = send(pf, "alice@example.net")
    code, text = replies["bob@example.org"]
    assert code == 450, replies
    assert text.startswith("4.7.1") and "Sender over its hourly quota" in text
    assert "[per-sender]" in text
    assert qid is None
    replies, data, qid = send(pf, "carol@example.net")
    assert data and data[0] == 250, replies
    # The hit is in the audit log, chained.
    log = open(os.path.join(workdir, "audit.jsonl")).read()
    assert '"step":"per-sender"' in log and '"from":"alice@example.net"' in log
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    r = subprocess.run([exe, "audit", "verify", os.path.join(workdir, "audit.jsonl")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_counters_survive_a_restart(workdir, start, postfix):
    d = policyd(workdir, start, RCPT_LIMIT)
    pf = postfix_with_policy(postfix, port_of(d))
    for _ in range(3):
        assert send(pf, "dave@example.net")[1][0] == 250
    assert d.stop() == 0
    assert os.path.exists(os.path.join(workdir, "policyd.state"))
    d.returncode = None
    d.start()
    replies, data, qid = send(pf, "dave@example.net")
    assert replies["bob@example.org"][0] == 450, replies


def postern(*args):
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=30)


def test_byte_limit_at_end_of_message_rejects(workdir, start, postfix):
    d = policyd(workdir, start, EOM_LIMIT)
    pf = postfix_with_policy(postfix, port_of(d))
    assert send(pf, "erin@example.net", size=6000)[1][0] == 250
    replies, data, qid = send(pf, "erin@example.net", size=6000)
    assert data[0] == 554 and data[1].startswith("5.7.1") and "Too many bytes" in data[1], data
    # postern why: the rejected message's steps and reason, by queue id.
    log = os.path.join(workdir, "audit.jsonl")
    r = postern("why", "-f", log, "--json", "--from", "erin@example.net")
    assert r.returncode == 0, r.stderr
    rejected = json.loads(r.stdout)["records"][-1]
    assert rejected["qid"] and rejected["action"] == "reject"
    r = postern("why", "-f", log, rejected["qid"])
    assert r.returncode == 0, r.stderr
    assert "bytes" in r.stdout and "rate 10000/1h exceeded" in r.stdout
    assert "outcome: reject (policyd, bytes" in r.stdout


def test_monitor_mode_only_reports(workdir, start, postfix):
    d = policyd(workdir, start, RCPT_LIMIT, mode="monitor")
    pf = postfix_with_policy(postfix, port_of(d))
    for _ in range(5):
        assert send(pf, "frank@example.net")[1][0] == 250
    log = open(os.path.join(workdir, "audit.jsonl")).read()
    assert log.count('"action":"monitor:defer"') == 2
