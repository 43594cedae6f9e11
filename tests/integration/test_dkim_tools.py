"""postern dkim keygen / check-dns against a real DNS server, and
messages signed by Debian's opendkim milter verified by postern-dkim in
the same Postfix milter chain (opendkim first, so postern sees its
DKIM-Signature)."""
import os
import re
import shutil
import subprocess

import pytest

import harness
from test_dkim_postfix import AUTHSERV, DOMAIN, our_authres, postern_dkim, raw, txt_line


def postern(*args, **kw):
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, **kw)


def record_of(keygen_out):
    """The TXT value from keygen's zone line: its strings joined."""
    line = [l for l in keygen_out.splitlines() if "IN TXT" in l][0]
    return "".join(re.findall(r'"([^"]*)"', line))


def conf_for(workdir, dns):
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\ndns_upstream = %s\ndns_timeout = 1s\naudit_log =\n" % dns.upstream)
    return conf


def test_keygen_writes_a_private_key_and_check_dns_finds_it(workdir, start):
    keys = os.path.join(workdir, "keys")
    os.mkdir(keys)
    out = {}
    for sel, kind in (("r1", "rsa"), ("e1", "ed25519")):
        r = postern("dkim", "keygen", "--domain", DOMAIN, "--selector", sel, "--type", kind,
                    "--dir", keys)
        assert r.returncode == 0, r.stderr
        path = os.path.join(keys, "%s.%s.pem" % (DOMAIN, sel))
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert "%s %s %s" % (DOMAIN, sel, path) in r.stdout
        out[sel] = record_of(r.stdout)
    assert "k=ed25519" in out["e1"] and "k=rsa" in out["r1"]
    again = postern("dkim", "keygen", "--domain", DOMAIN, "--selector", "r1", "--dir", keys)
    assert again.returncode != 0 and "File exists" in again.stderr

    zone = os.path.join(workdir, "keys.dnsmasq")
    with open(zone, "w") as f:
        f.write("local=/%s/\n" % DOMAIN)
        f.write(txt_line("r1._domainkey." + DOMAIN, out["r1"]))
        f.write(txt_line("e1._domainkey." + DOMAIN, out["r1"]))    # the wrong key
    dns = start(harness.DNS(workdir, [zone]))
    conf = conf_for(workdir, dns)
    key = lambda sel: os.path.join(keys, "%s.%s.pem" % (DOMAIN, sel))
    ok = postern("dkim", "check-dns", "-c", conf, "--domain", DOMAIN, "--selector", "r1",
                 "--key", key("r1"))
    assert ok.returncode == 0 and "matches" in ok.stdout, ok.stdout + ok.stderr
    bad = postern("dkim", "check-dns", "-c", conf, "--domain", DOMAIN, "--selector", "e1",
                  "--key", key("e1"))
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout, bad.stdout + bad.stderr
    missing = postern("dkim", "check-dns", "-c", conf, "--domain", DOMAIN, "--selector", "x9",
                      "--key", key("r1"))
    assert missing.returncode == 1 and "no DKIM key record" in missing.stdout
    dns.stop()
    down = postern("dkim", "check-dns", "-c", conf, "--domain", DOMAIN, "--selector", "r1",
                   "--key", key("r1"))
    assert down.returncode == 75 and "DNS lookup failed" in down.stdout


@pytest.mark.skipif(shutil.which("opendkim") is None, reason="opendkim is not installed")
def test_opendkim_signatures_verify_as_pass(workdir, start, postfix):
    run = harness.milter_run_dir(workdir)
    subprocess.run(["opendkim-genkey", "-D", workdir, "-d", DOMAIN, "-s", "od1", "-b", "2048"],
                   check=True)
    keyfile = os.path.join(workdir, "od1.private")
    shutil.chown(keyfile, "postfix", "postfix")
    with open(os.path.join(workdir, "od1.txt")) as f:
        value = "".join(re.findall(r'"([^"]*)"', f.read()))
    zone = os.path.join(workdir, "od.dnsmasq")
    with open(zone, "w") as f:
        f.write("local=/%s/\n" % DOMAIN)
        f.write(txt_line("od1._domainkey." + DOMAIN, value))
    dns = start(harness.DNS(workdir, [zone]))
    sock = os.path.join(run, "opendkim.sock")
    conf = os.path.join(workdir, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("Domain %s\nSelector od1\nKeyFile %s\nSocket local:%s\nUserID postfix\n"
                "Mode s\nCanonicalization relaxed/relaxed\nInternalHosts 127.0.0.1\n"
                "Background no\nSyslog no\nUMask 007\nPidFile %s/opendkim.pid\n"
                "RequireSafeKeys false\n"
                % (DOMAIN, keyfile, sock, workdir))
    od = start(harness.Daemon(["opendkim", "-f", "-x", conf], "unix:" + sock, workdir,
                              "opendkim"))

    class NoKeys:
        table = os.devnull
    # postern verifies: no internal hosts, and no signing keys
    ours = postern_dkim(workdir, start, dns, NoKeys, internal="192.0.2.0/24")
    pf = postfix(milters=[od.postfix_address, ours.postfix_address])
    msg = harness.make_message("alice@" + DOMAIN, "bob@example.org", "from opendkim")
    _, data, qid = pf.send("alice@" + DOMAIN, ["bob@example.org"], msg)
    assert data[0] == 250, data
    out = raw(pf, qid)
    assert b"s=od1" in out, out[:1500]
    ar = our_authres(out)
    assert len(ar) == 1 and "dkim=pass" in ar[0] and "header.s=od1" in ar[0], ar
