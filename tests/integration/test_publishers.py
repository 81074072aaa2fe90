"""kit.amqp's publishers on the real broker.

The outbox relay's (``BatchPublisher``): a batch goes out whole and confirmed, with what consumers read (JSON body,
headers, message id); a refusal raises and the next batch reconnects. RPC's (``PooledPublisher``): calls and
replies on kept channels, a call to a service nobody runs is ``UnknownService`` at once, and the calls after it
still work; no more channels than ``MAX_LINES`` are opened, whatever the green threads publishing at once; replies
are persistent unless ``RPC_PERSISTENT`` is false; and a call the broker lost is sent again once the caller's reply
consumer has reconnected (kit/rpc.py, point 6).
"""
import subprocess

import eventlet
import pytest
from amqp.exceptions import NotFound
from kombu import Connection, Exchange, Queue
from nameko.exceptions import UnknownService
from nameko.testing.services import entrypoint_hook

from kit import amqp as kit_amqp
from kit import rpc as kit_rpc
from kit.amqp import BatchPublisher
from kit.rpc import RpcProxy, rpc
from tests.fixtures import vhost_of_our_own


def bound_queue(amqp_uri, exchange, name="relay-probe", routing_key="#"):
    queue = Queue(name, exchange=exchange, routing_key=routing_key, durable=False, auto_delete=False)
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


class Echo:
    name = "echo"

    @rpc
    def echo(self, value):
        return {"echo": value}


class Caller:
    name = "caller"
    echo = RpcProxy("echo")
    nobody = RpcProxy("nobody")

    @rpc
    def call_echo(self, value):
        return self.echo.echo(value)

    @rpc
    def call_echo_at_once(self, n):
        """``n`` calls at once: as many kept channels in use together"""
        return list(eventlet.GreenPool(n).imap(self.echo.echo, range(n)))

    @rpc
    def call_nobody(self):
        return self.nobody.anything()


def test_rpc_on_kept_channels_and_an_unknown_service(container_factory, amqp_uri):
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    containers = [container_factory(cls, config) for cls in (Echo, Caller, Caller)]  # a second caller, for the hook
    for container in containers:
        container.start()
    caller = containers[-1]
    with entrypoint_hook(caller, "call_echo") as call_echo:
        assert call_echo("سلام") == {"echo": "سلام"}
    kept = kit_amqp._LINES[(amqp_uri, repr(None), None)]
    # the echo's reply may still hold the caller's channel (taken back last in, first out) until its confirmation
    with eventlet.Timeout(5, False):
        while not kept:
            eventlet.sleep(0.01)
    assert kept, "the channels used were kept for the next message"
    with entrypoint_hook(caller, "call_nobody") as call_nobody, eventlet.Timeout(10):
        with pytest.raises(UnknownService):  # returned by the broker and confirmed: no wait for a timeout
            call_nobody()
    with entrypoint_hook(caller, "call_echo_at_once") as call_echo_at_once:  # the refused channel is not reused
        assert call_echo_at_once(20) == [{"echo": i} for i in range(20)]
    with eventlet.Timeout(5, False):
        while len(kept) < 2:
            eventlet.sleep(0.01)
    assert 1 < len(kept) <= kit_amqp.MAX_LINES
    open_lines = list(kept)
    for container in containers:  # a stopping container closes the kept channels of its broker
        container.stop()
    assert kept == [] and not any(line.connection.connected for line in open_lines)


def bounded(monkeypatch, most, confirm_timeout=None):
    """kit.amqp with at most ``most`` lines a broker, counting the connections it opens."""
    opened = []

    class Counted(kit_amqp._Line):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(kit_amqp, "MAX_LINES", most)
    monkeypatch.setattr(kit_amqp, "_BOUNDS", {})
    monkeypatch.setattr(kit_amqp, "_Line", Counted)
    if confirm_timeout:
        monkeypatch.setattr(kit_amqp, "CONFIRM_TIMEOUT", confirm_timeout)
    return opened


def start_echo_and_caller(container_factory, amqp_uri):
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    containers = [container_factory(cls, config) for cls in (Echo, Caller)]
    for container in containers:
        container.start()
    return containers[-1]


def test_calls_beyond_the_bound_wait_for_a_line_instead_of_opening_one(container_factory, amqp_uri, monkeypatch):
    """Twenty calls at once, each a request and a reply to publish, on at most three connections: the green
    threads beyond wait for a line to come back (a storm's first second once opened one per request in flight)."""
    opened = bounded(monkeypatch, 3)
    caller = start_echo_and_caller(container_factory, amqp_uri)
    with entrypoint_hook(caller, "call_echo_at_once") as call_echo_at_once, eventlet.Timeout(20):
        assert call_echo_at_once(20) == [{"echo": i} for i in range(20)]
        assert call_echo_at_once(20) == [{"echo": i} for i in range(20)]
    assert 1 <= len(opened) <= 3
    assert len(kit_amqp._LINES[(amqp_uri, repr(None), None)]) <= 3


def test_a_call_that_finds_no_line_free_gives_up_after_the_confirm_timeout(container_factory, amqp_uri,
                                                                          monkeypatch):
    """Every line held (by publishes a broker does not confirm, say): a call waits at most ``CONFIRM_TIMEOUT`` for
    one, as long as a publish waits for its confirmation, and raises ``BrokerUnavailable`` (the gateway's 503, not
    a 500: seen when RabbitMQ was killed mid-storm); calls go through again once a line is back."""
    bounded(monkeypatch, 1, confirm_timeout=0.3)
    caller = start_echo_and_caller(container_factory, amqp_uri)
    with entrypoint_hook(caller, "call_echo") as call_echo, eventlet.Timeout(10):
        assert call_echo("یک") == {"echo": "یک"}
        bound = kit_amqp._BOUNDS[(amqp_uri, repr(None), None)]
        bound.acquire()  # the only line, taken
        started = eventlet.hubs.get_hub().clock()
        with pytest.raises(kit_amqp.BrokerUnavailable):
            call_echo("دو")
        assert eventlet.hubs.get_hub().clock() - started >= 0.29
        bound.release()
        assert call_echo("سه") == {"echo": "سه"}


def probe_reply(container_factory, amqp_uri, config, correlation_id):
    """Call the echo service with a request of our own; its reply, as the broker holds it."""
    from kombu import Producer

    echo = container_factory(Echo, {"AMQP_URI": amqp_uri, "serializer": "json", **config})
    echo.start()
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    replies = bound_queue(amqp_uri, rpc_exchange, f"probe-replies-{correlation_id}", routing_key=correlation_id)
    with Connection(amqp_uri) as conn:
        Producer(conn.default_channel).publish(
            {"args": ["سلام"], "kwargs": {}}, exchange=rpc_exchange, routing_key="echo.echo", serializer="json",
            reply_to=correlation_id, correlation_id=correlation_id)
    (reply,) = drain(amqp_uri, replies, 1)
    echo.stop()  # the next probe's echo answers alone
    assert reply.payload == {"result": {"echo": "سلام"}, "error": None}
    assert reply.properties["correlation_id"] == correlation_id
    return reply


def test_a_reply_is_persistent_unless_rpc_persistent_is_false(container_factory, amqp_uri):
    """A reply outlives a broker restart in the caller's durable reply queue: it is sent persistent, as nameko's
    are, even on a kept channel; ``RPC_PERSISTENT=false`` sends it transient (kit/rpc.py, point 6)."""
    assert probe_reply(container_factory, amqp_uri, {}, "probe-1").properties["delivery_mode"] == 2
    transient = probe_reply(container_factory, amqp_uri, {"RPC_PERSISTENT": False}, "probe-2")
    assert transient.properties["delivery_mode"] == 1


@pytest.fixture
def own_vhost():
    """A vhost for one test, whose connections it may close without touching anyone else's."""
    with vhost_of_our_own("khademyar-test-own") as (vhost, uri):
        if vhost is None:
            pytest.skip("rabbitmqctl cannot make a vhost here")
        yield vhost, uri


class Later(Echo):
    """The echo again, under a name whose queue the test declares before anyone consumes it."""
    name = "later"


class LaterCaller:
    name = "later_caller"
    later = RpcProxy("later")

    @rpc
    def call_later(self, value):
        return self.later.echo(value)


@pytest.mark.parametrize("request_lost", [True, False])
def test_a_call_a_broker_restart_lost_is_sent_again_when_the_reply_consumer_reconnects(container_factory, own_vhost,
                                                                                    request_lost):
    """A broker restart loses the transient requests it held (``RPC_PERSISTENT=false``; kit/rpc.py, point 6). Here
    the broker is made to lose one: the request is taken off its queue before its service runs, as a restart would;
    then every connection of the vhost is closed, as a restart does. The caller's reply consumer reconnects and
    sends the awaited call again, and the call is answered long before its RPC_TIMEOUT. When the request was not
    lost (a forced close without a restart), it is delivered twice and the caller still gets one answer."""
    vhost, uri = own_vhost
    config = {"AMQP_URI": uri, "serializer": "json", "RPC_TIMEOUT": 60, "RPC_PERSISTENT": "false"}
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    requests = Queue("rpc-later", exchange=rpc_exchange, routing_key="later.*", durable=True)
    with Connection(uri) as conn:
        requests.bind(conn.default_channel).declare()
    caller = container_factory(LaterCaller, config)
    caller.start()
    with entrypoint_hook(caller, "call_later") as call_later:
        pending = eventlet.spawn(call_later, "دوباره")
        with Connection(uri) as conn, eventlet.Timeout(10):
            channel = conn.channel()
            while True:  # the request, waiting in its queue
                message = channel.basic_get("rpc-later", no_ack=False)
                if message is not None:
                    break
                eventlet.sleep(0.05)
            assert message.properties["delivery_mode"] == 1  # transient: a restart would lose it
            if request_lost:
                channel.basic_ack(message.delivery_tag)  # gone, as in a restart
            else:
                channel.basic_reject(message.delivery_tag, requeue=True)
        started = eventlet.hubs.get_hub().clock()
        closed = subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "restart, as it were"],
                                capture_output=True, text=True)
        assert closed.returncode == 0, closed.stderr
        container_factory(Later, config).start()
        with eventlet.Timeout(30):
            assert pending.wait() == {"echo": "دوباره"}
        assert eventlet.hubs.get_hub().clock() - started < 30  # not the RPC_TIMEOUT (60 s)
    listeners = [e for e in caller.subextensions if isinstance(e, kit_rpc.ReplyListener)]
    assert listeners and all(not lst._sends and not lst._reply_events for lst in listeners)  # nothing kept


def test_deliveries_read_in_chunks_arrive_whole_and_in_order(amqp_uri):
    """kit.amqp reads the socket up to READ_CHUNK bytes at a time (tests/unit/test_amqp_reads.py): on the real
    broker, a burst of messages of every size around and across that chunk arrives whole, in order, and the
    connection stays usable for the next publication."""
    sizes = [0, 1, 7, 500, kit_amqp.READ_CHUNK - 9, kit_amqp.READ_CHUNK, kit_amqp.READ_CHUNK + 1,
             3 * kit_amqp.READ_CHUNK + 17, 131072 + 3] + [300] * 200
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = channel.queue_declare("", exclusive=True).queue
        for n, size in enumerate(sizes):
            body = bytes([n % 251]) * size
            channel.basic_publish(amqp_message(body, n), routing_key=queue)
        got = []
        channel.basic_consume(queue, callback=got.append, no_ack=True)
        while len(got) < len(sizes):
            conn.drain_events(timeout=5)
        assert [len(m.body) for m in got] == sizes
        # (an empty body is py-amqp's "")
        assert [n for n, m in enumerate(got) if (m.body or b"") != bytes([n % 251]) * sizes[n]] == []
        assert [m.properties["message_id"] for m in got] == [str(n) for n in range(len(sizes))]
        channel.basic_publish(amqp_message(b"after", "last"), routing_key=queue)
        conn.drain_events(timeout=5)
        assert got[-1].body == b"after"


def amqp_message(body, n):
    import amqp
    return amqp.Message(body, message_id=str(n))


def test_replies_that_arrive_together_are_acknowledged_together(container_factory, amqp_uri, monkeypatch):
    """kit.rpc's ReplyConsumer acknowledges a burst of replies with one ``basic.ack`` (``multiple``) for its last:
    fewer acknowledgements than replies under concurrent calls, and none left unacknowledged at the broker."""
    import subprocess

    from kombu.message import Message

    acks = []
    real_ack = Message.ack

    def counting_ack(self, multiple=False):
        acks.append((self.delivery_info.get("routing_key"), multiple))
        return real_ack(self, multiple=multiple)

    monkeypatch.setattr(Message, "ack", counting_ack)
    config = {"AMQP_URI": amqp_uri, "serializer": "json"}
    containers = [container_factory(cls, config) for cls in (Echo, Caller)]
    for container in containers:
        container.start()
    with entrypoint_hook(containers[1], "call_echo_at_once") as call_echo_at_once:
        for _ in range(5):
            assert call_echo_at_once(40) == [{"echo": i} for i in range(40)]
    reply_acks = [multiple for key, multiple in acks if not key.startswith("echo.")]
    assert reply_acks and all(reply_acks)  # every reply acknowledged as the last of its burst
    assert len(reply_acks) < 200  # 200 replies came; bursts shared an acknowledgement
    vhost = amqp_uri.rsplit("/", 1)[1]
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages_unacknowledged"],
                            capture_output=True, text=True, check=True).stdout
    reply_queues = [line.split() for line in listed.splitlines() if line.startswith("rpc.reply-")]
    assert reply_queues and all(n == "0" for _, n in reply_queues), listed
