"""The review of members (بازنگری) through HTTP and the bus, on SQLite and PostgreSQL.

Each of the six grounds is driven from what causes it (events, the office's routes, or the sweep with the clock
moved); decisions travel to catalog, reservation and shrine as events.  Time is moved, never slept through:
``services.membership.review.clock`` is monkeypatched and the sweep is run with ``entrypoint_hook``.
"""
import datetime as dt
import time
import uuid

import eventlet
import pytest
from eventlet.event import Event
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select, update

from bench.shrine import approve_report, envelope, mint
from kit.db import utcnow
from services.membership import review as review_module
from services.membership.models import due_reports, member_offers

NOW = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


@pytest.fixture
def publish(system, flows):
    return flows.event_publisher(system.config)


@pytest.fixture
def move_clock(monkeypatch):
    """``move_clock(delta)``: membership's clock runs ``delta`` ahead of the real one from now on (for this test)."""
    def move(delta):
        monkeypatch.setattr(review_module, "clock", lambda: utcnow() + delta)
    return move


def sweep(system):
    with entrypoint_hook(system.container("membership"), "review_sweep") as run:
        return run()


def sweeps_at_once(system, n):
    """``n`` review sweeps run at the same moment, each one's own answer. (nameko's ``entrypoint_hook`` waits for the
    first worker of the method to end, so two hooks at once may both answer the sweep that ended first.)"""
    container = system.container("membership")
    [timer] = [e for e in container.entrypoints if e.method_name == "review_sweep"]
    answers = [Event() for _ in range(n)]

    def keep(answer):
        def handle_result(worker_ctx, result, exc_info):
            if exc_info is None:
                answer.send(result)
            else:
                answer.send_exception(*exc_info)
            return result, exc_info
        return handle_result

    for answer in answers:
        container.spawn_worker(timer, (), {}, handle_result=keep(answer))
    return [answer.wait() for answer in answers]


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(0.1)
    raise AssertionError("condition not met in time")


def reasons(case, code=None):
    return [r for r in case["reasons"] if code is None or r["code"] == code]


def open_case(flows, token, member_id):
    cases = flows.reviews_of(token, member_id, status="open")
    assert len(cases) <= 1, cases
    return cases[0] if cases else None


def outbox(system, service, event_type, **match):
    db = system.database(service)
    with db.engine.connect() as conn:
        rows = conn.execute(select(db.outbox).where(db.outbox.c.event_type == event_type)).mappings().all()
    return [r["payload"] for r in rows if all(r["payload"].get(k) == v for k, v in match.items())]


# ---- reason 1: no service chosen, or a report not filed on time ------------------------------------------------
def test_a_member_who_never_offers_is_put_up_for_review_after_the_idle_period(system, flows, office, move_clock):
    idle = flows.member(office["9"])
    busy = flows.approved_offer(office["9"])
    db = system.database("membership")

    def offering():
        with db.engine.connect() as conn:
            return conn.execute(select(member_offers).where(member_offers.c.member_id == busy["id"],
                                                            member_offers.c.status == "active")).first()
    wait_for(offering)  # membership learnt the offer from catalog's OfferSubmitted

    move_clock(dt.timedelta(days=89))
    sweep(system)
    early = open_case(flows, office["9"], idle["id"])
    assert early is None or not reasons(early, "inactivity")

    move_clock(dt.timedelta(days=91))
    first = sweep(system)
    assert first["reasons_added"] >= 1 and first["members"] >= 2
    case = open_case(flows, office["9"], idle["id"])
    [inactive] = reasons(case, "inactivity")
    assert inactive["evidence_key"].startswith("no_offer:") and inactive["number"] == 1
    assert inactive["title"].startswith("عدم انتخاب خدمت") and inactive["data"]["days"] >= 90
    assert case["member"] == {"id": idle["id"], "national_id": idle["national_id"], "name": "زهرا رضایی",
                              "county": idle["application"]["county"], "status": "active"}
    # the member with a running offer chose a service: not idle
    busy_case = open_case(flows, office["9"], busy["id"])
    assert busy_case is None or not reasons(busy_case, "inactivity")

    # a second sweep adds nothing, anywhere
    again = sweep(system)
    assert again["reasons_added"] == 0 and again["cases_opened"] == 0
    assert open_case(flows, office["9"], idle["id"])["reasons"] == case["reasons"]


def test_continue_restarts_the_clocks_and_old_evidence_never_reopens_a_case(system, flows, office, move_clock):
    member = flows.member(office["9"])
    move_clock(dt.timedelta(days=95))
    sweep(system)
    case = open_case(flows, office["9"], member["id"])
    assert reasons(case, "inactivity")
    decided = flows.api.post(f"/reviews/{case['id']}/decision", {"decision": "continue", "note": "تذکر شفاهی داده شد"},
                             token=office["9"])
    assert decided.status == 200 and decided.json["status"] == "closed" and decided.json["decision"] == "continue"
    assert decided.json["member"]["status"] == "active"
    sweep(system)  # same moment: the idle period starts again at the decision
    assert open_case(flows, office["9"], member["id"]) is None
    move_clock(dt.timedelta(days=95 + 91))
    sweep(system)
    later = open_case(flows, office["9"], member["id"])
    assert later["id"] != case["id"] and [r["evidence_key"] for r in reasons(later, "inactivity")] != \
        [r["evidence_key"] for r in reasons(case, "inactivity")]


def test_a_report_not_filed_in_time_is_a_reason(system, flows, office, move_clock):
    v = flows.accepted_reservation(office["9"])
    db = system.database("membership")

    def known():
        with db.engine.connect() as conn:
            return conn.execute(select(due_reports).where(
                due_reports.c.reservation_id == v["reservation"])).mappings().first()
    row = wait_for(known)
    assert row["status"] == "due"
    ends = row["ends_at"]
    move_clock(ends - NOW() + dt.timedelta(days=13))
    sweep(system)
    case = open_case(flows, office["9"], v["id"])
    assert case is None or not [r for r in reasons(case) if r["evidence_key"] == f"late_report:{v['reservation']}"]
    move_clock(ends - NOW() + dt.timedelta(days=14, hours=1))
    sweep(system)
    case = open_case(flows, office["9"], v["id"])
    [late] = [r for r in reasons(case, "inactivity") if r["evidence_key"] == f"late_report:{v['reservation']}"]
    assert late["data"]["reservation_id"] == v["reservation"] and "ثبت نشده" in late["evidence"]
    assert sweep(system)["reasons_added"] == 0


def test_a_report_filed_on_time_is_no_reason(system, flows, office, move_clock):
    v = flows.submitted_report(office["9"])
    db = system.database("membership")

    def filed():
        with db.engine.connect() as conn:
            row = conn.execute(select(due_reports).where(
                due_reports.c.reservation_id == v["reservation"])).mappings().first()
        return row if row and row["status"] == "filed" and row["ends_at"] else None
    row = wait_for(filed)
    move_clock(row["ends_at"] - NOW() + dt.timedelta(days=20))
    sweep(system)
    case = open_case(flows, office["9"], v["id"])
    assert case is None or not [r for r in reasons(case) if r["evidence_key"].startswith("late_report:")]


# ---- reason 2: a report rejected by the supervisor ----------------------------------------------------------------
def test_a_rejected_report_opens_a_review_once(system, flows, office, publish):
    v = flows.submitted_report(office["9"])
    r = flows.api.post(f"/reports/{v['report']}/reject", {"reason": "ساعت‌های گزارش‌شده با رزرو نمی‌خواند"},
                       token=v["supervisor"])
    assert r.status == 200, r
    case = wait_for(lambda: open_case(flows, office["9"], v["id"]))
    [rejected] = reasons(case, "report_rejected")
    assert rejected["evidence_key"] == f"report:{v['report']}" and "نمی‌خواند" in rejected["evidence"]
    assert rejected["source"] == "reporting.ReportRejected" and rejected["number"] == 2
    # the same event delivered again, and the same fact in a new envelope: nothing more
    [payload] = outbox(system, "reporting", "ReportRejected", report_id=v["report"])
    again = envelope("ReportRejected", payload)
    publish("reporting", "ReportRejected", again)
    publish("reporting", "ReportRejected", again)
    publish("reporting", "ReportRejected", envelope("ReportRejected", payload))
    eventlet.sleep(1.5)
    [same] = flows.reviews_of(office["9"], v["id"])
    assert same["id"] == case["id"] and len(reasons(same, "report_rejected")) == 1
    assert len(outbox(system, "membership", "ReviewReasonRecorded", member_id=v["id"], reason="report_rejected")) == 1


# ---- reason 3: a breach of the rules, recorded by the office ---------------------------------------------------
def test_a_breach_recorded_by_the_office(system, api, flows, office):
    member = flows.member(office["9"])
    b = api.post(f"/members/{member['id']}/breaches", {"note": "حضور با پوشش نامناسب در مراسم"}, token=office["9"])
    assert b.status == 201 and b.json["kind"] == "breach" and b.json["review_id"], b
    [case] = flows.reviews_of(office["9"], member["id"])
    [breach] = case["reasons"]
    assert breach["code"] == "breach" and breach["number"] == 3 and breach["source"] == "office"
    assert breach["evidence"].endswith("حضور با پوشش نامناسب در مراسم")
    assert breach["title"] == "عدم رعایت مقررات و شئون خادمی حضرت رضا علیه السلام"
    assert case["status"] == "open" and case["opened_at_jalali"] and case["id"] == b.json["review_id"]
    assert outbox(system, "membership", "ReviewReasonRecorded", member_id=member["id"]) == [
        {"review_id": case["id"], "member_id": member["id"], "reason": "breach",
         "evidence_key": f"breach:{b.json['id']}", "opened": True}]
    # a second ground joins the same open case
    d = api.post(f"/members/{member['id']}/discontinuity", {"note": "سه ماه بی‌خبر از کانون"}, token=office["9"])
    assert d.status == 201 and d.json["review_id"] == b.json["review_id"]
    [case] = flows.reviews_of(office["9"], member["id"])
    assert [r["code"] for r in case["reasons"]] == ["breach", "discontinuity"]

    # filters
    ids = lambda **q: [c["id"] for c in flows.reviews_of(office["9"], member["id"], **q)]  # noqa: E731
    assert ids(reason="breach") == ids(reason="discontinuity") == ids(status="open") == [case["id"]]
    assert ids(reason="report_rejected") == [] and ids(status="closed") == []
    listed = api.get("/reviews?reason=breach&status=open&limit=200", token=office["9"])
    assert case["id"] in [c["id"] for c in listed.json["items"]] and "next" in listed.json
    assert all(any(r["code"] == "breach" for r in c["reasons"]) for c in listed.json["items"])
    assert api.get("/reviews?status=maybe", token=office["9"]).status == 422
    assert api.get("/reviews?reason=nope", token=office["9"]).status == 422

    # validation and roles
    assert api.post(f"/members/{member['id']}/breaches", {}, token=office["9"]).status == 422
    assert api.post(f"/members/{member['id']}/breaches", {"note": "x" * 10}, token=member["token"]).status == 403
    assert api.post(f"/members/{uuid.uuid4().hex}/breaches", {"note": "ناشناس"}, token=office["9"]).status == 404
    assert api.get("/reviews", token=member["token"]).status == 403


# ---- reason 5: discontinuity established by the office -------------------------------------------------------
def test_discontinuity_established_by_the_office(api, flows, office):
    member = flows.member(office["9"])
    d = api.post(f"/members/{member['id']}/discontinuity", {"note": "از مهر تا کنون هیچ خدمتی نداشته است"},
                 token=office["9"])
    assert d.status == 201 and d.json["kind"] == "discontinuity", d
    case = api.get(f"/reviews/{d.json['review_id']}", token=office["9"]).json
    [reason] = case["reasons"]
    assert reason["code"] == "discontinuity" and reason["number"] == 5
    assert reason["title"] == "محرز شدن عدم استمرار خدمت توسط نمایندگی آستان قدس"
    assert reason["data"]["note"] == "از مهر تا کنون هیچ خدمتی نداشته است"
    assert case["member"]["national_id"] == member["national_id"] and case["member"]["name"] == "زهرا رضایی"
    assert api.post(f"/members/{member['id']}/discontinuity", {"note": " "}, token=office["9"]).status == 422


def test_another_province_sees_nothing_of_a_review(api, flows, office):
    member = flows.member(office["9"])
    case_id = api.post(f"/members/{member['id']}/breaches", {"note": "تخلف آزمایشی"}, token=office["9"]).json["review_id"]
    tehran = office["23"]
    assert case_id not in [c["id"] for c in api.get("/reviews?limit=200", token=tehran).json["items"]]
    assert flows.reviews_of(tehran, member["id"]) == []
    assert api.get(f"/reviews/{case_id}", token=tehran).status == 404
    refused = api.post(f"/reviews/{case_id}/decision", {"decision": "deactivate", "note": "از استان دیگر"}, token=tehran)
    assert refused.status == 404 and refused.json["code"] == "review_not_found"
    assert api.post(f"/members/{member['id']}/breaches", {"note": "از استان دیگر"}, token=tehran).status == 404
    assert api.post(f"/members/{member['id']}/discontinuity", {"note": "از استان دیگر"}, token=tehran).status == 404
    assert api.post(f"/members/{member['id']}/reinstate", {"note": "از استان دیگر"}, token=tehran).status == 404
    assert api.get(f"/members/{member['id']}/standing", token=tehran).status == 404
    # the national admin sees every province
    assert api.get(f"/reviews/{case_id}", token=flows.admin()).json["member"]["id"] == member["id"]
    assert case_id in [c["id"] for c in flows.reviews_of(flows.admin(), member["id"])]
    # and the case is still open: nothing happened
    assert api.get(f"/reviews/{case_id}", token=office["9"]).json["status"] == "open"


def test_one_open_case_however_many_reasons_arrive_at_once(api, flows, office):
    member = flows.member(office["9"])
    pool = eventlet.GreenPool(8)
    answers = list(pool.imap(lambda i: api.post(f"/members/{member['id']}/breaches", {"note": f"تخلف شماره {i}"},
                                                token=office["9"]), range(8)))
    assert [a.status for a in answers] == [201] * 8, answers
    assert len({a.json["review_id"] for a in answers}) == 1
    [case] = flows.reviews_of(office["9"], member["id"])
    assert len(reasons(case, "breach")) == 8


def test_two_sweeps_at_once_record_each_ground_once(system, flows, office, move_clock):
    """Two replicas sweeping at the same moment: one case per member, one row per piece of evidence."""
    members = [flows.member(office["9"]) for _ in range(3)]
    move_clock(dt.timedelta(days=400))
    results = sweeps_at_once(system, 2)
    assert sum(r["cases_opened"] for r in results) >= 3, results
    for member in members:
        [case] = flows.reviews_of(office["9"], member["id"])
        keys = [(r["code"], r["evidence_key"]) for r in case["reasons"]]
        assert len(keys) == len(set(keys))
        assert {"inactivity", "training_or_meeting"} <= {r["code"] for r in case["reasons"]}  # idle, no meeting
    assert sweep(system)["reasons_added"] == 0


def test_a_decision_racing_new_grounds_loses_nothing(api, flows, office):
    member = flows.member(office["9"])
    case_id = api.post(f"/members/{member['id']}/breaches", {"note": "تخلف نخست"}, token=office["9"]).json["review_id"]
    pool = eventlet.GreenPool(8)

    def act(i):
        if i == 3:
            return api.post(f"/reviews/{case_id}/decision", {"decision": "suspend", "note": "تعلیق"}, token=office["9"])
        return api.post(f"/members/{member['id']}/breaches", {"note": f"تخلف هم‌زمان {i}"}, token=office["9"])
    answers = list(pool.imap(act, range(8)))
    assert sorted(a.status for a in answers) == [200] + [201] * 7, answers
    cases = flows.reviews_of(office["9"], member["id"])
    assert [c["status"] for c in cases].count("open") <= 1 and cases[0]["decision"] == "suspend"
    assert sum(len(reasons(c, "breach")) for c in cases) == 8


# ---- reason 4: missed training, or no meeting in six months -------------------------------------------------------
def test_weeks_of_unread_lessons_are_a_reason(system, api, flows, office, move_clock):
    from kit.persian import jalali_week_start
    member = flows.member(office["9"])
    week0 = jalali_week_start(NOW())
    weeks = [week0 + dt.timedelta(weeks=k) for k in range(1, 6)]
    lessons = [flows.lesson(w) for w in weeks]
    # the member reads the first week's lesson in its week
    move_clock(dt.datetime.combine(weeks[0], dt.time(12), tzinfo=dt.timezone.utc) - NOW())
    r = api.post(f"/training/lessons/{lessons[0]}/read", token=member["token"])
    assert r.status == 200 and r.json["on_time"] is True, r
    # three weeks later only weeks 2 and 3 are over and unread: below the tolerance of four
    move_clock(dt.datetime.combine(weeks[3], dt.time(12), tzinfo=dt.timezone.utc) - NOW())
    record = api.get(f"/members/{member['id']}/training", token=office["9"]).json
    sweep(system)
    case = open_case(flows, office["9"], member["id"])
    training = [r for r in reasons(case) if r["evidence_key"].startswith("training:")] if case else []
    assert bool(training) == (record["missed_weeks"] >= 4)
    # after week 5: weeks 2, 3, 4 and 5 unread
    move_clock(dt.datetime.combine(weeks[4] + dt.timedelta(weeks=1), dt.time(12), tzinfo=dt.timezone.utc) - NOW())
    sweep(system)
    case = open_case(flows, office["9"], member["id"])
    [training] = [r for r in reasons(case, "training_or_meeting") if r["evidence_key"].startswith("training:")]
    missed = training["data"]["weeks"]
    assert {w.isoformat() for w in weeks[1:]} <= set(missed) and weeks[0].isoformat() not in missed
    assert training["number"] == 4 and "آموزش" in training["title"]
    mine = api.get("/me/training", token=member["token"]).json
    by_week = {i["week"]: i for i in mine["items"]}
    assert by_week[weeks[0].isoformat()]["read"] and not by_week[weeks[0].isoformat()]["missed"]
    assert by_week[weeks[1].isoformat()]["missed"] and mine["missed_weeks"] >= 4 and mine["tolerance"] == 4
    assert sweep(system)["reasons_added"] == 0


def test_no_meeting_in_six_months_is_a_reason(system, api, flows, office, move_clock):
    absent = flows.member(office["9"])
    present = flows.member(office["9"])
    starts = (NOW() + dt.timedelta(days=100)).isoformat()
    m = api.post("/meetings", {"starts_at": starts, "place": "حسینیه ارشاد مشهد"}, token=office["9"])
    assert m.status == 201
    assert api.post(f"/meetings/{m.json['id']}/attendance", {"member_ids": [present["id"]]},
                    token=office["9"]).status == 200
    move_clock(dt.timedelta(days=183))
    sweep(system)
    case = open_case(flows, office["9"], absent["id"])
    [meeting] = [r for r in reasons(case, "training_or_meeting") if r["evidence_key"].startswith("meeting:")]
    assert "شش ماه" in meeting["evidence"] and meeting["data"]["last_attendance"] is None
    other = open_case(flows, office["9"], present["id"])
    assert other is None or not [r for r in reasons(other) if r["evidence_key"].startswith("meeting:")]
    standing = api.get("/me", token=absent["token"]).json["standing"]
    assert standing["meetings"]["overdue"] is True and standing["review"]["id"] == case["id"]


# ---- reason 6: more than four absences from shrine shifts ----------------------------------------------------------
def test_shrine_flags_open_a_review_once(system, flows, office, publish):
    member = flows.member(office["9"])
    flag = envelope("MemberFlaggedForReview", {
        "member_id": member["id"], "reason_code": "repeated_absence", "absences": 5, "shift_id": uuid.uuid4().hex,
        "reason": "غیبت در ۵ کشیک حرم مطهر؛ بررسی وضعیت خادمیار لازم است.",
        "reason_en": "Absent from 5 shrine shifts; the member is up for review."})
    publish("shrine", "MemberFlaggedForReview", flag)
    case = wait_for(lambda: open_case(flows, office["9"], member["id"]))
    [absent] = reasons(case, "shrine_absences")
    assert absent["evidence_key"] == "absences:5" and absent["evidence"].startswith("غیبت در ۵ کشیک")
    # redelivered, and the same count reported by AbsenceRecorded: no second reason
    publish("shrine", "MemberFlaggedForReview", flag)
    for n in (5, 6):
        publish("shrine", "AbsenceRecorded", envelope("AbsenceRecorded", {
            "booking_id": uuid.uuid4().hex, "shift_id": uuid.uuid4().hex, "member_id": member["id"],
            "starts_at": NOW().isoformat(), "absences": n}))
    eventlet.sleep(1.5)
    assert len(reasons(open_case(flows, office["9"], member["id"]), "shrine_absences")) == 1
    # the tenth absence is new evidence
    publish("shrine", "AbsenceRecorded", envelope("AbsenceRecorded", {
        "booking_id": uuid.uuid4().hex, "shift_id": uuid.uuid4().hex, "member_id": member["id"],
        "starts_at": NOW().isoformat(), "absences": 10}))
    wait_for(lambda: len(reasons(open_case(flows, office["9"], member["id"]), "shrine_absences")) == 2)


def test_five_absences_recorded_at_the_shrine_open_a_review(system, api, flows, office, publish):
    from services.shrine.models import bookings, shifts
    member = flows.member(office["9"])
    approve_report(publish, member["id"])
    wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["eligible"])
    shrine = flows.cached_staff("shrine_office", "9")
    base = NOW().replace(microsecond=0) + dt.timedelta(days=20)
    body = {"shifts": [{"starts_at": (base + dt.timedelta(hours=3 * k)).isoformat(),
                        "ends_at": (base + dt.timedelta(hours=3 * k + 2)).isoformat(),
                        "post": "صحن جامع رضوی", "capacity": 2} for k in range(5)]}
    made = api.post("/shrine/shifts", body, token=shrine)
    assert made.status == 201, made
    db = system.database("shrine")
    for k, shift_id in enumerate(made.json["ids"]):
        booked = api.post(f"/shrine/shifts/{shift_id}/bookings", token=member["token"])
        assert booked.status == 201, booked
        past = NOW() - dt.timedelta(days=10, hours=3 * k)
        with db.engine.begin() as conn:  # the shift took place: move it into the past
            conn.execute(update(shifts).where(shifts.c.id == shift_id).values(
                starts_at=past, ends_at=past + dt.timedelta(hours=2)))
            conn.execute(update(bookings).where(bookings.c.shift_id == shift_id).values(
                starts_at=past, ends_at=past + dt.timedelta(hours=2)))
        absent = api.post(f"/shrine/shifts/{shift_id}/attendance", {"booking": booked.json["id"], "present": False},
                          token=shrine)
        assert absent.status == 200 and absent.json["absences"] == k + 1, absent
    case = wait_for(lambda: open_case(flows, office["9"], member["id"]))
    eventlet.sleep(1)
    [absences] = reasons(open_case(flows, office["9"], member["id"]), "shrine_absences")
    assert absences["evidence_key"] == "absences:5" and absences["number"] == 6 and case["status"] == "open"


# ---- decisions, and what they do elsewhere ---------------------------------------------------------------------
def test_suspension_and_reinstatement_travel_to_catalog_reservation_and_shrine(system, api, flows, office, publish):
    v = flows.approved_offer(office["9"])
    reservation = flows.future_reservation(v, days=3)
    approve_report(publish, v["id"])
    wait_for(lambda: api.get("/shrine/eligibility", token=v["token"]).json["eligible"])
    case_id = api.post(f"/members/{v['id']}/breaches", {"note": "رفتار نامناسب با زائران"},
                       token=office["9"]).json["review_id"]
    bad = api.post(f"/reviews/{case_id}/decision", {"decision": "expel", "note": "—"}, token=office["9"])
    assert bad.status == 422 and "decision" in bad.json["errors"]
    assert api.post(f"/reviews/{case_id}/decision", {"decision": "suspend"}, token=office["9"]).status == 422

    d = api.post(f"/reviews/{case_id}/decision", {"decision": "suspend", "note": "تعلیق سه‌ماهه"}, token=office["9"])
    assert d.status == 200 and d.json["status"] == "closed" and d.json["decision"] == "suspend", d
    assert d.json["member"]["status"] == "suspended" and d.json["note"] == "تعلیق سه‌ماهه"
    assert outbox(system, "membership", "MemberSuspended", member_id=v["id"]) == [
        {"member_id": v["id"], "review_id": case_id, "note": "تعلیق سه‌ماهه"}]
    again = api.post(f"/reviews/{case_id}/decision", {"decision": "continue", "note": "دوباره"}, token=office["9"])
    assert again.status == 409 and again.json["code"] == "review_closed"

    # catalog withdrew the running offer and refuses new ones
    wait_for(lambda: [o for o in api.get("/me/offers", token=v["token"]).json["items"]
                      if o["id"] == v["offer"] and o["status"] == "withdrawn"])
    assert outbox(system, "catalog", "OfferWithdrawn", offer_id=v["offer"], reason="suspended")
    offer = {"service": v["service"], "details": "عصرها", "phone": "09151234567"}
    refused = api.post("/me/offers", offer, token=v["token"])
    assert refused.status == 403 and refused.json["code"] == "member_suspended"
    # reservation cancelled the future reservation and takes no new one for the offer
    cancelled = wait_for(lambda: (lambda r: r if r.json["status"] == "cancelled" else None)(
        api.get(f"/reservations/{reservation}", token=v["token"])))
    assert cancelled.json["cancel_reason"] == "suspended" and "تعلیق" in cancelled.json["cancel_note"]
    assert outbox(system, "reservation", "ReservationCancelled", reservation_id=reservation, reason="suspended")
    centre = flows.cached_staff("neighborhood_center", "9", county=v["county"], center="کانون محله آزمون")
    b = api.post("/beneficiaries", {"full_name": "سمیه نوری", "needs": "همراهی", "address": "مشهد، پلاک ۱",
                                    "phone": "05138000000"}, token=centre).json["id"]
    starts = NOW() + dt.timedelta(days=5)
    nope = api.post("/reservations", {"offer": v["offer"], "beneficiary": b, "starts_at": starts.isoformat(),
                                      "ends_at": (starts + dt.timedelta(hours=1)).isoformat(), "place": "محله"},
                    token=centre)
    assert nope.status == 404 and nope.json["code"] == "offer_not_available"
    # shrine: eligibility lost; the member may still log in and see where they stand
    wait_for(lambda: api.get("/shrine/eligibility", token=v["token"]).json["code"] == "suspended")
    token = flows.login(v["national_id"], v["password"])
    me = api.get("/me", token=token).json
    assert me["profile"]["status"] == "suspended" and me["standing"]["status"] == "suspended"
    assert me["standing"]["review"] is None

    # the office lifts the suspension: eligibility is back, offers are welcome again
    assert api.post(f"/members/{v['id']}/reinstate", {"note": "x"}, token=office["9"]).status == 422
    back = api.post(f"/members/{v['id']}/reinstate", {"note": "پایان دوره تعلیق"}, token=office["9"])
    assert back.status == 200 and back.json == {"member_id": v["id"], "status": "active", "review_id": case_id}
    twice = api.post(f"/members/{v['id']}/reinstate", {"note": "پایان دوره تعلیق"}, token=office["9"])
    assert twice.status == 409 and twice.json["code"] == "not_suspended"
    assert outbox(system, "membership", "MemberReinstated", member_id=v["id"]) == [
        {"member_id": v["id"], "review_id": case_id, "note": "پایان دوره تعلیق"}]
    wait_for(lambda: api.get("/shrine/eligibility", token=v["token"]).json["eligible"])
    assert api.post("/me/offers", offer, token=v["token"]).status == 201


def test_continue_reinstates_a_suspended_member_and_deactivation_ends_login(system, api, flows, office, publish):
    member = flows.member(office["9"])
    approve_report(publish, member["id"])
    wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["eligible"])
    first = api.post(f"/members/{member['id']}/breaches", {"note": "تخلف نخست"}, token=office["9"]).json["review_id"]
    assert api.post(f"/reviews/{first}/decision", {"decision": "suspend", "note": "تعلیق"},
                    token=office["9"]).status == 200
    wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["code"] == "suspended")
    # a suspended member can still be put up for review; "continue" then reinstates them
    second = api.post(f"/members/{member['id']}/discontinuity", {"note": "بررسی دوباره"},
                      token=office["9"]).json["review_id"]
    assert second != first
    kept = api.post(f"/reviews/{second}/decision", {"decision": "continue", "note": "ادامه همکاری"}, token=office["9"])
    assert kept.status == 200 and kept.json["member"]["status"] == "active"
    assert outbox(system, "membership", "MemberReinstated", member_id=member["id"], review_id=second)
    wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["eligible"])

    third = api.post(f"/members/{member['id']}/breaches", {"note": "تخلف جدی"}, token=office["9"]).json["review_id"]
    gone = api.post(f"/reviews/{third}/decision", {"decision": "deactivate", "note": "لغو عضویت"}, token=office["9"])
    assert gone.status == 200 and gone.json["member"]["status"] == "deactivated"
    assert outbox(system, "membership", "MemberDeactivated", member_id=member["id"], review_id=third)
    refused = api.post("/auth/login", {"national_id": member["national_id"], "password": member["password"]},
                       headers={"X-Forwarded-For": f"10.66.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"})
    assert refused.status == 401
    # the gateway refuses the member's token at once (gateway/revocation.py) ...
    wait_for(lambda: api.get("/shrine/eligibility", token=member["token"]).json["code"] == "account_deactivated")
    # ... and behind it the services refuse too: a token issued afterwards (as a stolen secret could make) gets no
    # further than their own projections
    time.sleep(1.1)  # tokens carry whole seconds: one issued in the second of the deactivation counts as before
    later = mint(system.config["JWT_SECRET"], member["id"], province="9")
    wait_for(lambda: api.get("/shrine/eligibility", token=later).json["code"] == "deactivated")
    late = api.post(f"/members/{member['id']}/breaches", {"note": "پس از لغو"}, token=office["9"])
    assert late.status == 409 and late.json["code"] == "member_deactivated"
    assert api.post("/me/offers", {"service": uuid.uuid4().hex, "details": "عصرها", "phone": "09151234567"},
                    token=later).json["code"] == "member_deactivated"
    assert [c["status"] for c in flows.reviews_of(office["9"], member["id"])] == ["closed"] * 3


# ---- GET /me and the gauges --------------------------------------------------------------------------------------
def test_me_shows_where_the_member_stands(system, api, flows, office):
    member = flows.member(office["9"])
    lesson = flows.lesson(NOW().date())
    standing = api.get("/me", token=member["token"]).json["standing"]
    assert standing["status"] == "active" and standing["review"] is None
    assert standing["training"]["lesson"]["id"] == lesson and standing["training"]["read"] is False
    assert standing["meetings"]["last_at"] is None and standing["meetings"]["overdue"] is False
    assert standing["meetings"]["next_due_jalali"] == api.get("/me", token=member["token"]).json["profile"][
        "next_meeting_due_jalali"]
    assert api.post(f"/training/lessons/{lesson}/read", token=member["token"]).status == 200
    api.post(f"/members/{member['id']}/breaches", {"note": "تأخیر مکرر در حضور"}, token=office["9"])
    standing = api.get("/me", token=member["token"]).json["standing"]
    assert standing["training"]["read"] is True and standing["training"]["lesson"]["read"] is True
    assert [r["code"] for r in standing["review"]["reasons"]] == ["breach"]
    assert api.get(f"/members/{member['id']}/standing", token=office["9"]).json == standing
    assert api.get("/me", token=office["9"]).json["standing"] is None


def test_the_sweep_sets_the_gauges(system, api, flows, office):
    from services.membership.review import MEMBERS, OPEN_CASES
    [timer] = [e for e in system.container("membership").entrypoints if e.method_name == "review_sweep"]
    assert timer.interval == 3600  # REVIEW_SWEEP_SECONDS, not set in the tests: the default
    member = flows.member(office["9"])
    api.post(f"/members/{member['id']}/discontinuity", {"note": "غیبت طولانی"}, token=office["9"])
    result = sweep(system)
    assert result["open_cases"]["discontinuity"] >= 1 and result["members_by_state"]["active"] >= 1
    assert OPEN_CASES.labels("discontinuity")._value.get() == result["open_cases"]["discontinuity"]
    assert MEMBERS.labels("active")._value.get() == result["members_by_state"]["active"]
    text = api.get("/metrics").raw.text  # one registry per process: here every service shares the gateway's
    assert 'khademyar_review_open_cases{reason="discontinuity"}' in text and 'khademyar_members{state="active"}' in text


def test_the_sweep_reads_the_members_a_page_at_a_time_and_misses_none(system, flows, office, move_clock,
                                                                      monkeypatch):
    """With pages of one member, the sweep still looks at every active member and finds each idle one."""
    from services.membership.models import accounts
    idle = [flows.member(office["9"]) for _ in range(3)]
    move_clock(dt.timedelta(days=120))
    monkeypatch.setattr(review_module, "SWEEP_PAGE", 1)
    result = sweep(system)
    with system.database("membership").engine.connect() as conn:
        active = conn.execute(select(accounts.c.id).where(accounts.c.role == "member",
                                                          accounts.c.status == "active")).scalars().all()
    assert result["members"] == len(active)
    for member in idle:
        case = open_case(flows, office["9"], member["id"])
        assert case is not None and reasons(case, "inactivity"), member["id"]
