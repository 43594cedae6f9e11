"""postern-av through a real Postfix, with a signature database the test
writes (no network, no real ClamAV database): clean mail is delivered;
the EICAR test string plain, base64 in a multipart, inside a zip and
inside an attached message is refused with 554 naming the signature; a
database replaced while mail flows is picked up with no message lost;
the clamd back end against a real clamd; start-up without a database."""
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import threading
import time
import zipfile
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

import harness

# The EICAR test string, put together here so that no file in the
# repository carries it whole (scanners would flag the file itself).
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-" + "ANTIVIRUS-" + "TEST-FILE!"
         + "$H+H*").encode()
PAYLOAD = b"postern-av integration payload, second signature 5d21c0"
FROM, TO = "alice@example.net", "bob@example.org"


def exe():
    return os.path.join(harness.build_dir(), "bin", "postern-av")


def write_db(dbdir, with_payload=False):
    """EICAR as a body pattern (.ndb, any file type); PAYLOAD, when asked,
    as an MD5 signature of the whole file (.hdb). Written beside and
    renamed, as freshclam replaces its files."""
    os.makedirs(dbdir, exist_ok=True)
    files = {"test.ndb": "Postern.Test.EICAR:0:*:%s\n" % EICAR.hex()}
    if with_payload:
        files["test.hdb"] = "%s:%d:Postern.Test.Payload\n" % (
            hashlib.md5(PAYLOAD).hexdigest(), len(PAYLOAD))
    for name, text in files.items():
        tmp = os.path.join(dbdir, "." + name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(dbdir, name))


def write_conf(workdir, sock, extra=""):
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\naudit_log = %s/audit.jsonl\n"
                "[av]\nsocket = %s\nuser = postfix\ndatabase_dir = %s/db\n"
                "database_check = 1s\n%s" % (workdir, sock, workdir, extra))
    return conf


def av(workdir, start, extra="", name="av"):
    sock = "unix:%s/%s.sock" % (harness.milter_run_dir(workdir), name)
    conf = write_conf(workdir, sock, extra)
    return start(harness.Daemon([exe(), "-f", "-c", conf], sock, workdir, name))


def headers(msg):
    msg["From"] = "<%s>" % FROM
    msg["To"] = "<%s>" % TO
    msg["Subject"] = "av test"
    msg["Message-ID"] = "<%d@client.example.net>" % time.time_ns()
    return msg


def plain(body):
    return headers(MIMEText(body)).as_string()


def with_attachment(data, filename="file.bin"):
    m = MIMEMultipart()
    m.attach(MIMEText("see the attachment"))
    part = MIMEApplication(data)          # base64 transfer encoding
    part.add_header("Content-Disposition", "attachment", filename=filename)
    m.attach(part)
    return headers(m)


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def nested(inner):
    m = MIMEMultipart()
    m.attach(MIMEText("forwarded message attached"))
    m.attach(MIMEMessage(inner))
    return headers(m).as_string()


def audit_records(workdir):
    path = os.path.join(workdir, "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def send(pf, data):
    return pf.send(FROM, [TO], data)


def assert_refused(reply, sig):
    assert reply[1][0] == 554, reply
    assert reply[1][1].startswith("5.7.1") and sig in reply[1][1], reply


def test_clean_delivered_and_eicar_refused_in_every_wrapping(workdir, start, postfix):
    write_db(os.path.join(workdir, "db"), with_payload=True)
    d = av(workdir, start, "add_header = yes\n")
    pf = postfix(milters=[d.postfix_address])
    forged = headers(MIMEText("hello")).as_string().replace(
        "Subject:", "X-Virus-Scanned: postern-av; clean\nSubject:", 1)
    replies, data, qid = send(pf, forged)
    assert data[0] == 250, data
    msg = pf.wait_delivered(qid)
    assert msg.get_all("X-Virus-Scanned") == ["postern-av; clean"]

    sig = "Postern.Test.EICAR"
    eicar_text = EICAR.decode()
    assert base64.b64encode(EICAR).decode() not in eicar_text
    cases = {
        "plain": plain("before\n%s\nafter\n" % eicar_text),
        "base64": with_attachment(EICAR, "eicar.com").as_string(),
        "zip": with_attachment(zipped("eicar.com", EICAR), "eicar.zip").as_string(),
        "nested": nested(with_attachment(EICAR, "eicar.com")),
        "nested-zip": nested(with_attachment(zipped("e.com", EICAR), "e.zip")),
    }
    for what, text in cases.items():
        if what != "plain":
            assert eicar_text not in text, what
        assert_refused(send(pf, text), sig)
    # The MD5 signature: the exact file, zipped.
    assert_refused(send(pf, with_attachment(zipped("p.bin", PAYLOAD), "p.zip").as_string()),
                   "Postern.Test.Payload")
    assert len(pf.delivered()) == 1

    recs = audit_records(workdir)
    assert len(recs) == 1 + len(cases) + 1, recs
    clean = [r for r in recs if r["result"] == "clean"][0]
    assert clean["qid"] == qid and clean["action"] == "accept"
    assert clean["extra"]["size"] > 100 and clean["extra"]["scan_ms"] >= 0
    bad = [r for r in recs if r["result"] == "infected"]
    assert all(r["action"] == "reject" and r["extra"]["signature"].startswith(sig[:12])
               for r in bad), bad
    assert "av: infected Postern.Test.EICAR" in d.log_text()
    assert d.stop() == 0, d.log_text()


def test_monitor_mode_delivers_and_records_the_action(workdir, start, postfix):
    write_db(os.path.join(workdir, "db"))
    d = av(workdir, start, "mode = monitor\nadd_header = yes\n")
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = send(pf, plain("x\n%s\n" % EICAR.decode()))
    assert data[0] == 250, data
    msg = pf.wait_delivered(qid)
    assert msg.get_all("X-Virus-Scanned") is None      # monitor changes nothing
    rec = [r for r in audit_records(workdir) if r.get("qid") == qid][0]
    assert rec["result"] == "infected" and rec["action"] == "reject"
    assert "(monitor)" in d.log_text()


def test_tag_and_oversize_tempfail(workdir, start, postfix):
    write_db(os.path.join(workdir, "db"))
    d = av(workdir, start, "on_infected = tag\nmax_message_size = 20k\nspool_memory = 4k\n")
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = send(pf, plain("x\n%s\n" % EICAR.decode()))
    assert data[0] == 250, data
    msg = pf.wait_delivered(qid)
    assert "infected (Postern.Test.EICAR" in msg["X-Virus-Scanned"]
    # Spilled to a file (over spool_memory) but under the limit: scanned.
    big = with_attachment(os.urandom(9000) + EICAR + os.urandom(100)).as_string()
    replies, data, qid = send(pf, big)
    assert data[0] == 250 and "infected" in pf.wait_delivered(qid)["X-Virus-Scanned"]
    replies, data, qid = send(pf, harness.make_message(FROM, TO, size=40000))
    assert data[0] == 451 and data[1].startswith("4.3.4"), data


def test_database_replaced_while_mail_flows(workdir, start, postfix):
    dbdir = os.path.join(workdir, "db")
    write_db(dbdir)
    d = av(workdir, start)
    pf = postfix(milters=[d.postfix_address])
    text = with_attachment(PAYLOAD, "payload.bin").as_string()
    results, stop = [], threading.Event()

    def flow():
        conn = pf.smtp()
        try:
            while not stop.is_set():
                clean = harness.make_message(FROM, TO, subject="flow")
                results.append(("clean", pf.send(FROM, [TO], clean, conn=conn)))
                results.append(("payload", pf.send(FROM, [TO], text, conn=conn)))
        finally:
            conn.quit()

    t = threading.Thread(target=flow)
    t.start()
    try:
        harness.wait_until(lambda: len(results) >= 10, 30, "mail flowing")
        write_db(dbdir, with_payload=True)
        harness.wait_until(
            lambda: any(k == "payload" and r[1][0] == 554 for k, r in list(results)), 30,
            "the new signature in use")
        n = len(results)
        harness.wait_until(lambda: len(results) >= n + 6, 30, "mail after the reload")
    finally:
        stop.set()
        t.join(60)
    assert "virus database reloaded" in d.log_text()
    codes = [(k, r[1][0]) for k, r in results]
    assert all(c in (250, 554) for _, c in codes), codes           # nothing tempfailed
    assert all(c == 250 for k, c in codes if k == "clean"), codes
    first = next(i for i, (k, c) in enumerate(codes) if c == 554)
    assert all(c == 554 for k, c in codes[first:] if k == "payload"), codes
    accepted = [r[2] for _, r in results if r[1][0] == 250]
    for qid in accepted:                                           # none lost
        pf.wait_delivered(qid)
    assert len(pf.delivered()) == len(accepted)
    assert d.stop() == 0, d.log_text()     # old engines freed, nothing leaked


def test_no_database_refuses_to_start_unless_passing(workdir, start, postfix):
    os.makedirs(os.path.join(workdir, "db"))
    sock = "unix:%s/av.sock" % workdir
    conf = write_conf(workdir, sock)
    r = subprocess.run([exe(), "-n", "-c", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode == 78, r
    assert "no usable virus database" in r.stdout + r.stderr, r
    d = av(workdir, start, "on_no_database = pass\n", name="avpass")
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = send(pf, plain("x\n%s\n" % EICAR.decode()))
    assert data[0] == 250, data
    pf.wait_delivered(qid)
    assert "passed unscanned" in d.log_text()
    # A database that appears later is used.
    write_db(os.path.join(workdir, "db"))
    harness.wait_until(lambda: "virus database reloaded" in d.log_text(), 15, "reload")
    assert_refused(send(pf, plain("x\n%s\n" % EICAR.decode())), "Postern.Test.EICAR")


CLAMD_CONF = """\
Foreground yes
LocalSocket {socket}
LocalSocketMode 666
DatabaseDirectory {db}
LogFile {log}
PidFile {workdir}/clamd.pid
TemporaryDirectory {workdir}
User root
"""


@pytest.mark.skipif(shutil.which("clamd") is None, reason="clamd is not installed")
def test_clamd_backend_against_a_real_clamd(workdir, start, postfix):
    dbdir = os.path.join(workdir, "db")
    write_db(dbdir, with_payload=True)
    csock = os.path.join(workdir, "clamd.sock")
    cconf = os.path.join(workdir, "clamd.conf")
    with open(cconf, "w") as f:
        f.write(CLAMD_CONF.format(socket=csock, db=dbdir, workdir=workdir,
                                  log=os.path.join(workdir, "clamd.log")))
    clamd = harness.Daemon(["clamd", "-c", cconf], "unix:" + csock, workdir, "clamd")
    start(clamd)
    d = av(workdir, start, "backend = clamd\nclamd_socket = unix:%s\nclamd_timeout = 10s\n"
           % csock)
    pf = postfix(milters=[d.postfix_address])
    replies, data, qid = send(pf, plain("nothing here"))
    assert data[0] == 250, data
    pf.wait_delivered(qid)
    assert_refused(send(pf, with_attachment(zipped("e.com", EICAR), "e.zip").as_string()),
                   "Postern.Test.EICAR")
    assert_refused(send(pf, nested(with_attachment(PAYLOAD))), "Postern.Test.Payload")
    recs = audit_records(workdir)
    assert all(r["extra"]["backend"] == "clamd" for r in recs), recs
    # clamd gone: fail closed.
    clamd.stop()
    replies, data, qid = send(pf, plain("nothing here"))
    assert data[0] == 451 and data[1].startswith("4.3.0"), data
    assert "clamd: connect" in d.log_text()
    assert d.stop() == 0, d.log_text()


def test_bad_values_are_config_errors(workdir):
    write_db(os.path.join(workdir, "db"))
    sock = "unix:%s/av.sock" % workdir
    for extra, why in [("header = X-Virus: yes\n", "[av] header"),
                       ("spool_dir =\n", "[av] spool_dir"),
                       ("on_infected = accept\n", "on_infected"),
                       ("backend = clamd\nclamd_socket = tcp:3310\n", "clamd_socket")]:
        conf = write_conf(workdir, sock, extra)
        r = subprocess.run([exe(), "-n", "-c", conf], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 78 and why in r.stdout + r.stderr, (extra, r)
    conf = write_conf(workdir, sock, "header = X-AV-Result\n")
    r = subprocess.run([exe(), "-n", "-c", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r


def test_metrics_count_scans_scan_times_and_reloads(workdir, start, postfix):
    dbdir = os.path.join(workdir, "db")
    write_db(dbdir)
    port = harness.free_port()
    d = av(workdir, start, "metrics_listen = 127.0.0.1:%d\n" % port)
    pf = postfix(milters=[d.postfix_address])

    def value(name, **labels):
        return harness.metric(harness.scrape(port), name, **labels)

    assert value("postern_av_scans_total", result="clean") == 0
    assert value("postern_av_scan_seconds_count") == 0
    assert send(pf, plain("hello"))[1][0] == 250
    assert value("postern_av_scans_total", result="clean") == 1
    assert value("postern_av_scan_seconds_count") == 1
    assert_refused(send(pf, plain(EICAR.decode())), "Postern.Test.EICAR")
    assert value("postern_av_scans_total", result="infected") == 1
    assert value("postern_av_scan_seconds_count") == 2
    assert value("postern_av_engine_reloads_total", outcome="ok") == 0

    write_db(dbdir, with_payload=True)     # picked up by the 1 s poll
    harness.wait_until(lambda: value("postern_av_engine_reloads_total", outcome="ok") == 1,
                       30, "the reload counted")
    assert value("postern_av_engine_reloads_total", outcome="failed") == 0
    assert_refused(send(pf, with_attachment(PAYLOAD).as_string()), "Postern.Test.Payload")
    assert value("postern_av_scans_total", result="infected") == 2
