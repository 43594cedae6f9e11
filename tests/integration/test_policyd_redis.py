"""postern-policyd with the Redis back end, against a real redis-server:
two daemons share one limit, a Redis outage gives the configured failure
action (and the daemons recover when Redis returns), and Postfix sees
the shared limit."""
import os
import socket

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
                "redis = 127.0.0.1:%d\nredis_timeout = 300ms\non_backend_error = %s\n%s"
                % (workdir, port, redis.port, on_error, LIMIT))
    exe = os.path.join(harness.build_dir(), "bin", "postern-policyd")
    d = start(harness.Daemon([exe, "-f", "-c", conf], "inet:%d@127.0.0.1" % port, workdir, name))
    d.port = port
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
