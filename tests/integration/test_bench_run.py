"""The benchmark tooling works: bench/run's quick floor run produces its
table and JSON rows with real throughput, and smtp-load pushes mail
through the test bed's Postfix and the test milter. Not a performance
test: nothing here asserts a speed, only that the numbers exist."""
import json
import os
import subprocess

import harness

BENCH = os.path.join(harness.source_dir(), "bench", "run")


def test_bench_run_quick_floor_prints_table_and_json_rows(tmp_path):
    out = tmp_path / "results.json"
    run = subprocess.run([BENCH, "--quick", "--only", "floor", "--no-setup",
                          "--build", harness.build_dir(), "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "postern msg/s" in run.stdout
    assert "openssl speed" in run.stdout
    doc = json.loads(out.read_text())
    assert doc["rows"], "no rows"
    pairs = {r["pair"] for r in doc["rows"]}
    assert pairs == {"noop", "testmilter"}
    for row in doc["rows"]:
        for side in ("postern", "peer"):
            res = row[side]
            assert isinstance(res, dict), "%s: %s" % (side, res)
            assert res["msgs_per_s"] > 0
            assert res["errors"] == 0
            assert res["peak_rss_kb"] > 0
    # the test milter adds its header to every message
    assert all(r["postern"]["modifications"] == r["postern"]["messages"]
               for r in doc["rows"] if r["pair"] == "testmilter")
    assert doc["crypto"]["rsa2048"]["sign_per_s"] > 0
    assert doc["crypto"]["sha256"]["mb_per_s"] > 0


def test_smtp_load_sends_through_postfix_and_testmilter(postfix, testmilter,
                                                        tmp_path):
    milter = testmilter("unix")
    pf = postfix([milter.postfix_address])
    out = tmp_path / "smtp.json"
    run = subprocess.run([os.path.join(harness.build_dir(), "bin", "smtp-load"),
                          "-s", "127.0.0.1:%d" % pf.port, "-c", "4", "-m", "5",
                          "-n", "40", "-p", str(milter.proc.pid),
                          "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "latency MAIL..250" in run.stdout
    res = json.loads(out.read_text())
    assert res["mode"] == "smtp"
    assert res["messages"] == 40
    assert res["finals"] == {"250": 40}
    assert res["msgs_per_s"] > 0
    # 5 messages per session at most; threads share the 40 unevenly
    assert 8 <= res["connections"] <= 40
    # 40 messages may cost the milter less than one clock tick of CPU;
    # what must hold is that its process was found and measured.
    assert res["milter"]["pid"] == milter.proc.pid
    assert res["milter"]["cpu_s"] >= 0
    assert res["milter"]["peak_rss_kb"] > 0
    # the sink got them, with the milter's header
    harness.wait_until(lambda: len(pf.delivered()) == 40, 30,
                       "40 deliveries")
    msg = pf.wait_delivered(pf.delivered()[0][:-4])
    assert "X-Postern-Test" in msg


def test_smtp_load_counts_tempfail_when_the_milter_is_down(postfix, tmp_path):
    # milter_default_action = tempfail: a dead milter means 451, not mail
    pf = postfix(["inet:127.0.0.1:%d" % harness.free_port()])
    out = tmp_path / "smtp.json"
    run = subprocess.run([os.path.join(harness.build_dir(), "bin", "smtp-load"),
                          "-s", "127.0.0.1:%d" % pf.port, "-c", "2", "-m", "2",
                          "-n", "4", "-T", "20000", "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    res = json.loads(out.read_text())
    assert run.returncode == 0, run.stdout + run.stderr
    assert res["messages"] == 4
    assert set(res["finals"]) == {"451"}, res["finals"]
