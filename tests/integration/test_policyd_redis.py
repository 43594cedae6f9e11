"""postern-policyd with the Redis back end, against a real redis-server:
two daemons share one limit, "postern policyd status" reads it, a Redis outage gives the configured failure
action (and the daemons recover when Redis returns), and Postfix sees
the shared limit."""
import os
import socket
import subprocess

import harness

LIMIT = """
[limit per-sender]
key = sender
stage = rcpt
rate = 4/1h
"""


def daemon(workdir, start, redis, name, on_error="dunno"):
    port = harness.free_port()
    conf = os.path.join(workdir, name + ".conf")
    with open(conf, "w") as f:
        f.write("[global]\nuser =\naudit_log = %s/audit.jsonl\n"
                "[policyd]\nlisten = inet:%d@127.0.0.1\nbackend = redis\n"
                "redis = 127.0.0.1:%d\nredis_timeout = 300ms\non_backend_error = %s\n"
                "status_socket = unix:%s/%s.status\n%s"
                % (workdir, port, redis.port, on_error, workdir, name, LIMIT))
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    d = start(harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir, name))
    d.port = port
    d.conf = conf
    harness.wait_until(lambda: "connected to redis" in d.log_text(), 10, "redis connection")
    return d


def ask(port, sender):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\n"
                  b"recipient_count=0\nclient_address=192.0.2.1\nqueue_id=\n\n"
                  % sender.encode())
        return s.recv(1000).decode().strip()


def test_two_daemons_share_one_limit(workdir, start, redis):
    a = daemon(workdir, start, redis, "a")
    b = daemon(workdir, start, redis, "b")
    answers = [ask(d.port, "alice@example.net") for d in (a, b, a, b, a, b)]
    assert answers[:4] == ["action=DUNNO"] * 4
    assert all(x.startswith("action=DEFER_IF_PERMIT 4.7.1") for x in answers[4:]), answers
    assert ask(b.port, "bob@example.net") == "action=DUNNO"
    assert redis.command("EXISTS", "postern:rl:per-sender|alice@example.net") == b":1"


def status(d, *args):
    exe = os.path.join(harness.build_dir(), "bin", "postern")
    return subprocess.run([exe, "policyd", "status", "-c", d.conf, *args],
                          capture_output=True, text=True, timeout=10)


def test_status_reads_keys_and_top_talkers_from_redis(workdir, start, redis):
    a = daemon(workdir, start, redis, "a")
    b = daemon(workdir, start, redis, "b")
    for d, sender, n in ((a, "erin@example.net", 3), (b, "erin@example.net", 2),
                         (a, "frank@example.net", 1)):
        for _ in range(n):
            ask(d.port, sender)
    # Another program's key, named like a limit's, must not be listed.
    redis.command("SET", "postern:rl:per-senderX|mallory@example.net", "99999999999999999")
    # b sees what a charged: the state is in Redis, not in either daemon.
    r = status(b, "-l", "per-sender", "-k", "Erin@Example.NET")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "used=4" in r.stdout and "remaining=0" in r.stdout and "burst=4" in r.stdout, r.stdout
    r = status(a, "-l", "per-sender", "-k", "nobody@example.net")
    assert r.returncode == 0 and "used=0" in r.stdout and "remaining=4" in r.stdout
    r = status(a, "-l", "per-sender", "-t", "5")
    assert r.stdout.strip().splitlines() == ["key=erin@example.net used=4",
                                             "key=frank@example.net used=1"], r.stdout
    redis.stop()
    r = status(a, "-l", "per-sender", "-k", "erin@example.net")
    assert r.returncode == 1 and "error=the redis back end did not answer" in r.stdout, r.stdout
    assert "status query" in a.log_text()
    redis.start()
    r = status(a, "-l", "per-sender", "-k", "erin@example.net")
    assert r.returncode == 0 and "used=0" in r.stdout, r.stdout    # a new, empty server


def test_redis_outage_gives_the_failure_action_then_recovers(workdir, start, redis):
    closed = daemon(workdir, start, redis, "closed", on_error="defer")
    opened = daemon(workdir, start, redis, "open", on_error="dunno")
    redis.stop()
    assert ask(closed.port, "carol@example.net").startswith("action=DEFER_IF_PERMIT 4.3.0")
    assert ask(opened.port, "carol@example.net") == "action=DUNNO"
    assert "redis" in closed.log_text() and "answered DEFER_IF_PERMIT" in closed.log_text()
    redis.start()
    harness.wait_until(lambda: closed.log_text().count("connected to redis") >= 2, 20,
                       "reconnect")
    assert ask(closed.port, "carol@example.net") == "action=DUNNO"


def test_postfix_sees_the_shared_limit(workdir, start, redis, postfix):
    a = daemon(workdir, start, redis, "a")
    check = "check_policy_service { inet:127.0.0.1:%d, timeout=10s, default_action=DUNNO }" % a.port
    pf = postfix(extra_main_cf={"smtpd_recipient_restrictions": check,
                                "default_transport": "discard"})
    # Another daemon used up most of dave's quota.
    b = daemon(workdir, start, redis, "b")
    for _ in range(3):
        assert ask(b.port, "dave@example.net") == "action=DUNNO"
    msg = harness.make_message("dave@example.net", "x@example.org")
    assert pf.send("dave@example.net", ["x@example.org"], msg)[1][0] == 250
    replies, data, qid = pf.send("dave@example.net", ["x@example.org"], msg)
    assert replies["x@example.org"][0] == 450, replies
