"""Reservation through HTTP: beneficiaries per centre, reserving approved offers without double booking, and the
member's answer, on both databases."""
import datetime as dt
import time
import uuid

import eventlet
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kit import geo
from kit.db import new_id, utcnow

NEED = {"full_name": "فاطمه موسوی", "needs": "خرید دارو و همراهی", "address": "مشهد، خیابان سناباد، پلاک ۳",
        "phone": "09150001111"}


def _at(hours, length=2):
    """A window ``hours`` from now (whole hours: far enough in the future for every test)."""
    base = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=30)
    start = base + dt.timedelta(hours=hours)
    return start.isoformat(), (start + dt.timedelta(hours=length)).isoformat()


def _centre(flows, county, name=None):
    name = name or f"کانون محله {uuid.uuid4().hex[:6]}"
    return flows.cached_staff("neighborhood_center", "9", county=county, center=name), name


def _beneficiary(api, centre):
    r = api.post("/beneficiaries", NEED, token=centre)
    assert r.status == 201, r
    return r.json["id"]


def _reserve(api, centre, offer, beneficiary, hours=1, length=2, place="مسجد محله"):
    starts, ends = _at(hours, length)
    return api.post("/reservations", {"offer": offer, "beneficiary": beneficiary, "starts_at": starts,
                                      "ends_at": ends, "place": place}, token=centre)


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


def projected_status(system, offer):
    """The offer's status in the reservation service's projection (None before OfferApproved arrived)."""
    from services.reservation.models import offers
    with system.database("reservation").engine.connect() as conn:
        return conn.execute(select(offers.c.status).where(offers.c.offer_id == offer)).scalar()


def envelope(event_type, payload, province="9"):
    """An event as another service's relay would put it on the bus."""
    return {"event_id": new_id(), "event_type": event_type, "version": 1, "occurred_at": utcnow().isoformat(),
            "province": province, "correlation_id": None, "payload": payload}


def outbox(system, service, event_type, **match):
    """Payloads of ``service``'s events of one type (published or not) whose fields match."""
    db = system.database(service)
    with db.engine.connect() as conn:
        rows = conn.execute(select(db.outbox).where(db.outbox.c.event_type == event_type)).mappings().all()
    return [r["payload"] for r in rows if all(r["payload"].get(k) == v for k, v in match.items())]


def _ready_offer(system, flows, office):
    """An approved offer already known to the reservation service, and a centre of its county with a beneficiary."""
    v = flows.approved_offer(office["9"])
    centre, name = _centre(flows, v["county"])
    b = _beneficiary(flows.api, centre)
    assert wait_for(lambda: projected_status(system, v["offer"])) == "approved"
    return dict(v, centre=centre, center=name, beneficiary=b)


# -- beneficiaries (نیازمندان)
def test_beneficiaries_are_seen_only_by_their_centre_and_its_office(system, api, flows, office):
    county = sorted(geo.counties_of("9"))[0]
    centre, name = _centre(flows, county)
    neighbour, _ = _centre(flows, county)
    b = api.post("/beneficiaries", dict(NEED, phone="۰۵۱-۳۸۰۰-۱۲۳۴"), token=centre)
    assert b.status == 201, b
    got = api.get(f"/beneficiaries/{b.json['id']}", token=centre)
    assert got.status == 200 and got.json["phone"] == "05138001234" and got.json["center"] == name
    assert b.json["id"] in [x["id"] for x in api.get("/beneficiaries", token=centre).json["items"]]
    # another centre of the same county: 404, and not listed
    assert api.get(f"/beneficiaries/{b.json['id']}", token=neighbour).status == 404
    assert b.json["id"] not in [x["id"] for x in api.get("/beneficiaries?limit=200", token=neighbour).json["items"]]
    # the province's office sees it, another province's office does not
    assert api.get(f"/beneficiaries/{b.json['id']}", token=office["9"]).status == 200
    assert api.get(f"/beneficiaries/{b.json['id']}", token=office["23"]).status == 404
    assert b.json["id"] not in [x["id"] for x in api.get("/beneficiaries?limit=200", token=office["23"]).json["items"]]
    # members and thematic centres are not let in at all
    member = flows.member(office["9"])
    assert api.get("/beneficiaries", token=member["token"]).status == 403
    assert api.post("/beneficiaries", NEED, token=office["9"]).status == 403
    bad = api.post("/beneficiaries", dict(NEED, phone="123"), token=centre)
    assert bad.status == 422 and "phone" in bad.json["errors"]


# -- reserving
def test_an_offer_is_not_booked_twice_for_overlapping_times(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    first = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=10, length=2)
    assert first.status == 201 and first.json["status"] == "invited", first
    overlap = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=11, length=2)
    assert overlap.status == 409 and overlap.json["code"] == "offer_already_booked", overlap
    # another centre of the county, the same time: still refused
    other, _ = _centre(flows, v["county"])
    assert _reserve(api, other, v["offer"], _beneficiary(api, other), hours=9, length=2).status == 409
    # back to back is fine
    assert _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=12, length=1).status == 201
    # a declined invitation frees its time
    assert api.post(f"/reservations/{first.json['id']}/decline", {"reason": "در آن روز در سفرم"},
                    token=v["token"]).json["status"] == "declined"
    assert _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=11, length=1).status == 201


def test_two_centres_reserving_the_same_offer_at_once_book_it_once(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    other, _ = _centre(flows, v["county"])
    attempts = [(v["centre"], v["beneficiary"]), (other, _beneficiary(api, other))] * 4
    pool = eventlet.GreenPool(len(attempts))
    results = list(pool.imap(lambda a: _reserve(api, a[0], v["offer"], a[1], hours=20, length=3), attempts))
    assert sorted(r.status for r in results) == [201] + [409] * 7, results
    assert all(r.json["code"] == "offer_already_booked" for r in results if r.status == 409)
    mine = api.get("/me/reservations", token=v["token"]).json["items"]
    assert len(mine) == 1 and mine[0]["status"] == "invited"


def test_only_approved_offers_of_the_centres_county_and_its_own_beneficiaries(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    counties = sorted(geo.counties_of("9"))
    far, _ = _centre(flows, counties[3])
    far_b = _beneficiary(api, far)
    r = _reserve(api, far, v["offer"], far_b)
    assert r.status == 404 and r.json["code"] == "offer_not_available"
    tehran = flows.cached_staff("neighborhood_center", "23", county=sorted(geo.counties_of("23"))[0],
                                center="کانون محله تهران")
    assert _reserve(api, tehran, v["offer"], _beneficiary(api, tehran)).status == 404
    # another centre's beneficiary: 404
    neighbour, _ = _centre(flows, v["county"])
    theirs = _reserve(api, neighbour, v["offer"], v["beneficiary"])
    assert theirs.status == 404 and theirs.json["code"] == "beneficiary_not_found"
    # an offer still pending review is not reservable
    pending = api.post("/me/offers", {"service": _another_service(flows, v), "details": "جزئیات خدمت",
                                      "phone": "09151234567"}, token=v["token"])
    assert pending.status == 201
    assert _reserve(api, v["centre"], pending.json["id"], v["beneficiary"]).status == 404
    # times: the end after the start, the start in the future
    starts, _ = _at(1)
    backwards = api.post("/reservations", {"offer": v["offer"], "beneficiary": v["beneficiary"], "starts_at": starts,
                                           "ends_at": starts, "place": "محله"}, token=v["centre"])
    assert backwards.status == 422 and "ends_at" in backwards.json["errors"]
    past = api.post("/reservations", {"offer": v["offer"], "beneficiary": v["beneficiary"],
                                      "starts_at": "1400/01/01 10:00", "ends_at": "1400/01/01 12:00",
                                      "place": "محله"}, token=v["centre"])
    assert past.status == 422 and "starts_at" in past.json["errors"]
    assert api.post("/reservations", {}, token=v["token"]).status == 403


def _another_service(flows, v):
    return flows.api.post(f"/fields/{v['field']}/services", {"name": f"خدمت {uuid.uuid4().hex[:6]}",
                                                             "description": "شرح"}, token=flows.admin()).json["id"]


def test_a_withdrawn_offer_is_no_longer_reservable(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    invited = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=30)
    assert invited.status == 201
    assert api.post(f"/me/offers/{v['offer']}/withdraw", token=v["token"]).status == 200
    assert wait_for(lambda: projected_status(system, v["offer"]) == "withdrawn")  # from OfferWithdrawn
    gone = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=40)
    assert gone.status == 404 and gone.json["code"] == "offer_not_available"
    # its invitation was cancelled with it (in the same transaction as the projection's end)
    late = api.post(f"/reservations/{invited.json['id']}/accept", token=v["token"])
    assert late.status == 409 and late.json["code"] == "reservation_not_invited", late
    got = api.get(f"/reservations/{invited.json['id']}", token=v["token"]).json
    assert got["status"] == "cancelled" and got["cancel_reason"] == "offer_withdrawn"


def _second_offer(system, flows, v):
    """Another approved offer of the member of ``v`` (a member holds at most two), known to reservation."""
    o = flows.api.post("/me/offers", {"service": _another_service(flows, v), "details": "صبح‌ها",
                                      "phone": "09151234567"}, token=v["token"])
    assert o.status == 201, o
    assert flows.api.post(f"/offers/{o.json['id']}/approve", token=v["thematic"]).status == 200
    assert wait_for(lambda: projected_status(system, o.json["id"])) == "approved"
    return o.json["id"]


def test_a_member_accepting_overlapping_reservations_at_once_accepts_one(system, api, flows, office):
    """Two offers of one member, reserved at overlapping times (each offer once): the accepts race, and for each
    overlapping pair exactly one wins; the database refuses the second even when the Python check is bypassed."""
    from services.reservation.models import reservations
    v = _ready_offer(system, flows, office)
    other = _second_offer(system, flows, v)
    pairs = []
    for k in range(4):
        a = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=200 + 10 * k, length=2)
        b = _reserve(api, v["centre"], other, v["beneficiary"], hours=201 + 10 * k, length=2)
        assert a.status == 201 and b.status == 201, (a, b)
        pairs.append((a.json["id"], b.json["id"]))
    ids = [rid for pair in pairs for rid in pair]
    pool = eventlet.GreenPool(len(ids))
    answers = dict(zip(ids, pool.imap(lambda rid: api.post(f"/reservations/{rid}/accept", token=v["token"]), ids),
                       strict=True))
    winners, losers = [], []
    for a, b in pairs:
        assert sorted(answers[r].status for r in (a, b)) == [200, 409], (answers[a], answers[b])
        winners.append(a if answers[a].status == 200 else b)
        losers.append(b if answers[a].status == 200 else a)
        assert answers[losers[-1]].json["code"] == "member_busy"
        assert api.get(f"/reservations/{losers[-1]}", token=v["token"]).json["status"] == "invited"
    assert len(api.get("/me/reservations?status=accepted&limit=200", token=v["token"]).json["items"]) == 4
    # the rule is the database's own (PostgreSQL: an exclusion constraint; SQLite: triggers), not only the check
    # in accept: writing around the service is refused too
    engine = system.database("reservation").engine

    def write(rid, **values):
        with engine.begin() as conn:
            conn.execute(reservations.update().where(reservations.c.id == rid).values(**values))

    def window(rid):
        with engine.connect() as conn:
            return conn.execute(select(reservations.c.starts_at, reservations.c.ends_at)
                                .where(reservations.c.id == rid)).first()
    with pytest.raises(IntegrityError):
        write(losers[0], status="accepted")
    with pytest.raises(IntegrityError):  # nor may an accepted reservation be moved onto another
        w = window(winners[0])
        write(winners[1], starts_at=w.starts_at, ends_at=w.ends_at)
    # back to back is no overlap; another member's time is not this member's
    w = window(winners[0])
    write(losers[0], starts_at=w.ends_at, ends_at=w.ends_at + dt.timedelta(minutes=30), status="accepted")
    write(losers[1], member_id=new_id(), status="accepted")


def test_only_the_invited_member_answers_and_only_once(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    r = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=50).json["id"]
    stranger = flows.member(office["9"])
    assert api.post(f"/reservations/{r}/accept", token=stranger["token"]).status == 404
    assert api.post(f"/reservations/{r}/decline", token=stranger["token"]).status == 404
    assert api.post(f"/reservations/{r}/accept", token=v["centre"]).status == 403
    assert api.get(f"/reservations/{r}", token=stranger["token"]).status == 404
    assert api.post(f"/reservations/{r}/accept", token=v["token"]).json["status"] == "accepted"
    again = api.post(f"/reservations/{r}/decline", token=v["token"])
    assert again.status == 409 and again.json["code"] == "reservation_not_invited"
    listed = api.get("/reservations?status=accepted", token=v["centre"]).json["items"]
    assert [x["id"] for x in listed] == [r]
    assert api.get(f"/reservations/{r}", token=office["23"]).status == 404
    assert api.get(f"/reservations/{r}", token=office["9"]).json["status"] == "accepted"


# -- cancellations (لغو): a status of their own, never a decline
def test_a_suspended_members_open_reservations_are_cancelled_not_declined(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    invited = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=60).json["id"]
    accepted = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=70).json["id"]
    declined = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=80).json["id"]
    assert api.post(f"/reservations/{accepted}/accept", token=v["token"]).status == 200
    assert api.post(f"/reservations/{declined}/decline", {"reason": "در آن روز در سفرم"},
                    token=v["token"]).status == 200
    publish = flows.event_publisher(system.config)
    publish("membership", "MemberSuspended", envelope("MemberSuspended", {"member_id": v["id"], "review_id": None,
                                                                         "note": "آزمون"}))
    wait_for(lambda: api.get(f"/reservations/{accepted}", token=v["token"]).json["status"] == "cancelled")
    for rid, before in ((invited, "invited"), (accepted, "accepted")):
        got = api.get(f"/reservations/{rid}", token=v["centre"]).json
        assert got["status"] == "cancelled" and got["cancel_reason"] == "suspended", got
        assert "تعلیق" in got["cancel_note"] and got["decline_reason"] is None and got["cancelled_at"]
        [event] = outbox(system, "reservation", "ReservationCancelled", reservation_id=rid)
        assert event["previous_status"] == before and event["reason"] == "suspended" and event["ends_at"]
    # the member's own decline stays a decline, with the member's words
    kept = api.get(f"/reservations/{declined}", token=v["token"]).json
    assert kept["status"] == "declined" and kept["decline_reason"] == "در آن روز در سفرم" and kept["cancel_reason"] is None
    listed = api.get("/reservations?status=cancelled&limit=200", token=v["centre"]).json["items"]
    assert {invited, accepted} <= {x["id"] for x in listed}
    again = api.post(f"/reservations/{invited}/accept", token=v["token"])
    assert again.status == 409 and again.json["code"] == "reservation_not_invited"


def test_an_ended_offer_cancels_its_open_reservations_and_they_are_not_reported(system, api, flows, office):
    from services.reporting.models import cancellations
    from services.reporting.models import reservations as reportable
    from services.reservation.models import reservations
    v = _ready_offer(system, flows, office)
    invited = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=100).json["id"]
    accepted = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=110).json["id"]
    started = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=120).json["id"]
    declined = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=130).json["id"]
    for rid in (accepted, started):
        assert api.post(f"/reservations/{rid}/accept", token=v["token"]).status == 200
    assert api.post(f"/reservations/{declined}/decline", token=v["token"]).status == 200
    # one accepted reservation has begun (its time moved into the past): it is left to be reported
    now = dt.datetime.now(dt.timezone.utc)
    with system.database("reservation").engine.begin() as conn:
        conn.execute(reservations.update().where(reservations.c.id == started).values(
            starts_at=now - dt.timedelta(minutes=30), ends_at=now + dt.timedelta(minutes=30)))

    def known(table, rid):
        with system.database("reporting").engine.connect() as conn:
            return conn.execute(select(table).where(table.c.reservation_id == rid)).first() is not None
    wait_for(lambda: known(reportable, accepted))  # reporting learnt the acceptance
    assert api.post(f"/me/offers/{v['offer']}/withdraw", token=v["token"]).status == 200
    wait_for(lambda: api.get(f"/reservations/{accepted}", token=v["token"]).json["status"] == "cancelled")
    states = {rid: api.get(f"/reservations/{rid}", token=v["centre"]).json for rid in (invited, accepted, started,
                                                                                           declined)}
    assert {rid: (x["status"], x["cancel_reason"]) for rid, x in states.items()} == {
        invited: ("cancelled", "offer_withdrawn"), accepted: ("cancelled", "offer_withdrawn"),
        started: ("accepted", None), declined: ("declined", None)}
    assert {e["reservation_id"]: e["previous_status"] for e in outbox(
        system, "reservation", "ReservationCancelled", offer_id=v["offer"])} == {invited: "invited",
                                                                                 accepted: "accepted"}
    # reporting heard of it: the cancelled one is never reported
    wait_for(lambda: known(cancellations, accepted))
    report = {"reservation": accepted, "performed_on": dt.date.today().isoformat(), "hours": 2, "summary": "انجام شد"}
    refused = api.post("/reports", report, token=v["token"])
    assert refused.status == 409 and refused.json["code"] == "reservation_cancelled", refused


def test_a_completed_offer_cancels_its_invitations(system, api, flows, office):
    v = _ready_offer(system, flows, office)
    invited = _reserve(api, v["centre"], v["offer"], v["beneficiary"], hours=140).json["id"]
    assert api.post(f"/me/offers/{v['offer']}/complete", token=v["token"]).status == 200
    wait_for(lambda: api.get(f"/reservations/{invited}", token=v["token"]).json["status"] == "cancelled")
    got = api.get(f"/reservations/{invited}", token=v["centre"]).json
    assert got["cancel_reason"] == "offer_completed" and "پایان" in got["cancel_note"]
    [event] = outbox(system, "reservation", "ReservationCancelled", reservation_id=invited)
    assert event["reason"] == "offer_completed" and event["previous_status"] == "invited"
