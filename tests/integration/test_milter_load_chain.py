"""milter-load driving a chain of milters (-s repeated), as Postfix
drives smtpd_milters: each envelope stage goes to every milter in turn,
then the whole content to each in turn, and a later milter sees the
headers an earlier one added. Two small recording milters written here
(an independent implementation of the milter side) log every event
they get; a third case puts libmilter's milter-noop first."""
import json
import os
import socket
import struct
import subprocess
import threading

import pytest

BIN = os.path.join(os.environ.get("POSTERN_BUILD_DIR", "build"), "bin")


class RecordingMilter:
    """A milter on a UNIX socket that asks for every stage, answers
    continue, adds "X-Chain-NAME: seen" and accepts at end of message
    (or rejects MAIL with reject_mail), and appends (name, event, arg)
    to a log shared by the milters of one test."""

    def __init__(self, path, name, log, lock, reject_mail=False):
        self.name, self.log, self.lock = name, log, lock
        self.reject_mail = reject_mail
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(16)
        self.srv.settimeout(0.2)
        self.stopping = False
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.srv.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    def _record(self, event, arg=""):
        with self.lock:
            self.log.append((self.name, event, arg))

    @staticmethod
    def _recv(c, n):
        buf = b""
        while len(buf) < n:
            chunk = c.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    @staticmethod
    def _send(c, cmd, data=b""):
        c.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _serve(self, c):
        c.settimeout(10)
        try:
            while True:
                (n,) = struct.unpack(">I", self._recv(c, 4))
                pkt = self._recv(c, n)
                if not self._handle(c, pkt[:1], pkt[1:]):
                    return
        except (EOFError, OSError):
            return
        finally:
            c.close()

    def _handle(self, c, cmd, data):
        if cmd == b"O":     # version 6, may add headers, every stage
            self._send(c, b"O", struct.pack(">III", 6, 0x01, 0))
        elif cmd in (b"D", b"A"):
            pass            # macros and abort get no reply
        elif cmd == b"Q":
            return False
        elif cmd == b"M":
            self._record("mail")
            self._send(c, b"r" if self.reject_mail else b"c")
        elif cmd == b"L":
            name, value = data.split(b"\0")[:2]
            self._record("header", "%s:%s" % (name.decode(), value.decode()))
            self._send(c, b"c")
        elif cmd == b"E":
            self._record("eom")
            self._send(c, b"h", b"X-Chain-%s\0seen\0" % self.name.encode())
            self._send(c, b"a")
        else:
            self._record({b"C": "connect", b"H": "helo", b"R": "rcpt",
                          b"T": "data", b"N": "eoh", b"B": "body"}
                         .get(cmd, cmd.decode("latin-1")))
            self._send(c, b"c")
        return True

    def stop(self):
        self.stopping = True
        self.acceptor.join(timeout=10)
        self.srv.close()
        for t in self.threads:
            t.join(timeout=10)


@pytest.fixture
def chain(tmp_path):
    log, lock, started = [], threading.Lock(), []

    def _start(name, **kw):
        path = str(tmp_path / (name + ".sock"))
        started.append(RecordingMilter(path, name, log, lock, **kw))
        return "unix:" + path
    yield _start, log
    for m in started:
        m.stop()


def load(specs, n, extra=()):
    argv = [os.path.join(BIN, "milter-load"), "-n", str(n), "-c", "1",
            "-m", "5", "--json", "-", *extra]
    for s in specs:
        argv += ["-s", s]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return run, json.loads(run.stdout[run.stdout.index("{"):])


def test_chain_sends_each_stage_to_every_milter_then_content_in_order(chain):
    start, log = chain
    a, b = start("one"), start("two")
    run, res = load([a, b], 3)
    assert run.returncode == 0, run.stdout + run.stderr
    assert res["messages"] == 3 and res["milters"] == 2
    assert res["finals"]["accept"] == 3
    assert res["modifications"]["addheader"] == 6
    events = [(who, ev) for who, ev, _ in log if ev != "header"]
    one_msg = [("one", "mail"), ("two", "mail"), ("one", "rcpt"),
               ("two", "rcpt"), ("one", "data"), ("two", "data"),
               ("one", "eoh"), ("one", "body"), ("one", "eom"),
               ("two", "eoh"), ("two", "body"), ("two", "eom")]
    greet = [("one", "connect"), ("two", "connect"), ("one", "helo"),
             ("two", "helo")]
    assert events == greet + one_msg * 3, events


def test_later_milter_sees_headers_earlier_ones_added(chain):
    start, log = chain
    a, b = start("one"), start("two")
    run, _ = load([a, b], 2)
    assert run.returncode == 0, run.stdout + run.stderr
    seen = {who: [arg for w, ev, arg in log if w == who and ev == "header"]
            for who in ("one", "two")}
    assert "X-Chain-one:seen" not in seen["one"]
    assert seen["two"].count("X-Chain-one:seen") == 2
    # appended after the message's own fields, once per message
    per_msg = len(seen["one"]) // 2
    assert seen["two"] == (seen["one"][:per_msg] + ["X-Chain-one:seen"]) * 2


def test_reject_by_first_milter_ends_message_before_the_second(chain):
    start, log = chain
    a, b = start("one", reject_mail=True), start("two")
    run, res = load([a, b], 2)
    assert run.returncode == 0, run.stdout + run.stderr
    assert res["finals"]["reject"] == 2
    assert not [e for e in log if e[0] == "two" and e[1] != "connect"
                and e[1] != "helo"], log


def test_libmilter_noop_first_then_recording_milter(chain, tmp_path):
    start, log = chain
    sock = str(tmp_path / "noop.sock")
    noop = subprocess.Popen([os.path.join(BIN, "milter-noop"), "-H", "-p",
                             "unix:" + sock], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):        # up to 10 s for it to listen
            if os.path.exists(sock) or noop.poll() is not None:
                break
            threading.Event().wait(0.05)
        assert noop.poll() is None, "milter-noop exited"
        b = start("two")
        run, res = load(["unix:" + sock, b], 20, ["-p", str(noop.pid)])
    finally:
        noop.kill()
        noop.wait(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    assert res["messages"] == 20 and res["milter"]["processes"] == 1
    assert res["modifications"]["addheader"] == 40
    hdrs = [arg for w, ev, arg in log if w == "two" and ev == "header"]
    assert hdrs.count("X-Milter-Noop:seen") == 20
