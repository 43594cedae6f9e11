"""postern-spf behind a real Postfix with the test DNS server (dnsmasq,
tests/data/zones/spf.dnsmasq): pass is delivered with Received-SPF and
Authentication-Results, fail is refused with 550 5.7.23 and the domain's
explanation, softfail is delivered and tagged, a stopped DNS server gives
451 4.7.24 when on_temperror = tempfail, internal clients and clients that
logged in with SMTP AUTH are not checked, monitor mode changes nothing, and every message has one audit record.
Over unix: the milter asks the MTA not to wait for its answers at the
stages that only collect (HELO, MAIL FROM, DATA, headers); over inet: it
answers DATA too. It reads the header fields only when it adds
Authentication-Results (then it must remove forged ones): with headers =
received-spf the MTA does not send them."""
import json
import os
import signal

import harness

AUTHSERV = "mx.postern.test"
HELO = "mta.spf.test"


def spf_milter(workdir, start, dns, extra="", sock=None):
    sock = sock or "unix:%s/spf.sock" % harness.milter_run_dir(workdir)
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        # 127.0.0.1 is internal by default; here the test client is a stranger.
        f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                "dns_upstream = %s\ndns_timeout = 1s\ninternal_hosts = 10.0.0.0/8\n"
                "[spf]\nsocket = %s\nuser = postfix\n%s"
                % (AUTHSERV, workdir, dns.upstream, sock, extra))
    exe = os.path.join(harness.build_dir(), "bin", "postern-spf")
    return start(harness.Daemon([exe, "-f", "-d", "-c", conf], sock, workdir, "spf"))


def send(pf, sender, extra_headers=()):
    msg = harness.make_message(sender, "bob@example.org", extra_headers=extra_headers)
    return pf.send(sender, ["bob@example.org"], msg, helo=HELO)


def send_delivered(pf, sender):
    """Sends from SENDER, expects 250 at DATA; the queue id and the
    message as delivered."""
    replies, data, qid = send(pf, sender)
    assert data and data[0] == 250, (replies, data)
    return qid, pf.wait_delivered(qid)


def audit_records(workdir):
    path = os.path.join(workdir, "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_pass_fail_and_softfail_through_postfix(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address])

    forged = "Authentication-Results: %s; spf=pass smtp.mailfrom=x@fail.spf.test" % AUTHSERV
    replies, data, qid = send(pf, "alice@pass.spf.test", [forged])
    assert data and data[0] == 250, (replies, data)
    msg = pf.wait_delivered(qid)
    rspf = msg.get_all("Received-SPF")
    assert rspf and rspf[0].startswith("pass ("), rspf
    assert "client-ip=127.0.0.1;" in rspf[0] and "envelope-from=alice@pass.spf.test" in rspf[0]
    ar = msg.get_all("Authentication-Results")
    assert len(ar) == 1, ar                      # the forged one is gone
    assert ar[0].startswith(AUTHSERV + ";") and "spf=pass" in ar[0], ar
    assert "smtp.mailfrom=alice@pass.spf.test" in ar[0] and "smtp.helo=%s" % HELO in ar[0]

    replies, data, qid_fail = send(pf, "bob@fail.spf.test")
    code, text = replies["bob@example.org"]
    assert code == 550 and text.startswith("5.7.23"), replies
    assert "127.0.0.1 is not a mail server of fail.spf.test" in text, text
    assert data is None

    replies, data, qid_soft = send(pf, "carol@soft.spf.test")
    assert data[0] == 250, (replies, data)
    msg = pf.wait_delivered(qid_soft)
    assert msg["Received-SPF"].startswith("softfail"), msg["Received-SPF"]
    assert "spf=softfail" in msg["Authentication-Results"]
    assert len(pf.delivered()) == 2

    recs = audit_records(workdir)
    by_result = {r["result"]: r for r in recs}
    assert set(by_result) == {"pass", "fail", "softfail"}, recs
    assert len(recs) == 3
    assert by_result["pass"]["qid"] == qid and by_result["pass"]["action"] == "tag"
    # The audit record carries the Message-ID, for "postern why --message-id".
    assert by_result["pass"]["msgid"] == pf.wait_delivered(qid)["Message-ID"]
    assert by_result["fail"]["action"] == "reject"
    assert by_result["fail"]["extra"]["mechanism"] == "-all"
    assert by_result["softfail"]["qid"] == qid_soft
    assert "%s: spf: mailfrom pass.spf.test pass" % qid in d.log_text()


def test_stopped_dns_server_gives_451_when_configured(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns, "on_temperror = tempfail\ntime_limit = 4s\n")
    pf = postfix(milters=[d.postfix_address])
    dns.stop()
    replies, data, _ = send(pf, "dave@later.spf.test")
    code, text = replies["bob@example.org"]
    assert code == 451 and text.startswith("4.7.24"), replies
    rec = audit_records(workdir)[-1]
    assert rec["result"] == "temperror" and rec["action"] == "tempfail", rec


def test_permerror_is_tagged_by_default(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = send(pf, "erin@loop.spf.test")
    assert data[0] == 250, (replies, data)
    msg = pf.wait_delivered(qid)
    assert msg["Received-SPF"].startswith("permerror"), msg["Received-SPF"]
    assert "problem=" in msg["Received-SPF"]


def test_internal_client_is_not_checked(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns)
    # Rewrite with the default internal_hosts, which holds 127.0.0.1.
    d.stop()
    conf = os.path.join(workdir, "postern.conf")
    with open(conf) as f:
        text = f.read().replace("internal_hosts = 10.0.0.0/8\n", "")
    with open(conf, "w") as f:
        f.write(text)
    d2 = start(harness.Daemon(d.argv, d.spec, workdir, "spf2"))
    pf = postfix(milters=[d2.postfix_address])
    replies, data, qid = send(pf, "bob@fail.spf.test")
    assert data[0] == 250, (replies, data)
    msg = pf.wait_delivered(qid)
    assert msg["Received-SPF"] is None and msg["Authentication-Results"] is None
    rec = audit_records(workdir)[-1]
    assert rec["result"] == "skipped" and rec["reason"] == "internal", rec


def test_monitor_mode_delivers_a_fail_untouched(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns, "mode = monitor\n")
    pf = postfix(milters=[d.postfix_address])
    qid, msg = send_delivered(pf, "bob@fail.spf.test")
    assert msg["Received-SPF"] is None
    rec = audit_records(workdir)[-1]
    # Decided but not carried out: audited as monitor:ACTION.
    assert rec["result"] == "fail" and rec["action"] == "monitor:reject", rec
    assert rec["qid"] == qid and rec["msgid"] == msg["Message-ID"], rec
    assert "(monitor)" in d.log_text()


NR_QUIET = {"helo": harness.SMFIP_NR_HELO, "mail": harness.SMFIP_NR_MAIL,
            "data": harness.SMFIP_NR_DATA, "header": harness.SMFIP_NR_HDR}
NR_ANSWERED = {"connect": harness.SMFIP_NR_CONN, "rcpt": harness.SMFIP_NR_RCPT}


def test_unix_socket_leaves_collecting_stages_unanswered(workdir, start, dns):
    d = spf_milter(workdir, start, dns)
    p = harness.milter_protocol(d.spec)
    for stage, bit in NR_QUIET.items():
        assert p & bit, "%s should be unanswered: 0x%x" % (stage, p)
    # RCPT carries the verdict; CONNECT may refuse when memory runs out.
    for stage, bit in NR_ANSWERED.items():
        assert not p & bit, "%s must be answered: 0x%x" % (stage, p)


SMFIP_NOHDRS = 0x20


def test_header_fields_are_read_only_where_authentication_results_are_added(
        workdir, start, dns):
    for kind, reads in (("both", True), ("authres", True), ("received-spf", False),
                        ("none", False)):
        d = spf_milter(workdir, start, dns, "headers = %s\n" % kind)
        p = harness.milter_protocol(d.spec)
        assert bool(p & SMFIP_NOHDRS) != reads, "headers = %s: 0x%x" % (kind, p)
        assert d.stop() == 0


def test_received_spf_only_through_postfix(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns, "headers = received-spf\n")
    pf = postfix(milters=[d.postfix_address])
    qid, msg = send_delivered(pf, "alice@pass.spf.test")
    assert msg["Received-SPF"].startswith("pass ("), msg["Received-SPF"]
    assert msg["Authentication-Results"] is None
    rec = audit_records(workdir)[-1]
    # The fields were not sent: no Message-ID in the record, the queue id is.
    assert rec["qid"] == qid and rec["result"] == "pass" and "msgid" not in rec, rec
    replies, _, _ = send(pf, "bob@fail.spf.test")
    assert replies["bob@example.org"][0] == 550, replies


def test_reload_that_adds_authentication_results_needs_a_restart(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns, "headers = received-spf\non_pass = reject\n")
    pf = postfix(milters=[d.postfix_address])
    assert send(pf, "alice@pass.spf.test")[0]["bob@example.org"][0] == 550
    conf = os.path.join(workdir, "postern.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("headers = received-spf\n", "headers = both\n"))
    d.signal(signal.SIGHUP)
    harness.wait_until(lambda: "restart postern-spf" in d.log_text(), 10, "refused reload")
    # The old settings stay, on_pass = reject included.
    assert send(pf, "alice@pass.spf.test")[0]["bob@example.org"][0] == 550
    assert d.proc.poll() is None


def test_inet_socket_answers_data(workdir, start, dns):
    """Over TCP DATA is answered too (common/runtime.c: an unanswered DATA
    stalls behind Nagle at Postfix's hand-over to cleanup)."""
    d = spf_milter(workdir, start, dns, sock="inet:%d@127.0.0.1" % harness.free_port())
    harness.assert_tcp_answers_data(d.spec, NR_QUIET, NR_ANSWERED)
def test_metrics_count_results_by_identity(workdir, start, dns, postfix):
    port = harness.free_port()
    d = spf_milter(workdir, start, dns, "metrics_listen = 127.0.0.1:%d\n" % port)
    pf = postfix(milters=[d.postfix_address])

    def spf(text, identity, result):
        return harness.metric(text, "postern_spf_results_total", identity=identity,
                              result=result)

    before = harness.scrape(port)
    assert spf(before, "mailfrom", "pass") == 0 and spf(before, "helo", "pass") == 0
    assert send(pf, "alice@pass.spf.test")[1][0] == 250
    after_pass = harness.scrape(port)
    assert spf(after_pass, "mailfrom", "pass") == 1
    assert spf(after_pass, "helo", "pass") == 1          # HELO mta.spf.test: "a -all"
    assert spf(after_pass, "mailfrom", "fail") == 0

    replies, data, _ = send(pf, "bob@fail.spf.test")
    assert replies["bob@example.org"][0] == 550, replies
    text = harness.scrape(port)
    assert spf(text, "mailfrom", "fail") == 1
    assert spf(text, "mailfrom", "pass") == 1
    assert spf(text, "helo", "pass") == 2
    assert harness.metric(text, "postern_spf_skipped_total", reason="internal") == 0


def test_authenticated_sender_is_not_checked(workdir, start, dns, postfix):
    d = spf_milter(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address], sasl_users={"bob": "spf secret"})
    msg = harness.make_message("bob@fail.spf.test", "bob@example.org")
    replies, data, qid = pf.send("bob@fail.spf.test", ["bob@example.org"], msg,
                                 helo=HELO, auth=("bob", "spf secret"))
    assert data[0] == 250, (replies, data)
    out = pf.wait_delivered(qid)
    assert out["Received-SPF"] is None and out["Authentication-Results"] is None
    rec = audit_records(workdir)[-1]
    assert (rec["qid"], rec["result"], rec["reason"]) == (qid, "skipped", "authenticated"), rec
    # Without AUTH the same sender is checked, and fails at RCPT.
    replies, data, _ = send(pf, "bob@fail.spf.test")
    code, text = replies["bob@example.org"]
    assert code == 550 and text.startswith("5.7.23") and data is None, (replies, data)
