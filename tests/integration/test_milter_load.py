"""milter-load against milter-noop on a UNIX socket: the generator must
count every message, every reply and every modification, with no errors.
Both programs come from the build ($POSTERN_BUILD_DIR/bin)."""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

BIN = os.path.join(os.environ.get("POSTERN_BUILD_DIR", "build"), "bin")


def wait_for_socket(path, proc, timeout=10.0):
    """Polls until the milter accepts a connection (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("milter-noop exited with %s" % proc.returncode)
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("milter-noop did not listen on " + path)


@pytest.fixture
def noop_milter(tmp_path):
    """A milter-noop adding one header, on tmp_path/noop.sock; killed at
    teardown whatever the test did."""
    sock = str(tmp_path / "noop.sock")
    proc = subprocess.Popen([os.path.join(BIN, "milter-noop"), "-H",
                             "-p", "unix:" + sock],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_socket(sock, proc)
        yield sock, proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_milter_load_tallies_200_accepts_and_headers_without_errors(
        noop_milter, tmp_path):
    sock, pid = noop_milter
    out = tmp_path / "result.json"
    run = subprocess.run([os.path.join(BIN, "milter-load"),
                          "-s", "unix:" + sock, "-n", "200", "-c", "4",
                          "-p", str(pid), "--show-mods", "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    res = json.loads(out.read_text())
    assert res["messages"] == 200
    assert res["finals"]["accept"] == 200
    assert res["modifications"]["addheader"] == 200
    assert res["errors"] == {"connect": 0, "protocol": 0, "timeout": 0,
                             "io": 0}
    assert res["msgs_per_s"] > 0
    assert res["latency"]["count"] == 200
    assert res["milter"]["peak_rss_kb"] > 0
    assert "addheader X-Milter-Noop: seen" in res["first_message_mods"]
    assert "throughput" in run.stdout


def test_milter_load_counts_connect_errors_when_no_milter_listens(tmp_path):
    run = subprocess.run([os.path.join(BIN, "milter-load"),
                          "-s", "unix:" + str(tmp_path / "absent.sock"),
                          "-n", "3", "-c", "1", "--json", "-"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    res = json.loads(run.stdout[run.stdout.index("{"):])
    assert res["errors"]["connect"] == 3
    assert res["messages"] == 0


class FakeMilter:
    """Answers every connection on a UNIX socket with fixed bytes after
    the first read (or with nothing), to play a broken milter."""

    def __init__(self, path, reply):
        self.reply = reply
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(16)
        self.srv.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conns = []
        while not self.stopping:
            try:
                c, _ = self.srv.accept()
            except OSError:
                continue
            conns.append(c)
            c.settimeout(5)
            try:
                c.recv(65536)
                if self.reply:
                    c.sendall(self.reply)
            except OSError:
                pass
        for c in conns:
            c.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=10)
        self.srv.close()


@pytest.fixture
def fake_milter(tmp_path):
    started = []

    def _start(reply):
        path = str(tmp_path / "fake.sock")
        started.append(FakeMilter(path, reply))
        return path
    yield _start
    for f in started:
        f.stop()


@pytest.mark.parametrize("reply,kind", [
    (b"\xff\xff\xff\xffO", "protocol"),             # absurd length
    (b"\x00\x00\x00\x00", "protocol"),              # zero length
    (b"\x00\x00\x00\x02Z!", "protocol"),            # short OPTNEG
    (b"", "timeout"),                               # never answers
])
def test_milter_load_counts_broken_milter_replies_as_errors(
        fake_milter, reply, kind):
    sock = fake_milter(reply)
    run = subprocess.run([os.path.join(BIN, "milter-load"),
                          "-s", "unix:" + sock, "-n", "3", "-c", "1",
                          "-T", "300", "--json", "-"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    res = json.loads(run.stdout[run.stdout.index("{"):])
    assert res["errors"][kind] == 3
    assert res["messages"] == 0
