"""RPC on the real broker when deliveries repeat, replies cannot be sent, or a service is slow (kit/rpc.py, kit/db.py).

RabbitMQ delivers an unacknowledged request again; these tests make it happen on purpose and require that the
request takes effect once and that every delivery gets the first answer.
"""
import datetime as dt
import logging
import uuid
from types import SimpleNamespace

import eventlet
import pytest
from kombu import Connection, Exchange, Producer, Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import func, select

import kit.rpc
from kit.logs import JsonFormatter
from kit.service import ServiceBase
from services.desk.service import DeskService
from services.membership.models import applications, orientations
from tests.fixtures import Flows

OFFICE_9 = {"id": "f" * 32, "role": "province_office", "province": "9", "county": None}


def deliver_twice(amqp_uri, service, method, args):
    """Publish one RPC request twice with the same correlation id, as a redelivery does; return both replies."""
    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    reply_key = uuid.uuid4().hex
    replies = []
    with Connection(amqp_uri) as conn:
        queue = Queue(f"test-replies-{reply_key}", exchange, routing_key=reply_key, auto_delete=True)

        def on_reply(body, message):
            replies.append(body)
            message.ack()

        with conn.Consumer(queue, callbacks=[on_reply], accept=["json"]):
            producer = Producer(conn)
            call_id = str(uuid.uuid4())
            for _ in range(2):
                producer.publish({"args": args, "kwargs": {}}, exchange=exchange, routing_key=f"{service}.{method}",
                                 reply_to=reply_key, correlation_id=call_id, serializer="json")
            while len(replies) < 2:
                conn.drain_events(timeout=30)
    return replies


def count(system, service, table, *where):
    with system.database(service).engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_a_redelivered_creation_takes_effect_once_and_gets_the_first_answer(system):
    place = f"سالن {uuid.uuid4().hex[:8]}"
    body = {"starts_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat(), "place": place,
            "capacity": 30}
    first, second = deliver_twice(system.config["AMQP_URI"], "membership", "create_orientation", [OFFICE_9, body])
    assert first["error"] is None and second["error"] is None, (first, second)
    assert first["result"] == second["result"]
    assert count(system, "membership", orientations, orientations.c.place == place) == 1


def test_a_redelivered_request_that_meets_its_own_first_run_gets_the_first_answer(system):
    """The second run of an application hits the national ID's unique key: the answer is still the first one."""
    body = Flows(system.api).application()
    first, second = deliver_twice(system.config["AMQP_URI"], "membership", "apply", [body])
    assert first["error"] is None, first
    assert second == first
    assert count(system, "membership", applications, applications.c.national_id == body["national_id"]) == 1


def test_a_second_request_is_not_mistaken_for_a_redelivery(system):
    """Two requests with the same content are two requests: the record is keyed on the call, not the body."""
    place = f"سالن {uuid.uuid4().hex[:8]}"
    body = {"starts_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat(), "place": place,
            "capacity": 30}
    for _ in range(2):
        deliver_twice(system.config["AMQP_URI"], "membership", "create_orientation", [OFFICE_9, body])
    assert count(system, "membership", orientations, orientations.c.place == place) == 2


def test_a_reply_that_cannot_be_sent_leaves_the_request_to_be_answered_again(system, monkeypatch):
    """The broker refuses the reply (nameko let that end the container): the request is re-queued, delivered
    again, answered from its record, and the service goes on serving."""
    office, _ = Flows(system.api).staff("province_office")
    refused = []
    send = kit.rpc.Responder.send_response

    def flaky(self, result, exc_info):
        if self.message.delivery_info.get("routing_key") == "membership.create_orientation" and not refused:
            refused.append(self.message.properties.get("correlation_id"))
            raise KombuOperationalError("[Errno 111] ECONNREFUSED (test)")
        return send(self, result, exc_info)

    monkeypatch.setattr(kit.rpc.Responder, "send_response", flaky)
    place = f"سالن {uuid.uuid4().hex[:8]}"
    r = system.api.post("/orientations", {"starts_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
                                          .isoformat(), "place": place, "capacity": 30}, token=office)
    assert refused, "the reply was never refused: the test did not test anything"
    assert r.status == 201, r
    assert count(system, "membership", orientations, orientations.c.place == place) == 1
    membership = system.container("membership")
    assert not membership._died.ready()
    assert system.api.get("/readyz").status == 200


def test_a_slow_service_is_answered_with_504_not_an_endless_wait(system, monkeypatch):
    def slow(self, jalali_year):
        eventlet.sleep(3)
        return {"jalali_year": int(jalali_year), "holidays": []}

    monkeypatch.setattr(DeskService, "get_holidays", slow)
    monkeypatch.setitem(system.config, "RPC_TIMEOUT", 0.5)
    r = system.api.get("/desk/holidays/1405")
    assert r.status == 504, r
    assert r.json["code"] == "service_timeout"
    assert "پاسخ" in r.json["detail"]
    monkeypatch.undo()
    eventlet.sleep(3)  # the late reply arrives and is dropped; the gateway serves on
    assert system.api.get("/desk/holidays/1405").status == 200


def test_log_lines_carry_the_correlation_id_from_http_through_rpc_and_events(system):
    """One id chosen by the client (X-Request-ID) marks the gateway's answer, the service's work and the event
    handlers of other services that the request set off."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):  # formatted at once, in the green thread that logged it
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    events_log = logging.getLogger("kit.events")
    old_level = events_log.level
    events_log.setLevel(logging.DEBUG)
    events_log.addHandler(handler)
    try:
        flows = Flows(system.api)
        office, _ = flows.staff("province_office")
        member_body = flows.application()
        app_id = system.api.post("/applications", member_body).json["id"]
        o = system.api.post("/orientations", {"starts_at": (dt.datetime.now(dt.timezone.utc)
                                                            + dt.timedelta(days=3)).isoformat(),
                                              "place": "دفتر", "capacity": 5}, token=office).json["id"]
        system.api.post(f"/applications/{app_id}/invite", {"orientation_id": o}, token=office)
        system.api.post(f"/orientations/{o}/attendance", {"application_ids": [app_id]}, token=office)
        correlation = "req-" + uuid.uuid4().hex
        r = system.api.post(f"/applications/{app_id}/activate", token=office, headers={"X-Request-ID": correlation})
        assert r.status == 200, r
        assert r.headers["X-Request-ID"] == correlation

        def consumers():
            """Consumers whose handling of this request's event was logged with the request's id."""
            marked = [line for line in lines if f'"correlation_id": "{correlation}"' in line]
            return {line.split("handled by ")[1].split('"')[0] for line in marked
                    if "handled by membership.MemberActivated." in line}

        with eventlet.Timeout(15, False):
            while len(consumers()) < 2:
                eventlet.sleep(0.1)
        assert len(consumers()) >= 2, lines[-20:]  # catalog's and shrine's handlers of MemberActivated
    finally:
        events_log.removeHandler(handler)
        events_log.setLevel(old_level)


@pytest.mark.parametrize("role,expected", [
    ("province_office", "9"), ("desk_officer", "9"), ("supervisor", "9"),
    ("admin", None), ("member", None), ("shrine_office", None),
])
def test_the_tenant_of_a_request(role, expected):
    assert kit.rpc.tenant_of([{"role": role, "province": "9"}, {}], {}) == expected
    assert kit.rpc.tenant_of([], {"actor": {"role": role, "province": "9"}}) == expected
    assert kit.rpc.tenant_of(["1405"], {}) is None


def test_old_answers_and_long_published_events_are_purged(system):
    db = system.database("membership")
    calls, outbox = db.rpc_calls, db.outbox
    now = dt.datetime.now(dt.timezone.utc)
    old = now - dt.timedelta(days=8)
    call_id, fresh_id = "old-" + uuid.uuid4().hex, "new-" + uuid.uuid4().hex
    events = {"old": uuid.uuid4().hex, "recent": uuid.uuid4().hex, "unpublished": uuid.uuid4().hex}
    with db.engine.begin() as conn:
        conn.execute(calls.insert(), [{"call_id": call_id, "method": "apply", "result": "{}", "answered_at": old},
                                      {"call_id": fresh_id, "method": "apply", "result": "{}", "answered_at": now}])
        conn.execute(outbox.insert(), [
            {"event_id": event_id, "event_type": "Probe", "version": 1, "occurred_at": old, "payload": {},
             "published_at": {"old": old, "recent": now, "unpublished": None}[name]}
            for name, event_id in events.items()])
    worker = db.get_dependency(type("WorkerCtx", (), {"data": {}})())
    try:
        ServiceBase.purge_old_records(SimpleNamespace(db=worker))
    finally:
        db.worker_teardown(worker.worker_ctx)
    with db.engine.connect() as conn:
        kept_calls = set(conn.execute(select(calls.c.call_id).where(calls.c.call_id.in_([call_id, fresh_id])))
                         .scalars())
        kept_events = set(conn.execute(select(outbox.c.event_id).where(outbox.c.event_id.in_(events.values())))
                          .scalars())
    assert kept_calls == {fresh_id}
    # an event is kept until it has been published, however old, and a week after that
    assert kept_events == {events["recent"], events["unpublished"]}
