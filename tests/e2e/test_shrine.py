"""Shrine duty shifts (کشیک) through HTTP, on the real broker, on SQLite and PostgreSQL."""
import datetime as dt
import time
import uuid

import eventlet
import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select, update

from bench.shrine import approve_report, envelope, mint
from kit.db import utcnow
from services.shrine import domain
from services.shrine.models import bookings, shifts

NOW = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


@pytest.fixture
def shrine_office(flows):
    if getattr(flows, "_shrine_office", None) is None:
        flows._shrine_office = {"9": flows.staff("shrine_office", "9")[0], "23": flows.staff("shrine_office", "23")[0]}
    return flows._shrine_office


@pytest.fixture
def publish(system, flows):
    return flows.event_publisher(system.config)


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


def make_shifts(api, token, *specs, **common):
    """Shifts from (hours from now, duration in hours) pairs, plus common fields."""
    base = NOW().replace(microsecond=0) + dt.timedelta(days=3)
    body = {"shifts": [dict({"starts_at": (base + dt.timedelta(hours=start)).isoformat(),
                             "ends_at": (base + dt.timedelta(hours=start + length)).isoformat(),
                             "post": "صحن انقلاب", "capacity": 3}, **common) for start, length in specs]}
    r = api.post("/shrine/shifts", body, token=token)
    assert r.status == 201, r
    return r.json["ids"]


def book(api, member, shift_id, key=None):
    return api.post(f"/shrine/shifts/{shift_id}/bookings", token=member["token"],
                    headers={"Idempotency-Key": key} if key else None)


def outbox(system, event_type, **match):
    db = system.database("shrine")
    with db.engine.connect() as conn:
        rows = conn.execute(select(db.outbox).where(db.outbox.c.event_type == event_type)).mappings().all()
    return [r["payload"] for r in rows if all(r["payload"].get(k) == v for k, v in match.items())]


def move_shift(system, shift_id, starts_at, hours=2):
    """Move the clock, as far as one shift is concerned: it now starts at ``starts_at``."""
    db = system.database("shrine")
    ends_at = starts_at + dt.timedelta(hours=hours)
    with db.engine.begin() as conn:
        conn.execute(update(shifts).where(shifts.c.id == shift_id).values(starts_at=starts_at, ends_at=ends_at))
        conn.execute(update(bookings).where(bookings.c.shift_id == shift_id).values(starts_at=starts_at,
                                                                                  ends_at=ends_at))


def timer(system, name):
    with entrypoint_hook(system.container("shrine"), name) as run:
        return run()


# -- eligibility
def test_eligibility_is_built_from_events(system, api, flows, office, publish):
    member = flows.member(office["9"])  # a real MemberActivated from membership
    r = wait_for(lambda: (lambda e: e if e.status == 200 and e.json["gender"] else None)(
        api.get("/shrine/eligibility", token=member["token"])))
    assert r.json["eligible"] is False and r.json["code"] == "no_approved_report" and r.json["reason_en"].isascii()
    assert any("\u0600" <= ch <= "\u06ff" for ch in r.json["reason"])
    approve_report(publish, member["id"])
    ok = wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["eligible"])
    assert ok
    r = api.get("/shrine/eligibility", token=member["token"])
    assert r.json["code"] == "eligible" and r.json["gender"] == "female" and r.json["since"]
    wait_for(lambda: outbox(system, "ShrineEligibilityGranted", member_id=member["id"]))
    # a second approved report grants nothing new
    approve_report(publish, member["id"])
    eventlet.sleep(0.5)
    assert len(outbox(system, "ShrineEligibilityGranted", member_id=member["id"])) == 1
    assert api.get("/shrine/eligibility", token=office["9"]).status == 403
    me = api.get("/me", token=member["token"])
    assert me.status == 200 and me.json["shrine"]["eligibility"]["code"] == "eligible", me
    assert me.json["shrine"]["next_shifts"] == [] and me.json["profile"]["id"] == member["id"]


def test_below_diploma_never_becomes_eligible(api, flows, system, publish):
    [m] = flows.shrine_members(system.config, 1, education="below_diploma")
    r = api.get("/shrine/eligibility", token=m["token"])
    assert r.json == dict(r.json, eligible=False, code="below_diploma")
    assert "شهر خود" in r.json["reason"]


def test_suspension_cancels_future_bookings_and_reinstatement_restores_eligibility(system, api, flows,
                                                                                    shrine_office, publish):
    [m, waiting] = flows.shrine_members(system.config, 2)
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2), capacity=1)
    booking = book(api, m, shift_id).json["id"]
    assert api.post(f"/shrine/shifts/{shift_id}/waitlist", token=waiting["token"]).status == 201
    publish("membership", "MemberSuspended", envelope("MemberSuspended", {"member_id": m["id"]}))
    wait_for(lambda: api.get("/shrine/eligibility", token=m["token"]).json["code"] == "suspended")
    mine = api.get("/shrine/bookings", token=m["token"]).json["items"]
    assert [b["status"] for b in mine if b["id"] == booking] == ["cancelled"]
    assert outbox(system, "ShiftCancelled", booking_id=booking, reason="suspended")
    # the freed place went to the waiting list
    offered = api.get("/shrine/bookings?status=offered", token=waiting["token"]).json["items"]
    assert [b["shift_id"] for b in offered] == [shift_id]
    refused = book(api, m, shift_id)
    assert refused.status == 403 and refused.json["code"] == "not_eligible"
    publish("membership", "MemberReinstated", envelope("MemberReinstated", {"member_id": m["id"]}))
    wait_for(lambda: api.get("/shrine/eligibility", token=m["token"]).json["eligible"])
    assert outbox(system, "ShrineEligibilityGranted", member_id=m["id"], reason="reinstated")
    publish("membership", "MemberDeactivated", envelope("MemberDeactivated", {"member_id": m["id"]}))
    # the gateway refuses the old token from now on; shrine's own answer is read with one issued afterwards
    wait_for(lambda: api.get("/shrine/eligibility", token=m["token"]).json["code"] == "account_deactivated")
    time.sleep(1.1)
    later = mint(system.config["JWT_SECRET"], m["id"], province="9")
    wait_for(lambda: api.get("/shrine/eligibility", token=later).json["code"] == "deactivated")


def test_events_in_any_order(system, api, flows, shrine_office, publish):
    """ReportApproved before MemberActivated: eligible at once; a late below_diploma takes it back."""
    member_id = uuid.uuid4().hex
    token = bench_token(system, member_id)
    approve_report(publish, member_id)
    wait_for(lambda: api.get("/shrine/eligibility", token=token).json["eligible"])
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2))
    booking = book(api, {"token": token}, shift_id).json["id"]  # gender unknown: an open shift is fine
    publish("membership", "MemberActivated", envelope("MemberActivated", {
        "member_id": member_id, "national_id": "0000000000", "first_name": "الف", "last_name": "ب",
        "gender": "male", "education": "below_diploma", "county": "", "mobile": "09120000000"}))
    wait_for(lambda: api.get("/shrine/eligibility", token=token).json["code"] == "below_diploma")
    assert outbox(system, "ShiftCancelled", booking_id=booking, reason="ineligible")
    assert api.get(f"/shrine/shifts/{shift_id}", token=token).json["remaining"] == 3


def bench_token(system, member_id):
    from bench.shrine import mint
    return mint(system.config["JWT_SECRET"], member_id)


# -- shifts
def test_publish_and_list_shifts(api, flows, system, shrine_office):
    token = shrine_office["9"]
    [m] = flows.shrine_members(system.config, 1)
    ids = make_shifts(api, token, (0, 2), (3, 4), gender="male", cancel_cutoff_hours=12)
    start = NOW() + dt.timedelta(days=3)
    frm = (start - dt.timedelta(hours=1)).isoformat()
    to = (start + dt.timedelta(hours=5)).isoformat()
    listed = api.get(f"/shrine/shifts?from={frm}&to={to}", token=m["token"])
    assert listed.status == 200, listed
    mine = [s for s in listed.json["items"] if s["id"] in ids]
    assert len(mine) == 2 and mine[0]["remaining"] == 3 and mine[0]["gender"] == "male"
    assert mine[0]["phase"] == "open" and mine[0]["cancel_cutoff_hours"] == 12 and mine[0]["starts_at_jalali"]
    # Jalali days work as a range too
    day = domain.jalali_moment(start).split()[0]
    by_day = api.get(f"/shrine/shifts?from={day}&to={day}&limit=500", token=token)
    assert by_day.status == 200 and {s["id"] for s in by_day.json["items"]} >= {
        s["id"] for s in mine if domain.jalali_moment(dt.datetime.fromisoformat(s["starts_at"])).startswith(day)}
    assert api.get(f"/shrine/shifts?from={to}&to={frm}", token=token).status == 422
    # another province's shrine office neither lists nor manages them
    tehran = api.get(f"/shrine/shifts?from={frm}&to={to}", token=shrine_office["23"])
    assert not {s["id"] for s in tehran.json["items"]} & set(ids)
    assert api.get(f"/shrine/shifts/{ids[0]}/bookings", token=shrine_office["23"]).status == 404
    assert api.get(f"/shrine/shifts/{ids[0]}", token=m["token"]).json["remaining"] == 3


def test_shift_validation_and_roles(api, flows, system, shrine_office, office):
    [m] = flows.shrine_members(system.config, 1)
    good = {"starts_at": "2099-01-01T10:00:00+03:30", "ends_at": "2099-01-01T12:00:00+03:30", "post": "باب الجواد",
            "capacity": 5}
    assert api.post("/shrine/shifts", {"shifts": [good]}, token=m["token"]).status == 403
    assert api.post("/shrine/shifts", {"shifts": [good]}, token=office["9"]).status == 403
    bad = api.post("/shrine/shifts", {"shifts": [good, dict(good, ends_at=good["starts_at"]),
                                                 dict(good, capacity=0, gender="other")]}, token=shrine_office["9"])
    assert bad.status == 422 and {"shifts.1.ends_at", "shifts.2.capacity", "shifts.2.gender"} <= set(bad.json["errors"])
    past = api.post("/shrine/shifts", {"shifts": [dict(good, starts_at="2020-01-01T10:00:00Z",
                                                       ends_at="2020-01-01T12:00:00Z")]}, token=shrine_office["9"])
    assert past.status == 422 and "shifts.0.starts_at" in past.json["errors"]
    jalali = api.post("/shrine/shifts", {"shifts": [dict(good, starts_at="۱۴۷۷/۱۰/۱۱ ۰۸:۰۰",
                                                         ends_at="1477/10/11 10:00")]}, token=shrine_office["9"])
    assert jalali.status == 201
    admin = api.post("/shrine/shifts", {"shifts": [good]}, token=flows.admin())
    assert admin.status == 201


# -- booking
def test_book_overlap_cancel_and_cutoff(system, api, flows, shrine_office):
    [m] = flows.shrine_members(system.config, 1)
    a, overlapping, adjacent = make_shifts(api, shrine_office["9"], (0, 2), (1, 1), (2, 2))
    r = book(api, m, a)
    assert r.status == 201 and r.json["status"] == "booked", r
    booking = r.json["id"]
    again = book(api, m, a)
    assert again.status == 409 and again.json["code"] == "already_booked"
    clash = book(api, m, overlapping)
    assert clash.status == 409 and clash.json["code"] == "overlap" and "ساعت" in clash.json["detail"]
    assert book(api, m, adjacent).status == 201  # back to back is fine
    assert api.get(f"/shrine/shifts/{a}", token=m["token"]).json["remaining"] == 2
    mine = api.get("/shrine/bookings?status=holding", token=m["token"]).json["items"]
    assert {b["shift_id"] for b in mine} == {a, adjacent} and all(b["cancel_deadline_jalali"] for b in mine)
    wait_for(lambda: outbox(system, "ShiftBooked", booking_id=booking))
    c = api.delete(f"/shrine/bookings/{booking}", token=m["token"])
    assert c.status == 200 and c.json["status"] == "cancelled"
    assert api.get(f"/shrine/shifts/{a}", token=m["token"]).json["remaining"] == 3
    assert outbox(system, "ShiftCancelled", booking_id=booking, reason="member")
    assert api.delete(f"/shrine/bookings/{booking}", token=m["token"]).json["status"] == "cancelled"
    assert book(api, m, overlapping).status == 201  # the clash is gone
    [late] = make_shifts(api, shrine_office["9"], (10, 2), cancel_cutoff_hours=720)
    held = book(api, m, late).json["id"]
    refused = api.delete(f"/shrine/bookings/{held}", token=m["token"])
    assert refused.status == 409 and refused.json["code"] == "cancel_cutoff_passed"
    assert any("\u06f0" <= ch <= "\u06f9" for ch in refused.json["detail"])  # the Jalali deadline, Persian digits
    [other] = flows.shrine_members(system.config, 1)
    assert api.delete(f"/shrine/bookings/{held}", token=other["token"]).status == 404


def test_full_shift_is_a_clear_409_and_retries_get_the_same_answer(system, api, flows, shrine_office):
    first, second = flows.shrine_members(system.config, 2)
    [one, other] = make_shifts(api, shrine_office["9"], (0, 2), (5, 2), capacity=1)
    key = uuid.uuid4().hex
    r = book(api, first, one, key)
    assert r.status == 201
    assert book(api, first, one, key).json == r.json  # a retry: the same booking, not a second
    full = book(api, second, one, "k-" + key)
    assert full.status == 409 and full.json["code"] == "full" and full.json["attempt"]
    retry = book(api, second, one, "k-" + key)
    assert retry.status == 409 and retry.json["attempt"] == full.json["attempt"]
    reused = book(api, first, other, key)
    assert reused.status == 422 and reused.json["code"] == "idempotency_key_reused"
    assert book(api, first, other, "x" * 65).status == 422
    en = api.post(f"/shrine/shifts/{one}/bookings", token=second["token"], headers={"Accept-Language": "en"})
    assert en.status == 409 and en.json["detail"] == "This shift is full; you may join its waiting list."
    assert api.post("/shrine/shifts/nope/bookings", token=first["token"]).status == 404


def test_gender_eligibility_and_opening_time(system, api, flows, shrine_office):
    [woman] = flows.shrine_members(system.config, 1, gender="female")
    [man] = flows.shrine_members(system.config, 1, gender="male")
    [stranger] = flows.shrine_members(system.config, 1, eligible=False)
    [brothers] = make_shifts(api, shrine_office["9"], (0, 2), gender="male")
    r = book(api, woman, brothers)
    assert r.status == 403 and r.json["code"] == "gender_restricted" and "برادران" in r.json["detail"]
    assert book(api, man, brothers).status == 201
    r = book(api, stranger, brothers)
    assert r.status == 403 and r.json["code"] == "not_eligible" and r.json["reason_code"] == "no_approved_report"
    opens = NOW() + dt.timedelta(days=1)
    [later] = make_shifts(api, shrine_office["9"], (4, 2), opens_at=opens.isoformat())
    r = book(api, woman, later)
    assert r.status == 409 and r.json["code"] == "not_open_yet"
    assert r.json["opens_at_jalali"] == domain.jalali_moment(opens)
    assert domain.jalali_moment_fa(opens) in r.json["detail"]
    assert api.get(f"/shrine/shifts/{later}", token=woman["token"]).json["phase"] == "not_open"


def test_the_window_is_drawn_before_anyone_who_came_later(system, api, flows, shrine_office):
    early, also_early, late = flows.shrine_members(system.config, 3)
    opened = NOW() - dt.timedelta(seconds=1)
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2), capacity=1, opens_at=opened.isoformat())
    answers = [book(api, m, shift_id) for m in (early, also_early)]
    assert [a.status for a in answers] == [202, 202], answers
    attempt = answers[0].json["attempt"]
    assert answers[0].headers["Location"].endswith(f"/shrine/attempts/{attempt}")
    assert book(api, early, shift_id).json["attempt"] == attempt  # again in the window: the same attempt
    assert api.get(f"/shrine/attempts/{attempt}", token=early["token"]).json["status"] == "pending"
    assert api.get(f"/shrine/attempts/{attempt}", token=late["token"]).status == 404
    assert api.post(f"/shrine/shifts/{shift_id}/waitlist", token=late["token"]).json["code"] == "shift_not_full"
    db = system.database("shrine")
    with db.engine.begin() as conn:  # the window closes now
        conn.execute(update(shifts).where(shifts.c.id == shift_id, shifts.c.drawn_at.is_(None))
                     .values(fair_until=utcnow()))
    after = book(api, late, shift_id)  # runs the draw first (unless its timer just did)
    assert after.status == 409 and after.json["code"] == "full"
    outcomes = [api.get(f"/shrine/attempts/{a.json['attempt']}", token=m["token"]).json
                for a, m in zip(answers, (early, also_early), strict=True)]
    assert sorted(o["status"] for o in outcomes) == ["granted", "refused"]
    assert sorted(o["draw_position"] for o in outcomes) == [1, 2]
    winner = next(o for o in outcomes if o["status"] == "granted")
    assert winner["draw_position"] == 1 and winner["booking_id"]
    draw = api.get(f"/shrine/shifts/{shift_id}/draw", token=late["token"]).json
    assert domain.verify_draw(draw["seed"], draw["entrants"], draw["ordering"]) and draw["granted"] == 1


def test_booking_attempts_are_rate_limited(system, api, flows, shrine_office):
    [m] = flows.shrine_members(system.config, 1)
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2))
    statuses = [book(api, m, shift_id).status for _ in range(11)]
    assert statuses[0] == 201 and statuses[1:10] == [409] * 9 and statuses[10] == 429
    limited = book(api, m, shift_id)
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


# -- waiting list
def test_waiting_list_promotion_confirmation_and_expiry(system, api, flows, shrine_office):
    holder, first, second = flows.shrine_members(system.config, 3)
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2), capacity=1)
    assert api.post(f"/shrine/shifts/{shift_id}/waitlist", token=first["token"]).json["code"] == "shift_not_full"
    held = book(api, holder, shift_id).json["id"]
    w1 = api.post(f"/shrine/shifts/{shift_id}/waitlist", token=first["token"])
    w2 = api.post(f"/shrine/shifts/{shift_id}/waitlist", token=second["token"])
    assert (w1.status, w1.json["position"], w2.json["position"]) == (201, 1, 2)
    assert api.post(f"/shrine/shifts/{shift_id}/waitlist", token=first["token"]).json["id"] == w1.json["id"]
    assert api.delete(f"/shrine/bookings/{held}", token=holder["token"]).status == 200
    [offer] = api.get("/shrine/bookings?status=offered", token=first["token"]).json["items"]
    assert offer["shift_id"] == shift_id and offer["confirm_by"] and offer["confirm_by_jalali"]
    assert outbox(system, "WaitlistPromoted", booking_id=offer["id"], member_id=first["id"])
    assert api.get(f"/shrine/shifts/{shift_id}", token=holder["token"]).json["remaining"] == 0  # the place is held
    assert book(api, holder, shift_id).json["code"] == "full"
    ok = api.post(f"/shrine/bookings/{offer['id']}/confirm", token=first["token"])
    assert ok.status == 200 and ok.json["status"] == "booked"
    assert outbox(system, "ShiftBooked", booking_id=offer["id"], source="waitlist")
    # the next in line lets the offer lapse: the timer passes the place on (nobody left, so it is freed)
    assert api.delete(f"/shrine/bookings/{offer['id']}", token=first["token"]).status == 200
    [offer2] = api.get("/shrine/bookings?status=offered", token=second["token"]).json["items"]
    db = system.database("shrine")
    with db.engine.begin() as conn:
        conn.execute(update(bookings).where(bookings.c.id == offer2["id"]).values(
            confirm_by=utcnow() - dt.timedelta(seconds=1)))
    timer(system, "expire_offers")
    late = api.post(f"/shrine/bookings/{offer2['id']}/confirm", token=second["token"])
    assert late.status == 409 and late.json["code"] == "offer_expired"
    assert outbox(system, "ShiftCancelled", booking_id=offer2["id"], reason="offer_expired")
    assert api.get(f"/shrine/shifts/{shift_id}", token=holder["token"]).json["remaining"] == 1


# -- attendance
def test_attendance_and_the_fifth_absence(system, api, flows, shrine_office):
    [m] = flows.shrine_members(system.config, 1)
    ids = make_shifts(api, shrine_office["9"], *[(3 * i, 2) for i in range(6)])
    held = [book(api, m, s).json["id"] for s in ids]
    early = api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[0], "present": False},
                     token=shrine_office["9"])
    assert early.status == 409 and early.json["code"] == "shift_not_started"
    for i, shift_id in enumerate(ids):
        move_shift(system, shift_id, NOW() - dt.timedelta(days=10 - i))
    assert api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[0], "present": True},
                    token=shrine_office["23"]).status == 404
    assert api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[1], "present": True},
                    token=shrine_office["9"]).status == 404  # not this shift's booking
    assert api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[0], "present": "maybe"},
                    token=shrine_office["9"]).status == 422
    present = api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[0], "present": True},
                       token=shrine_office["9"])
    assert present.status == 200 and present.json["absences"] == 0
    assert api.post(f"/shrine/shifts/{ids[0]}/attendance", {"booking": held[0], "present": False},
                    token=shrine_office["9"]).json["code"] == "attendance_recorded"
    for n, (shift_id, booking) in enumerate(zip(ids[1:], held[1:], strict=True), 1):
        r = api.post(f"/shrine/shifts/{shift_id}/attendance", {"booking": booking, "present": False},
                     token=shrine_office["9"])
        assert r.status == 200 and r.json["absences"] == n
    assert len(outbox(system, "AbsenceRecorded", member_id=m["id"])) == 5
    [flag] = outbox(system, "MemberFlaggedForReview", member_id=m["id"])
    assert flag["reason_code"] == "repeated_absence" and flag["absences"] == 5 and "۵" in flag["reason"]
    assert api.get("/shrine/eligibility", token=m["token"]).json["absences"] == 5


# -- reminders and /me
def test_reminder_the_day_before_and_the_member_part_of_me(system, api, flows, shrine_office):
    [m] = flows.shrine_members(system.config, 1)
    [soon, later] = make_shifts(api, shrine_office["9"], (0, 2), (30, 2))
    near, far = book(api, m, soon).json["id"], book(api, m, later).json["id"]
    move_shift(system, soon, NOW() + dt.timedelta(hours=20))
    sent = timer(system, "send_reminders")
    assert near in sent and far not in sent
    assert near not in timer(system, "send_reminders")  # once
    [reminder] = outbox(system, "ShiftReminderDue", booking_id=near)
    assert reminder["starts_at_jalali"] and reminder["post"] == "صحن انقلاب"
    with entrypoint_hook(system.container("shrine"), "me_part") as me_part:
        part = me_part({"id": m["id"], "role": "member", "province": "9"})
        assert me_part({"id": "x", "role": "shrine_office", "province": "9"}) is None
    assert part["eligibility"]["eligible"] is True
    assert [b["id"] for b in part["next_shifts"]] == [near, far]


def test_events_leave_through_the_outbox(system, api, flows, shrine_office):
    [m] = flows.shrine_members(system.config, 1)
    [shift_id] = make_shifts(api, shrine_office["9"], (0, 2))
    booking = book(api, m, shift_id).json["id"]
    db = system.database("shrine")

    def published():
        with db.engine.connect() as conn:
            return conn.execute(select(db.outbox.c.published_at).where(
                db.outbox.c.event_type == "ShiftBooked",
                db.outbox.c.payload.is_not(None))).scalars().all()
    wait_for(lambda: all(published()) and outbox(system, "ShiftBooked", booking_id=booking))
    assert wait_for(lambda: db.pending_events() == 0)
