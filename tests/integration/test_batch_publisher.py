"""The outbox relay's publisher (kit.amqp.BatchPublisher) on the real broker: a batch goes out whole and confirmed,
with what consumers read (JSON body, headers, message id); a refusal raises and the next batch reconnects."""
import pytest
from amqp.exceptions import NotFound
from kombu import Connection, Exchange, Queue

from kit.amqp import BatchPublisher


def bound_queue(amqp_uri, exchange, name="relay-probe"):
    queue = Queue(name, exchange=exchange, routing_key="#", durable=False, auto_delete=False)
    with Connection(amqp_uri) as conn:
        queue.bind(conn.default_channel).declare()
    return queue


def drain(amqp_uri, queue, expect):
    got = []
    with Connection(amqp_uri) as conn:
        with conn.SimpleQueue(queue) as simple:
            while len(got) < expect:
                message = simple.get(timeout=5)
                message.ack()
                got.append(message)
    return got


def test_a_batch_is_published_whole_and_confirmed(amqp_uri):
    exchange = Exchange("probe.events", type="topic", durable=True)
    publisher = BatchPublisher(amqp_uri, exchange)
    queue = bound_queue(amqp_uri, exchange)
    try:
        batch = [{"body": {"event_id": f"e{i}", "payload": {"n": i, "name": "خادمیار"}}, "routing_key": "Probed",
                  "message_id": f"e{i}", "headers": {"nameko.correlation_id": f"c{i}"}} for i in range(250)]
        publisher.publish(batch[:200])
        assert publisher.pending == set() and publisher.published == 200  # answered once all were confirmed
        publisher.publish(batch[200:])  # the same channel, its delivery tags going on
        assert publisher.pending == set() and publisher.published == 250
    finally:
        publisher.close()
    got = drain(amqp_uri, queue, 250)
    assert [m.payload["payload"]["n"] for m in got] == list(range(250))
    assert got[7].payload["payload"]["name"] == "خادمیار"
    assert got[7].headers["nameko.correlation_id"] == "c7" and got[7].properties["message_id"] == "e7"
    assert got[7].properties["delivery_mode"] == 2  # events survive a broker restart


def test_a_refused_batch_raises_and_the_next_one_reconnects(amqp_uri):
    missing = Exchange("nowhere.events", type="topic", durable=True, no_declare=True)
    publisher = BatchPublisher(amqp_uri, missing)
    with pytest.raises(NotFound):  # the broker closes the channel: no such exchange
        publisher.publish([{"body": {"n": 1}, "routing_key": "Probed"}])
    assert publisher.channel is None  # closed, not left half-broken
    declared = Exchange("nowhere.events", type="topic", durable=True)
    queue = bound_queue(amqp_uri, declared, "relay-probe-2")
    try:
        publisher.publish([{"body": {"n": 2}, "routing_key": "Probed"}])
    finally:
        publisher.close()
    assert [m.payload for m in drain(amqp_uri, queue, 1)] == [{"n": 2}]
