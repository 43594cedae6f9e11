"""Integration test bed: real Postfix, dnsmasq, redis-server and milters on
loopback, each a context manager that cleans up even when a test fails.

Nothing here touches the machine's own mail or DNS set-up: Postfix runs
from a private config directory (postfix -c DIR) with its own queue, and
every server listens on 127.0.0.1 on a free port.
"""
import email
import os
import random
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import tempfile
import time

STARTED_PIDS = set()    # every process we started, checked at session end


# ---------------------------------------------------------------- sanitizers
# In the AddressSanitizer + UBSan build (scripts/test.sh) a report must fail
# the test during which it was written, whichever process wrote it: a
# daemon in the foreground, one "postern run" started (its stderr is
# /dev/null once it detaches), or a command. So every process started from
# here writes its reports into one directory (log_path; files REPORT.PID),
# which conftest.py checks after each test, and Daemon.stop() also looks
# for a report in the daemon's own log, for a process started with an
# environment of its own. Outside a sanitizer build nothing is written.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
SANITIZER_DIR = tempfile.mkdtemp(prefix="postern-sanitizer-")
os.chmod(SANITIZER_DIR, 0o1777)     # daemons drop to postfix or nobody
for _var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    # Both: with -fsanitize=address,undefined either may be the one read.
    _opts = os.environ.get(_var, "")
    os.environ[_var] = (_opts + ":" if _opts else "") + "log_path=" + \
        os.path.join(SANITIZER_DIR, "report")


def sanitizer_reports(seen=()):
    """{file name: text} of the sanitizer reports written so far, except
    the names in SEEN."""
    out = {}
    for name in sorted(os.listdir(SANITIZER_DIR)):
        if name not in seen:
            with open(os.path.join(SANITIZER_DIR, name), errors="replace") as f:
                out[name] = f.read()
    return out


def sanitizer_report_in(text):
    """The sanitizer report in TEXT (from its first line, at most 4000
    characters), or None."""
    at = [i for i in (text.find(m) for m in SANITIZER_MARKS) if i >= 0]
    if not at:
        return None
    start = text.rfind("\n", 0, min(at)) + 1
    return text[start:start + 4000]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))


def tcp_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def unix_accepts(path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(0.5)
            s.connect(path)
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); look at its state.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after TIMEOUT seconds; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    STARTED_PIDS.discard(proc.pid)
    return proc.returncode


class TmpDir:
    """A per-test directory, removed at the end unless POSTERN_KEEP_TMP=1."""

    def __init__(self, prefix="postern-it-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def cleanup(self):
        if os.environ.get("POSTERN_KEEP_TMP") == "1":
            print("kept test directory %s" % self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)


class Server:
    """A server process we started: a context manager that stops it."""
    proc = None

    def stop(self):
        if self.proc:
            stop_process(self.proc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()



# ---------------------------------------------------------------- Postfix

MASTER_CF = """\
{port}  inet  n  -  n  -  -  smtpd
pickup    unix  n  -  n  60  1  pickup
cleanup   unix  n  -  n  -   0  cleanup
qmgr      unix  n  -  n  300 1  qmgr
rewrite   unix  -  -  n  -   -  trivial-rewrite
bounce    unix  -  -  n  -   0  bounce
defer     unix  -  -  n  -   0  bounce
trace     unix  -  -  n  -   0  bounce
verify    unix  -  -  n  -   1  verify
flush     unix  n  -  n  1000? 0 flush
proxymap  unix  -  -  n  -   -  proxymap
smtp      unix  -  -  n  -   -  smtp
relay     unix  -  -  n  -   -  smtp
showq     unix  n  -  n  -   -  showq
error     unix  -  -  n  -   -  error
retry     unix  -  -  n  -   -  error
discard   unix  -  -  n  -   -  discard
local     unix  -  n  n  -   -  local
anvil     unix  -  -  n  -   1  anvil
scache    unix  -  -  n  -   1  scache
postlog   unix-dgram n  -  n  -   1  postlogd
sink      unix  -  n  n  -   -  pipe
  flags=q user=nobody argv={sink} {outdir} ${{queue_id}}
"""

SINK_SH = """\
#!/bin/sh
# Stores one delivered message as OUTDIR/QUEUEID.eml (written by the pipe
# transport as user nobody); the rename makes it appear complete.
out="$1/$2.eml"
cat > "$out.tmp" && mv "$out.tmp" "$out"
"""


class Sasl:
    """SMTP AUTH for a private Postfix: Cyrus SASL with its own smtpd.conf
    in CONFDIR and a sasldb file DB (made with saslpasswd2 -f) holding
    USERS ({name: password}) in REALM. Mechanisms PLAIN and LOGIN, allowed
    without TLS: the client is on loopback and the passwords are the
    test's own. Nothing is read from or written to /etc/sasl2 or
    /etc/sasldb2."""

    REALM = "postern.test"
    MECHS = "PLAIN LOGIN"

    def __init__(self, confdir, db, users):
        self.dir = confdir
        self.db = db
        self.users = dict(users)

    def write(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(os.path.dirname(self.db), exist_ok=True)
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "sasldb_path: %s\nmech_list: %s\n" % (self.db, self.MECHS))
        for name, password in self.users.items():
            subprocess.run(["saslpasswd2", "-f", self.db, "-p", "-c", "-u", self.REALM,
                            name], input=password.encode(), check=True,
                           capture_output=True, timeout=30)
        # smtpd runs as postfix and reads the file itself (auxprop).
        shutil.chown(self.db, "postfix", "postfix")
        os.chmod(self.db, 0o600)

    def main_cf(self):
        return {
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
            "smtpd_sasl_path": "smtpd",
            "cyrus_sasl_config_path": self.dir,
            "smtpd_sasl_local_domain": self.REALM,
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_tls_auth_only": "no",
        }


class Postfix(Server):
    """A private Postfix 3.7 instance: smtpd on 127.0.0.1:PORT, every
    message delivered to a sink directory as QUEUEID.eml. With
    SASL_USERS ({name: password}) smtpd offers AUTH (see Sasl) and
    send(..., auth=(name, password)) logs in before MAIL FROM. With
    DAEMON_NAME a second smtpd listens on 127.0.0.1:submission_port and
    tells milters {daemon_name} = DAEMON_NAME, as admins set up a
    submission port (-o milter_macro_daemon_name=ORIGINATING); reach it
    with send(..., port=pf.submission_port)."""

    def __init__(self, workdir, milters=(), extra_main_cf=None, port=None,
                 sasl_users=None, daemon_name=None):
        self.dir = os.path.join(workdir, "postfix")
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.outdir = os.path.join(self.dir, "delivered")
        self.maillog_path = os.path.join(self.dir, "log", "maillog")
        self.port = port or free_port()
        self.daemon_name = daemon_name
        self.submission_port = free_port() if daemon_name else None
        self.milters = list(milters)
        self.extra = dict(extra_main_cf or {})
        # Debian's smtpd reads CONFIG_DIR/sasl/smtpd.conf whatever
        # cyrus_sasl_config_path says, so the file goes there; the user
        # database (owned by postfix) stays out of the config directory,
        # where "postfix start" wants every file owned by root.
        self.sasl = Sasl(os.path.join(self.conf, "sasl"),
                         os.path.join(self.dir, "sasldb", "sasldb2"),
                         sasl_users) if sasl_users else None
        self.running = False

    def main_cf(self):
        cf = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.postern.test",
            "mydomain": "postern.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "default_transport": "sink",
            "local_transport": "sink",
            "relay_transport": "sink",
            "sink_destination_recipient_limit": "1",
            "maillog_file": self.maillog_path,
            "maillog_file_prefixes": os.path.dirname(self.maillog_path),
            "smtputf8_enable": "no",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "disable_dns_lookups": "yes",
            "smtp_dns_support_level": "disabled",
            "alias_maps": "",
            "alias_database": "",
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "in_flow_delay": "0",
            "smtpd_milters": ", ".join(self.milters),
            "non_smtpd_milters": "",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
        }
        if self.sasl:
            cf.update(self.sasl.main_cf())
        cf.update(self.extra)
        return "".join("%s = %s\n" % kv for kv in cf.items())

    def _write_config(self, sink):
        os.makedirs(self.conf)
        for d in (self.queue, self.outdir, os.path.dirname(self.maillog_path)):
            os.makedirs(d, exist_ok=True)
        os.makedirs(self.data, mode=0o700)
        shutil.chown(self.data, "postfix", "postfix")
        # The sink runs as nobody and must be able to write its output.
        os.chmod(self.outdir, 0o777)
        if self.sasl:
            self.sasl.write()
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port="127.0.0.1:%d" % self.port, sink=sink,
                                     outdir=self.outdir))
            if self.submission_port:
                # Postfix's default daemon name is $myhostname, so only
                # this listener's mail carries DAEMON_NAME.
                f.write("127.0.0.1:%d  inet  n  -  n  -  -  smtpd\n"
                        "  -o milter_macro_daemon_name=%s\n"
                        % (self.submission_port, self.daemon_name))

    def start(self):
        sink = os.path.join(self.dir, "sink.sh")
        self._write_config(sink)
        with open(sink, "w") as f:
            f.write(SINK_SH)
        os.chmod(sink, 0o755)
        os.chmod(self.dir, 0o755)
        r = subprocess.run(["postfix", "-c", self.conf, "start"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: %s%s\n%s" %
                               (r.stdout, r.stderr, self.maillog()))
        self.running = True
        pid = self.master_pid()
        if pid:
            STARTED_PIDS.add(pid)
        for port in filter(None, (self.port, self.submission_port)):
            try:
                wait_until(lambda: self._banner(port), 20, "Postfix smtpd on port %d" % port)
            except TimeoutError:
                raise RuntimeError("Postfix did not answer:\n" + self.maillog())
        return self

    @staticmethod
    def _banner(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                return s.recv(100).startswith(b"220 ")
        except OSError:
            return False

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.running:
            return
        pid = self.master_pid()
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True,
                       timeout=60)
        if pid:
            try:
                wait_until(lambda: not pid_alive(pid), 15, "Postfix master to exit")
            except TimeoutError:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            STARTED_PIDS.discard(pid)
        # Children of this instance that outlived master (bounded wait).
        self._kill_leftovers()
        self.running = False

    def _kill_leftovers(self):
        for _ in range(50):
            pids = [p for p in self._instance_pids() if pid_alive(p)]
            if not pids:
                return
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    def _instance_pids(self):
        """Processes started with our config directory on their command line."""
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read()
            except OSError:
                continue
            if self.conf.encode() in cmd or (b"MAIL_CONFIG=" + self.conf.encode()) in env:
                found.append(int(d))
        return found

    def maillog(self):
        try:
            with open(self.maillog_path, errors="replace") as f:
                return f.read()
        except OSError:
            return "(no maillog)"

    # --- sending and receiving

    def smtp(self, helo="client.example.net", auth=None, mech="PLAIN", port=None):
        """A connection after EHLO to PORT (default: the first smtpd);
        with AUTH (name, password), logged in with MECH (smtplib raises
        SMTPAuthenticationError on 535)."""
        s = smtplib.SMTP("127.0.0.1", port or self.port, timeout=60)
        try:
            s.ehlo(helo)
            if auth:
                s.user, s.password = auth
                s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
        except BaseException:
            s.close()
            raise
        return s

    def send(self, mail_from, rcpts, data, helo="client.example.net", conn=None,
             auth=None, port=None):
        """One transaction; returns (rcpt_replies, data_reply, queue_id).
        rcpt_replies maps each recipient to (code, text); data_reply is
        (code, text) or None when no recipient was accepted. AUTH and
        PORT: see smtp()."""
        s = conn or self.smtp(helo, auth, port=port)
        try:
            return self._transaction(s, mail_from, rcpts, data)
        finally:
            if conn is None:
                try:
                    s.quit()
                except smtplib.SMTPException:
                    s.close()

    @staticmethod
    def _transaction(s, mail_from, rcpts, data):
        code, text = s.mail(mail_from)
        if code != 250:
            s.rset()
            return {}, (code, text.decode()), None
        replies = {}
        for r in rcpts:
            code, text = s.rcpt(r)
            replies[r] = (code, text.decode())
        if not any(c == 250 for c, _ in replies.values()):
            s.rset()
            return replies, None, None
        if isinstance(data, str):
            data = data.encode()
        code, text = s.data(data)
        text = text.decode()
        qid = text.rsplit("queued as ", 1)[1].strip() if "queued as" in text else None
        return replies, (code, text), qid

    def delivered_path(self, qid):
        return os.path.join(self.outdir, qid + ".eml")

    def wait_delivered(self, qid, timeout=20):
        path = self.delivered_path(qid)
        try:
            wait_until(lambda: os.path.exists(path), timeout, "delivery of %s" % qid)
        except TimeoutError:
            raise AssertionError("%s not delivered; maillog:\n%s" % (qid, self.maillog()))
        with open(path, "rb") as f:
            return email.message_from_bytes(f.read())

    def delivered(self):
        return sorted(f for f in os.listdir(self.outdir) if f.endswith(".eml"))


def make_message(mail_from, to, subject="test", size=0, extra_headers=()):
    """An RFC 5322 message, padded with text lines to about SIZE bytes."""
    head = ["From: <%s>" % mail_from, "To: <%s>" % to, "Subject: %s" % subject,
            "Message-ID: <%d.%d@client.example.net>" % (time.time_ns(), random.getrandbits(32)),
            "Date: Wed, 25 Nov 2026 06:00:00 +0000"]
    head.extend(extra_headers)
    body = ["Hello from the postern test bed."]
    line = "The quick brown fox jumps over the lazy dog, " * 1 + "0123456789abcdef"
    while sum(len(x) + 2 for x in head + body) < size:
        body.append(line)
    return "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(body) + "\r\n"


# ---------------------------------------------------------------- DNS

def dns_query(port, name, qtype, timeout=2.0, host="127.0.0.1"):
    """A minimal DNS client: returns (rcode, [rdata bytes...]) for the
    answer section of NAME/QTYPE asked of HOST:PORT over UDP."""
    qid = random.getrandbits(16)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (host, port))
        resp, _ = s.recvfrom(4096)
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", resp[:12])
    if rid != qid:
        raise ValueError("DNS id mismatch")
    pos = 12
    for _ in range(qd):
        pos = _skip_name(resp, pos) + 4
    answers = []
    for _ in range(an):
        pos = _skip_name(resp, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", resp[pos:pos + 10])
        pos += 10
        if rtype == qtype:
            answers.append(resp[pos:pos + rdlen])
        pos += rdlen
    return flags & 0xF, answers


def _skip_name(buf, pos):
    while True:
        n = buf[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1


def txt_strings(rdata):
    out, pos = [], 0
    while pos < len(rdata):
        n = rdata[pos]
        out.append(rdata[pos + 1:pos + 1 + n].decode())
        pos += n + 1
    return out


class DNS(Server):
    """dnsmasq as an authoritative-only server for the test zones
    (dnsmasq config fragments with txt-record=, address=, mx-host=...)."""

    def __init__(self, workdir, zone_files, address="127.0.0.1", port=None):
        """ADDRESS and PORT: for a client that can only be given a
        server address and asks port 53 (a loopback address of its own)."""
        self.workdir = workdir
        self.zone_files = list(zone_files)
        self.address = address
        self.port = port or free_port()
        self.proc = None
        self.log = os.path.join(workdir, "dnsmasq.log")

    @property
    def upstream(self):
        return "%s@%d" % (self.address, self.port)

    def start(self):
        args = ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv",
                "--no-hosts", "--no-poll", "--port=%d" % self.port,
                "--listen-address=" + self.address, "--bind-interfaces",
                "--conf-file=/dev/null", "--user=root", "--group=root",
                "--pid-file=", "--log-facility=" + self.log]
        args += ["--conf-file=%s" % z for z in self.zone_files]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".err", "w"))
        STARTED_PIDS.add(self.proc.pid)
        wait_until(self._answers, 10, "dnsmasq on port %d" % self.port)
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            with open(self.log + ".err") as f:
                raise RuntimeError("dnsmasq exited: " + f.read())
        try:
            dns_query(self.port, "probe.invalid", 1, timeout=0.3, host=self.address)
            return True
        except OSError:
            return False

    def query(self, name, qtype):
        return dns_query(self.port, name, qtype, host=self.address)



# ---------------------------------------------------------------- Redis

class Redis(Server):
    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", self.workdir, "--logfile", os.path.join(self.workdir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        STARTED_PIDS.add(self.proc.pid)
        wait_until(lambda: self.command("PING") == b"+PONG", 10, "redis-server")
        return self

    def command(self, *args):
        """One RESP command; returns the raw first reply line."""
        req = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            req += b"$%d\r\n%s\r\n" % (len(a), a)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(req)
                return s.recv(4096).split(b"\r\n")[0]
        except OSError:
            return None



# ---------------------------------------------------------------- our daemons

class Daemon(Server):
    """A daemon of ours in the foreground (a milter, the policy daemon),
    waited for until its socket accepts connections; stop() sends SIGTERM
    and returns the exit code."""

    def __init__(self, argv, spec, workdir, name="daemon"):
        self.argv = list(argv)
        self.spec = spec
        self.log = os.path.join(workdir, name + ".log")
        self.proc = None
        self.returncode = None

    @property
    def postfix_address(self):
        kind, rest = self.spec.split(":", 1)
        if kind == "unix":
            return self.spec
        port, host = rest.split("@")
        return "inet:%s:%s" % (host, port)

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("milter exited with %s:\n%s" % (self.proc.returncode,
                                                               self.log_text()))
        kind, rest = self.spec.split(":", 1)
        if kind == "unix":
            return unix_accepts(rest)
        port, host = rest.split("@")
        return tcp_accepts(int(port), host)

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"))
        STARTED_PIDS.add(self.proc.pid)
        wait_until(self._ready, 10, "milter socket %s" % self.spec)
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc is not None and self.returncode is None:
            self.returncode = stop_process(self.proc, timeout)
            report = sanitizer_report_in(self.log_text())
            if report is not None:
                raise AssertionError("%s wrote a sanitizer report:\n%s"
                                     % (os.path.basename(self.argv[0]), report))
        return self.returncode

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


Milter = Daemon


def scrape(port):
    """The Prometheus text a daemon serves on 127.0.0.1:PORT."""
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def metric(text, name, **labels):
    """The value of NAME{LABELS} (labels in the order registered) in TEXT."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    series = "%s{%s} " % (name, want) if want else name + " "
    for line in text.splitlines():
        if line.startswith(series):
            return float(line.split()[-1])
    raise AssertionError("%s not in metrics:\n%s" % (series, text))


def build_dir():
    d = os.environ.get("POSTERN_BUILD_DIR")
    if not d or not os.path.isdir(d):
        raise RuntimeError("POSTERN_BUILD_DIR is not set to a build directory "
                           "(run the tests through ctest or scripts/test.sh)")
    return d


def source_dir():
    return os.environ.get("POSTERN_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def testmilter_path():
    p = os.path.join(build_dir(), "tests", "milter", "postern-testmilter")
    if not os.access(p, os.X_OK):
        raise RuntimeError("%s is missing: build the tests first" % p)
    return p


def milter_run_dir(workdir, user="postfix"):
    """A socket directory the milter's user owns, as /run/postern would be:
    Postfix's smtpd (user postfix) must reach the socket, and the milter
    must be able to remove it after dropping privileges."""
    d = os.path.join(workdir, "run")
    os.makedirs(d, exist_ok=True)
    shutil.chown(d, user, user)
    return d


def testmilter(workdir, kind="unix", extra_args=(), name="testmilter"):
    args = [testmilter_path(), "-f"]
    if kind == "unix":
        spec = "unix:%s/%s.sock" % (milter_run_dir(workdir), name)
        args += ["-u", "postfix"]
    else:
        spec = "inet:%d@127.0.0.1" % free_port()
    return Milter(args + ["-p", spec, *extra_args], spec, workdir, name)


# ---------------------------------------------------------------- policy

class PolicyServer(Server):
    """postfwd (Debian's postfwd1: one process multiplexing every
    connection) on 127.0.0.1 with RULES. It daemonizes into its own
    session, so stop() signals that whole process group, found through
    the pid file. postfwd2 needs a syslog socket (/dev/log) for its
    Net::Server children, which a test machine may lack."""

    def __init__(self, workdir, rules):
        self.dir = os.path.join(workdir, "postfwd")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o1777)      # it writes the pid file as nobody
        self.rules = os.path.join(self.dir, "rules.cf")
        with open(self.rules, "w") as f:
            f.write(rules)
        self.pidfile = os.path.join(self.dir, "postfwd.pid")
        self.port = free_port()
        self.pid = None

    @property
    def spec(self):
        return "inet:%d@127.0.0.1" % self.port

    def start(self):
        args = ["postfwd1", "--daemon", "--file", self.rules, "--interface",
                "127.0.0.1", "--port", str(self.port), "--pidfile",
                self.pidfile, "--perfmon"]
        if os.getuid() == 0:
            args += ["--user", "nobody", "--group", "nogroup"]
        subprocess.run(args, check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.exists(self.pidfile) and
                   os.path.getsize(self.pidfile) > 0, 10, "postfwd pid file")
        with open(self.pidfile) as f:
            self.pid = int(f.read().strip())
        STARTED_PIDS.add(self.pid)
        wait_until(lambda: tcp_accepts(self.port), 10, "postfwd port")
        return self

    def stop(self):
        if self.pid is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            try:
                wait_until(lambda: not pid_alive(self.pid), 5, "postfwd exit")
                break
            except TimeoutError:
                continue
        STARTED_PIDS.discard(self.pid)
        self.pid = None


# libmilter/mfdef.h: what an MTA offers (protocol v6, every action and
# flag), and the "no reply" flags of the stages.
SMFI_CURR_ACTS, SMFI_CURR_PROT = 0x1FF, 0x1FFFFF
SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
SMFIP_NR_DATA, SMFIP_NR_UNKN, SMFIP_NR_EOH, SMFIP_NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
SMFIP_NR_HDR = 0x80
# What a milter that only collects until the end of the message leaves
# unanswered over unix: (mglue.h, MGLUE_QUIET_COLLECT).
NR_COLLECT = (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA
              | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
# The same by stage name.
NR_FLAGS = {"connect": SMFIP_NR_CONN, "helo": SMFIP_NR_HELO, "mail": SMFIP_NR_MAIL,
            "rcpt": SMFIP_NR_RCPT, "data": SMFIP_NR_DATA, "unknown": SMFIP_NR_UNKN,
            "eoh": SMFIP_NR_EOH, "body": SMFIP_NR_BODY, "header": SMFIP_NR_HDR}


def milter_protocol(spec):
    """Option negotiation with the milter at SPEC as an MTA offering
    everything: the protocol flags the milter asks for."""
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = spec[len("unix:"):]
    else:
        port, host = spec[len("inet:"):].split("@")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        addr = (host, int(port))
    s.settimeout(5)
    try:
        s.connect(addr)
        s.sendall(struct.pack(">IcIII", 13, b"O", 6, SMFI_CURR_ACTS, SMFI_CURR_PROT))
        head = b""
        while len(head) < 17:
            chunk = s.recv(17 - len(head))
            assert chunk, "milter closed the connection during negotiation"
            head += chunk
    finally:
        s.close()
    _, cmd, _, _, protocol = struct.unpack(">IcIII", head)
    assert cmd == b"O", head
    return protocol


def assert_tcp_answers_data(spec, quiet, answered):
    """The milter at SPEC (inet:) leaves the stages in QUIET (name ->
    SMFIP_NR_* bit) unanswered but DATA, which is answered over TCP
    (common/runtime.c: an unanswered DATA stalls behind Nagle at Postfix's
    hand-over to cleanup), and answers the stages in ANSWERED."""
    p = milter_protocol(spec)
    for stage, bit in quiet.items():
        if stage == "data":
            assert not p & bit, "data must be answered over TCP: 0x%x" % p
        else:
            assert p & bit, "%s should be unanswered: 0x%x" % (stage, p)
    for stage, bit in answered.items():
        assert not p & bit, "%s must be answered: 0x%x" % (stage, p)


def assert_collects_quietly(spec):
    """The milter at SPEC (unix:) asks the MTA not to wait for its answers
    before the end of the message, and still answers the connection."""
    p = milter_protocol(spec)
    assert p & NR_COLLECT == NR_COLLECT, "quiet stages missing: 0x%x" % p
    assert not p & SMFIP_NR_CONN, "connect must be answered: 0x%x" % p
