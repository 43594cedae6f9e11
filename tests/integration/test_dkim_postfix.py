"""postern-dkim through a real Postfix and dnsmasq: outbound mail is
signed (RSA-2048 and Ed25519, RFC 8463) and the signatures verify with
dkimpy and Mail::DKIM; inbound mail signed by dkimpy or by Mail::DKIM
(relaxed and simple canonicalization) gets dkim=pass in our
Authentication-Results, a body or header changed after signing gets
dkim=fail, a selector nobody published gets permerror (RFC 6376 6.1.2),
and with the DNS server stopped the result is temperror and the
configured action applies. Forged A-R fields with our authserv-id go.
Through a Postfix with SMTP AUTH (Cyrus SASL), mail from a client
outside internal_hosts is signed only when it logged in ({auth_authen});
without AUTH, only when it came through the smtpd whose
milter_macro_daemon_name is in sign_daemons ({daemon_name}).
Over unix: the milter asks the MTA not to wait for its answers at every
stage before the end of the message (they only collect); over inet: it
answers every stage. The other tests run over unix:, so signing, verifying
and refusing are checked with the quiet stages."""
import base64
import email
import json
import os
import re
import smtplib
import subprocess

import dkim
import pytest

import harness

AUTHSERV = "mx.postern.test"
DOMAIN = "dkim.test"


def exe():
    return os.path.join(harness.build_dir(), "bin", "postern-dkim")


def genkey(workdir, name, kind):
    """A private key file (0600) and its DNS TXT value."""
    path = os.path.join(workdir, name + ".pem")
    if kind == "rsa":
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", path], check=True,
                       stderr=subprocess.DEVNULL)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", path],
                       check=True)
    os.chmod(path, 0o600)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    if kind == "rsa":
        txt = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    else:
        txt = "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
    return path, txt


def dkimpy_key(path, kind):
    """The private key in the form dkimpy takes."""
    if kind == "rsa":
        return subprocess.run(["openssl", "pkey", "-in", path, "-traditional"],
                              check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-in", path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der[-32:])


def txt_line(name, value):
    """A dnsmasq txt-record line; strings of at most 255 bytes."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "txt-record=%s,%s\n" % (name, ",".join('"%s"' % p for p in parts))


class Keys:
    def __init__(self, workdir):
        self.workdir = workdir
        self.rsa, self.rsa_txt = genkey(workdir, "rsa", "rsa")
        self.ed, self.ed_txt = genkey(workdir, "ed", "ed25519")
        self.records = {"rsa1._domainkey." + DOMAIN: self.rsa_txt,
                        "ed1._domainkey." + DOMAIN: self.ed_txt}
        self.zone = os.path.join(workdir, "keys.dnsmasq")
        with open(self.zone, "w") as f:
            for name, value in self.records.items():
                f.write(txt_line(name, value))
        self.table = os.path.join(workdir, "keytable")
        with open(self.table, "w") as f:
            f.write("%s rsa1 %s\n%s ed1 %s\n" % (DOMAIN, self.rsa, DOMAIN, self.ed))

    def dnsfunc(self, name, timeout=5):
        return self.records.get(name.decode().rstrip("."), "").encode()


@pytest.fixture
def keys(workdir):
    return Keys(workdir)


@pytest.fixture
def dkimdns(workdir, start, keys):
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    files = [os.path.join(zones, "dkim.dnsmasq"), keys.zone]
    return start(harness.DNS(workdir, files))


def postern_dkim(workdir, start, dns, keys, internal="127.0.0.0/8", extra="", sock=None):
    sock = sock or "unix:%s/dkim.sock" % harness.milter_run_dir(workdir)
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                "dns_upstream = %s\ndns_timeout = 1s\ninternal_hosts = %s\n"
                "[dkim]\nsocket = %s\nuser = postfix\nkeytable = %s\n%s"
                % (AUTHSERV, workdir, dns.upstream, internal, sock, keys.table, extra))
    return start(harness.Daemon([exe(), "-f", "-c", conf], sock, workdir, "dkim"))


def audit_all(workdir):
    with open(os.path.join(workdir, "audit.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def audit(workdir, qid):
    return [r for r in audit_all(workdir) if r.get("qid") == qid]


def raw(pf, qid):
    pf.wait_delivered(qid)
    with open(pf.delivered_path(qid), "rb") as f:
        return f.read()


def our_authres(msg_bytes):
    msg = email.message_from_bytes(msg_bytes)
    return [v for v in (msg.get_all("Authentication-Results") or [])
            if v.startswith(AUTHSERV + ";")]


def message(subject="dkim test", extra=()):
    return harness.make_message("alice@" + DOMAIN, "bob@example.org", subject,
                                extra_headers=extra).replace(
        "From: <alice@%s>" % DOMAIN, "From: Alice <alice@%s>" % DOMAIN)


def test_outbound_mail_is_signed_rsa_and_ed25519_and_verifies_elsewhere(
        workdir, start, postfix, keys, dkimdns):
    d = postern_dkim(workdir, start, dkimdns, keys)
    pf = postfix(milters=[d.postfix_address])
    _, data, qid = pf.send("alice@" + DOMAIN, ["bob@example.org"], message())
    assert data[0] == 250, data
    out = raw(pf, qid)
    sigs = re.findall(rb"^DKIM-Signature:", out, re.M)
    assert len(sigs) == 2, out[:2000]
    assert b"a=rsa-sha256" in out and b"a=ed25519-sha256" in out
    # dkimpy checks every signature it finds
    assert dkim.verify(out, dnsfunc=keys.dnsfunc), "dkimpy: first signature"
    d2 = dkim.DKIM(out)
    assert d2.verify(idx=0, dnsfunc=keys.dnsfunc) and d2.verify(idx=1, dnsfunc=keys.dnsfunc)
    # Mail::DKIM through the test DNS server
    perl = ("use Mail::DKIM::Verifier; use Net::DNS::Resolver;"
            "Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers=>['127.0.0.1'],"
            " port=>%d, recurse=>0));"
            "my $v = Mail::DKIM::Verifier->new; local $/; my $m = <STDIN>; $m =~ s/\\r?\\n/\\r\\n/g;"
            "$v->PRINT($m); $v->CLOSE;"
            "print join(' ', map { $_->algorithm . ':' . $_->result } $v->signatures), \"\\n\";"
            % dkimdns.port)
    res = subprocess.run(["perl", "-e", perl], input=out, capture_output=True, timeout=30)
    # Debian's Mail::DKIM (1.20230212) has no Ed25519 (RFC 8463) code: it
    # checks the RSA signature and calls the other "invalid".
    got = dict(x.split(":") for x in res.stdout.decode().split())
    assert got == {"rsa-sha256": "pass", "ed25519-sha256": "invalid"}, (res.stdout, res.stderr)
    recs = [r for r in audit(workdir, qid) if r["step"] == "sign"]
    assert sorted(r["extra"]["algorithm"] for r in recs) == ["ed25519-sha256", "rsa-sha256"]
    assert all(r["result"] == "signed" and r["extra"]["domain"] == DOMAIN for r in recs)


def send_inbound(workdir, start, postfix, dns, keys, msg, extra=""):
    d = postern_dkim(workdir, start, dns, keys, internal="192.0.2.0/24", extra=extra)
    pf = postfix(milters=[d.postfix_address])
    return d, pf, pf.send("sender@" + DOMAIN, ["bob@example.org"], msg)


def dkimpy_sign(keys, msg, kind="rsa", selector=b"rsa1"):
    key = dkimpy_key(keys.rsa if kind == "rsa" else keys.ed, kind)
    alg = b"rsa-sha256" if kind == "rsa" else b"ed25519-sha256"
    m = msg.encode()
    sig = dkim.sign(m, selector, DOMAIN.encode(), key, canonicalize=(b"relaxed", b"relaxed"),
                    signature_algorithm=alg,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return (sig + m).decode()


def test_inbound_dkimpy_signatures_pass_and_forged_results_go(
        workdir, start, postfix, keys, dkimdns):
    forged = "Authentication-Results: %s; dkim=pass header.d=paypal.example" % AUTHSERV
    msg = dkimpy_sign(keys, message(extra=[forged]))
    msg = dkimpy_sign(keys, msg, "ed25519", b"ed1")
    d, pf, (_, data, qid) = send_inbound(workdir, start, postfix, dkimdns, keys, msg)
    assert data[0] == 250, data
    ar = our_authres(raw(pf, qid))
    assert len(ar) == 1, ar
    assert ar[0].count("dkim=pass") == 2, ar
    assert "header.d=%s" % DOMAIN in ar[0] and "header.s=ed1" in ar[0]
    assert "header.a=ed25519-sha256" in ar[0] and "header.a=rsa-sha256" in ar[0]
    assert "paypal" not in ar[0]
    recs = audit(workdir, qid)
    assert sorted(r["result"] for r in recs) == ["pass", "pass"], recs
    assert "%s: dkim: verify %s" % (qid, DOMAIN) in d.log_text()


MAIL_DKIM_SIGN = r"""
use Mail::DKIM::Signer; use Mail::DKIM::TextWrap;
my ($key, $method, $domain) = @ARGV;
my $s = Mail::DKIM::Signer->new(Algorithm => 'rsa-sha256', Method => $method,
    Domain => $domain, Selector => 'rsa1', KeyFile => $key,
    Headers => 'from:to:subject:date:message-id');
local $/; my $m = <STDIN>; $m =~ s/\r?\n/\r\n/g;
$s->PRINT($m); $s->CLOSE;
print $s->signature->as_string;
"""


def mail_dkim_sign(workdir, keys, msg, method):
    """MSG signed by Mail::DKIM::Signer (libmail-dkim-perl) with the RSA
    key (Debian's Mail::DKIM has no Ed25519) and canonicalization METHOD."""
    pem = os.path.join(workdir, "rsa.traditional.pem")
    with open(pem, "wb") as f:
        f.write(dkimpy_key(keys.rsa, "rsa"))
    res = subprocess.run(["perl", "-e", MAIL_DKIM_SIGN, pem, method, DOMAIN],
                         input=msg.encode(), capture_output=True, timeout=30)
    assert res.returncode == 0 and res.stdout.startswith(b"DKIM-Signature:"), res
    sig = re.sub(rb"\r?\n", b"\r\n", res.stdout.rstrip(b"\r\n")) + b"\r\n"
    return (sig + msg.encode()).decode()


def test_inbound_mail_dkim_signatures_pass(workdir, start, postfix, keys, dkimdns):
    d = postern_dkim(workdir, start, dkimdns, keys, internal="192.0.2.0/24")
    pf = postfix(milters=[d.postfix_address])
    for method in ("relaxed/relaxed", "simple/simple", "relaxed/simple"):
        msg = mail_dkim_sign(workdir, keys, message(subject="Mail::DKIM " + method), method)
        assert "c=%s" % method in msg.replace("\r\n\t", " ").replace(" ", ""), msg[:600]
        _, data, qid = pf.send("sender@" + DOMAIN, ["bob@example.org"], msg)
        assert data[0] == 250, data
        ar = our_authres(raw(pf, qid))
        assert len(ar) == 1 and "dkim=pass" in ar[0] and "header.d=%s" % DOMAIN in ar[0], \
            (method, ar)
        assert [r["result"] for r in audit(workdir, qid)] == ["pass"], method


def test_body_or_header_changed_after_signing_fails(workdir, start, postfix, keys, dkimdns):
    msg = dkimpy_sign(keys, message(subject="original"))
    msg = msg.replace("Subject: original", "Subject: changed")
    _, pf, (_, data, qid) = send_inbound(workdir, start, postfix, dkimdns, keys, msg)
    assert data[0] == 250
    ar = our_authres(raw(pf, qid))
    assert "dkim=fail" in ar[0], ar
    msg = dkimpy_sign(keys, message()).replace("Hello from", "Goodbye from")
    _, data, qid = pf.send("sender@" + DOMAIN, ["bob@example.org"], msg)
    ar = our_authres(raw(pf, qid))
    assert "dkim=fail" in ar[0] and "body hash" in ar[0], ar


def test_unpublished_selector_is_permerror_and_can_be_rejected(
        workdir, start, postfix, keys, dkimdns):
    msg = dkimpy_sign(keys, message(), selector=b"nosuch")
    _, pf, (_, data, qid) = send_inbound(workdir, start, postfix, dkimdns, keys, msg)
    ar = our_authres(raw(pf, qid))
    assert "dkim=permerror" in ar[0] and "no key" in ar[0], ar


def test_permerror_with_on_fail_reject_is_refused(workdir, start, postfix, keys, dkimdns):
    msg = dkimpy_sign(keys, message(), selector=b"junk")
    _, pf, (_, data, qid) = send_inbound(workdir, start, postfix, dkimdns, keys, msg,
                                         extra="on_fail = reject\n")
    assert data[0] == 550 and "5.7.20" in data[1], data
    assert pf.delivered() == []


# Every stage up to the body only collects; CONNECT refuses when memory
# runs out, and the end of the message carries the verdict and the edits.
NR_QUIET = {k: harness.NR_FLAGS[k]
            for k in ("helo", "mail", "rcpt", "data", "header", "eoh", "body")}
NR_ANSWERED = {k: harness.NR_FLAGS[k] for k in ("connect",)}


def test_unix_socket_leaves_collecting_stages_unanswered(workdir, start, keys, dkimdns):
    d = postern_dkim(workdir, start, dkimdns, keys)
    p = harness.milter_protocol(d.spec)
    for stage, bit in NR_QUIET.items():
        assert p & bit, "%s should be unanswered: 0x%x" % (stage, p)
    for stage, bit in NR_ANSWERED.items():
        assert not p & bit, "%s must be answered: 0x%x" % (stage, p)


def test_inet_socket_answers_data_and_connect(workdir, start, keys, dkimdns):
    """Over TCP DATA is answered too (an unanswered one stalls behind
    Nagle at Postfix's hand-over to cleanup, common/runtime.c); the other
    collecting stages stay quiet."""
    d = postern_dkim(workdir, start, dkimdns, keys,
                     sock="inet:%d@127.0.0.1" % harness.free_port())
    harness.assert_tcp_answers_data(d.spec, NR_QUIET, NR_ANSWERED)


def test_dns_down_is_temperror_and_the_configured_action(
        workdir, start, postfix, keys, dkimdns):
    msg = dkimpy_sign(keys, message())
    d = postern_dkim(workdir, start, dkimdns, keys, internal="192.0.2.0/24",
                     extra="on_temperror = tempfail\n")
    pf = postfix(milters=[d.postfix_address])
    dkimdns.stop()
    _, data, qid = pf.send("sender@" + DOMAIN, ["bob@example.org"], msg)
    assert data[0] == 451 and "4.7.20" in data[1], data
    assert "temperror" in d.log_text()
    recs = [r for r in audit_all(workdir) if r["step"] == "verify"]
    assert recs and recs[-1]["result"] == "temperror" and recs[-1]["action"] == "tempfail", recs


def test_monitor_mode_signs_nothing_and_adds_nothing(workdir, start, postfix, keys, dkimdns):
    d = postern_dkim(workdir, start, dkimdns, keys, extra="mode = monitor\n")
    pf = postfix(milters=[d.postfix_address])
    _, data, qid = pf.send("alice@" + DOMAIN, ["bob@example.org"], message())
    out = raw(pf, qid)
    assert b"DKIM-Signature" not in out
    assert "(monitor)" in d.log_text()
    recs = [r for r in audit(workdir, qid) if r["step"] == "sign"]
    assert len(recs) == 2 and all(r["action"].startswith("monitor:") for r in recs), recs


def test_rfc8463_example_verifies_through_postfix(workdir, start, postfix, keys):
    conf = os.path.join(os.environ.get("POSTERN_CONFORMANCE_DIR") or os.path.join(
        harness.source_dir(), "tests", "conformance", "data"), "dkim")
    if not os.path.isdir(conf):
        pytest.skip("no conformance data")
    zone = os.path.join(workdir, "rfc8463.dnsmasq")
    with open(os.path.join(conf, "rfc8463-dns.txt")) as f, open(zone, "w") as z:
        z.write("local=/football.example.com/\n")
        for line in f:
            name, _, value = line.strip().split(" ", 2)
            z.write(txt_line(name, value.strip('"')))
    dns = start(harness.DNS(workdir, [zone]))
    with open(os.path.join(conf, "rfc8463-a3.eml"), "rb") as f:
        msg = f.read()
    _, pf, (_, data, qid) = send_inbound(workdir, start, postfix, dns, keys, msg)
    ar = our_authres(raw(pf, qid))
    assert ar[0].count("dkim=pass") == 2, ar


def test_metrics_count_signatures_by_algorithm(workdir, start, postfix, keys, dkimdns):
    port = harness.free_port()
    d = postern_dkim(workdir, start, dkimdns, keys,
                     extra="metrics_listen = 127.0.0.1:%d\n" % port)
    pf = postfix(milters=[d.postfix_address])
    for alg in ("rsa-sha256", "ed25519-sha256"):
        assert harness.metric(harness.scrape(port), "postern_dkim_signatures_total",
                              algorithm=alg) == 0
    _, data, qid = pf.send("alice@" + DOMAIN, ["bob@example.org"], message())
    assert data[0] == 250, data
    raw(pf, qid)
    text = harness.scrape(port)
    for alg in ("rsa-sha256", "ed25519-sha256"):
        assert harness.metric(text, "postern_dkim_signatures_total", algorithm=alg) == 1
    assert harness.metric(text, "postern_dkim_sign_errors_total") == 0
    assert harness.metric(text, "postern_dkim_verify_results_total", result="pass") == 0


def test_metrics_count_verify_results(workdir, start, postfix, keys, dkimdns):
    port = harness.free_port()
    signed = dkimpy_sign(keys, message(subject="signed"))
    d, pf, (_, data, _) = send_inbound(workdir, start, postfix, dkimdns, keys, signed,
                                       extra="metrics_listen = 127.0.0.1:%d\n" % port)
    assert data[0] == 250, data
    text = harness.scrape(port)
    assert harness.metric(text, "postern_dkim_verify_results_total", result="pass") == 1
    assert harness.metric(text, "postern_dkim_verify_results_total", result="none") == 0
    _, data, _ = pf.send("sender@" + DOMAIN, ["bob@example.org"], message(subject="bare"))
    assert data[0] == 250, data
    text = harness.scrape(port)
    assert harness.metric(text, "postern_dkim_verify_results_total", result="none") == 1
    assert harness.metric(text, "postern_dkim_verify_results_total", result="pass") == 1
    assert harness.metric(text, "postern_dkim_signatures_total", algorithm="rsa-sha256") == 0


# SMTP AUTH through Postfix's Cyrus SASL (harness.Sasl): with 127.0.0.1
# outside internal_hosts, only {auth_authen} can make a message outbound.
SASL_USER, SASL_PASSWORD = "alice", "correct horse 7"


def dns_txt(dns):
    """A dkimpy dnsfunc that asks the test DNS server itself."""
    def lookup(name, timeout=5):
        rcode, answers = dns.query(name.decode().rstrip("."), 16)
        return "".join(harness.txt_strings(answers[0])).encode() if answers else b""
    return lookup


def assert_signed(workdir, dns, out, qid, reason):
    """OUT carries our two signatures, which dkimpy verifies against the
    test DNS server, and the audit records of signing name REASON."""
    assert len(re.findall(rb"^DKIM-Signature:", out, re.M)) == 2, out[:2000]
    d2 = dkim.DKIM(out)
    assert d2.verify(idx=0, dnsfunc=dns_txt(dns)), "dkimpy: first signature"
    assert d2.verify(idx=1, dnsfunc=dns_txt(dns)), "dkimpy: second signature"
    recs = audit(workdir, qid)
    assert [r["step"] for r in recs] == ["sign", "sign"], recs
    assert all(r["result"] == "signed" and r["reason"] == reason for r in recs), recs


def assert_verified_unsigned(workdir, out, qid):
    """OUT was verified as inbound mail (no signature: dkim=none), not signed."""
    assert b"DKIM-Signature" not in out
    ar = [" ".join(v.split()) for v in our_authres(out)]
    assert ar == ["%s; dkim=none" % AUTHSERV], ar
    recs = audit(workdir, qid)
    assert [(r["step"], r["result"]) for r in recs] == [("verify", "none")], recs


def test_sasl_authenticated_mail_is_signed_and_the_rest_verified(
        workdir, start, postfix, keys, dkimdns):
    d = postern_dkim(workdir, start, dkimdns, keys, internal="192.0.2.0/24")
    pf = postfix(milters=[d.postfix_address], sasl_users={SASL_USER: SASL_PASSWORD})
    sender = "alice@" + DOMAIN

    _, data, qid = pf.send(sender, ["bob@example.org"], message("with auth"),
                           auth=(SASL_USER, SASL_PASSWORD))
    assert data[0] == 250, data
    assert_signed(workdir, dkimdns, raw(pf, qid), qid, "authenticated")
    assert "%s: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=%s@%s" % (
        qid, SASL_USER, harness.Sasl.REALM) in pf.maillog()

    # The same sender without AUTH is a stranger: verified, not signed.
    _, data, qid = pf.send(sender, ["bob@example.org"], message("without auth"))
    assert data[0] == 250, data
    assert_verified_unsigned(workdir, raw(pf, qid), qid)

    # A wrong password never reaches MAIL FROM.
    before = len(audit_all(workdir))
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        pf.send(sender, ["bob@example.org"], message("bad auth"), auth=(SASL_USER, "wrong"))
    assert e.value.smtp_code == 535 and b"5.7.8" in e.value.smtp_error, e.value
    assert "SASL PLAIN authentication failed" in pf.maillog()
    assert len(audit_all(workdir)) == before
    assert len(pf.delivered()) == 2


def test_mail_on_the_originating_listener_is_signed_and_the_rest_verified(
        workdir, start, postfix, keys, dkimdns):
    # 127.0.0.1 is outside internal_hosts and nobody logs in: only the
    # second smtpd's {daemon_name} (milter_macro_daemon_name=ORIGINATING,
    # in sign_daemons by default) makes its mail outbound.
    d = postern_dkim(workdir, start, dkimdns, keys, internal="192.0.2.0/24")
    pf = postfix(milters=[d.postfix_address], daemon_name="ORIGINATING")
    sender = "alice@" + DOMAIN

    _, data, qid = pf.send(sender, ["bob@example.org"], message("submission port"),
                           port=pf.submission_port)
    assert data[0] == 250, data
    assert_signed(workdir, dkimdns, raw(pf, qid), qid, "daemon")

    _, data, qid = pf.send(sender, ["bob@example.org"], message("first port"))
    assert data[0] == 250, data
    assert_verified_unsigned(workdir, raw(pf, qid), qid)
