"""Weekly training (آموزش هفتگی) through HTTP, on SQLite and PostgreSQL: one lesson per Jalali week, read once."""
import datetime as dt
import random

import eventlet
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from kit.db import new_id, utcnow
from kit.persian import jalali_week_start, parse_date, to_jalali
from services.membership import review as review_module
from services.membership.models import lesson_reads, review_reasons, reviews

NOW = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


def far_week():
    """The Saturday of a week no other test uses (one lesson per week is a database rule)."""
    return jalali_week_start(dt.date(2150, 1, 1) + dt.timedelta(weeks=random.randrange(5000)))


@pytest.fixture
def at(monkeypatch):
    """``at(moment)``: membership's clock shows ``moment`` (moving on with real time) for this test."""
    def move(moment):
        delta = moment - utcnow()
        monkeypatch.setattr(review_module, "clock", lambda: utcnow() + delta)
    return move


def lesson_body(**over):
    return dict({"title": "ادب زیارت", "body": "آداب تشرف به حرم مطهر و احترام به زائران.",
                 "link": "https://razavi.aqr.ir/lesson.pdf"}, **over)


def test_one_lesson_per_week_and_members_read_it_once(api, flows, office, at):
    admin = flows.admin()
    sunday = far_week() + dt.timedelta(days=1)
    r = api.post("/training/lessons", lesson_body(week=sunday.isoformat()), token=admin)
    assert r.status == 201, r
    lesson = r.json
    assert lesson["week"] == jalali_week_start(sunday).isoformat() == (sunday - dt.timedelta(days=1)).isoformat()
    assert lesson["week_jalali"] == to_jalali(jalali_week_start(sunday)) and lesson["link"].startswith("https://")
    dup = api.post("/training/lessons", lesson_body(title="دیگری", week=(sunday + dt.timedelta(days=4)).isoformat()),
                   token=admin)
    assert dup.status == 409 and dup.json["code"] == "lesson_exists" and "week" in dup.json["errors"]

    member = flows.member(office["9"])
    # a lesson of a later week is not readable yet
    early = api.post(f"/training/lessons/{lesson['id']}/read", token=member["token"])
    assert early.status == 404 and early.json["code"] == "lesson_not_found"
    assert lesson["id"] not in [x["id"] for x in api.get("/training/lessons?limit=200", token=member["token"]).json[
        "items"]]
    # in its week: the current lesson, read once
    at(dt.datetime.combine(sunday, dt.time(9), tzinfo=dt.timezone.utc))
    current = api.get("/training/lessons/current", token=member["token"])
    assert current.status == 200 and current.json["id"] == lesson["id"] and current.json["read"] is False
    first = api.post(f"/training/lessons/{lesson['id']}/read", token=member["token"])
    assert first.status == 200 and first.json["on_time"] is True and first.json["week"] == lesson["week"]
    second = api.post(f"/training/lessons/{lesson['id']}/read", token=member["token"])
    assert second.status == 200 and second.json == first.json
    assert api.get("/training/lessons/current", token=member["token"]).json["read"] is True
    record = api.get("/me/training", token=member["token"]).json
    [week] = [i for i in record["items"] if i["lesson_id"] == lesson["id"]]
    assert week["read"] and week["on_time"] and not week["missed"]
    standing = api.get("/me", token=member["token"]).json["standing"]["training"]
    assert standing["lesson"]["id"] == lesson["id"] and standing["read"] is True
    assert standing["week"] == lesson["week"]


def test_the_default_week_is_the_current_jalali_week(api, flows, office, at):
    wednesday = far_week() + dt.timedelta(days=4)
    at(dt.datetime.combine(wednesday, dt.time(8), tzinfo=dt.timezone.utc))
    r = api.post("/training/lessons", lesson_body(link=None), token=flows.admin())
    assert r.status == 201 and r.json["week"] == (wednesday - dt.timedelta(days=4)).isoformat(), r
    assert r.json["link"] is None
    member = flows.member(office["9"])
    assert api.get("/training/lessons/current", token=member["token"]).json["id"] == r.json["id"]
    # a week without a lesson (beyond the weeks the other tests use)
    at(dt.datetime(2700, 6, 9, 8, tzinfo=dt.timezone.utc) + dt.timedelta(weeks=random.randrange(5000)))
    none = api.get("/training/lessons/current", token=member["token"])
    assert none.status == 404 and none.json["code"] == "no_lesson_this_week", none


def test_jalali_weeks_roles_and_bad_input(api, flows, office):
    admin = flows.admin()
    year = random.randrange(1420, 1470)
    jalali = f"{year}/0{random.randrange(1, 10)}/1{random.randrange(0, 9)}"
    r = api.post("/training/lessons", lesson_body(week=jalali.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))),
                 token=admin)
    assert r.status == 201, r
    assert r.json["week"] == jalali_week_start(parse_date(jalali)).isoformat()
    assert dt.date.fromisoformat(r.json["week"]).weekday() == 5  # شنبه
    member = flows.member(office["9"])
    assert api.post("/training/lessons", lesson_body(), token=office["9"]).status == 403
    assert api.post("/training/lessons", lesson_body(), token=member["token"]).status == 403
    for bad in ({"title": "x"}, lesson_body(title=""), lesson_body(link="ftp://x.ir/a"), lesson_body(week="1404/13/40"),
                lesson_body(body=7)):
        refused = api.post("/training/lessons", bad, token=admin)
        assert refused.status == 422, (bad, refused)
    assert api.post(f"/training/lessons/{r.json['id']}/read", token=admin).status == 403
    assert api.post("/training/lessons/no-such-lesson/read", token=member["token"]).status == 404
    assert api.get("/me/training", token=admin).status == 403
    assert api.get(f"/members/{member['id']}/training", token=office["23"]).status == 404
    assert api.get(f"/members/{member['id']}/training", token=office["9"]).json["member_id"] == member["id"]


def test_racing_publications_of_one_week_leave_one_lesson(api, flows):
    week = far_week().isoformat()
    admin = flows.admin()
    pool = eventlet.GreenPool(8)
    statuses = sorted(pool.imap(lambda i: api.post("/training/lessons", lesson_body(title=f"نسخه {i}", week=week),
                                                   token=admin).status, range(8)))
    assert statuses == [201] + [409] * 7


def test_racing_reads_record_one_reading(system, api, flows, office, at):
    sunday = far_week() + dt.timedelta(days=1)
    lesson = api.post("/training/lessons", lesson_body(week=sunday.isoformat()), token=flows.admin()).json["id"]
    member = flows.member(office["9"])
    at(dt.datetime.combine(sunday, dt.time(10), tzinfo=dt.timezone.utc))
    pool = eventlet.GreenPool(6)
    answers = list(pool.imap(lambda _: api.post(f"/training/lessons/{lesson}/read", token=member["token"]), range(6)))
    assert {a.status for a in answers} == {200} and len({a.json["read_at"] for a in answers}) == 1
    db = system.database("membership")
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lesson_reads).where(
            lesson_reads.c.lesson_id == lesson)).scalar() == 1


def test_the_database_holds_one_open_case_per_member_and_each_evidence_once(system, flows, office):
    member = flows.member(office["9"])
    db = system.database("membership")
    now = utcnow()

    def case(status="open"):
        extra = {} if status == "open" else {"closed_at": now, "decision": "continue", "note": "—"}
        return {"id": new_id(), "member_id": member["id"], "province": "9", "status": status, "opened_at": now,
                **extra}
    first = case()
    with db.engine.begin() as conn:
        conn.execute(insert(reviews).values(**first))
        conn.execute(insert(reviews).values(**case("closed")))
        conn.execute(insert(reviews).values(**case("closed")))  # any number of closed cases
    with pytest.raises(IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(insert(reviews).values(**case()))
    reason = {"review_id": first["id"], "member_id": member["id"], "code": "breach", "evidence_key": "breach:x",
              "evidence": {"fa": "ف", "en": "e", "data": {}}, "source": "test", "recorded_at": now}
    with db.engine.begin() as conn:
        conn.execute(insert(review_reasons).values(id=new_id(), **reason))
    with pytest.raises(IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(insert(review_reasons).values(id=new_id(), **reason))
    with pytest.raises(IntegrityError):  # not even in another case of the member
        with db.engine.begin() as conn:
            other = case("closed")
            conn.execute(insert(reviews).values(**other))
            conn.execute(insert(review_reasons).values(id=new_id(), **dict(reason, review_id=other["id"])))
