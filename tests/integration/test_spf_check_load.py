"""spf-check-load (bench/spf_check_load.c), the benchmark of postern-spf's
evaluation alone, against the test DNS server: it counts checks that
give the expected result and refuses to measure when they do not."""
import json
import os
import subprocess

import harness


def check_load(dns, *args):
    exe = os.path.join(harness.build_dir(), "bin", "spf-check-load")
    return subprocess.run([exe, "-u", dns.upstream, "--ip", "127.0.0.1",
                           "--helo", "mta.spf.test", *args],
                          capture_output=True, text=True, timeout=60)


def test_counts_passing_helo_and_mailfrom_checks(dns):
    r = check_load(dns, "--from", "alice@pass.spf.test", "-c", "2", "-t", "0.5")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["threads"] == 2 and out["wrong"] == 0, out
    # HELO and MAIL FROM each round: always an even count.
    assert out["checks"] > 0 and out["checks"] % 2 == 0, out
    assert out["checks_per_s"] > 0 and out["cpu_ms_per_check"] > 0, out


def test_refuses_to_measure_when_the_result_is_not_the_expected_one(dns):
    r = check_load(dns, "--from", "bob@fail.spf.test", "-t", "0.5")
    assert r.returncode == 65, (r.returncode, r.stdout, r.stderr)
    assert "did not give pass" in r.stderr
    assert r.stdout == ""
