"""The volunteer's whole story through HTTP on the real broker, on SQLite and PostgreSQL:
apply → activate → declare readiness → offer → approve → reserve → accept → report → approve → ReportApproved."""
import datetime as dt
import uuid

import eventlet
from kombu import Connection, Queue
from nameko.events import get_event_exchange

from kit.persian import TEHRAN


def test_apply_to_approved_report_with_report_approved_on_the_bus(system, api, flows, office):
    admin = flows.admin()
    tag = uuid.uuid4().hex[:6]
    # the catalog: a field and its service (admin), public to read
    f = api.post("/fields", {"name": f"عرصه سلامت {tag}", "kind": "general"}, token=admin)
    assert f.status == 201, f
    field = f.json["id"]
    s = api.post(f"/fields/{field}/services", {"name": "همراهی بیماران", "description": "همراهی تا درمانگاه",
                                               "requires_documents": False}, token=admin)
    assert s.status == 201, s
    listed = api.get("/fields")
    assert listed.status == 200
    mine = next(x for x in listed.json["items"] if x["id"] == field)
    assert mine["kind"] == "general" and [x["id"] for x in mine["services"]] == [s.json["id"]]

    # apply → invite → attend → activate → first login → password (through HTTP)
    member = flows.member(office["9"])
    token, county = member["token"], member["application"]["county"]

    # readiness: catalog learns the member from MemberActivated, asynchronously
    ready = flows.eventually(lambda: api.put("/me/readiness", {"province": "9", "county": county, "field": field},
                                             token=token))
    assert ready.status == 200, ready
    assert ready.json["field"] == field and ready.json["locked_until"] and ready.json["locked_until_jalali"]
    locked = dt.datetime.fromisoformat(ready.json["locked_until"])
    assert dt.timedelta(days=175) < locked - dt.datetime.now(dt.timezone.utc) < dt.timedelta(days=190)

    # offer → the county thematic centre of that field approves it
    o = api.post("/me/offers", {"service": s.json["id"], "details": "عصرها با خودروی شخصی",
                                "phone": "۰۹۱۵ ۱۲۳ ۴۵۶۷", "availability": "شنبه تا چهارشنبه"}, token=token)
    assert o.status == 201 and o.json["status"] == "pending_review", o
    offer = o.json["id"]
    thematic = flows.staff("thematic_center", "9", county=county, field=field)[0]
    pending = api.get("/offers?status=pending_review", token=thematic)
    assert pending.status == 200
    seen = next(x for x in pending.json["items"] if x["id"] == offer)
    assert seen["phone"] == "09151234567" and seen["service_name"] == "همراهی بیماران"
    assert api.post(f"/offers/{offer}/approve", token=thematic).json["status"] == "approved"

    # a neighbourhood centre of the county records a person in need and reserves the offer for them
    center = f"کانون محله امام رضا {tag}"
    centre = flows.staff("neighborhood_center", "9", county=county, center=center)[0]
    approved = api.get("/offers", token=centre)
    assert offer in [x["id"] for x in approved.json["items"]]
    assert all(x["status"] == "approved" and x["county"] == county for x in approved.json["items"])
    b = api.post("/beneficiaries", {"full_name": "حسن کریمی", "needs": "همراهی برای دیالیز هفتگی",
                                    "address": "مشهد، خیابان طبرسی، پلاک ۸", "phone": "09350001122"}, token=centre)
    assert b.status == 201, b
    window = {}

    def reserve():
        starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
        window["starts"] = starts
        return api.post("/reservations", {"offer": offer, "beneficiary": b.json["id"], "starts_at": starts.isoformat(),
                                          "ends_at": (starts + dt.timedelta(hours=3)).isoformat(),
                                          "place": "بیمارستان امام رضا"}, token=centre)
    r = flows.eventually(reserve)  # reservation learns the approval from OfferApproved
    assert r.status == 201 and r.json["status"] == "invited", r
    reservation = r.json["id"]

    # the member sees the invitation and accepts it
    invitations = api.get("/me/reservations", token=token)
    assert [x["id"] for x in invitations.json["items"]] == [reservation]
    assert invitations.json["items"][0]["status"] == "invited"
    assert "full_name" not in invitations.json["items"][0]  # the beneficiary stays with the centre
    assert api.post(f"/reservations/{reservation}/accept", token=token).json["status"] == "accepted"

    # after the service, the report (reporting learns the reservation from ReservationAccepted)
    while dt.datetime.now(dt.timezone.utc) <= window["starts"]:
        eventlet.sleep(0.2)
    today = dt.datetime.now(TEHRAN).date().isoformat()
    rep = flows.eventually(lambda: api.post("/reports", {"reservation": reservation, "performed_on": today,
                                                         "hours": 2.5, "summary": "همراهی تا بیمارستان و بازگشت"},
                                            token=token))
    assert rep.status == 201 and rep.json["status"] == "submitted", rep
    report = rep.json["id"]

    # the supervisor of that centre approves it; ReportApproved is on the bus
    supervisor = flows.staff("supervisor", "9", county=county, center=center)[0]
    waiting = api.get("/reports?status=submitted", token=supervisor)
    assert [x["id"] for x in waiting.json["items"]] == [report]
    with Connection(system.config["AMQP_URI"]) as conn:
        queue = Queue(f"test-story-{uuid.uuid4().hex[:8]}", exchange=get_event_exchange("reporting", system.config),
                      routing_key="ReportApproved", auto_delete=True)
        bus = conn.SimpleQueue(queue)
        try:
            a = api.post(f"/reports/{report}/approve", token=supervisor)
            assert a.status == 200 and a.json == {"id": report, "status": "approved", "first_for_member": True}, a
            envelope = None
            while envelope is None:  # (an event of an earlier test may still be on its way: skip it)
                message = bus.get(timeout=15)
                message.ack()
                if message.payload["payload"]["report_id"] == report:
                    envelope = message.payload
        finally:
            bus.close()
    assert envelope["event_type"] == "ReportApproved" and envelope["province"] == "9"
    assert envelope["payload"] == {"report_id": report, "member_id": member["id"], "reservation_id": reservation,
                                   "offer_id": offer, "performed_on": today, "hours": 2.5,
                                   "first_for_member": True}
    assert set(envelope) >= {"event_id", "version", "occurred_at", "correlation_id"}

    # GET /me gathers it all
    me = api.get("/me", token=token)
    assert me.status == 200, me
    assert me.json["profile"]["id"] == member["id"]
    assert me.json["readiness"]["field"] == field and me.json["readiness"]["active_offers"] == 1
    assert [x["id"] for x in me.json["offers"]] == [offer] and me.json["offers"][0]["status"] == "approved"
    assert me.json["reservations"][0]["id"] == reservation and me.json["reservations"][0]["status"] == "accepted"
    assert me.json["reports"][0]["id"] == report and me.json["reports"][0]["status"] == "approved"

    # the service done, the member completes the offer: its place is free and it is no longer reservable
    assert api.post(f"/me/offers/{offer}/complete", token=token).json["status"] == "completed"
    assert api.get("/me", token=token).json["readiness"]["active_offers"] == 0


def test_me_answers_for_staff_and_for_a_member_with_nothing_yet(api, flows, office):
    me = api.get("/me", token=office["9"])
    assert me.status == 200, me
    assert me.json["readiness"] is None and me.json["offers"] == [] and me.json["reservations"] == []
    assert me.json["reports"] == []
    member = flows.member(office["9"])
    fresh = api.get("/me", token=member["token"])
    assert fresh.status == 200 and fresh.json["readiness"] is None and fresh.json["offers"] == []

