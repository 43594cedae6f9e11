"""postern dmarc lookup against a real DNS server (dnsmasq with
tests/data/zones/dmarc.dnsmasq): policy discovery through common/dns,
the organizational-domain fallback with the real Public Suffix List,
several records, records the library would misread, and a DNS server
that does not answer (temperror)."""
import os
import subprocess

import pytest

import harness

TEMPFAIL = 75


def lookup(workdir, upstream, domain):
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\ndns_upstream = %s\ndns_timeout = 1s\n" % upstream)
    postern = os.path.join(harness.build_dir(), "bin", "postern")
    r = subprocess.run([postern, "dmarc", "lookup", "-c", conf, domain],
                       capture_output=True, text=True, timeout=30)
    fields = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(": ")
        fields[key] = value
    return r.returncode, fields, r.stdout + r.stderr


def test_dmarc_record_found_at_the_author_domain(workdir, dns):
    rc, f, out = lookup(workdir, dns.upstream, "reject.dmarc.test")
    assert rc == 0, out
    assert f["record"].startswith("found"), out
    assert (f["policy domain"], f["p"], f["adkim"], f["aspf"], f["fo"]) == \
        ("reject.dmarc.test", "reject", "s", "s", "1"), out


def test_dmarc_subdomain_falls_back_to_the_organizational_domain(workdir, dns):
    rc, f, out = lookup(workdir, dns.upstream, "a.b.nopolicy.dmarc.test")
    assert rc == 0, out
    assert f["organizational domain"] == "dmarc.test", out
    assert (f["policy domain"], f["p"], f["sp"]) == ("dmarc.test", "quarantine", "reject"), out
    assert f["rua"] == "mailto:agg@dmarc.test", out


# (name, domain, exit code, field, what the field starts with)
CASES = [
    ("no_record_is_none", "mail.nodmarc.test", 1, "record", "none"),
    ("two_records_is_none", "multi.dmarc.test", 1, "record", "multiple"),
    ("version_is_case_sensitive", "lower.dmarc.test", 0, "policy domain", "dmarc.test"),
    ("policy_word_is_not_a_prefix", "prefix.dmarc.test", 1, "parse", "permerror"),
    ("rua_without_p_reads_as_none", "ruaonly.dmarc.test", 0, "note", "no valid p="),
    ("record_in_two_strings", "split.dmarc.test", 0, "p", "reject"),
]


@pytest.mark.parametrize("name,domain,code,field,prefix", CASES, ids=[c[0] for c in CASES])
def test_dmarc_discovery(workdir, dns, name, domain, code, field, prefix):
    rc, f, out = lookup(workdir, dns.upstream, domain)
    assert rc == code and f.get(field, "").startswith(prefix), (name, out)


def test_dmarc_dns_down_is_temperror(workdir):
    port = harness.free_port()          # nothing listens there
    rc, f, out = lookup(workdir, "127.0.0.1@%d" % port, "reject.dmarc.test")
    assert rc == TEMPFAIL and f["record"].startswith("temperror"), out
