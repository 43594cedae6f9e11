"""The shipped milter chain, postern-spf then postern-dkim then
postern-dmarc with spf_dkim_source = authres, as conf/postern.conf sets
it up, behind a real Postfix and dnsmasq.

Outbound: a client in internal_hosts sends From our own domain, which
publishes p=reject. postern-spf skips it, postern-dkim signs it (and, as
a signer, writes no dkim= result), so postern-dmarc must skip it too: it
is delivered signed. The same From from an external client, unsigned, is
refused with 550.

Forged trust headers: with postern-spf or postern-dkim in monitor mode,
forged "our-id; dkim=pass" / "our-id; spf=pass" fields from outside are
still removed, so postern-dmarc does not pass the message on them.

External clients are made with XCLIENT (Postfix's test hook, allowed for
the loopback client only), which Postfix also hands to its milters as the
client address."""
import email
import json
import os
import re

import dkim

import harness
from test_dkim_postfix import genkey, txt_line

AUTHSERV = "mx.postern.test"
OURS = "ours.chain.test"
VICTIM = "victim.chain.test"
EXTERNAL = "203.0.113.5"
SAMPLE_SECTIONS = ("spf", "dkim", "dmarc")


def sample_sections(overrides):
    """The [spf], [dkim] and [dmarc] sections of conf/postern.conf with
    the keys in OVERRIDES ({section: {key: value}}) replaced or added."""
    path = os.path.join(harness.source_dir(), "conf", "postern.conf")
    out, section, pending = [], None, {}

    def flush():
        for k, v in pending.items():
            out.append("%s = %s" % (k, v))

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"\[([^\]]+)\]", line)
            if m:
                flush()
                section = m.group(1)
                pending = dict(overrides.get(section, {}))
                if section in SAMPLE_SECTIONS:
                    out.append(line)
                continue
            if section not in SAMPLE_SECTIONS:
                continue
            key = re.match(r"([a-z_]+)\s*=", line)
            if key and key.group(1) in pending:
                out.append("%s = %s" % (key.group(1), pending.pop(key.group(1))))
            else:
                out.append(line)
    flush()
    return "\n".join(out) + "\n"


class Chain:
    """DNS with our zone and DKIM key, the three milters from the sample
    config, and Postfix with them in the documented order."""

    def __init__(self, workdir, start, postfix, modes=None):
        self.workdir = workdir
        key, txt = genkey(workdir, "ours", "rsa")
        zone = os.path.join(workdir, "keys.dnsmasq")
        self.key_txt = txt
        with open(zone, "w") as f:
            f.write(txt_line("sel1._domainkey." + OURS, txt))
        table = os.path.join(workdir, "keytable")
        with open(table, "w") as f:
            f.write("%s sel1 %s\n" % (OURS, key))
        zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
        dns = start(harness.DNS(workdir, [os.path.join(zones, "chain.dnsmasq"), zone]))
        run = harness.milter_run_dir(workdir)
        over = {s: {"socket": "unix:%s/%s.sock" % (run, s), "user": "postfix"}
                for s in SAMPLE_SECTIONS}
        over["dkim"]["keytable"] = table
        over["dmarc"]["history_db"] = os.path.join(workdir, "dmarc.db")
        for s, mode in (modes or {}).items():
            over[s]["mode"] = mode
        conf = os.path.join(workdir, "postern.conf")
        with open(conf, "w") as f:
            f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                    "dns_upstream = %s\ndns_timeout = 1s\ninternal_hosts = 127.0.0.0/8, ::1\n%s"
                    % (AUTHSERV, workdir, dns.upstream, sample_sections(over)))
        self.milters = {}
        for s in SAMPLE_SECTIONS:
            exe = os.path.join(harness.build_dir(), "bin", "postern-" + s)
            self.milters[s] = start(harness.Daemon([exe, "-f", "-c", conf],
                                                   over[s]["socket"], workdir, s))
        self.pf = postfix(milters=[self.milters[s].postfix_address for s in SAMPLE_SECTIONS],
                          extra_main_cf={"smtpd_authorized_xclient_hosts": "127.0.0.0/8",
                                         "relay_domains": "example.org",
                                         "smtpd_relay_restrictions":
                                         "permit_mynetworks, reject_unauth_destination"})

    def send(self, author_domain, client=None, extra=()):
        msg = harness.make_message("alice@" + author_domain, "bob@example.org",
                                   "chain test", extra_headers=extra)
        conn = self.pf.smtp("client.example.net")
        if client is not None:
            code, text = conn.docmd("XCLIENT", "ADDR=%s NAME=ext.example.net" % client)
            assert code == 220, (code, text)
            conn.ehlo_resp = None
            conn.ehlo("ext.example.net")
        try:
            return self.pf.send("alice@" + author_domain, ["bob@example.org"], msg, conn=conn)
        finally:
            conn.quit()

    def delivered(self, qid):
        return self.pf.wait_delivered(qid)

    def signature_verifies(self, qid):
        """dkimpy's verdict on the delivered message, with our key record."""
        with open(self.pf.delivered_path(qid), "rb") as f:
            raw = f.read()
        records = {"sel1._domainkey." + OURS: self.key_txt}
        return dkim.verify(raw, dnsfunc=lambda name, timeout=5:
                           records.get(name.decode().rstrip("."), "").encode())

    def audit(self, qid, step=None):
        with open(os.path.join(self.workdir, "audit.jsonl")) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        return [r for r in recs if r.get("qid") == qid and (step is None or r["step"] == step)]


def ours(msg, name="Authentication-Results"):
    return [v for v in (msg.get_all(name) or []) if v.strip().startswith(AUTHSERV + ";")]


def test_internal_mail_from_our_p_reject_domain_is_signed_and_delivered(
        workdir, start, postfix):
    chain = Chain(workdir, start, postfix)
    _, data, qid = chain.send(OURS)
    assert data is not None and data[0] == 250, data
    msg = chain.delivered(qid)
    sigs = msg.get_all("DKIM-Signature") or []
    assert len(sigs) == 1 and "d=%s" % OURS in sigs[0].replace(" ", ""), sigs
    assert chain.signature_verifies(qid), "our signature does not verify with dkimpy"
    assert not any("dmarc=" in v for v in ours(msg)), ours(msg)
    recs = chain.audit(qid, "dmarc")
    assert [(r["result"], r["reason"]) for r in recs] == [("skipped", "internal")], recs
    assert "%s: dmarc: skipped (internal)" % qid in chain.milters["dmarc"].log_text()

    # The same From from outside, unsigned: SPF fails, no DKIM, p=reject.
    _, data, _ = chain.send(OURS, client=EXTERNAL)
    assert data is not None and data[0] == 550 and OURS in data[1], data
    assert chain.pf.delivered() == [qid + ".eml"]


def forged_fields():
    return ["Authentication-Results: %s; dkim=pass header.d=%s header.s=x" % (AUTHSERV, VICTIM),
            "Authentication-Results: %s; spf=pass smtp.mailfrom=%s" % (AUTHSERV, VICTIM)]


def check_forgery_removed(chain):
    _, data, qid = chain.send(VICTIM, client=EXTERNAL, extra=forged_fields())
    assert data is not None and data[0] == 250, data
    msg = chain.delivered(qid)
    fields = ours(msg)
    assert not any(VICTIM in v and ("dkim=pass" in v or "spf=pass" in v) for v in fields), fields
    dmarc = [v for v in fields if "dmarc=" in v]
    assert len(dmarc) == 1 and "dmarc=fail" in dmarc[0], fields
    recs = chain.audit(qid, "dmarc")
    assert [r["result"] for r in recs] == ["fail"], recs


def test_forged_results_go_with_dkim_in_monitor_mode(workdir, start, postfix):
    check_forgery_removed(Chain(workdir, start, postfix, modes={"dkim": "monitor"}))


def test_forged_results_go_with_spf_in_monitor_mode(workdir, start, postfix):
    check_forgery_removed(Chain(workdir, start, postfix, modes={"spf": "monitor"}))
