"""Real Postfix with the test milter, over unix and inet sockets: the
header the milter adds arrives with the queue id Postfix gave, RCPT
rejections reach the SMTP client, and a dead milter means 451, not
mail accepted unchecked."""
import pytest

import harness


@pytest.mark.parametrize("kind", ["unix", "inet"])
def test_header_added_by_milter_arrives_with_the_queue_id(postfix, testmilter, kind):
    m = testmilter(kind)
    pf = postfix(milters=[m.postfix_address])
    msg = harness.make_message("alice@example.net", "bob@example.org", size=4096)
    replies, data_reply, qid = pf.send("alice@example.net",
                                       ["bob@example.org", "carol@example.org"], msg,
                                       helo="client.example.net")
    assert data_reply[0] == 250, data_reply
    got = pf.wait_delivered(qid)
    assert got["X-Postern-Test"] == (
        "queue-id=%s; client=127.0.0.1; helo=client.example.net; "
        "from=alice@example.net; rcpts=2" % qid)
    assert "%s: testmilter:" % qid in m.log_text()


@pytest.mark.parametrize("kind", ["unix", "inet"])
def test_rcpt_rejections_reach_the_client(postfix, testmilter, kind):
    m = testmilter(kind)
    pf = postfix(milters=[m.postfix_address])
    msg = harness.make_message("alice@example.net", "bob@example.org")
    replies, data_reply, qid = pf.send(
        "alice@example.net", ["reject@example.org", "tempfail@example.org",
                              "bob@example.org"], msg)
    code, text = replies["reject@example.org"]
    assert (code, text[:5]) == (550, "5.7.1"), text
    code, text = replies["tempfail@example.org"]
    assert (code, text[:5]) == (451, "4.7.1"), text
    assert replies["bob@example.org"][0] == 250
    got = pf.wait_delivered(qid)
    assert got["X-Postern-Test"].endswith("rcpts=1")


def test_dead_milter_gives_451_and_delivers_nothing(postfix, testmilter):
    m = testmilter("inet")
    pf = postfix(milters=[m.postfix_address])
    assert m.stop() == 0
    msg = harness.make_message("alice@example.net", "bob@example.org")
    replies, data_reply, qid = pf.send("alice@example.net", ["bob@example.org"], msg)
    codes = [c for c, _ in replies.values()] + ([data_reply[0]] if data_reply else [])
    assert 451 in codes, (replies, data_reply)
    assert qid is None
    assert pf.delivered() == []
