"""postern-dmarc's reading of the published policy, through a real
Postfix and dnsmasq (tests/data/zones/dmarcm.dnsmasq): pct (0 and 50),
the subdomain policy sp in both directions, relaxed and strict SPF and
DKIM alignment, several From fields and addresses, and the configured
action when DNS is down. Every sender below fails DMARC unless an
identifier aligns, so what the MTA answers shows which policy applied."""
import json
import os

import dkim

import harness
from test_dkim_postfix import dkimpy_key, genkey, txt_line
from test_dmarcm_postfix import (AUTHSERV, audit, held, our_authres, postern_dmarc, send,
                                 started)


def all_records(workdir):
    path = os.path.join(workdir, "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def records_for(workdir, domain):
    """Audit records of messages whose author domain is DOMAIN (rejected
    messages have no queue id the client sees)."""
    return [r for r in all_records(workdir)
            if (r.get("extra") or {}).get("header_from") == domain]


def accepted(pf, domain, **kw):
    """Sends as DOMAIN; the message must be accepted and delivered.
    Returns its queue id and our Authentication-Results values."""
    _, data, qid = send(pf, domain, **kw)
    assert data[0] == 250, (domain, data)
    return qid, our_authres(pf, qid)


def test_pct0_under_reject_is_never_rejected_but_quarantined(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    _, data, qid = send(pf, "pct0.dmarcm.test")
    # RFC 7489 6.6.4: a message not selected by pct gets the next less
    # strict policy, so p=reject; pct=0 holds instead of refusing.
    assert data[0] == 250, data
    recs = audit(workdir, qid)
    assert len(recs) == 1, recs
    x = recs[0]["extra"]
    assert (x["result"], x["policy"], x["disposition"], x["sampled_out"], x["override"]) == \
        ("fail", "reject", "quarantine", True, "sampled_out"), x
    assert held(pf, qid), "not in the hold queue"


def test_pct0_under_quarantine_delivers_untouched(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    qid, ar = accepted(pf, "pct0q.dmarcm.test")
    assert len(ar) == 1 and "dmarc=fail (p=quarantine dis=none)" in ar[0], ar
    assert [r["action"] for r in audit(workdir, qid)] == ["accept"]


def test_pct50_each_message_rejected_or_sampled_out(workdir, start, postfix):
    """The sample is random (arc4random), so which message goes which
    way cannot be known; what can: each one is either refused with 550
    (selected) or held with sampled_out (not selected), never delivered,
    and the audit trail agrees with the replies. The choice itself is
    tested with a fixed sample in tests/unit/test_dmarc_eval.c."""
    _, _, pf = started(workdir, start, postfix)
    rejected, held_qids = 0, []
    for _ in range(12):
        _, data, qid = send(pf, "pct50.dmarcm.test")
        if data[0] == 550:
            assert "pct50.dmarcm.test" in data[1], data
            rejected += 1
        else:
            assert data[0] == 250, data
            held_qids.append(qid)
    recs = records_for(workdir, "pct50.dmarcm.test")
    assert len(recs) == 12, recs
    assert sum(1 for r in recs if not r["extra"]["sampled_out"]) == rejected, recs
    for qid in held_qids:
        x = audit(workdir, qid)[0]["extra"]
        assert x["sampled_out"] and x["disposition"] == "quarantine", x
        assert held(pf, qid), qid
    assert pf.delivered() == []


def test_subdomain_policy_sp_reject_under_p_none(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    # sub.spreject.test has no record: the organizational domain's sp.
    _, data, _ = send(pf, "sub.spreject.test")
    assert data[0] == 550 and "sub.spreject.test" in data[1], data
    recs = records_for(workdir, "sub.spreject.test")
    assert len(recs) == 1 and recs[0]["extra"]["used_sp"], recs
    assert recs[0]["extra"]["record"]["domain"] == "spreject.test", recs
    # The organizational domain itself is under its p=none.
    _, ar = accepted(pf, "spreject.test")
    assert "dmarc=fail (p=none dis=none)" in ar[0], ar


def test_subdomain_policy_sp_none_under_p_reject(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    _, ar = accepted(pf, "sub.spnone.test")
    assert "dmarc=fail (p=none dis=none)" in ar[0] and \
        "header.from=sub.spnone.test" in ar[0], ar
    _, data, _ = send(pf, "spnone.test")
    assert data[0] == 550 and "spnone.test" in data[1], data


def send_bounce(pf, domain):
    """Author at DOMAIN, envelope sender at bounce.DOMAIN (SPF passes)."""
    msg = harness.make_message("alice@" + domain, "bob@example.org", "alignment")
    return pf.send("sender@bounce." + domain, ["bob@example.org"], msg)


def test_spf_alignment_relaxed_passes_strict_fails(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    _, data, qid = send_bounce(pf, "aspfr.test")
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert "dmarc=pass" in ar[0] and "smtp.mailfrom=bounce.aspfr.test" in ar[0], ar
    # The same shape under aspf=s: SPF passes but is not aligned.
    _, data, _ = send_bounce(pf, "aspfs.test")
    assert data[0] == 550 and "aspfs.test" in data[1], data
    x = records_for(workdir, "aspfs.test")[0]["extra"]
    assert x["spf"]["result"] == "pass" and not x["spf"]["aligned"], x


def test_dkim_alignment_relaxed_passes_strict_fails(workdir, start, postfix):
    key, txt = genkey(workdir, "rsa", "rsa")
    zone = os.path.join(workdir, "keys.dnsmasq")
    with open(zone, "w") as f:
        for d in ("adkimr.test", "adkims.test"):
            f.write(txt_line("sel._domainkey.mail." + d, txt))
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    dns = start(harness.DNS(workdir, [os.path.join(zones, "dmarcm.dnsmasq"), zone]))
    d = postern_dmarc(workdir, start, dns)
    pf = postfix(milters=[d.postfix_address])

    def signed(domain):
        msg = harness.make_message("alice@" + domain, "bob@example.org", "signed").encode()
        sig = dkim.sign(msg, b"sel", ("mail." + domain).encode(), dkimpy_key(key, "rsa"),
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject", b"date"])
        return pf.send("sender@" + domain, ["bob@example.org"], (sig + msg).decode())

    _, data, qid = signed("adkimr.test")
    assert data[0] == 250, data
    ar = our_authres(pf, qid)
    assert "dmarc=pass" in ar[0] and "dkim=pass" in ar[0] and "spf=fail" in ar[0], ar
    _, data, _ = signed("adkims.test")
    assert data[0] == 550 and "adkims.test" in data[1], data
    x = records_for(workdir, "adkims.test")[0]["extra"]
    assert [(s["domain"], s["result"], s["aligned"]) for s in x["dkim"]] == \
        [("mail.adkims.test", "pass", False)], x


def test_two_from_fields_refused(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    # Both authors pass on their own; two From fields are still refused
    # by default (RFC 7489 6.6.1), before any evaluation.
    second = "From: <bob@pass.dmarcm.test>"
    _, data, _ = send(pf, "pass.dmarcm.test", extra=[second])
    assert data[0] == 550 and "6.6.1" in data[1], data
    recs = all_records(workdir)
    assert [(r["result"], r["extra"]["authors"]) for r in recs] == \
        [("multi-from", "multiple")], recs
    assert pf.delivered() == []


def test_two_authors_evaluated_keeps_the_strictest(workdir, start, postfix):
    _, d, pf = started(workdir, start, postfix, "on_multi_from = evaluate\n")
    # Two From fields: one author passes, the other (another
    # organization, so SPF for pass.dmarcm.test does not align with it)
    # fails under p=reject.
    _, data, _ = send(pf, "pass.dmarcm.test", extra=["From: <eve@spnone.test>"])
    assert data[0] == 550 and "spnone.test" in data[1], data
    # Two addresses in one field, both passing: delivered.
    _, ar = accepted(pf, "pass.dmarcm.test",
                     author="alice@pass.dmarcm.test>, <bob@pass.dmarcm.test")
    assert "dmarc=pass" in ar[0], ar


def test_dns_down_takes_the_configured_temperror_action(workdir, start, postfix):
    dns, d, pf = started(workdir, start, postfix, "on_temperror = accept\n")
    dns.stop()
    qid, ar = accepted(pf, "pass.dmarcm.test")
    assert len(ar) == 1 and "dmarc=temperror" in ar[0], ar
    assert [r["result"] for r in audit(workdir, qid)] == ["temperror"]


def test_forged_authres_of_ours_removed_foreign_kept(workdir, start, postfix):
    _, _, pf = started(workdir, start, postfix)
    ours = "Authentication-Results: %s; spf=pass smtp.mailfrom=reject.dmarcm.test" % AUTHSERV
    ours_upper = "Authentication-Results: %s; dkim=pass header.d=reject.dmarcm.test" \
        % AUTHSERV.upper()
    foreign = "Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=x.example"
    # A failing sender claiming pass in our name is still refused.
    _, data, _ = send(pf, "reject.dmarcm.test", extra=[ours, ours_upper])
    assert data[0] == 550, data
    _, data, qid = send(pf, "pass.dmarcm.test", extra=[ours, ours_upper, foreign])
    assert data[0] == 250, data
    msg = pf.wait_delivered(qid)
    values = msg.get_all("Authentication-Results") or []
    assert sum(1 for v in values if v.lower().startswith(AUTHSERV + ";")) == 1, values
    assert not any("reject.dmarcm.test" in v for v in values), values
    assert any(v.startswith("mx.other.example;") for v in values), values
