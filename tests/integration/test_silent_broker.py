"""A broker that goes silent holds nothing for ever (kit/amqp.py).

A network partition resets nothing: every open connection stays open and nothing comes back on it. py-amqp waits
without a bound for a publisher confirmation and for the answer to a close, so before these bounds one silent
connection held every worker that published on it and every consumer that tried to reconnect (the gateway stopped
answering; tests/faults ``test_broker_partitioned`` is the whole system's version of these tests). Here the
connections go through ``BrokerLink`` (a relay in this process) to the real RabbitMQ, and the relay is partitioned.
"""
import socket
import time

import eventlet
import pytest
from amqp.exceptions import ConnectionForced
from kombu import Connection, Exchange
from nameko.testing.services import entrypoint_hook

from kit import amqp as kit_amqp
from kit.amqp import BatchPublisher, PooledPublisher
from kit.rpc import RpcProxy, ServiceTimeout, rpc
from tests.faults.support import BrokerLink
from tests.fixtures import AMQP_HOST

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def link():
    host, port = AMQP_HOST.rsplit(":", 1)
    relay = BrokerLink(upstream=(host, int(port)))
    yield relay
    relay.close()


@pytest.fixture
def via_link(link, amqp_uri):
    """``amqp_uri`` (a vhost of this test) reached through the relay."""
    return amqp_uri.replace(AMQP_HOST, f"127.0.0.1:{link.port}")


def partitioned(link, seconds=30):
    """Partition the relay in the background (connections open now stay silent for good)."""
    thread = eventlet.spawn(link.partition, seconds)
    eventlet.sleep(0)  # let it begin
    return thread


def seconds_of(action):
    started = time.monotonic()
    try:
        action()
        return time.monotonic() - started, None
    except Exception as exc:  # what it raised, judged by the caller
        return time.monotonic() - started, exc


def test_a_publication_on_a_silent_kept_channel_gives_up_and_drops_the_kept_channels(link, via_link, monkeypatch):
    monkeypatch.setattr(kit_amqp, "CONFIRM_TIMEOUT", 1.0)
    monkeypatch.setattr(kit_amqp, "CONNECT_TIMEOUT", 1.0)
    publisher = PooledPublisher(via_link, retry=False)
    publisher.publish({"n": 1}, routing_key="nobody-listens")  # the default exchange drops it; confirmed all the same
    kept = kit_amqp._LINES[(via_link, repr(None), None)]
    assert len(kept) == 1
    partitioned(link)
    with eventlet.Timeout(20):
        took, error = seconds_of(lambda: publisher.publish({"n": 2}, routing_key="nobody-listens"))
    # the kept channel's confirmation is given up after 1 s; a fresh connection is not answered (kombu's connect:
    # two tries of 1 s, 2 s apart), and without retries that is the end
    assert isinstance(error, kit_amqp.CONNECTION_ERRORS), error
    assert took < 8, took
    assert kept == [], "a channel that went silent was kept for the next publication"


def test_a_publication_after_the_partition_goes_through_at_once(link, via_link, monkeypatch):
    monkeypatch.setattr(kit_amqp, "CONFIRM_TIMEOUT", 1.0)
    publisher = PooledPublisher(via_link, retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2,
                                                                    "interval_step": 0.2, "interval_max": 0.5})
    publisher.publish({"n": 1}, routing_key="nobody-listens")
    partitioned(link, seconds=0.5).wait()
    with eventlet.Timeout(20):
        took, error = seconds_of(lambda: publisher.publish({"n": 2}, routing_key="nobody-listens"))
    assert error is None, error
    assert took < 3, took  # the silent kept channel for a second, then a fresh connection


def test_a_consumer_connection_that_misses_heartbeats_is_dropped_and_closes_at_once(link, via_link):
    conn = Connection(via_link, heartbeat=1)
    conn.connect()
    partitioned(link)
    forced = None
    with eventlet.Timeout(15):
        while forced is None:  # what kombu's consumer loop does between two reads
            try:
                conn.drain_events(timeout=0.2)
            except socket.timeout:
                try:
                    conn.heartbeat_check()
                except ConnectionForced as exc:
                    forced = exc
    with eventlet.Timeout(10):  # py-amqp's own close would wait for a Close-Ok for ever
        took, error = seconds_of(conn.release)
    assert error is None, error
    assert took < 0.5, took  # already dropped: nothing was sent, nothing awaited


def test_closing_a_silent_connection_waits_at_most_the_grace(link, via_link):
    conn = Connection(via_link)
    conn.connect()
    partitioned(link)
    with eventlet.Timeout(10):
        took, error = seconds_of(conn.release)
    assert error is None, error
    assert kit_amqp.CLOSE_GRACE - 0.1 < took < kit_amqp.CLOSE_GRACE + 1, took


def test_the_relay_publisher_gives_up_a_silent_batch_and_closes_at_once(link, via_link):
    exchange = Exchange("probe.events", type="topic", durable=True)
    publisher = BatchPublisher(via_link, exchange, timeout=1.0)
    publisher.publish([{"body": {"n": 0}, "routing_key": "Probed"}])
    partitioned(link)
    with eventlet.Timeout(10):
        took, error = seconds_of(lambda: publisher.publish([{"body": {"n": 1}, "routing_key": "Probed"}]))
    assert isinstance(error, (kit_amqp.Unconfirmed, *kit_amqp.CONNECTION_ERRORS)), error
    assert took < 1 + kit_amqp.CLOSE_GRACE + 1, took
    assert publisher.connection is None  # the next batch opens a fresh connection


class Sleepy:
    name = "sleepy"

    @rpc
    def nap(self, seconds):
        eventlet.sleep(seconds)
        return "rested"


class Asker:
    name = "asker"
    sleepy = RpcProxy("sleepy")

    @rpc
    def ask(self, seconds):
        return self.sleepy.nap(seconds)


def test_a_caller_waits_at_most_its_rpc_timeout_publication_included(container_factory, amqp_uri, via_link, link):
    """RPC_TIMEOUT bounds the whole call: a reply that is late, and a request whose publication hangs on a channel
    that went silent (it would otherwise wait CONFIRM_TIMEOUT, then reconnect)."""
    container_factory(Sleepy, {"AMQP_URI": amqp_uri, "serializer": "json"}).start()
    asker = container_factory(Asker, {"AMQP_URI": via_link, "serializer": "json", "RPC_TIMEOUT": 1})
    asker.start()
    with entrypoint_hook(asker, "ask") as ask:
        assert ask(0) == "rested"  # a kept channel now waits for the next request
        took, error = seconds_of(lambda: ask(3))
        assert isinstance(error, ServiceTimeout) and 0.9 < took < 2, (error, took)
        partitioned(link, seconds=4)
        took, error = seconds_of(lambda: ask(0))
        assert isinstance(error, ServiceTimeout) and 0.9 < took < 2, (error, took)
