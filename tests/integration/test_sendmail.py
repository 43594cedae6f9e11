"""postern milters under a real Sendmail 8.17 (Debian's sendmail-bin).

Installing sendmail-bin would replace Postfix, so scripts/setup.sh
unpacks Debian's packages into a private tree; each test builds a
sendmail.cf with m4 from a small .mc plus the macro lists shipped in
conf/sendmail/postern.mc and runs "sendmail -bD" on a loopback port.
Checked with the test milters: the header a milter adds arrives with Sendmail's queue id, RCPT
and end-of-message rejects reach the SMTP client with our text, forged
Authentication-Results go and ours comes first, a later milter sees the
header fields an earlier one added, F=T turns a dead milter into 451
(F=R into 554), and Sendmail sends the macros a milter asks for except
at end of message, where the configured list rules (docs/sendmail.md).
And with a real one, postern-spf and the test DNS server, under the
macro lists of the shipped snippet: an SPF fail is refused with 550
5.7.23 at the SMTP client, a pass is delivered with our
Authentication-Results and Received-SPF and audited under Sendmail's
queue id.

Sendmail runs as root in its own UTS and mount namespace (unshare): at
start it insists on a host name with a dot (else it sleeps 60 s), and
the private /etc/hosts and /etc/resolv.conf mounted there keep every
name lookup off the network. Nothing under /etc/mail or /var/spool is
read or written: every path is defined into the test directory.
Milter sockets live under /run: Sendmail refuses them below /tmp.
"""
import json
import os
import re
import shutil
import smtplib
import subprocess
import tempfile

import pytest

import harness

SM_ROOT = os.environ.get("POSTERN_SENDMAIL_ROOT", "/var/cache/postern-test/sendmail/root")
SM_BIN = os.path.join(SM_ROOT, "usr", "libexec", "sendmail", "sendmail")
SM_CF = os.path.join(SM_ROOT, "usr", "share", "sendmail", "cf")
SNIPPET = os.path.join(harness.source_dir(), "conf", "sendmail", "postern.mc")
AUTHSERV = "mx.postern.test"
FILTER_FLAGS = "F=T, T=S:30s;R:60s;E:5m"


def why_skip():
    if not os.access(SM_BIN, os.X_OK) or not os.path.isdir(SM_CF):
        return "no private Sendmail in %s: run scripts/setup.sh as root" % SM_ROOT
    if shutil.which("m4") is None:
        return "m4 is missing: run scripts/setup.sh as root"
    if os.getuid() != 0:
        return "Sendmail is run as root in its own namespaces"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    return None


pytestmark = pytest.mark.skipif(why_skip() is not None, reason=why_skip() or "")

TEST_MC = """\
divert(-1)
The test's own Sendmail: every path in {dir}, no DNS, one SMTP daemon on
127.0.0.1:{port}, every message handed to the sink mailer.
divert(0)dnl
include(`{cf}/m4/cf.m4')dnl
VERSIONID(`postern integration test')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mx.postern.test')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confHOSTS_FILE', `{dir}/hosts')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`STATUS_FILE', `{dir}/sendmail.st')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`confHOST_STATUS_DIRECTORY', `{dir}/hoststat')dnl
define(`confDEAD_LETTER_DROP', `{dir}/dead.letter')dnl
define(`ALIAS_FILE', `{dir}/aliases')dnl
define(`HELP_FILE', `{dir}/helpfile')dnl
define(`confCW_FILE', `{dir}/local-host-names')dnl
define(`confCT_FILE', `{dir}/trusted-users')dnl
define(`confCR_FILE', `-o {dir}/relay-domains')dnl
define(`confDELIVERY_MODE', `interactive')dnl
define(`confTO_IDENT', `0')dnl
FEATURE(`nocanonify')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`accept_unresolvable_domains')dnl
RELAY_DOMAIN(`example.org')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA, Port={port}, Addr=127.0.0.1')dnl
{filters}
{macros}
MAILER_DEFINITIONS
Msink, P={dir}/sink.sh, F=lsDFMmnq, S=EnvFromL/HdrFromL, R=EnvToL/HdrToL, U=nobody:nogroup,
	A=sink.sh {outdir} $i $u
LOCAL_RULE_0
R$* < @ $* > $*\t$#sink $@ localhost $: $1<@$2>$3
"""

# Runs inside the new namespaces: $1 the test's sendmail directory,
# $2 the binary, $3 the sendmail.cf, then more sendmail arguments.
NAMESPACE_SH = ('d=$1 sm=$2 cf=$3; shift 3; hostname mx.postern.test && '
                'mount --bind "$d/hosts" /etc/hosts && '
                'mount --bind "$d/resolv.conf" /etc/resolv.conf && '
                'exec "$sm" -C "$cf" -bD -X "$d/traffic.log" "$@"')


def snippet_macros():
    """The confMILTER_MACROS_* lines of the shipped snippet, as they are."""
    with open(SNIPPET) as f:
        return "".join(line for line in f if line.startswith("define(`confMILTER_MACROS_"))


def input_filter(name, spec, flags):
    return "INPUT_MAIL_FILTER(`%s', `S=%s, %s')dnl" % (name, spec, flags)


def sendmail_spec(daemon_spec):
    """Our socket spec (unix:/path, inet:PORT@HOST) in Sendmail's words."""
    kind, rest = daemon_spec.split(":", 1)
    return ("local:" + rest) if kind == "unix" else "inet:" + rest


class Sendmail(harness.Server):
    """A private Sendmail 8.17 daemon on 127.0.0.1:PORT with FILTERS
    ([(name, our socket spec)], in order, each with the F= and T= of
    FLAGS) and MACROS (m4 define lines; None: those of
    conf/sendmail/postern.mc). TRACE writes Sendmail's milter debugging
    to debug.log."""

    def __init__(self, workdir, filters, macros=None, trace=False, flags=FILTER_FLAGS):
        self.dir = os.path.join(workdir, "sendmail")
        self.outdir = os.path.join(self.dir, "delivered")
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.port = harness.free_port()
        self.filters = list(filters)
        self.macros = snippet_macros() if macros is None else macros
        self.trace = trace
        self.flags = flags
        self.proc = None

    def mc(self):
        filters = "\n".join(input_filter(n, sendmail_spec(s), self.flags)
                            for n, s in self.filters)
        return TEST_MC.format(dir=self.dir, port=self.port, cf=SM_CF, outdir=self.outdir,
                              filters=filters, macros=self.macros)

    def _write_files(self):
        for d in (self.dir, os.path.join(self.dir, "hoststat")):
            os.makedirs(d, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "mqueue"), mode=0o700)
        os.makedirs(self.outdir)
        os.chmod(self.outdir, 0o777)            # the sink runs as nobody
        files = {"service.switch": "hosts files\naliases files\n",
                 "hosts": "127.0.0.1 localhost mx.postern.test\n",
                 "resolv.conf": "nameserver 127.0.0.1\n",
                 "aliases": "", "helpfile": "", "local-host-names": "",
                 "trusted-users": "", "sink.sh": harness.SINK_SH, "test.mc": self.mc()}
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        os.chmod(os.path.join(self.dir, "sink.sh"), 0o755)

    def start(self):
        self._write_files()
        with open(self.cf, "w") as out:
            subprocess.run(["m4", os.path.join(self.dir, "test.mc")], stdout=out, check=True,
                           timeout=30)
        self.logf = open(self.log_path(), "w")
        self.proc = subprocess.Popen(
            ["unshare", "--uts", "--mount", "--", "sh", "-c", NAMESPACE_SH, "sh",
             self.dir, SM_BIN, self.cf]
            # -d64.100: milter debugging, which names every macro sent.
            + (["-D", os.path.join(self.dir, "debug.log"), "-d64.100"] if self.trace else []),
            stdout=self.logf, stderr=subprocess.STDOUT,
            start_new_session=True)
        harness.STARTED_PIDS.add(self.proc.pid)
        # Seen to take over 15 s on a loaded machine; a stuck start still
        # fails, with Sendmail's own log.
        try:
            harness.wait_until(self._listening, 60, "Sendmail on port %d" % self.port)
        except TimeoutError as e:
            self.logf.flush()
            with open(self.log_path(), errors="replace") as f:
                raise TimeoutError("%s; its log:\n%s" % (e, f.read()[-3000:])) from None
        return self

    def log_path(self):
        return os.path.join(self.dir, "sendmail.log")

    def _listening(self):
        if self.proc.poll() is not None:
            with open(self.log_path(), errors="replace") as f:
                raise RuntimeError("sendmail exited with %s:\n%s" % (self.proc.returncode,
                                                                     f.read()))
        return harness.tcp_accepts(self.port)

    # Postfix's bounded SIGKILL sweep, over _instance_pids() below.
    _kill_leftovers = harness.Postfix._kill_leftovers

    def stop(self):
        if self.proc is None:
            return
        self.sid = self.proc.pid
        harness.stop_process(self.proc)
        self.proc = None
        self._kill_leftovers()
        self.logf.close()

    def _instance_pids(self):
        """SMTP children share the daemon's session; mailers get their own
        session but name our directory on their command line."""
        found = []
        for d in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if int(fields[3]) == self.sid or self.dir.encode() in cmd:
                found.append(int(d))
        return found

    def debug_log(self):
        with open(os.path.join(self.dir, "debug.log"), errors="replace") as f:
            return f.read()

    def traffic(self):
        try:
            with open(os.path.join(self.dir, "traffic.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return "(no traffic log)"

    def send(self, mail_from, rcpts, data, helo="client.example.net"):
        """One transaction; returns (rcpt_replies, data_reply, queue_id)
        as harness.Postfix.send does, with the queue id taken from
        Sendmail's "250 2.0.0 QUEUEID Message accepted for delivery"."""
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=60)
        try:
            s.ehlo(helo)
            replies, reply, _ = harness.Postfix._transaction(s, mail_from, rcpts, data)
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                s.close()
        m = re.match(r"2\.0\.0 (\S+) Message accepted", reply[1]) if reply else None
        return replies, reply, m.group(1) if m else None

    # The Postfix test bed's sink helpers: the same OUTDIR/QUEUEID.eml
    # files; what Sendmail said goes with a delivery that did not come.
    delivered_path = harness.Postfix.delivered_path
    wait_delivered = harness.Postfix.wait_delivered
    delivered = harness.Postfix.delivered
    maillog = traffic


@pytest.fixture
def sockdir():
    """Sendmail refuses a milter socket below a world-writable directory
    such as /tmp ("unsafe: World writable directory"), so the sockets
    live in a private directory under /run, owned by the milters' user,
    as /run/postern is."""
    d = tempfile.mkdtemp(prefix="postern-sendmail-", dir="/run")
    os.chmod(d, 0o755)
    shutil.chown(d, "postfix", "postfix")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bed(sockdir, workdir, start):
    """Starts milters and Sendmail; all are stopped before sockdir goes."""
    class Bed:
        def testmilter(self, name="testmilter"):
            spec = "unix:%s/%s.sock" % (sockdir, name)
            argv = [harness.testmilter_path(), "-f", "-u", "postfix", "-p", spec]
            m = start(harness.Milter(argv, spec, workdir, name))
            m.name = name
            return m

        def dtest(self, name="dtest", action="accept"):
            spec = "unix:%s/%s.sock" % (sockdir, name)
            conf = os.path.join(workdir, name + ".conf")
            with open(conf, "w") as f:
                f.write("[global]\nauthserv_id = %s\naudit_log = %s/%s.jsonl\n"
                        "[dtest]\nsocket = %s\nuser = postfix\naction = %s\n"
                        "text = \"no thanks, 100%% sure\"\n"
                        % (AUTHSERV, workdir, name, spec, action))
            exe = os.path.join(harness.build_dir(), "tests", "milter", "postern-dtestmilter")
            d = start(harness.Daemon([exe, "-f", "-c", conf], spec, workdir, name))
            d.name = name
            return d

        def postern(self, component, dns, extra=""):
            """A real postern milter, with the test DNS server; the test
            client (127.0.0.1) is not in internal_hosts."""
            spec = "unix:%s/%s.sock" % (sockdir, component)
            conf = os.path.join(workdir, "postern.conf")
            with open(conf, "w") as f:
                f.write("[global]\nauthserv_id = %s\naudit_log = %s/audit.jsonl\n"
                        "dns_upstream = %s\ndns_timeout = 1s\ninternal_hosts = 10.0.0.0/8\n"
                        "[%s]\nsocket = %s\nuser = postfix\n%s"
                        % (AUTHSERV, workdir, dns.upstream, component, spec, extra))
            exe = os.path.join(harness.build_dir(), "bin", "postern-" + component)
            d = start(harness.Daemon([exe, "-f", "-c", conf], spec, workdir, component))
            d.name = "postern-" + component
            return d

        def sendmail(self, milters, **kw):
            return start(Sendmail(workdir, [(m.name, m.spec) for m in milters], **kw))
    return Bed()


def message(extra=()):
    return harness.make_message("alice@example.net", "bob@example.org", extra_headers=extra)


def audit_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_snippet_builds_five_filters_and_the_macro_lists(workdir):
    mc = os.path.join(workdir, "snippet.mc")
    with open(mc, "w") as f:
        f.write("include(`%s/m4/cf.m4')dnl\nOSTYPE(`linux')dnl\ninclude(`%s')dnl\n"
                "MAILER(`smtp')dnl\n" % (SM_CF, SNIPPET))
    cf = subprocess.run(["m4", mc], capture_output=True, text=True, check=True,
                        timeout=30).stdout
    names = ["postern-" + n for n in ("spf", "dkim", "dmarc", "av", "attach")]
    assert "O InputMailFilters=%s\n" % ", ".join(names) in cf
    for n in names:
        sock = "/run/postern/%s.sock" % n.split("-")[1]
        assert "X%s, S=local:%s, %s\n" % (n, sock, FILTER_FLAGS) in cf
    opts = dict(re.findall(r"^O Milter\.macros\.(\w+)=(.*)$", cf, re.M))
    assert {k: [m.strip() for m in v.split(",")] for k, v in opts.items()} == {
        "connect": ["j", "_", "{daemon_name}", "{if_name}", "{if_addr}"],
        "helo": ["{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}",
                 "{cert_issuer}"],
        "envfrom": ["i", "{auth_type}", "{auth_authen}", "{auth_ssf}", "{auth_author}",
                    "{mail_mailer}", "{mail_host}", "{mail_addr}"],
        "envrcpt": ["i", "{rcpt_mailer}", "{rcpt_host}", "{rcpt_addr}"],
        "eom": ["i", "{msg_id}"]}


def test_header_arrives_with_sendmails_queue_id_and_rcpt_rejects_reach_the_client(bed):
    m = bed.testmilter()
    sm = bed.sendmail([m])
    replies, data, qid = sm.send("alice@example.net", ["bob@example.org", "reject@example.org",
                                                       "tempfail@example.org", "carol@example.org"],
                                 message())
    assert replies["reject@example.org"] == (
        550, "5.7.1 <reject@example.org>... rejected by test milter"), replies
    code, text = replies["tempfail@example.org"]
    assert (code, text[:5]) == (451, "4.7.1") and "temporary failure from test milter" in text
    assert data[0] == 250 and qid, data
    got = sm.wait_delivered(qid)
    assert got["X-Postern-Test"] == ("queue-id=%s; client=127.0.0.1; helo=client.example.net; "
                                     "from=alice@example.net; rcpts=2" % qid)
    assert "%s: testmilter:" % qid in m.log_text()


def test_forged_authres_go_and_ours_comes_first(bed, workdir):
    d = bed.dtest()
    sm = bed.sendmail([d], trace=True)
    extra = ["Authentication-Results: %s; spf=pass smtp.mailfrom=evil@example.net" % AUTHSERV,
             "Authentication-Results: other.example; spf=fail",
             "Authentication-Results: %s; arc=pass" % AUTHSERV]
    replies, data, qid = sm.send("alice@example.net", ["bob@example.org"], message(extra))
    assert data and data[0] == 250, (replies, data)
    msg = sm.wait_delivered(qid)
    fields = msg.get_all("Authentication-Results")
    assert len(fields) == 2, fields
    assert fields[0].startswith(AUTHSERV + ";") and "smtp.mailfrom=alice@example.net" in fields[0]
    assert fields[1] == "other.example; spf=fail"
    # Ours is the first field of all, above Sendmail's own Received.
    assert msg.keys()[:2] == ["Authentication-Results", "Received"], msg.keys()
    assert "forged=2" in d.log_text()
    # mglue took the queue id at MAIL: Sendmail has it from then on.
    # The snippet's EOM list is what gives "i" at end of message.
    assert "milter_send_macros(dtest, E): i=%s\n" % qid in sm.debug_log()
    recs = audit_records(os.path.join(workdir, "dtest.jsonl"))
    assert [(r["qid"], r["rcpt"], r["action"]) for r in recs] == [
        (qid, ["bob@example.org"], "accept")], recs


def test_end_of_message_reject_reaches_the_client_with_our_text(bed):
    d = bed.dtest(action="reject")
    sm = bed.sendmail([d])
    replies, data, qid = sm.send("alice@example.net", ["bob@example.org"], message())
    assert replies["bob@example.org"][0] == 250
    # mact doubled the "%" for libmilter; the client sees one.
    assert data == (550, "5.7.1 no thanks, 100% sure"), data
    assert qid is None and sm.delivered() == []
    assert "action=reject" in d.log_text()


def test_later_milter_sees_the_fields_an_earlier_one_added(bed):
    # Both claim "spf" under our authserv-id, so the second takes the
    # first one's field for forged: proof that it saw that field.
    first, second = bed.dtest("first"), bed.dtest("second")
    sm = bed.sendmail([first, second])
    replies, data, qid = sm.send("alice@example.net", ["bob@example.org"], message())
    assert data[0] == 250, data
    msg = sm.wait_delivered(qid)
    assert "%s: dtest: from=<alice@example.net> forged=0" % qid in first.log_text()
    assert "%s: dtest: from=<alice@example.net> forged=1" % qid in second.log_text()
    fields = msg.get_all("Authentication-Results")
    assert len(fields) == 1 and fields[0].startswith(AUTHSERV + ";"), fields


def first_refusal(sm):
    """(stage, code, text) of the reply that stopped one message."""
    try:
        replies, data, qid = sm.send("alice@example.net", ["bob@example.org"], message())
    except smtplib.SMTPConnectError as e:
        return "connect", e.smtp_code, e.smtp_error.decode()
    if not replies:
        return ("MAIL",) + data
    return ("RCPT",) + replies["bob@example.org"] if data is None else ("DATA",) + data


@pytest.mark.parametrize("flag,refusal", [
    ("T", ("MAIL", 451, "4.3.2 Please try again later")),
    ("R", ("connect", 554, "mx.postern.test ESMTP not accepting messages"))])
def test_dead_milter_is_refused_as_f_says(bed, flag, refusal):
    m = bed.testmilter()
    sm = bed.sendmail([m], flags=FILTER_FLAGS.replace("F=T", "F=" + flag))
    assert m.stop() == 0
    assert first_refusal(sm) == refusal
    assert sm.delivered() == []


def test_sendmail_sends_the_macros_a_milter_asks_for_except_at_eom(bed):
    # Lists without "i": the test milter asks for it at MAIL, RCPT and
    # EOM (smfi_setsymlist). Sendmail's milter trace shows what was sent.
    lists = ("define(`confMILTER_MACROS_ENVFROM', `{mail_addr}')dnl\n"
             "define(`confMILTER_MACROS_ENVRCPT', `{rcpt_addr}')dnl\n"
             "define(`confMILTER_MACROS_EOM', `{msg_id}')dnl\n")
    m = bed.testmilter()
    sm = bed.sendmail([m], macros=lists, trace=True)
    replies, data, qid = sm.send("alice@example.net", ["bob@example.org"], message())
    msg = sm.wait_delivered(qid)
    sent = re.findall(r"^milter_send_macros\(testmilter, (\w)\): (.*)$", sm.debug_log(), re.M)
    # (the start-up probe connected too: same connect macros, once more)
    assert list(dict.fromkeys(sent)) == [
        ("C", "j=mx.postern.test"), ("M", "i=" + qid), ("R", "i=" + qid),
        ("E", "{msg_id}=" + msg["Message-ID"])], sent
    # libmilter still answers "i" at EOM from the MAIL stage's macros.
    assert msg["X-Postern-Test"].startswith("queue-id=%s;" % qid)


def test_postern_spf_refuses_a_fail_and_tags_a_pass(bed, dns, workdir):
    d = bed.postern("spf", dns)
    sm = bed.sendmail([d])
    sender = "alice@pass.spf.test"
    forged = "Authentication-Results: %s; spf=pass smtp.mailfrom=x@fail.spf.test" % AUTHSERV
    msg = harness.make_message(sender, "bob@example.org", extra_headers=[forged])
    replies, data, qid = sm.send(sender, ["bob@example.org"], msg, helo="mta.spf.test")
    assert data and data[0] == 250 and qid, (replies, data)
    got = sm.wait_delivered(qid)
    fields = got.get_all("Authentication-Results")
    assert len(fields) == 1 and fields[0].startswith(AUTHSERV + ";"), fields
    assert "spf=pass" in fields[0] and "smtp.mailfrom=%s" % sender in fields[0], fields
    assert got["Received-SPF"].startswith("pass ("), got["Received-SPF"]
    recs = [r for r in audit_records(os.path.join(workdir, "audit.jsonl")) if r["qid"] == qid]
    assert [(r["result"], r["action"]) for r in recs] == [("pass", "tag")], recs
    assert "%s: spf: mailfrom pass.spf.test pass" % qid in d.log_text()

    sender = "bob@fail.spf.test"
    replies, data, _ = sm.send(sender, ["bob@example.org"],
                               harness.make_message(sender, "bob@example.org"),
                               helo="mta.spf.test")
    code, text = replies["bob@example.org"]
    assert code == 550 and text.startswith("5.7.23"), replies
    assert "127.0.0.1 is not a mail server of fail.spf.test" in text, text
    assert data is None and sm.delivered() == [qid + ".eml"]
