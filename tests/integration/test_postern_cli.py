"""The postern admin command: check, run with nothing enabled, usage errors.

These run the built binary against the shipped sample config and against
broken files, asserting exit codes (0, 64, 78) and the file:line messages
an admin sees.
"""
import os
import subprocess

import pytest

BUILD = os.environ.get("POSTERN_BUILD_DIR", "")
SOURCE = os.environ.get("POSTERN_SOURCE_DIR", "")


def postern(*args, env=None, timeout=20):
    exe = os.path.join(BUILD, "bin", "postern")
    if not os.access(exe, os.X_OK):
        pytest.fail("postern binary not found at %s (set POSTERN_BUILD_DIR)" % exe)
    run_env = dict(os.environ)
    run_env.pop("POSTERN_CONF", None)
    run_env.update(env or {})
    return subprocess.run([exe, *args], capture_output=True, text=True,
                          timeout=timeout, env=run_env)


def sample_conf():
    return os.path.join(SOURCE, "conf", "postern.conf")


def test_check_accepts_the_sample_config():
    r = postern("check", "-c", sample_conf())
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout


def test_check_takes_the_file_from_postern_conf_env():
    r = postern("check", env={"POSTERN_CONF": sample_conf()})
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("text,line,what", [
    ("[global]\nlog_level = chatty\n", 2, "[global] log_level"),
    ("[global]\n\nno_such_key = 1\n", 3, "[global] no_such_key"),
    ("[nosuchcomponent]\nenable = yes\n", 1, "nosuchcomponent"),
    ("[global]\ndns_timeout = 5 fortnights\n", 2, "[global] dns_timeout"),
])
def test_check_names_file_line_and_key_and_exits_78(tmp_path, text, line, what):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r = postern("check", "-c", str(conf))
    assert r.returncode == 78
    assert "%s:%d:" % (conf, line) in r.stderr
    assert what in r.stderr


def test_check_missing_file_is_a_config_error(tmp_path):
    r = postern("check", "-c", str(tmp_path / "absent.conf"))
    assert r.returncode == 78
    assert "absent.conf" in r.stderr


def test_check_keys_prints_the_reference_of_global_keys():
    r = postern("check", "-k")
    assert r.returncode == 0
    for key in ("log_level", "audit_log", "authserv_id", "dns_upstream"):
        assert key in r.stdout


def test_run_with_nothing_enabled_says_so_and_exits_0(tmp_path):
    conf = tmp_path / "empty.conf"
    conf.write_text("[global]\nlog_level = info\n")
    r = postern("run", "-c", str(conf))
    assert r.returncode == 0, r.stderr
    assert "no component is enabled" in r.stdout


def test_run_n_prints_the_postfix_lines_for_the_sample_config():
    r = postern("run", "-n", "-c", sample_conf())
    assert r.returncode == 0, r.stderr
    assert "check_policy_service { inet:127.0.0.1:10040" in r.stdout
    assert "smtpd_end_of_data_restrictions" in r.stdout


def test_policy_daemon_checks_its_own_config():
    exe = os.path.join(BUILD, "bin", "postern-policyd")
    r = subprocess.run([exe, "-n", "-c", sample_conf()], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 limits" in r.stdout


def test_run_with_a_bad_config_exits_78_without_starting(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[global]\nuser = \nbogus\n")
    r = postern("run", "-c", str(conf))
    assert r.returncode == 78
    assert str(conf) in r.stderr


@pytest.mark.parametrize("args", [("run", "-x"), ("check", "extra"),
                                  ("nosuchcommand",), ()])
def test_usage_errors_exit_64(args):
    r = postern(*args)
    assert r.returncode == 64
    assert "usage" in r.stderr


def write_chain(path, n, prev="0" * 64):
    """An audit log built independently of the C code, from the format in
    docs/audit-log.md: each line's prev is the SHA-256 of the line before
    (PREV for the first: zeros, or the last hash of the file before)."""
    import hashlib
    import json
    lines = []
    for i in range(n):
        rec = {"ts": "2026-11-25T06:00:00.%06dZ" % i, "host": "mx", "component": "test",
               "pid": 1, "qid": "Q%d" % i, "conn": None, "client_ip": "192.0.2.1",
               "helo": "h", "from": "a@example.org", "rcpt": ["b@example.org"],
               "step": "eom", "result": "pass", "reason": None, "action": "accept",
               "ms": 0.5, "prev": prev}
        line = json.dumps(rec, separators=(",", ":"))
        prev = hashlib.sha256(line.encode()).hexdigest()
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return lines


def test_audit_verify_accepts_an_intact_chain(tmp_path):
    log = tmp_path / "audit.jsonl"
    write_chain(log, 20)
    r = postern("audit", "verify", str(log))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "20 records, chain intact" in r.stdout


def test_audit_verify_names_the_line_after_an_edit(tmp_path):
    log = tmp_path / "audit.jsonl"
    lines = write_chain(log, 20)
    lines[6] = lines[6].replace('"pass"', '"fail"')
    log.write_text("\n".join(lines) + "\n")
    r = postern("audit", "verify", str(log))
    assert r.returncode == 1
    assert "%s:8:" % log in r.stdout
    assert "line 7" in r.stdout


def last_hash(lines):
    import hashlib
    return hashlib.sha256(lines[-1].encode()).hexdigest()


def test_audit_verify_follows_the_chain_across_rotated_files(tmp_path):
    old, new = tmp_path / "audit.jsonl.1", tmp_path / "audit.jsonl"
    lines = write_chain(old, 5)
    write_chain(new, 3, prev=last_hash(lines))
    r = postern("audit", "verify", str(old), str(new))
    assert r.returncode == 0, r.stdout
    assert "3 records, chain intact, continues %s" % old in r.stdout
    r = postern("audit", "verify", str(new))
    assert r.returncode == 0 and "continues an earlier file" in r.stdout
    # The old file lost its last record: the link no longer holds.
    old.write_text("\n".join(lines[:-1]) + "\n")
    r = postern("audit", "verify", str(old), str(new))
    assert r.returncode == 1
    assert "%s:1: does not continue %s" % (new, old) in r.stdout
    # A file that starts its own chain is not a broken link.
    write_chain(new, 2)
    r = postern("audit", "verify", str(old), str(new))
    assert r.returncode == 0 and "starts a new chain" in r.stdout


def test_audit_verify_usage_and_missing_file(tmp_path):
    assert postern("audit").returncode == 64
    assert postern("audit", "check", "x").returncode == 64
    r = postern("audit", "verify", str(tmp_path / "absent.jsonl"))
    assert r.returncode == 66
    assert "absent.jsonl" in r.stderr
