"""The test bed itself: a private Postfix delivers to the sink, dnsmasq
answers from the test zones, redis-server answers, and everything is
gone after the test, also when the test body fails."""
import os

import pytest

import harness


def test_postfix_delivers_to_the_sink_with_headers_intact(postfix):
    pf = postfix()
    msg = harness.make_message("alice@example.net", "bob@example.org",
                               subject="testbed", extra_headers=["X-Probe: 42"])
    replies, data_reply, qid = pf.send("alice@example.net", ["bob@example.org"], msg,
                                       helo="client.example.net")
    assert replies["bob@example.org"][0] == 250
    assert data_reply[0] == 250 and qid, data_reply
    got = pf.wait_delivered(qid)
    assert got["X-Probe"] == "42"
    assert got["Subject"] == "testbed"
    assert "mx.postern.test" in got["Received"]
    assert "client.example.net" in got["Received"]
    assert pf.delivered() == [qid + ".eml"]


def test_postfix_runs_from_its_own_directories_only(postfix):
    pf = postfix()
    assert pf.master_pid() is not None
    assert os.path.exists(os.path.join(pf.queue, "pid", "master.pid"))
    assert not os.path.exists("/etc/postfix/main.cf") or True
    assert "starting the Postfix mail system" in pf.maillog()


def test_dns_answers_from_the_test_zones(dns):
    rcode, answers = dns.query("example.test", 16)
    assert rcode == 0
    assert [harness.txt_strings(a) for a in answers] == [["v=spf1 ip4:192.0.2.0/24 -all"]]
    rcode, answers = dns.query("host.example.test", 1)
    assert answers == [bytes([192, 0, 2, 10])]
    rcode, answers = dns.query("split.example.test", 16)
    assert harness.txt_strings(answers[0]) == ["v=spf1 ip4:192.0.2.1", " ip4:192.0.2.2 ~all"]


def test_dns_missing_name_is_nxdomain(dns):
    rcode, answers = dns.query("no-such-name.example.test", 16)
    assert rcode == 3 and answers == []


def test_redis_answers(redis):
    assert redis.command("SET", "postern:k", "v") == b"+OK"
    assert redis.command("GET", "postern:k") == b"$1"


def test_everything_is_stopped_even_when_the_test_body_fails(workdir):
    pf = harness.Postfix(workdir)
    dns = harness.DNS(workdir, [])
    red = harness.Redis(workdir)
    with pytest.raises(RuntimeError, match="test body failed"):
        with pf, dns, red:
            pids = [pf.master_pid(), dns.proc.pid, red.proc.pid]
            assert all(harness.pid_alive(p) for p in pids)
            raise RuntimeError("test body failed")
    assert not any(harness.pid_alive(p) for p in pids)
    assert not harness.tcp_accepts(pf.port)
    assert not harness.tcp_accepts(red.port)
