"""genmsg: the benchmark's test messages, made from fixed seeds so every
run and every commit measures the same bytes.

    python3 bench/genmsg.py DIR        writes DIR/<name>.eml, prints paths

Four kinds (MESSAGES): a 4 KB plain-text message, 100 KB with a base64
PDF-like attachment, a 5 MB attachment, and a 50-part multipart/mixed.
Two more (EXTRA) only the attachment section sends: a zip of 50 entries,
and the same zip with a Windows program among them (refused by both
sides). Sender and domains are example.org (RFC 2606), the domain the
benchmark's DKIM signers sign for. bench/run imports generate().
"""
import base64
import io
import os
import random
import sys
import zipfile

# Bump when the output changes, so cached files are rewritten.
VERSION = 1

WORDS = ("mail filter postern message queue relay header body domain "
         "policy signature report sender recipient archive invoice "
         "meeting schedule budget project the a of and to in for on with "
         "is are was be this that from by at").split()

BOUNDARY = "=_postern_bench_%s"


def text_lines(rng, nbytes, width=72):
    """Word-wrapped pseudo-English of about NBYTES bytes, as lines."""
    lines, size = [], 0
    while size < nbytes:
        line = []
        while sum(len(w) + 1 for w in line) < width - 10:
            line.append(rng.choice(WORDS))
        s = " ".join(line).capitalize() + "."
        lines.append(s)
        size += len(s) + 2
    return lines


def pdf_like(rng, nbytes):
    """Bytes that look like a PDF to a type sniffer: header, objects of
    random stream data, trailer."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    body = b"2 0 obj\n<< /Length %d >>\nstream\n" % nbytes
    fill = max(0, nbytes - len(head) - len(body) - len(tail))
    return head + body + rng.randbytes(fill) + tail


def b64_lines(data):
    enc = base64.b64encode(data).decode()
    return [enc[i:i + 76] for i in range(0, len(enc), 76)]


def headers(name, subject, extra=()):
    return ["From: Sender <sender@example.org>",
            "To: Recipient <rcpt@example.com>",
            "Subject: %s" % subject,
            "Date: Wed, 25 Nov 2026 06:00:00 +0000",
            "Message-ID: <bench-%s@example.org>" % name,
            "MIME-Version: 1.0", *extra]


def plain(name, rng, size):
    head = headers(name, "postern benchmark, plain text",
                   ["Content-Type: text/plain; charset=us-ascii"])
    return head + [""] + text_lines(rng, size - 300)


def attached(name, rng, subject, ctype, fname, data):
    """A short text part and one base64 attachment of type CTYPE named
    FNAME, whose bytes DATA() makes (after the text, from the same RNG)."""
    b = BOUNDARY % name
    lines = headers(name, subject, ['Content-Type: multipart/mixed; boundary="%s"' % b])
    lines += ["", "--" + b, "Content-Type: text/plain; charset=us-ascii", ""]
    lines += text_lines(rng, 600)
    lines += ["--" + b, 'Content-Type: %s; name="%s"' % (ctype, fname),
              "Content-Transfer-Encoding: base64",
              'Content-Disposition: attachment; filename="%s"' % fname, ""]
    lines += b64_lines(data())
    return lines + ["--" + b + "--"]


def with_attachment(name, rng, size):
    """A PDF attachment; SIZE is the whole message, so the raw
    attachment is about 3/4 of it (base64)."""
    return attached(name, rng, "postern benchmark, report attached", "application/pdf",
                    "report.pdf", lambda: pdf_like(rng, (size - 1500) * 3 // 4))


# The smallest PE header libmagic calls a Windows program.
EXE = (b"MZ" + b"\x90" * 58 + b"\x80\0\0\0" + b"\0" * 64 + b"PE\0\0" + b"\x4c\x01"
       + b"\0" * 398)


def zip_of(rng, entries, with_exe):
    """A deflated zip of ENTRIES files, text and PDF-like alternating
    (2-6 KB each), with fixed times so the bytes never change; WITH_EXE
    makes the last one tools/setup.exe."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(entries):
            if with_exe and i == entries - 1:
                name, data = "tools/setup.exe", EXE
            elif i % 2:
                name, data = "docs/scan%02d.pdf" % i, pdf_like(rng, rng.randrange(2000, 6000))
            else:
                name = "notes/day%02d.txt" % i
                data = "\r\n".join(text_lines(rng, rng.randrange(2000, 6000))).encode()
            z.writestr(zipfile.ZipInfo(name, (2026, 11, 25, 6, 0, 0)), data,
                       zipfile.ZIP_DEFLATED)
    return out.getvalue()


def with_zip(name, rng, entries, with_exe=False):
    """A zip attachment of ENTRIES files (zip_of)."""
    return attached(name, rng, "postern benchmark, archive attached", "application/zip",
                    "files.zip", lambda: zip_of(rng, entries, with_exe))


def multipart(name, rng, parts):
    """PARTS parts alternating text and small base64 attachments, the
    shape that costs MIME walkers (attachment and AV filters) most."""
    b = BOUNDARY % name
    lines = headers(name, "postern benchmark, %d parts" % parts,
                    ['Content-Type: multipart/mixed; boundary="%s"' % b])
    lines.append("")
    for i in range(parts):
        lines.append("--" + b)
        if i % 2 == 0:
            lines += ["Content-Type: text/plain; charset=us-ascii", ""]
            lines += text_lines(rng, 400)
        else:
            lines += ['Content-Type: application/octet-stream; '
                      'name="part%02d.bin"' % i,
                      "Content-Transfer-Encoding: base64",
                      'Content-Disposition: attachment; '
                      'filename="part%02d.bin"' % i, ""]
            lines += b64_lines(rng.randbytes(1200))
    return lines + ["--" + b + "--"]


# name -> (seed, builder). The seed is part of the contract: change it
# and results are no longer comparable across commits.
MESSAGES = {
    "plain4k": (4001, lambda n, r: plain(n, r, 4096)),
    "pdf100k": (4002, lambda n, r: with_attachment(n, r, 100 * 1024)),
    "attach5m": (4003, lambda n, r: with_attachment(n, r, 5 * 1024 * 1024)),
    "multi50": (4004, lambda n, r: multipart(n, r, 50)),
}

# Sent by the attachment section only (see the module comment).
EXTRA = {
    "zip50": (4005, lambda n, r: with_zip(n, r, 50)),
    "zip50exe": (4006, lambda n, r: with_zip(n, r, 50, with_exe=True)),
}


def generate(outdir, names=None):
    """Writes the messages NAMES (default all of MESSAGES) into OUTDIR unless already
    there for this VERSION; returns {name: path}."""
    os.makedirs(outdir, exist_ok=True)
    paths = {}
    for name in names or MESSAGES:
        seed, build = MESSAGES[name] if name in MESSAGES else EXTRA[name]
        path = os.path.join(outdir, "%s.v%d.eml" % (name, VERSION))
        if not os.path.exists(path):
            lines = build(name, random.Random(seed))
            tmp = path + ".tmp"
            with open(tmp, "w", newline="") as f:
                f.write("\r\n".join(lines) + "\r\n")
            os.replace(tmp, path)
        paths[name] = path
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: genmsg.py OUTDIR")
    for p in generate(sys.argv[1]).values():
        print(p)
