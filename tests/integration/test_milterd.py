"""The milter skeleton every postern milter is built on (common/milterd,
menv, mglue, mact), through a real Postfix with the test milter that uses
it: forged Authentication-Results removed and ours added at the top,
reply actions, monitor mode, SIGHUP reload (a bad file keeps the old
config), -n check mode, and one audit record per message with the queue
id."""
import json
import os
import signal
import subprocess
import time

import harness

AUTHSERV = "mx.postern.test"


def exe():
    return os.path.join(harness.build_dir(), "tests", "milter", "postern-dtestmilter")


def write_conf(workdir, sock, action="accept", mode="enforce", extra=""):
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                "[dtest]\nsocket = %s\nuser = postfix\naction = %s\nmode = %s\n"
                "text = \"policy says no to 100%% of this\"\n%s"
                % (AUTHSERV, workdir, sock, action, mode, extra))
    return conf


def dtest(workdir, start, **kw):
    sock = "unix:%s/dtest.sock" % harness.milter_run_dir(workdir)
    conf = write_conf(workdir, sock, **kw)
    d = start(harness.Daemon([exe(), "-f", "-c", conf], sock, workdir, "dtest"))
    d.conf = conf
    return d


def message(extra):
    return harness.make_message("alice@example.net", "bob@example.org", extra_headers=extra)


def audit_records(workdir):
    with open(os.path.join(workdir, "audit.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_forged_fields_go_ours_comes_first_foreign_ones_stay(workdir, start, postfix):
    d = dtest(workdir, start)
    pf = postfix(milters=[d.postfix_address])
    extra = ["Authentication-Results: %s; spf=pass smtp.mailfrom=evil@example.net" % AUTHSERV,
             "Authentication-Results: other.example; spf=fail",
             "Authentication-Results: %s; dkim=pass header.d=example.net" % AUTHSERV,
             "Authentication-Results: %s; arc=pass" % AUTHSERV.upper()]
    replies, data, qid = pf.send("alice@example.net", ["bob@example.org"], message(extra))
    assert data and data[0] == 250, (replies, data)
    msg = pf.wait_delivered(qid)
    fields = msg.get_all("Authentication-Results")
    assert fields[0].startswith(AUTHSERV + ";") and "spf=pass" in fields[0]
    assert "smtp.mailfrom=alice@example.net" in fields[0]
    assert not any("evil@example.net" in f for f in fields), fields
    assert not any("arc=pass" in f for f in fields), fields
    assert any(f.startswith("other.example;") for f in fields), fields
    assert any("dkim=pass" in f for f in fields), fields
    assert len(fields) == 3, fields
    recs = [r for r in audit_records(workdir) if r.get("qid") == qid]
    assert len(recs) == 1 and recs[0]["component"] == "dtest", recs
    assert recs[0]["client_ip"] == "127.0.0.1" and recs[0]["rcpt"] == ["bob@example.org"]
    # The Message-ID is recorded, and finds the message for postern why.
    msgid = msg["Message-ID"]
    assert recs[0]["msgid"] == msgid
    why = subprocess.run([os.path.join(harness.build_dir(), "bin", "postern"), "why", "-f",
                          os.path.join(workdir, "audit.jsonl"), "--message-id", msgid],
                         capture_output=True, text=True, timeout=30)
    assert why.returncode == 0, why.stderr
    assert why.stdout.startswith("%s: 1 step" % qid) and "outcome: accept (dtest" in why.stdout
    why = subprocess.run([os.path.join(harness.build_dir(), "bin", "postern"), "why", "-f",
                          os.path.join(workdir, "audit.jsonl"), "--message-id", "<no@such>"],
                         capture_output=True, text=True, timeout=30)
    assert why.returncode == 1 and "no audit record has Message-ID <no@such>" in why.stderr


def test_reject_reply_is_ours_and_safe(workdir, start, postfix):
    d = dtest(workdir, start, action="reject")
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = pf.send("alice@example.net", ["bob@example.org"], message([]))
    assert data[0] == 550, data
    assert data[1].startswith("5.7.1") and "policy says no to 100% of this" in data[1], data
    assert pf.delivered() == []


def test_monitor_mode_changes_nothing(workdir, start, postfix):
    d = dtest(workdir, start, action="reject", mode="monitor")
    pf = postfix(milters=[d.postfix_address])
    forged = "Authentication-Results: %s; spf=pass" % AUTHSERV
    replies, data, qid = pf.send("alice@example.net", ["bob@example.org"], message([forged]))
    assert data[0] == 250, data
    msg = pf.wait_delivered(qid)
    assert msg.get_all("Authentication-Results") == ["%s; spf=pass" % AUTHSERV]
    rec = [r for r in audit_records(workdir) if r.get("qid") == qid][0]
    assert rec["action"] == "monitor:reject"
    assert "(monitor)" in d.log_text()


def test_sighup_swaps_the_config_and_a_bad_file_keeps_the_old(workdir, start, postfix):
    d = dtest(workdir, start)
    pf = postfix(milters=[d.postfix_address])
    send = lambda: pf.send("alice@example.net", ["bob@example.org"], message([]))
    assert send()[1][0] == 250
    sock = d.spec
    write_conf(workdir, sock, action="tempfail")
    d.signal(signal.SIGHUP)
    harness.wait_until(lambda: "configuration reloaded" in d.log_text(), 10, "reload")
    assert send()[1][0] == 451
    with open(d.conf, "a") as f:
        f.write("no_such_key = 1\n")
    d.signal(signal.SIGHUP)
    harness.wait_until(lambda: "no_such_key" in d.log_text(), 10, "failed reload logged")
    assert send()[1][0] == 451          # still the last good config
    assert d.proc.poll() is None
    assert d.stop() == 0


def test_metrics_count_callbacks_replies_and_actions(workdir, start, postfix):
    port = harness.free_port()
    d = dtest(workdir, start, action="reject", extra="metrics_listen = 127.0.0.1:%d\n" % port)
    pf = postfix(milters=[d.postfix_address])
    for _ in range(2):
        assert pf.send("alice@example.net", ["bob@example.org"], message([]))[1][0] == 550
    text = harness.scrape(port)
    assert harness.metric(text, "postern_milter_replies_total", component="dtest", stage="eom",
                          reply="reject") == 2
    assert harness.metric(text, "postern_milter_actions_total", component="dtest", action="reject",
                          enforced="yes") == 2
    assert harness.metric(text, "postern_milter_actions_total", component="dtest", action="accept",
                          enforced="yes") == 0
    assert harness.metric(text, "postern_milter_callback_seconds_count", component="dtest",
                          stage="eom") == 2
    assert harness.metric(text, "postern_milter_callback_seconds_count", component="dtest",
                          stage="envrcpt") >= 2
    assert harness.metric(text, "postern_milter_connections_total", component="dtest") >= 2


def test_check_mode_exits_78_naming_the_key(workdir):
    sock = "unix:%s/x.sock" % workdir
    good = write_conf(workdir, sock)
    r = subprocess.run([exe(), "-n", "-c", good], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "ok" in r.stdout, r
    bad = write_conf(workdir, sock, action="bounce")
    r = subprocess.run([exe(), "-n", "-c", bad], capture_output=True, text=True, timeout=10)
    assert r.returncode == 78, r
    assert "[dtest] action" in r.stderr and ":7:" in r.stderr, r.stderr
    r = subprocess.run([exe(), "-x"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 64
    # The file every component shares: another component's section is
    # not this daemon's business ("postern check" checks it).
    shared = write_conf(workdir, sock, extra="[other-component]\nits_key = 1\n")
    r = subprocess.run([exe(), "-n", "-c", shared], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
