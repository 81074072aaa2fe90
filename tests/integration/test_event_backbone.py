"""The event backbone on the real broker: outbox relay, idempotent consumers, retries and dead letters."""
import time

import eventlet
import pytest
from nameko.runners import ServiceRunner
from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.exc import OperationalError

from kit.db import Database, make_metadata
from kit.events import DeadLetterMonitor, on_event

probe_metadata = make_metadata()
seen = Table("seen", probe_metadata, Column("member_id", String(32), primary_key=True),
             Column("times", Integer, nullable=False))
FAILURES = {"left": 0, "outage": 0}


class Probe:
    """A consumer of MemberActivated that counts what it saw; can be told to fail."""

    name = "probe"
    db = Database(probe_metadata)
    dead_letters = DeadLetterMonitor(interval=0.5)

    @on_event("membership", "MemberActivated")
    def activated(self, envelope):
        if FAILURES["outage"] > 0:
            FAILURES["outage"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection (test)"))
        if FAILURES["left"] > 0:
            FAILURES["left"] -= 1
            raise RuntimeError("induced failure")
        member_id = envelope["payload"]["member_id"]
        row = self.db.session.execute(select(seen).where(seen.c.member_id == member_id)).first()
        if row:
            self.db.session.execute(seen.update().where(seen.c.member_id == member_id).values(times=row.times + 1))
        else:
            self.db.session.execute(seen.insert().values(member_id=member_id, times=1))


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def probe(system):
    runner = ServiceRunner(dict(system.config, EVENT_OUTAGE_MAX_BACKOFF=0.5))
    runner.add_service(Probe)
    runner.start()
    container = list(runner.containers)[0]
    yield next(d for d in container.dependencies if d.attr_name == "db")
    runner.stop()


def times_seen(db, member_id):
    with db.engine.connect() as conn:
        return conn.execute(select(seen.c.times).where(seen.c.member_id == member_id)).scalar()


def test_event_reaches_consumer_once_even_when_redelivered(system, flows, office, probe):
    member = flows.member(office["9"])
    assert wait_for(lambda: times_seen(probe, member["id"])) == 1
    # replay the very same envelope (a broker redelivery): no second effect
    membership = system.database("membership")
    with membership.engine.connect() as conn:
        row = conn.execute(select(membership.outbox).where(membership.outbox.c.event_type == "MemberActivated")
                           .order_by(membership.outbox.c.seq.desc()).limit(1)).mappings().first()
    from nameko.standalone.events import event_dispatcher

    from kit.db import envelope
    dispatch = event_dispatcher(system.config)
    dispatch("membership", "MemberActivated", envelope(row))
    dispatch("membership", "MemberActivated", envelope(row))
    eventlet.sleep(1.5)
    assert times_seen(probe, row["payload"]["member_id"]) == 1


def test_events_wait_in_the_outbox_while_the_relay_is_down(system, flows, office, probe):
    membership = system.database("membership")
    # stop the relay by making publishing impossible: point it at a dead broker for a while
    real_once = membership.relay_once

    def broken(publisher, batch=200):
        raise ConnectionError("broker unreachable (test)")

    membership.relay_once = broken
    try:
        member = flows.member(office["9"])
        eventlet.sleep(1.0)
        assert times_seen(probe, member["id"]) is None
        assert membership.pending_events() >= 1
    finally:
        membership.relay_once = real_once
    assert wait_for(lambda: times_seen(probe, member["id"]), timeout=30) == 1
    assert wait_for(lambda: membership.pending_events() == 0, timeout=30)


def test_failing_handler_is_retried_not_dropped(system, flows, office, probe):
    FAILURES["left"] = 2
    member = flows.member(office["9"])
    assert wait_for(lambda: times_seen(probe, member["id"]), timeout=30) == 1
    assert FAILURES["left"] == 0


def test_handler_that_keeps_failing_is_dead_lettered(system, flows, office, probe):
    from kombu import Connection

    from kit import metrics
    before = metrics.EVENTS_DEAD.labels("probe", "MemberActivated")._value.get()
    FAILURES["left"] = 6  # the first try and five retries
    member = flows.member(office["9"])
    wait_for(lambda: metrics.EVENTS_DEAD.labels("probe", "MemberActivated")._value.get() == before + 1, timeout=60)
    assert times_seen(probe, member["id"]) is None
    wait_for(lambda: metrics.DEAD_LETTER_DEPTH.labels("probe")._value.get() >= 1)
    with Connection(system.config["AMQP_URI"]) as conn:
        queue = conn.SimpleQueue("evt-membership-MemberActivated--probe.activated.dead")
        message = queue.get(timeout=5)
        assert message.payload["payload"]["member_id"] == member["id"]
        message.ack()
        queue.close()


def test_a_database_outage_does_not_use_up_the_retries(system, flows, office, probe):
    """Eight failures of the connection (more than the five retries) and the event is still handled, once."""
    from kit import metrics
    dead_before = metrics.EVENTS_DEAD.labels("probe", "MemberActivated")._value.get()
    FAILURES["outage"] = 8
    member = flows.member(office["9"])
    assert wait_for(lambda: times_seen(probe, member["id"]), timeout=60) == 1
    assert FAILURES["outage"] == 0
    assert metrics.EVENTS_DEAD.labels("probe", "MemberActivated")._value.get() == dead_before
