"""Reporting through HTTP: the member's report of an accepted reservation, the supervisor's review and its events,
on both databases."""
import datetime as dt
import time
import uuid

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.events import get_event_exchange
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from kit import geo
from kit.db import new_id, utcnow
from kit.persian import TEHRAN


def _today():
    return dt.datetime.now(TEHRAN).date()


def _report(api, token, reservation, performed_on=None, hours=2, summary="خدمت انجام شد و نیازمند راضی بود"):
    return api.post("/reports", {"reservation": reservation, "performed_on": (performed_on or _today()).isoformat(),
                                 "hours": hours, "summary": summary}, token=token)


def _wait_until_started(v):
    while dt.datetime.now(dt.timezone.utc) <= v["starts_at"]:
        eventlet.sleep(0.2)


def _reserve_again(flows, v, offer):
    """Reserve ``offer`` of the same member once more (the centre of ``v``), accept it: the reservation id."""
    b = flows.api.post("/beneficiaries", {"full_name": "رضا نوری", "needs": "نیاز به همراه", "address": "مشهد، پلاک ۹",
                                          "phone": "09150002222"}, token=v["centre"]).json["id"]
    window = {}

    def reserve():
        starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
        window["starts_at"] = starts
        return flows.api.post("/reservations", {"offer": offer, "beneficiary": b, "starts_at": starts.isoformat(),
                                                "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
                                                "place": "خانه سالمندان"}, token=v["centre"])
    r = flows.eventually(reserve)
    assert r.status == 201, r
    assert flows.api.post(f"/reservations/{r.json['id']}/accept", token=v["token"]).status == 200
    return r.json["id"], window["starts_at"]


def test_a_report_for_someone_elses_reservation_is_refused(api, flows, office):
    v = flows.submitted_report(office["9"])
    stranger = flows.member(office["9"])
    theirs = _report(api, stranger["token"], v["reservation"])
    assert theirs.status == 404 and theirs.json["code"] == "reservation_not_found"
    assert api.get(f"/reports/{v['report']}", token=stranger["token"]).status == 404
    assert _report(api, v["centre"], v["reservation"]).status == 403
    unknown = _report(api, v["token"], "no-such-reservation")
    assert unknown.status == 404


def test_only_an_accepted_reservation_is_reported(api, flows, office):
    v = flows.approved_offer(office["9"])
    centre = flows.cached_staff("neighborhood_center", "9", county=v["county"], center="کانون محله آزمون")
    b = api.post("/beneficiaries", {"full_name": "علی محمدی", "needs": "نیاز به خرید", "address": "مشهد، پلاک ۱۱",
                                    "phone": "09150003333"}, token=centre).json["id"]
    starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    r = flows.eventually(lambda: api.post("/reservations", {
        "offer": v["offer"], "beneficiary": b, "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(), "place": "محله"}, token=centre))
    assert r.status == 201, r
    eventlet.sleep(1.0)  # give any (wrong) event time to arrive
    invited = _report(api, v["token"], r.json["id"])
    assert invited.status == 404 and invited.json["code"] == "reservation_not_found"


def test_the_report_date_hours_and_one_live_report_per_service(api, flows, office):
    v = flows.accepted_reservation(office["9"])
    _wait_until_started(v)
    # reporting learns the reservation asynchronously: wait for it with a valid report, after the refusals
    future = flows.eventually(lambda: _report(api, v["token"], v["reservation"], _today() + dt.timedelta(days=1)),
                              ok=(422,))
    assert future.status == 422 and "performed_on" in future.json["errors"], future
    before = _report(api, v["token"], v["reservation"], _today() - dt.timedelta(days=1))
    assert before.status == 422 and "performed_on" in before.json["errors"]
    for hours in (0, -1, 25, "many"):
        bad = _report(api, v["token"], v["reservation"], hours=hours)
        assert bad.status == 422 and "hours" in bad.json["errors"], (hours, bad)
    jalali = api.post("/reports", {"reservation": v["reservation"], "hours": 1.5, "summary": "خدمت انجام شد",
                                   "performed_on": "{:04d}/{:02d}/{:02d}".format(*_jalali_today())}, token=v["token"])
    assert jalali.status == 201, jalali
    again = _report(api, v["token"], v["reservation"])
    assert again.status == 409 and again.json["code"] == "report_exists"
    mine = api.get("/me/reports", token=v["token"]).json["items"]
    assert [(x["id"], x["hours"], x["status"]) for x in mine] == [(jalali.json["id"], 1.5, "submitted")]
    assert mine[0]["performed_on"] == _today().isoformat()


def _jalali_today():
    import jdatetime
    j = jdatetime.date.fromgregorian(date=_today())
    return j.year, j.month, j.day


def test_only_the_supervisor_of_that_centre_reviews(api, flows, office):
    v = flows.submitted_report(office["9"])
    other_centre = flows.cached_staff("supervisor", "9", county=v["county"], center=f"کانون {uuid.uuid4().hex[:6]}")
    other_county = flows.cached_staff("supervisor", "9", county=sorted(geo.counties_of("9"))[4], center=v["center"])
    tehran = flows.cached_staff("supervisor", "23", county=sorted(geo.counties_of("23"))[0], center=v["center"])
    for token in (other_centre, other_county, tehran):
        assert api.post(f"/reports/{v['report']}/approve", token=token).status == 404
        assert api.post(f"/reports/{v['report']}/reject", {"reason": "نادرست"}, token=token).status == 404
        assert v["report"] not in [x["id"] for x in api.get("/reports?limit=200", token=token).json["items"]]
    assert api.post(f"/reports/{v['report']}/approve", token=v["token"]).status == 403
    assert api.post(f"/reports/{v['report']}/approve", token=office["9"]).status == 403
    assert v["report"] in [x["id"] for x in api.get("/reports?limit=200", token=office["9"]).json["items"]]
    assert v["report"] not in [x["id"] for x in api.get("/reports?limit=200", token=office["23"]).json["items"]]
    assert api.get(f"/reports/{v['report']}", token=office["23"]).status == 404
    listed = api.get("/reports?status=submitted&limit=200", token=v["supervisor"]).json["items"]
    assert v["report"] in [x["id"] for x in listed]
    assert all(x["center"] == v["center"] and x["county"] == v["county"] for x in listed)
    assert api.post(f"/reports/{v['report']}/approve", token=v["supervisor"]).json["status"] == "approved"
    twice = api.post(f"/reports/{v['report']}/approve", token=v["supervisor"])
    assert twice.status == 409 and twice.json["code"] == "report_not_submitted"


def test_a_rejected_report_has_its_reason_its_event_and_may_be_filed_again(system, api, flows, office):
    v = flows.submitted_report(office["9"])
    no_reason = api.post(f"/reports/{v['report']}/reject", {}, token=v["supervisor"])
    assert no_reason.status == 422 and "reason" in no_reason.json["errors"]
    with Connection(system.config["AMQP_URI"]) as conn:
        queue = Queue(f"test-rejected-{uuid.uuid4().hex[:8]}", exchange=get_event_exchange("reporting", system.config),
                      routing_key="ReportRejected", auto_delete=True)
        bus = conn.SimpleQueue(queue)
        try:
            r = api.post(f"/reports/{v['report']}/reject", {"reason": "ساعت‌ها با رزرو نمی‌خواند"},
                         token=v["supervisor"])
            assert r.status == 200 and r.json["status"] == "rejected"
            message = _next(bus, lambda p: p["payload"]["report_id"] == v["report"])
        finally:
            bus.close()
    assert message["payload"] == {"report_id": v["report"], "member_id": v["id"], "reservation_id": v["reservation"],
                                  "reason": "ساعت‌ها با رزرو نمی‌خواند"}
    assert message["province"] == "9"
    mine = api.get("/me/reports", token=v["token"]).json["items"][0]
    assert mine["status"] == "rejected" and mine["reason"] == "ساعت‌ها با رزرو نمی‌خواند"
    # the member may correct it: a new report of the same service, and its approval is still the first
    again = _report(api, v["token"], v["reservation"], hours=1)
    assert again.status == 201, again
    approved = api.post(f"/reports/{again.json['id']}/approve", token=v["supervisor"])
    assert approved.json["first_for_member"] is True


def _next(bus, match, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        message = bus.get(timeout=max(0.1, deadline - time.time()))
        message.ack()
        if match(message.payload):
            return message.payload
    raise AssertionError("no matching event")


def test_only_the_first_approved_report_of_a_member_is_first(system, api, flows, office):
    v = flows.approved_report(office["9"])
    assert v["first_for_member"] is True
    # the first service is over (its two hours moved into the past), so the member is free again
    from services.reservation.models import reservations
    with system.database("reservation").engine.begin() as conn:
        conn.execute(update(reservations).where(reservations.c.id == v["reservation"]).values(
            ends_at=dt.datetime.now(dt.timezone.utc)))
    # the service done, the member completes it, offers it again; it is approved, reserved, accepted, reported
    assert api.post(f"/me/offers/{v['offer']}/complete", token=v["token"]).status == 200
    o = api.post("/me/offers", {"service": v["service"], "details": "دوباره همان خدمت", "phone": "09151234567"},
                 token=v["token"])
    assert o.status == 201, o
    assert api.post(f"/offers/{o.json['id']}/approve", token=v["thematic"]).status == 200
    reservation, starts = _reserve_again(flows, v, o.json["id"])
    while dt.datetime.now(dt.timezone.utc) <= starts:
        eventlet.sleep(0.2)
    second = flows.eventually(lambda: _report(api, v["token"], reservation))
    assert second.status == 201, second
    approved = api.post(f"/reports/{second.json['id']}/approve", token=v["supervisor"])
    assert approved.status == 200 and approved.json["first_for_member"] is False
    firsts = {x["id"]: x["first_for_member"] for x in api.get("/me/reports", token=v["token"]).json["items"]}
    assert firsts == {v["report"]: True, second.json["id"]: False}


# -- a cancelled reservation is never reported
def _envelope(event_type, payload, province="9"):
    return {"event_id": new_id(), "event_type": event_type, "version": 1, "occurred_at": utcnow().isoformat(),
            "province": province, "correlation_id": None, "payload": payload}


def _wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


def _known(system, table, reservation_id):
    with system.database("reporting").engine.connect() as conn:
        return conn.execute(select(table).where(table.c.reservation_id == reservation_id)).first() is not None


def test_a_cancelled_reservation_is_not_reported_whichever_event_came_first(system, api, flows, office):
    from services.reporting.models import cancellations, reports, reservations
    member = flows.member(office["9"])
    publish = flows.event_publisher(system.config)
    now = dt.datetime.now(dt.timezone.utc)
    facts = {"offer_id": new_id(), "member_id": member["id"], "county": member["application"]["county"],
             "center": "کانون محله آزمون", "starts_at": (now - dt.timedelta(hours=2)).isoformat(),
             "ends_at": (now - dt.timedelta(hours=1)).isoformat()}
    early, late, invited = new_id(), new_id(), new_id()
    # the cancellation overtakes the acceptance (different queues), for `early`; the usual order for `late`
    publish("reservation", "ReservationCancelled", _envelope("ReservationCancelled", dict(
        facts, reservation_id=early, previous_status="accepted", reason="offer_withdrawn")))
    _wait_for(lambda: _known(system, cancellations, early))
    for rid in (early, late, invited):
        publish("reservation", "ReservationAccepted", _envelope("ReservationAccepted", dict(
            facts, reservation_id=rid, service_id=None, service_name="همراهی")))
    _wait_for(lambda: all(_known(system, reservations, rid) for rid in (early, late, invited)))
    publish("reservation", "ReservationCancelled", _envelope("ReservationCancelled", dict(
        facts, reservation_id=late, previous_status="accepted", reason="suspended")))
    # a cancelled invitation was never reportable: reporting pays it no heed
    publish("reservation", "ReservationCancelled", _envelope("ReservationCancelled", dict(
        facts, reservation_id=invited, previous_status="invited", reason="offer_withdrawn")))
    _wait_for(lambda: _known(system, cancellations, late))
    for rid in (early, late):
        refused = _report(api, member["token"], rid)
        assert refused.status == 409 and refused.json["code"] == "reservation_cancelled", refused
        assert "reservation" in refused.json["errors"]
    assert not _known(system, cancellations, invited)
    assert _report(api, member["token"], invited).status == 201
    assert [r["reservation_id"] for r in api.get("/me/reports", token=member["token"]).json["items"]] == [invited]
    # the database itself refuses a report of a cancelled reservation, whatever the code above it does
    with pytest.raises(IntegrityError):
        with system.database("reporting").engine.begin() as conn:
            conn.execute(insert(reports).values(
                id=new_id(), reservation_id=late, member_id=member["id"], offer_id=facts["offer_id"], province="9",
                county=facts["county"], center=facts["center"], performed_on=_today(), hours=1, summary="گزارش",
                status="submitted", open_reservation=late, submitted_at=utcnow()))
