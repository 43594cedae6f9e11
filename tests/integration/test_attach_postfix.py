"""postern-attach behind a real Postfix, with messages built here: each
rule type (extension, deceptive name, true type, declared type,
mismatch, encryption, archive depth, attachment and message size,
sender and recipient exceptions, unreadable archives, last extension
only) and each action (reject naming the file, strip with the rest of
the message intact and valid, quarantine in the hold queue, tag, allow
as an exception), names hidden by RFC 2047 words, RFC 2231 charsets,
bidi overrides and trailing dots or blanks, a zip holding an .exe, an
encrypted zip, 100 parts, a 10 MB attachment, ambiguous and broken
MIME, monitor mode and the audit record."""
import email
import email.message
import email.policy
import io
import json
import os
import shutil
import subprocess
import zipfile

import pytest

import harness

# A PE header is enough for libmagic to call it a Windows program.
EXE = (b"MZ" + b"\x90" * 58 + b"\x80\0\0\0" + b"\0" * 64 + b"PE\0\0" + b"\x4c\x01"
       + b"\0" * 398)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

RULES = """
[attach-rule name-tricks]
name_trick = yes
action = reject
[attach-rule executables]
ext = exe, scr, js
except_senders = trusted.example
action = reject
[attach-rule executable-content]
true_type = application/x-dosexec, application/vnd.microsoft.portable-executable
action = reject
[attach-rule encrypted]
encrypted = yes
action = quarantine
[attach-rule deep]
max_depth = 1
action = reject
[attach-rule videos]
declared_type = video/
action = strip
[attach-rule big]
max_size = 8M
action = strip
[attach-rule liars]
mismatch = yes
action = tag
[attach-rule huge]
message_size = 30M
action = reject
"""


def attach_milter(workdir, start, rules=RULES, mode="enforce", extra=""):
    run = harness.milter_run_dir(workdir)
    tmp = os.path.join(workdir, "tmp")
    os.makedirs(tmp, exist_ok=True)
    shutil.chown(tmp, "postfix", "postfix")
    spec = "unix:%s/attach.sock" % run
    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser = postfix\naudit_log = %s/audit.jsonl\n"
                "[attach]\nsocket = %s\nmode = %s\ntmp_dir = %s\nspill_size = 1M\n%s\n%s"
                % (workdir, spec, mode, tmp, extra, rules))
    exe = os.path.join(harness.build_dir(), "bin", "postern-attach")
    return start(harness.Daemon([exe, "-f", "-c", conf], spec, workdir, "attach"))


def postfix_for(postfix, m):
    return postfix(milters=[m.postfix_address],
                   extra_main_cf={"message_size_limit": "60000000"})


def message(*attachments, sender="alice@example.net", text="Hello.\n"):
    """attachments: (bytes, maintype, subtype, filename)."""
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = "bob@example.org"
    m["Subject"] = "attachment test"
    m["Message-ID"] = "<%d@client.example.net>" % os.getpid()
    m.set_content(text)
    for data, maintype, subtype, name in attachments:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=email.policy.SMTP)


def zip_of(*entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()


def encrypted_zip(workdir):
    src = os.path.join(workdir, "secret.txt")
    out = os.path.join(workdir, "locked.zip")
    with open(src, "w") as f:
        f.write("the payload\n")
    subprocess.run(["zip", "-q", "-j", "-e", "-P", "pw", out, src], check=True, timeout=30)
    with open(out, "rb") as f:
        return f.read()


def send(pf, msg, sender="alice@example.net"):
    return pf.send(sender, ["bob@example.org"], msg)


def audit_records(workdir):
    with open(os.path.join(workdir, "audit.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def record_for(workdir, qid):
    recs = [r for r in audit_records(workdir) if r.get("qid") == qid and r["step"] == "attach"]
    assert len(recs) == 1, recs
    return recs[0]


def rejected(data_reply):
    code, text = data_reply
    return code == 550 and text.startswith("5.7.1")


def test_rules_reject_quarantine_tag_and_allow(workdir, start, postfix):
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)

    # Allow: a plain PDF passes untouched and is audited as clean.
    _, data, qid = send(pf, message((PDF, "application", "pdf", "report.pdf")))
    assert data[0] == 250, data
    got = pf.wait_delivered(qid)
    assert got["X-Postern-Attach"] is None
    assert record_for(workdir, qid)["result"] == "clean"

    # Extension anywhere in the name, with the file named in the reply.
    _, data, qid = send(pf, message((b"text", "application", "pdf", "invoice.pdf.exe")))
    assert rejected(data), data
    assert 'Attachment "invoice.pdf.exe" refused: extension .exe' in data[1]

    # Case and trailing dots do not hide it.
    _, data, _ = send(pf, message((b"text", "application", "octet-stream", "SETUP.EXE. .")))
    assert rejected(data), data

    # Right-to-left override: shows as "invoiceexe.pdf".
    _, data, _ = send(pf, message((b"text", "application", "pdf", "invoice\u202efdp.exe")))
    assert rejected(data) and "deceptive file name (bidi)" in data[1], data

    # True type: a program renamed .pdf.
    _, data, _ = send(pf, message((EXE, "application", "pdf", "statement.pdf")))
    assert rejected(data) and "true type" in data[1], data

    # A zip holding an .exe: the entry's name decides.
    _, data, _ = send(pf, message((zip_of(("docs/readme.txt", b"hi"), ("setup.exe", EXE)),
                                   "application", "zip", "files.zip")))
    assert rejected(data), data
    assert 'Attachment "files.zip" refused: it holds "setup.exe": extension .exe' in data[1]

    # Sender exception: the extension rule does not apply, nothing else matches.
    _, data, qid = send(pf, message((b"echo hi\n", "application", "octet-stream", "tool.exe"),
                                    sender="ops@trusted.example"), sender="ops@trusted.example")
    assert data[0] == 250, data
    pf.wait_delivered(qid)

    # Encrypted zip: accepted, but held in the quarantine (hold) queue.
    _, data, qid = send(pf, message((encrypted_zip(workdir), "application", "zip",
                                     "locked.zip")))
    assert data[0] == 250, data
    hold = os.path.join(pf.queue, "hold")
    harness.wait_until(lambda: qid in os.listdir(hold), 10, "%s in the hold queue" % qid)
    rec = record_for(workdir, qid)
    assert rec["action"] == "quarantine" and rec["extra"]["rule"] == "encrypted"

    # Declared type contradicts the content: delivered with our tag.
    _, data, qid = send(pf, message((PDF, "image", "png", "scan.png")))
    assert data[0] == 250, data
    got = pf.wait_delivered(qid)
    tag = got["X-Postern-Attach"]
    assert tag is not None and "rule=liars" in tag and "application/pdf" in tag, tag

    # Archives nested deeper than allowed.
    inner = zip_of(("level2.zip", zip_of(("a.txt", b"a"))))
    _, data, _ = send(pf, message((inner, "application", "zip", "nest.zip")))
    assert rejected(data) and "archive nesting 2 > 1" in data[1], data
    # A clean stop (and, in sanitizer builds, no leak or error report).
    assert m.stop() == 0, m.log_text()


def test_reject_is_audited_with_part_name_types_and_rule(workdir, start, postfix):
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    _, data, _ = send(pf, message((EXE, "application", "pdf", "statement.pdf")))
    assert rejected(data), data
    recs = [r for r in audit_records(workdir) if r["step"] == "attach"]
    assert len(recs) == 1
    rec = recs[0]
    assert rec["action"] == "reject" and rec["result"] == "rule"
    hit = rec["extra"]["hits"][0]
    assert hit["path"] == "2" and hit["name"] == "statement.pdf"
    assert hit["declared"] == "application/pdf"
    assert "executable" in hit["true_type"]
    assert hit["rule"] == "executable-content"
    assert rec["from"] == "alice@example.net"
    assert "attach: action=reject rule=executable-content part=2" in m.log_text()


def test_strip_replaces_the_part_and_keeps_the_message_valid(workdir, start, postfix):
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    msg = message((PDF, "application", "pdf", "keep.pdf"),
                  (b"\0\0\0\x18ftypmp42" + b"\0" * 2000, "video", "mp4", "clip.mp4"),
                  (b"notes\n", "text", "plain", "notes.txt"))
    _, data, qid = send(pf, msg)
    assert data[0] == 250, data
    got = pf.wait_delivered(qid)
    parts = [p for p in got.walk() if not p.is_multipart()]
    assert len(parts) == 4, [p.get_content_type() for p in parts]
    names = [p.get_filename() for p in parts]
    assert names == [None, "keep.pdf", None, "notes.txt"], names
    assert parts[1].get_payload(decode=True) == PDF
    assert parts[3].get_payload(decode=True) == b"notes\n"
    notice = parts[2]
    assert notice.get_content_type() == "text/plain"
    text = notice.get_payload(decode=True).decode()
    assert "clip.mp4" in text and "declared type video/mp4" in text, text
    assert "rule=videos" in got["X-Postern-Attach"]
    assert got.get_content_type() == "multipart/mixed"
    assert not got.defects, got.defects


def test_hundred_parts_and_a_10_mb_attachment(workdir, start, postfix):
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    many = [(("line %d\n" % i).encode(), "text", "plain", "part%03d.txt" % i)
            for i in range(99)]
    _, data, qid = send(pf, message(*many))
    assert data[0] == 250, data
    got = pf.wait_delivered(qid)
    assert len([p for p in got.walk() if not p.is_multipart()]) == 100
    assert record_for(workdir, qid)["extra"]["parts"] == 100

    # 10 MB: spilled to a temporary file, walked, and stripped (max_size 8M).
    big = os.urandom(10 * 1024 * 1024)
    _, data, qid = send(pf, message((PDF, "application", "pdf", "small.pdf"),
                                    (big, "application", "octet-stream", "big.bin")))
    assert data[0] == 250, data
    got = pf.wait_delivered(qid, timeout=60)
    parts = [p for p in got.walk() if not p.is_multipart()]
    assert parts[1].get_payload(decode=True) == PDF
    assert "big.bin" in parts[2].get_payload(decode=True).decode()
    assert record_for(workdir, qid)["extra"]["size"] > 10 * 1024 * 1024
    # The temporary file was unlinked at once and is gone.
    assert os.listdir(os.path.join(workdir, "tmp")) == []
    assert m.stop() == 0, m.log_text()


def test_message_size_rule_and_limits(workdir, start, postfix):
    rules = "[attach-rule huge]\nmessage_size = 200k\naction = reject\n"
    m = attach_milter(workdir, start, rules=rules, extra="max_items = 20\n")
    pf = postfix_for(postfix, m)
    _, data, _ = send(pf, message((os.urandom(300000), "application", "octet-stream", "x.bin")))
    assert rejected(data) and "message size" in data[1], data
    # More parts than max_items: not completely examined -> on_limit (reject).
    many = [(b"x", "text", "plain", "p%d.txt" % i) for i in range(30)]
    _, data, _ = send(pf, message(*many))
    assert rejected(data) and "too complex" in data[1], data


def test_ambiguous_mime_is_refused(workdir, start, postfix):
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    raw = (b"From: alice@example.net\r\nTo: bob@example.org\r\nSubject: x\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
           b"--zz\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n\r\nxx\r\n--zz--\r\n")
    _, data, _ = send(pf, raw)
    assert rejected(data) and "ambiguous MIME" in data[1], data
    assert "cause=suspect" in m.log_text()


def test_monitor_mode_changes_nothing_but_audits(workdir, start, postfix):
    m = attach_milter(workdir, start, mode="monitor")
    pf = postfix_for(postfix, m)
    _, data, qid = send(pf, message((EXE, "application", "octet-stream", "run.exe")))
    assert data[0] == 250, data
    got = pf.wait_delivered(qid)
    assert got["X-Postern-Attach"] is None
    rec = record_for(workdir, qid)
    assert rec["action"] == "monitor:reject" and rec["extra"]["monitor"] is True
    assert rec["msgid"].startswith("<")
    assert "monitor action=reject" in m.log_text()


def test_sighup_loads_new_rules_and_keeps_old_ones_on_error(workdir, start, postfix):
    import signal
    m = attach_milter(workdir, start, rules="")
    pf = postfix_for(postfix, m)
    run_exe = message((b"echo\n", "application", "octet-stream", "run.exe"))
    _, data, _ = send(pf, run_exe)
    assert data[0] == 250, data

    conf = os.path.join(workdir, "postern.conf")
    with open(conf, "a") as f:
        f.write("[attach-rule exe]\next = exe\naction = reject\n")
    m.signal(signal.SIGHUP)
    harness.wait_until(lambda: rejected(send(pf, run_exe)[1]), 10, "the new rule")

    # A broken file is refused and the rule in force stays.
    with open(conf, "a") as f:
        f.write("[attach-rule bad]\naction = explode\n")
    m.signal(signal.SIGHUP)
    harness.wait_until(lambda: "explode" in m.log_text(), 10, "the reload error logged")
    _, data, _ = send(pf, run_exe)
    assert rejected(data), data


def test_folded_header_fields_are_read_as_sent(workdir, start, postfix):
    """Postfix hands folded fields over with their line breaks: the
    boundary and the RFC 2231 name split over lines must still be found."""
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    raw = (b"From: alice@example.net\r\nTo: bob@example.org\r\nSubject: folded\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"fold\"\r\n\r\n"
           b"--fold\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
           b"--fold\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment;\r\n filename*0=\"pay\";\r\n filename*1=\"ment.ex\";\r\n"
           b" filename*2=\"e\"\r\n\r\nxx\r\n--fold--\r\n")
    _, data, _ = send(pf, raw)
    assert rejected(data) and '"payment.exe"' in data[1], data


def raw_attachment(headers, body=b"eHg=\r\n", sender="alice@example.net"):
    """A two-part message whose attachment has exactly HEADERS (bytes,
    CRLF separated, as a sender would write them) and BODY (base64)."""
    return (b"From: " + sender.encode() + b"\r\nTo: bob@example.org\r\nSubject: raw\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"rw\"\r\n\r\n"
            b"--rw\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--rw\r\n" + headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + body + b"--rw--\r\n")


def test_encoded_names_are_decoded_before_the_rules(workdir, start, postfix):
    """RFC 2047 words (as many mailers still write names) and RFC 2231
    charsets must not hide an extension or a bidi trick."""
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    cases = [
        # RFC 2047 base64 word in the Content-Type name only: "rechnung.pdf.exe"
        (b"Content-Type: application/octet-stream; name=\"=?UTF-8?B?cmVjaG51bmcucGRmLmV4ZQ==?=\"",
         '"rechnung.pdf.exe" refused: extension .exe'),
        # RFC 2047 Q word in the filename, split over two words
        (b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;"
         b" filename=\"=?iso-8859-1?Q?f=E4ktura?= =?iso-8859-1?Q?.SCR?=\"",
         "extension .scr"),
        # RFC 2231 with a charset: U+202E (right-to-left override) percent-encoded
        (b"Content-Type: application/pdf\r\nContent-Disposition: attachment;"
         b" filename*=utf-8''invoice%E2%80%AEfdp.exe",
         "deceptive file name (bidi)"),
        # Trailing blanks and dots after the extension, quoted
        (b"Content-Type: application/octet-stream; name=\"setup.js .. \"",
         "extension .js"),
    ]
    for headers, why in cases:
        _, data, _ = send(pf, raw_attachment(headers))
        assert rejected(data) and why in data[1], (headers, data)
    # The same name not encoded, and a harmless encoded one, for contrast.
    _, data, qid = send(pf, raw_attachment(
        b"Content-Type: application/octet-stream; name=\"=?UTF-8?B?cmVwb3J0LnR4dA==?=\""))
    assert data[0] == 250, data
    pf.wait_delivered(qid)


ALLOW_RULES = """
[attach-rule partners-get-programs]
ext = exe
except_recipients = partner.example
action = reject
[attach-rule pdf-by-name]
ext = pdf
action = allow
[attach-rule pdf-content]
true_type = application/pdf
action = tag
[attach-rule broken-archives]
unreadable = yes
action = reject
[attach-rule last-only]
ext = docm
ext_last_only = yes
action = tag
"""


def test_allow_rule_recipient_exception_unreadable_and_last_extension(workdir, start,
                                                                      postfix):
    m = attach_milter(workdir, start, rules=ALLOW_RULES)
    pf = postfix_for(postfix, m)

    # allow placed first is an exception: a PDF named .pdf is not tagged,
    # the same content under another name is.
    _, data, qid = send(pf, message((PDF, "application", "pdf", "report.pdf")))
    assert data[0] == 250, data
    assert pf.wait_delivered(qid)["X-Postern-Attach"] is None
    rec = record_for(workdir, qid)
    assert rec["result"] == "rule" and rec["extra"]["rule"] == "pdf-by-name", rec
    assert rec["action"] == "accept", rec
    _, data, qid = send(pf, message((PDF, "application", "octet-stream", "scan.bin")))
    assert data[0] == 250, data
    tag = pf.wait_delivered(qid)["X-Postern-Attach"]
    assert tag is not None and "rule=pdf-content" in tag, tag

    # except_recipients: only when every recipient is in the list.
    exe = message((b"x", "application", "octet-stream", "tool.exe"))
    _, data, qid = pf.send("alice@example.net", ["ops@partner.example"], exe)
    assert data[0] == 250, data
    pf.wait_delivered(qid)
    _, data, _ = pf.send("alice@example.net", ["ops@partner.example", "bob@example.org"], exe)
    assert rejected(data) and "tool.exe" in data[1], data

    # A zip that libarchive cannot list (truncated after its first header).
    broken = zip_of(("a.txt", b"hello " * 200))[:60]
    _, data, _ = send(pf, message((broken, "application", "zip", "damaged.zip")))
    assert rejected(data) and "damaged.zip" in data[1], data

    # ext_last_only: only the last extension counts.
    _, data, qid = send(pf, message((b"macro\n", "application", "octet-stream",
                                     "budget.docm.txt")))
    assert data[0] == 250, data
    assert pf.wait_delivered(qid)["X-Postern-Attach"] is None
    _, data, qid = send(pf, message((b"macro\n", "application", "octet-stream",
                                     "budget.txt.docm")))
    assert data[0] == 250, data
    tag = pf.wait_delivered(qid)["X-Postern-Attach"]
    assert tag is not None and "rule=last-only" in tag, tag
    assert m.stop() == 0, m.log_text()


def test_broken_mime_still_gets_its_parts_checked(workdir, start, postfix):
    """Damage mail programs read alike (no final boundary, a huge header
    line) is logged and the parts found still go through the rules."""
    m = attach_milter(workdir, start)
    pf = postfix_for(postfix, m)
    exe_part = (b"--cut\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\neHg=\r\n")
    head = (b"From: alice@example.net\r\nTo: bob@example.org\r\nSubject: broken\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"cut\"\r\n")
    # No closing boundary at all.
    _, data, _ = send(pf, head + b"\r\n--cut\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                      + exe_part)
    assert rejected(data) and "run.exe" in data[1], data
    # A 60 KB header line before the parts.
    _, data, _ = send(pf, head + b"X-Padding: " + b"a" * 60000 + b"\r\n\r\n" + exe_part
                      + b"--cut--\r\n")
    assert rejected(data) and "run.exe" in data[1], data
    # A base64 body with garbage in it: decoded as clients do, and clean.
    _, data, qid = send(pf, raw_attachment(
        b"Content-Type: application/octet-stream; name=\"notes.bin\"",
        body=b"aGVsbG8g!!d29y#bGQ=\r\n"))
    assert data[0] == 250, data
    pf.wait_delivered(qid)
    assert m.stop() == 0, m.log_text()


def test_metrics_count_decisions_rule_hits_and_parse_time(workdir, start, postfix):
    port = harness.free_port()
    m = attach_milter(workdir, start, extra="metrics_listen = 127.0.0.1:%d" % port)
    pf = postfix_for(postfix, m)

    def value(name, **labels):
        return harness.metric(harness.scrape(port), name, **labels)

    assert value("postern_attach_decisions_total", cause="clean", action="accept") == 0
    assert value("postern_attach_parse_seconds_count") == 0
    _, data, _ = send(pf, message((PDF, "application", "pdf", "report.pdf")))
    assert data[0] == 250, data
    assert value("postern_attach_decisions_total", cause="clean", action="accept") == 1
    assert value("postern_attach_parse_seconds_count") == 1

    _, data, _ = send(pf, message((EXE, "application", "pdf", "statement.pdf")))
    assert rejected(data), data
    text = harness.scrape(port)
    assert harness.metric(text, "postern_attach_decisions_total", cause="rule",
                          action="reject") == 1
    assert harness.metric(text, "postern_attach_rule_hits_total",
                          rule="executable-content") == 1
    assert harness.metric(text, "postern_attach_rule_hits_total", rule="executables") == 0
    assert harness.metric(text, "postern_attach_rule_hits_total", rule="other") == 0
    assert harness.metric(text, "postern_attach_parse_seconds_count") == 2


def test_unix_socket_leaves_collecting_stages_unanswered(workdir, start):
    harness.assert_collects_quietly(attach_milter(workdir, start).spec)
