"""kit.amqp.PooledPublisher while the broker is away, without a broker: a publisher waiting out its retry policy
gives its line back meanwhile, so the green threads beside it get their own tries instead of waiting for it and
giving up after CONFIRM_TIMEOUT (RabbitMQ killed mid-storm: 500s, docs/benchmarks.md, session 10); and what it
finally raises is ``BrokerUnavailable``, the gateway's 503."""
import eventlet
import pytest

from kit import amqp as kit_amqp
from kit.amqp import BrokerUnavailable, PooledPublisher

URI = "amqp://guest:guest@broker.invalid:5672/"


class Refused:
    """A line to a broker that refuses every connection, at once."""

    opened = 0

    def __init__(self, *args, **kwargs):
        Refused.opened += 1
        raise ConnectionRefusedError(111, "Connection refused (test)")


@pytest.fixture
def refused(monkeypatch):
    Refused.opened = 0
    monkeypatch.setattr(kit_amqp, "_Line", Refused)
    monkeypatch.setattr(kit_amqp, "MAX_LINES", 1)
    monkeypatch.setattr(kit_amqp, "_BOUNDS", {})
    monkeypatch.setattr(kit_amqp, "_LINES", {})
    monkeypatch.setattr(kit_amqp, "CONFIRM_TIMEOUT", 0.2)  # a line's wait, far shorter than the retries' sleep
    return Refused


def test_a_publisher_sleeping_out_its_retries_holds_no_line(refused):
    policy = {"max_retries": 2, "interval_start": 0.5, "interval_step": 0.0, "interval_max": 0.5}
    publisher = PooledPublisher(URI, retry=True, retry_policy=policy)
    errors = []

    def publish():
        try:
            publisher.publish({"n": 1}, routing_key="shrine.book")
        except Exception as exc:
            errors.append(exc)

    with eventlet.Timeout(10):
        pool = eventlet.GreenPool()
        for _ in range(3):  # one line for three: each waits at most 0.2 s for it, each sleeps 0.5 s between tries
            pool.spawn(publish)
        pool.waitall()
    assert len(errors) == 3 and all(isinstance(e, BrokerUnavailable) for e in errors), errors
    # every one of them had all its tries (none gave up waiting for a line held by a sleeping neighbour)
    assert all("publishing to 'shrine.book' failed" in str(e) for e in errors), [str(e) for e in errors]
    assert refused.opened == 3 * (policy["max_retries"] + 1)
    assert all(isinstance(e.__cause__, ConnectionRefusedError) for e in errors)


def test_without_retries_a_refused_publication_is_broker_unavailable_at_once(refused):
    with eventlet.Timeout(5), pytest.raises(BrokerUnavailable) as raised:
        PooledPublisher(URI, retry=False).publish({"n": 1}, routing_key="shrine.book")
    assert isinstance(raised.value, ConnectionError)  # still a connection error for those who catch those
    assert refused.opened == 1
