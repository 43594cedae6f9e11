"""Deployment files: installed into a staging DESTDIR, the systemd units
pass systemd's own checks and its offline security review, the
tmpfiles.d entry creates the directories the daemons need with the right
owner, and the Postfix snippet names the same sockets as the sample
configuration."""
import configparser
import os
import re
import shutil
import subprocess

import pytest

import harness


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("stage"))
    env = dict(os.environ, DESTDIR=root)
    r = subprocess.run(["cmake", "--install", harness.build_dir()], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return root


def find(stage, name):
    for d, _, files in os.walk(stage):
        if name in files and "tmpfiles.d" not in d:
            return os.path.join(d, name)
    raise AssertionError("%s not installed under %s" % (name, stage))


def instance_unit(stage, tmp_path, name):
    """postern@NAME.service with the staged paths, as systemd would load it."""
    unit = open(find(stage, "postern@.service")).read()
    sbindir = os.path.dirname(find(stage, "postern"))
    conf = find(stage, "postern.conf")
    prefix_sbin = re.search(r"ExecStart=(\S+)/postern-%i", unit).group(1)
    prefix_conf = re.search(r"-c (\S+)/postern\.conf", unit).group(1)
    unit = unit.replace(prefix_sbin, sbindir).replace(prefix_conf, os.path.dirname(conf))
    d = tmp_path / "units"
    d.mkdir(exist_ok=True)
    path = d / ("postern@%s.service" % name)
    path.write_text(unit)
    shutil.copy(find(stage, "postern.target"), d / "postern.target")
    return str(path)


needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed")


@needs_systemd
def test_units_load_cleanly(stage, tmp_path):
    unit = instance_unit(stage, tmp_path, "policyd")
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    # The check can fail: a unit with an unknown key is reported.
    bad = unit.replace(".service", "-bad.service").replace("@policyd", "@bad")
    with open(bad, "w") as f:
        f.write(open(unit).read().replace("[Service]", "[Service]\nNoSuchKey=1"))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", bad],
                       capture_output=True, text=True, timeout=60)
    assert "NoSuchKey" in r.stderr


@needs_systemd
def test_daemon_unit_is_hardened(stage):
    # Looked up by name under the staged tree, as systemd would.
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--root=%s" % stage, "--threshold=100", "postern@policyd.service"],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    # systemd's scale: 0 (locked down) .. 10 (exposed); below 2 is "OK".
    assert float(m.group(1)) < 2.0, r.stdout


def test_unit_runs_the_daemon_that_checks_its_config(stage, tmp_path):
    unit = open(instance_unit(stage, tmp_path, "policyd")).read()
    unit = unit.replace("%i", "policyd")
    pre = re.search(r"ExecStartPre=(.*)", unit).group(1).split()
    r = subprocess.run(pre, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    start = re.search(r"ExecStart=(.*)", unit).group(1).split()
    assert os.access(start[0], os.X_OK) and start[1] == "-f"


@pytest.mark.skipif(shutil.which("systemd-tmpfiles") is None,
                    reason="systemd-tmpfiles is not installed")
def test_tmpfiles_creates_the_directories_for_the_run_user(stage, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("postern:x:987:987::/var/lib/postern:/usr/sbin/nologin\n")
    (root / "etc" / "group").write_text("postern:x:987:\n")
    entry = os.path.join(os.path.dirname(find(stage, "postern.target")), "..", "..",
                         "tmpfiles.d", "postern.conf")
    r = subprocess.run(["systemd-tmpfiles", "--create", "--root=%s" % root, entry],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    for d in ("run/postern", "var/spool/postfix/postern", "var/log/postern", "var/lib/postern"):
        st = os.stat(root / d)
        assert st.st_uid == 987 and (st.st_mode & 0o777) == 0o750, d


def test_postfix_snippet_matches_the_sample_config():
    src = harness.source_dir()
    snippet = open(os.path.join(src, "conf", "postfix", "main.cf")).read()
    named = set(re.findall(r"unix:postern/(\w+)\.sock", snippet))
    cfg = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    cfg.read(os.path.join(src, "conf", "postern.conf"))
    for section in cfg.sections():
        sock = cfg.get(section, "socket", fallback=None)
        if sock is None or not sock.startswith("unix:"):
            continue
        assert sock == "unix:/var/spool/postfix/postern/%s.sock" % section, sock
        assert section in named, (section, named)
    policy = re.findall(r"check_policy_service \{ inet:127\.0\.0\.1:(\d+)", snippet)
    listen = cfg.get("policyd", "listen")
    assert policy and all("inet:%s@127.0.0.1" % p == listen for p in policy), (policy, listen)
