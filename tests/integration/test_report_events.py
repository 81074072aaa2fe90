"""The volunteer events on the real broker: ReportApproved waits in the outbox while the relay is down and arrives
once it is back; redelivered events change no projection; events overtaking each other leave the right state."""
import queue as queue_module
import time
import uuid

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.events import get_event_exchange
from nameko.standalone.events import event_dispatcher
from sqlalchemy import func, select

from kit.db import envelope, new_id, utcnow


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


def rows(system, service, table, **where):
    db = system.database(service)
    stmt = select(table)
    for key, value in where.items():
        stmt = stmt.where(table.c[key] == value)
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings().all()]


def last_outbox_event(system, service, event_type, **payload):
    db = system.database(service)
    with db.engine.connect() as conn:
        found = conn.execute(select(db.outbox).where(db.outbox.c.event_type == event_type)
                             .order_by(db.outbox.c.seq.desc()).limit(200)).mappings().all()
    return next(r for r in found if all(r["payload"].get(k) == v for k, v in payload.items()))


def handled(system, service, event_id):
    db = system.database(service)
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(db.inbox).where(db.inbox.c.event_id == event_id)).scalar()


def mine(bus, report_id, timeout):
    """The envelope of ``report_id``'s event from the bus (others' events skipped), or None when none came."""
    deadline = time.time() + timeout
    while True:
        try:
            message = bus.get(timeout=max(0.05, deadline - time.time()))
        except queue_module.Empty:
            return None
        message.ack()
        if message.payload["payload"]["report_id"] == report_id:
            return message.payload
        if time.time() > deadline:
            return None


@pytest.fixture
def report_events(system):
    """A queue bound to reporting.events for ReportApproved, read as a test would read the bus."""
    with Connection(system.config["AMQP_URI"]) as conn:
        q = Queue(f"test-report-events-{uuid.uuid4().hex[:8]}", exchange=get_event_exchange("reporting", system.config),
                  routing_key="ReportApproved", auto_delete=True)
        bus = conn.SimpleQueue(q)
        yield bus
        bus.close()


def test_report_approved_waits_in_the_outbox_while_the_relay_is_down(system, api, flows, office, report_events):
    v = flows.submitted_report(office["9"])
    reporting = system.database("reporting")
    real_once = reporting.relay_once

    def broken(publisher, batch=200):
        raise ConnectionError("broker unreachable (test)")

    reporting.relay_once = broken
    try:
        approved = api.post(f"/reports/{v['report']}/approve", token=v["supervisor"])
        assert approved.status == 200 and approved.json["status"] == "approved"  # the approval itself succeeds
        eventlet.sleep(1.0)
        assert mine(report_events, v["report"], timeout=0.5) is None  # nothing of it on the bus
        assert reporting.pending_events() >= 1
    finally:
        reporting.relay_once = real_once
    message = mine(report_events, v["report"], timeout=30)
    assert message is not None, "ReportApproved never arrived after the relay came back"
    assert message["event_type"] == "ReportApproved" and message["province"] == "9"
    assert message["payload"]["first_for_member"] is True and message["payload"]["member_id"] == v["id"]
    assert wait_for(lambda: reporting.pending_events() == 0, timeout=30)


def test_redelivered_events_change_no_projection(system, api, flows, office):
    from services.reporting.models import reservations as reported
    from services.reservation.models import offers as projected
    v = flows.submitted_report(office["9"])  # every event of the story was handled once
    dispatch = event_dispatcher(system.config)

    # reservation's ReservationAccepted, replayed twice to reporting
    accepted = last_outbox_event(system, "reservation", "ReservationAccepted", reservation_id=v["reservation"])
    before = rows(system, "reporting", reported, reservation_id=v["reservation"])
    assert len(before) == 1 and handled(system, "reporting", accepted["event_id"]) == 1
    # catalog's OfferApproved, replayed twice to reservation (its handler would touch updated_at if it ran again)
    approved = last_outbox_event(system, "catalog", "OfferApproved", offer_id=v["offer"])
    offer_before = rows(system, "reservation", projected, offer_id=v["offer"])
    assert offer_before[0]["status"] == "approved"
    for _ in range(2):
        dispatch("reservation", "ReservationAccepted", envelope(accepted))
        dispatch("catalog", "OfferApproved", envelope(approved))
    eventlet.sleep(1.5)
    assert rows(system, "reporting", reported, reservation_id=v["reservation"]) == before
    assert rows(system, "reservation", projected, offer_id=v["offer"]) == offer_before
    assert handled(system, "reporting", accepted["event_id"]) == 1
    assert handled(system, "reservation", approved["event_id"]) == 1
    # the report filed against that reservation is still the only one
    assert [r["id"] for r in api.get("/me/reports", token=v["token"]).json["items"]] == [v["report"]]


def test_an_offer_ended_before_its_approval_arrived_stays_ended(system):
    """Events of different types travel in different queues: a withdrawal may overtake its approval."""
    from services.reservation.models import offers as projected
    offer, member = new_id(), new_id()
    dispatch = event_dispatcher(system.config)

    def env(event_type, payload):
        return {"event_id": new_id(), "event_type": event_type, "version": 1, "occurred_at": utcnow().isoformat(),
                "province": "9", "correlation_id": None, "payload": payload}

    dispatch("catalog", "OfferWithdrawn", env("OfferWithdrawn", {"offer_id": offer, "member_id": member,
                                                                 "previous_status": "approved"}))
    assert wait_for(lambda: rows(system, "reservation", projected, offer_id=offer))[0]["status"] == "withdrawn"
    dispatch("catalog", "OfferApproved", env("OfferApproved", {
        "offer_id": offer, "member_id": member, "county": "904", "field_id": new_id(), "field_name": "عرصه",
        "service_id": new_id(), "service_name": "خدمت", "details": "جزئیات", "availability": None,
        "phone": "09151234567", "approved_at": utcnow().isoformat()}))
    assert wait_for(lambda: rows(system, "reservation", projected, offer_id=offer)[0]["service_name"] == "خدمت")
    assert rows(system, "reservation", projected, offer_id=offer)[0]["status"] == "withdrawn"
