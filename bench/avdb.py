"""avdb: the antivirus benchmark's signature database and infected
message, made from fixed seeds so that every run measures the same
engine.

    python3 bench/avdb.py DIR      writes DIR/synth.hdb, DIR/synth.ndb

The real ClamAV databases cannot be downloaded here, and a database of
two signatures hides what the engine costs (its hash tables and the
Aho-Corasick automaton of body patterns grow with the database), so the
benchmark uses a synthetic one of the same order as ClamAV's daily
database: HASHES MD5 file signatures (.hdb) and PATTERNS body patterns
of 12 to 32 random bytes (.ndb, any file type), plus the benchmark's
marker signatures. Random patterns that long never match the generated
messages by chance, so clean mail stays clean. bench/run imports write().
"""
import os
import random
import shutil
import sys

VERSION = 1
SEED = 8008
HASHES = 1000000
PATTERNS = 30000

# Matched by the infected message: a body pattern and the MD5 of its
# attachment (both must be found; reporting stops at the first).
MARKER = b"postern-bench-marker"
MARKERS = """\
Postern.Bench.Marker:0:*:%s
Postern.Bench.Pattern:0:*:deadbeefcafebabe0011223344556677
Postern.Bench.Wild:0:*:50444642656e6368{-20}00ff00ff
""" % MARKER.hex()


def _write(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.replace(tmp, path)


def write(dbdir):
    """Writes the database into DBDIR unless this VERSION is there;
    returns DBDIR. Both sides of the benchmark load the same files."""
    os.makedirs(dbdir, exist_ok=True)
    stamp = os.path.join(dbdir, ".synth-v%d" % VERSION)
    if os.path.exists(stamp):
        return dbdir
    rng = random.Random(SEED)
    _write(os.path.join(dbdir, "synth.hdb"),
           ("%s:%d:Postern.Synth.Hash-%d\n"
            % (rng.randbytes(16).hex(), rng.randrange(64, 1 << 20), i)
            for i in range(HASHES)))
    _write(os.path.join(dbdir, "synth.ndb"),
           ("Postern.Synth.Body-%d:0:*:%s\n"
            % (i, rng.randbytes(rng.randrange(12, 33)).hex())
            for i in range(PATTERNS)))
    _write(os.path.join(dbdir, "bench.ndb"), [MARKERS])
    open(stamp, "w").close()
    return dbdir


def replace(dbdir):
    """Replaces every database file in DBDIR with a fresh copy of itself,
    written beside and renamed over, as freshclam installs an update: new
    inodes and times, the same signatures, so a reload costs what loading
    costs."""
    for name in sorted(os.listdir(dbdir)):
        if name.startswith("."):
            continue
        path = os.path.join(dbdir, name)
        shutil.copyfile(path, path + ".new")
        os.replace(path + ".new", path)


def infected_message(outdir):
    """A 4 KB-ish message whose base64 attachment carries MARKER; its path."""
    import base64
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "infected.v%d.eml" % VERSION)
    if os.path.exists(path):
        return path
    rng = random.Random(SEED + 1)
    payload = rng.randbytes(2000) + MARKER + rng.randbytes(1000)
    enc = base64.b64encode(payload).decode()
    b = "=_postern_bench_infected"
    lines = ["From: Sender <sender@example.org>", "To: Recipient <rcpt@example.com>",
             "Subject: postern benchmark, infected attachment",
             "Date: Wed, 25 Nov 2026 06:00:00 +0000",
             "Message-ID: <bench-infected@example.org>", "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="%s"' % b, "",
             "--" + b, "Content-Type: text/plain; charset=us-ascii", "",
             "The attachment is the benchmark's test virus.",
             "--" + b, 'Content-Type: application/octet-stream; name="x.bin"',
             "Content-Transfer-Encoding: base64",
             'Content-Disposition: attachment; filename="x.bin"', ""]
    lines += [enc[i:i + 76] for i in range(0, len(enc), 76)]
    lines += ["--" + b + "--"]
    with open(path + ".tmp", "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    os.replace(path + ".tmp", path)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: avdb.py DIR")
    print(write(sys.argv[1]))
