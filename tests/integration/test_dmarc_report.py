"""Aggregate reports end to end: messages go through a real Postfix and
postern-dmarc (DNS from dnsmasq, tests/data/zones/dmarcr.dnsmasq), the
history they leave is turned into reports by "postern dmarc report",
each report is checked against the RFC 7489 Appendix C schema with
xmllint, and --send mails them to their rua addresses: inside the
policy domain's organization always, outside it only where the
destination publishes <policy-domain>._report._dmarc.<host> (7.1)."""
import glob
import gzip
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import harness
from test_dmarcm_postfix import exe, send, write_conf

RECEIVER = "mx.postern.test"
# Policy domains with messages in the history, and where --send mails
# their reports.
DOMAINS = ["authz.rpt.test", "inside.rpt.test", "mixed.rpt.test", "pct.rpt.test", "rpt.test",
           "unauthz.rpt.test"]
SENT_TO = ["dmarc@rpt.test", "agg@reports.example", "a@mixed.rpt.test", "dmarc@rpt.test",
           "dmarc@rpt.test"]


def sendmail_script(workdir):
    """A sendmail that keeps each call's arguments and input."""
    path = os.path.join(workdir, "sendmail.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\necho \"$@\" >> '%s/args'\ncat >> '%s/mail'\n" % (workdir, workdir))
    os.chmod(path, 0o755)
    return path


def history(workdir, start, postfix):
    """dnsmasq, and a history of one message per policy domain (two for
    inside.rpt.test: a pass and a fail) written by the milter, which is
    stopped so that everything is on disk. Returns (dns, conf)."""
    zones = os.path.join(harness.source_dir(), "tests", "data", "zones")
    dns = start(harness.DNS(workdir, [os.path.join(zones, "dmarcr.dnsmasq")]))
    sock = "unix:%s/dmarc.sock" % harness.milter_run_dir(workdir)
    conf = write_conf(workdir, dns, "[dmarc]\nsocket = %s\nuser = postfix\n"
                      "history_db = %s/dmarc.db\nreport_org_name = Postern Test\n"
                      "report_email = dmarc-reports@%s\nreport_sendmail = %s\n"
                      % (sock, workdir, RECEIVER, sendmail_script(workdir)))
    d = start(harness.Daemon([exe(), "-f", "-c", conf], sock, workdir, "dmarc"))
    pf = postfix(milters=[d.postfix_address])
    for domain in ("inside.rpt.test", "authz.rpt.test", "unauthz.rpt.test", "mixed.rpt.test"):
        _, data, _ = send(pf, domain)
        assert data[0] == 250, (domain, data)
    msg = harness.make_message("alice@inside.rpt.test", "bob@example.org", "fails SPF")
    _, data, _ = pf.send("sender@fail.rpt.test", ["bob@example.org"], msg)
    assert data[0] == 250, data
    _, data, _ = send(pf, "pct.rpt.test")          # held: sampled out
    assert data[0] == 250, data
    _, data, _ = send(pf, "sub.rpt.test")          # refused: sp=reject
    assert data[0] == 550, data
    assert d.stop() == 0
    return dns, conf


def report(workdir, conf, send_too):
    """Runs postern dmarc report over the last hour and the next."""
    out = os.path.join(workdir, "reports")
    os.makedirs(out, exist_ok=True)
    now = int(time.time())
    argv = [os.path.join(harness.build_dir(), "bin", "postern"), "dmarc", "report",
            "-c", conf, "--period", "%d-%d" % (now - 3600, now + 3600), "--out", out,
            "--receiver", RECEIVER] + (["--send"] if send_too else [])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr, out


def sent_to(workdir):
    path = os.path.join(workdir, "args")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split(" -- ")[1].strip() for line in f if " -- " in line]


def test_reports_validate_against_the_rfc7489_schema(workdir, start, postfix):
    _, conf = history(workdir, start, postfix)
    rc, out, err, outdir = report(workdir, conf, send_too=False)
    assert rc == 0, out + err
    files = sorted(glob.glob(os.path.join(outdir, "*.xml.gz")))
    names = [os.path.basename(f).split("!")[:2] for f in files]
    assert names == [[RECEIVER, d] for d in DOMAINS], files
    xsd = os.path.join(harness.source_dir(), "tests", "data", "dmarc",
                       "rfc7489-appendix-c.xsd")
    for f in files:
        r = subprocess.run(["xmllint", "--noout", "--schema", xsd, f],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (f, r.stderr)
    assert sent_to(workdir) == []
    # inside.rpt.test saw one pass (SPF aligned) and one fail.
    with gzip.open([f for f in files if "!inside.rpt.test!" in f][0]) as f:
        root = ET.parse(f).getroot()
    rows = {(r.findtext("row/policy_evaluated/spf"), r.findtext("auth_results/spf/result"),
             r.findtext("auth_results/spf/domain"), r.findtext("row/count"))
            for r in root.iter("record")}
    assert rows == {("pass", "pass", "inside.rpt.test", "1"),
                    ("fail", "fail", "fail.rpt.test", "1")}, rows
    assert root.findtext("report_metadata/org_name") == "Postern Test"
    assert (evaluated(files, "pct.rpt.test") ==
            [("pct.rpt.test", "quarantine", "fail", "fail", "sampled_out")])
    assert evaluated(files, "rpt.test") == [("sub.rpt.test", "reject", "fail", "fail", None)]


def evaluated(files, domain):
    """(header_from, disposition, dkim, spf, override type) of each
    record in DOMAIN's report."""
    with gzip.open([f for f in files if "!%s!" % domain in f][0]) as f:
        root = ET.parse(f).getroot()
    return [(r.findtext("identifiers/header_from"),
             r.findtext("row/policy_evaluated/disposition"),
             r.findtext("row/policy_evaluated/dkim"), r.findtext("row/policy_evaluated/spf"),
             r.findtext("row/policy_evaluated/reason/type")) for r in root.iter("record")]


def test_send_checks_external_destinations_authorization(workdir, start, postfix):
    _, conf = history(workdir, start, postfix)
    rc, out, err, _ = report(workdir, conf, send_too=True)
    assert rc == 0, out + err
    assert sorted(sent_to(workdir)) == sorted(SENT_TO), (out, err)
    assert ("unauthz.rpt.test: not sent to agg@reports.example: external destination "
            "without a \"v=DMARC1\" record at "
            "unauthz.rpt.test._report._dmarc.reports.example") in err, err
    assert "mixed.rpt.test: not sent to b@elsewhere.example" in err, err
    with open(os.path.join(workdir, "mail")) as f:
        mail = f.read()
    assert "To: agg@reports.example\nSubject: Report Domain: authz.rpt.test" in mail, mail
    assert "Report Domain: unauthz.rpt.test" not in mail


def test_send_with_dns_down_skips_external_and_fails(workdir, start, postfix):
    dns, conf = history(workdir, start, postfix)
    dns.stop()
    rc, out, err, _ = report(workdir, conf, send_too=True)
    # Same-organization destinations need no lookup; external ones wait
    # for a run that can check them, and the exit status says so.
    assert rc == 1, out + err
    assert sorted(sent_to(workdir)) == sorted(s for s in SENT_TO if s.endswith("rpt.test")), \
        (out, err)
    assert "authz.rpt.test: not sent to agg@reports.example: external destination, " \
        "DNS lookup of authz.rpt.test._report._dmarc.reports.example failed" in err, err
