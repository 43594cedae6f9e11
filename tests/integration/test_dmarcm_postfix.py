"""postern-dmarc through a real Postfix and dnsmasq: SPF and DKIM are
evaluated by the milter itself, then DMARC. An aligned SPF pass is
delivered with dmarc=pass; a failing message under p=reject is refused
with 550 5.7.1 naming the domain; p=quarantine is held; a domain without
a record gets dmarc=none; two From addresses are refused; forged A-R
fields with our authserv-id go; with DNS down the temperror action
applies. A client that logged in with SMTP AUTH is not evaluated."""
import email
import json
import os
import subprocess
import time

import dkim

import harness
from test_dkim_postfix import dkimpy_key, genkey, txt_line

AUTHSERV = "mx.postern.test"


def exe():
    return os.path.join(harness.build_dir(), "bin", "postern-dmarc")


def dmarcdns(workdir, start):
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    return start(harness.DNS(workdir, [os.path.join(zones, "dmarcm.dnsmasq")]))


def write_conf(workdir, dns, sections, internal="192.0.2.0/24"):
    """postern.conf: [global] for the test bed, then SECTIONS. The test
    client (127.0.0.1) is a stranger: internal clients are not evaluated."""
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                "dns_upstream = %s\ndns_timeout = 1s\ninternal_hosts = %s\n%s"
                % (AUTHSERV, workdir, dns.upstream, internal, sections))
    return conf


def postern_dmarc(workdir, start, dns, extra=""):
    sock = "unix:%s/dmarc.sock" % harness.milter_run_dir(workdir)
    conf = write_conf(workdir, dns, "[dmarc]\nsocket = %s\nuser = postfix\n"
                      "history_db = %s/dmarc.db\n%s" % (sock, workdir, extra))
    return start(harness.Daemon([exe(), "-f", "-c", conf], sock, workdir, "dmarc"))


def audit(workdir, qid):
    with open(os.path.join(workdir, "audit.jsonl")) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r for r in recs if r.get("qid") == qid]


def our_authres(pf, qid):
    pf.wait_delivered(qid)
    with open(pf.delivered_path(qid), "rb") as f:
        msg = email.message_from_bytes(f.read())
    return [v for v in (msg.get_all("Authentication-Results") or [])
            if v.startswith(AUTHSERV + ";")]


def send(pf, domain, extra=(), author=None):
    msg = harness.make_message(author or "alice@" + domain, "bob@example.org",
                               "dmarc test", extra_headers=extra)
    return pf.send("sender@" + domain, ["bob@example.org"], msg)


def started(workdir, start, postfix, extra=""):
    dns = dmarcdns(workdir, start)
    d = postern_dmarc(workdir, start, dns, extra)
    return dns, d, postfix(milters=[d.postfix_address])


def test_pass_reject_and_none(workdir, start, postfix):
    _, d, pf = started(workdir, start, postfix)
    _, data, qid = send(pf, "pass.dmarcm.test")
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert len(ar) == 1 and "dmarc=pass" in ar[0] and "spf=pass" in ar[0], ar
    assert "header.from=pass.dmarcm.test" in ar[0], ar
    recs = audit(workdir, qid)
    assert len(recs) == 1 and recs[0]["step"] == "dmarc", recs
    assert "%s: dmarc:" % qid in d.log_text()

    _, data, _ = send(pf, "reject.dmarcm.test")
    assert data[0] == 550 and "5.7.1" in data[1] and "reject.dmarcm.test" in data[1], data

    _, data, qid = send(pf, "nodmarcm.test")
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert "dmarc=none" in ar[0], ar
    # Two deliveries: the rejected message is not among them.
    assert len(pf.delivered()) == 2
    assert os.path.getsize(os.path.join(workdir, "dmarc.db")) > 0


def test_forged_authres_removed_and_two_from_refused(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    forged = "Authentication-Results: %s; dmarc=pass header.from=paypal.example" % AUTHSERV
    _, data, qid = send(pf, "pass.dmarcm.test", extra=[forged])
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert len(ar) == 1 and "paypal" not in ar[0], ar
    _, data, _ = send(pf, "pass.dmarcm.test",
                      author="alice@pass.dmarcm.test>, <eve@reject.dmarcm.test")
    assert data[0] == 550, data


def test_quarantine_is_held(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    _, data, qid = send(pf, "quar.dmarcm.test")
    assert data[0] == 250, data
    assert [r["action"] for r in audit(workdir, qid)] == ["quarantine"]
    assert held(pf, qid), "not in the hold queue"
    assert pf.delivered() == []


def held(pf, qid):
    """Whether QID reaches the hold queue (bounded wait)."""
    for _ in range(50):
        out = subprocess.run(["postqueue", "-c", pf.conf, "-j"], capture_output=True,
                             timeout=10).stdout.decode()
        for line in out.splitlines():
            job = json.loads(line)
            if job.get("queue_id") == qid and job.get("queue_name") == "hold":
                return True
        time.sleep(0.1)
    return False


def test_quarantine_tag_delivers(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix, "on_quarantine = tag\n")
    _, data, qid = send(pf, "quar.dmarcm.test")
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert "dmarc=fail" in ar[0] and "p=quarantine" in ar[0], ar


def test_dns_down_is_temperror_action(workdir, start, postfix):
    dns, d, pf = started(workdir, start, postfix)
    dns.stop()
    _, data, _ = send(pf, "pass.dmarcm.test")
    assert data[0] == 451, data
    assert "temperror" in d.log_text()


def test_monitor_mode_delivers_and_audits_what_it_would_do(workdir, start, postfix):
    _, d, pf = started(workdir, start, postfix, "mode = monitor\n")
    _, data, qid = send(pf, "reject.dmarcm.test")
    assert data[0] == 250, data
    pf.wait_delivered(qid)
    assert [r["action"] for r in audit(workdir, qid)] == ["monitor:reject"]
    assert "(monitor)" in d.log_text()


def test_aligned_dkim_passes_where_spf_fails(workdir, start, postfix):
    key, txt = genkey(workdir, "rsa", "rsa")
    zone = os.path.join(workdir, "keys.dnsmasq")
    with open(zone, "w") as f:
        f.write(txt_line("sel._domainkey.dkimsig.dmarcm.test", txt))
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    dns = start(harness.DNS(workdir, [os.path.join(zones, "dmarcm.dnsmasq"), zone]))
    d = postern_dmarc(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address])
    msg = harness.make_message("alice@dkimsig.dmarcm.test", "bob@example.org", "signed")
    sig = dkim.sign(msg.encode(), b"sel", b"dkimsig.dmarcm.test", dkimpy_key(key, "rsa"),
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    _, data, qid = pf.send("sender@dkimsig.dmarcm.test", ["bob@example.org"],
                           (sig + msg.encode()).decode())
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert "dmarc=pass" in ar[0] and "spf=fail" in ar[0] and "dkim=pass" in ar[0], ar
    # The same message changed after signing fails DMARC: refused.
    bad = (sig + msg.encode()).decode().replace("Subject: signed", "Subject: changed")
    _, data, _ = pf.send("sender@dkimsig.dmarcm.test", ["bob@example.org"], bad)
    assert data[0] == 550, data


def test_chained_after_postern_spf_trusts_its_results(workdir, start, postfix):
    dns = dmarcdns(workdir, start)
    run = harness.milter_run_dir(workdir)
    conf = write_conf(workdir, dns,
                      "[spf]\nsocket = unix:%s/spf.sock\nuser = postfix\n"
                      "[dmarc]\nsocket = unix:%s/dmarc.sock\nuser = postfix\n"
                      "history = none\nspf_dkim_source = authres\n" % (run, run),
                      internal="192.0.2.0/24")
    spf = start(harness.Daemon([os.path.join(harness.build_dir(), "bin", "postern-spf"),
                                "-f", "-c", conf], "unix:%s/spf.sock" % run, workdir, "spf"))
    d = start(harness.Daemon([exe(), "-f", "-c", conf], "unix:%s/dmarc.sock" % run,
                             workdir, "dmarc"))
    pf = postfix(milters=[spf.postfix_address, d.postfix_address])
    forged = "Authentication-Results: %s; dmarc=pass header.from=paypal.example" % AUTHSERV
    _, data, qid = send(pf, "pass.dmarcm.test", extra=[forged])
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    # postern-spf's field, and ours with dmarc= only; the forged one gone.
    assert any("spf=pass" in v for v in ar), ar
    mine = [v for v in ar if "dmarc=" in v]
    assert len(mine) == 1 and "dmarc=pass" in mine[0] and "spf=" not in mine[0], ar
    assert "paypal" not in " ".join(ar)


def test_metrics_count_results_and_dispositions(workdir, start, postfix):
    port = harness.free_port()
    _, _, pf = started(workdir, start, postfix, "metrics_listen = 127.0.0.1:%d\n" % port)

    def disp(text, policy, disposition):
        return harness.metric(text, "postern_dmarc_dispositions_total", policy=policy,
                              disposition=disposition)

    text = harness.scrape(port)
    assert harness.metric(text, "postern_dmarc_results_total", result="pass") == 0
    _, data, _ = send(pf, "pass.dmarcm.test")
    assert data[0] == 250, data
    text = harness.scrape(port)
    assert harness.metric(text, "postern_dmarc_results_total", result="pass") == 1
    assert disp(text, "reject", "none") == 1            # p=reject, but it passed
    assert disp(text, "reject", "reject") == 0

    _, data, _ = send(pf, "reject.dmarcm.test")
    assert data[0] == 550, data
    _, data, _ = send(pf, "nodmarcm.test")
    assert data[0] == 250, data
    text = harness.scrape(port)
    assert harness.metric(text, "postern_dmarc_results_total", result="fail") == 1
    assert harness.metric(text, "postern_dmarc_results_total", result="none") == 1
    assert disp(text, "reject", "reject") == 1
    assert disp(text, "reject", "none") == 1            # no record: not counted here


def test_unix_socket_leaves_collecting_stages_unanswered(workdir, start):
    harness.assert_collects_quietly(postern_dmarc(workdir, start, dmarcdns(workdir, start)).spec)


def test_authenticated_sender_is_not_evaluated(workdir, start, postfix):
    dns = dmarcdns(workdir, start)
    d = postern_dmarc(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address], sasl_users={"sender": "dmarc secret"})
    msg = harness.make_message("alice@reject.dmarcm.test", "bob@example.org", "dmarc test")
    _, data, qid = pf.send("sender@reject.dmarcm.test", ["bob@example.org"], msg,
                           auth=("sender", "dmarc secret"))
    assert data[0] == 250, data
    assert our_authres(pf, qid) == []
    recs = audit(workdir, qid)
    assert [(r["result"], r["reason"]) for r in recs] == [("skipped", "authenticated")], recs
    assert "%s: dmarc: skipped (authenticated)" % qid in d.log_text()
    # Without AUTH the same message is evaluated: p=reject refuses it.
    _, data, _ = send(pf, "reject.dmarcm.test")
    assert data[0] == 550 and "5.7.1" in data[1], data
