"""Membership through HTTP, on the real broker, on SQLite and PostgreSQL."""
import datetime as dt
import uuid

import eventlet
import pytest

from tests.fixtures import ADMIN_NID, next_national_id


def test_the_whole_path_from_applying_to_reading_me(api, flows, office):
    token = office["9"]
    body = flows.application(national_id="۰" + next_national_id()[1:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
                             mobile="+98 912 123 4567", birth_date="۱۳۷۰/۰۵/۱۲")
    nid = body["national_id"].translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    r = api.post("/applications", body)
    assert r.status == 201 and r.json["status"] == "submitted", r
    app_id = r.json["id"]

    listed = api.get("/applications?status=submitted&limit=200", token=token)
    mine = [a for a in listed.json["items"] if a["id"] == app_id]
    assert mine and mine[0]["national_id"] == nid and mine[0]["mobile"] == "09121234567"
    assert mine[0]["birth_date"] == "1991-08-03" and mine[0]["overdue"] is False

    starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat()
    o = api.post("/orientations", {"starts_at": starts, "place": "سالن اجتماعات", "capacity": 10}, token=token)
    assert o.status == 201
    assert api.post(f"/applications/{app_id}/invite", {"orientation_id": o.json["id"]}, token=token).status == 200
    assert api.post(f"/applications/{app_id}/activate", token=token).json["code"] == "not_attended"
    assert api.post(f"/orientations/{o.json['id']}/attendance", {"application_ids": [app_id]},
                    token=token).status == 200
    a = api.post(f"/applications/{app_id}/activate", token=token)
    assert a.status == 200 and len(a.json["initial_password"]) >= 8
    again = api.post(f"/applications/{app_id}/activate", token=token)
    assert again.status == 409 and again.json["code"] == "already_active"

    login = api.post("/auth/login", {"national_id": nid, "password": a.json["initial_password"]})
    assert login.status == 200 and login.json["must_change_password"] is True
    first = login.json["access_token"]
    blocked = api.post("/reports", {}, token=first)
    assert blocked.status in (403, 404)
    me = api.get("/me", token=first)
    assert me.status == 200 and me.json["profile"]["must_change_password"] is True
    weak = api.post("/auth/password", {"current_password": a.json["initial_password"], "new_password": "short"},
                    token=first)
    assert weak.status == 422 and "new_password" in weak.json["errors"]
    assert api.post("/auth/password", {"current_password": a.json["initial_password"],
                                       "new_password": "a-much-better-one"}, token=first).status == 204
    assert api.post("/auth/login", {"national_id": nid, "password": a.json["initial_password"]}).status == 401
    second = api.post("/auth/login", {"national_id": nid, "password": "a-much-better-one"})
    assert second.status == 200 and second.json["must_change_password"] is False
    me = api.get("/me", token=second.json["access_token"]).json["profile"]
    assert me["id"] == a.json["member_id"] and me["role"] == "member" and me["province"] == "9"
    assert me["first_name"] == "زهرا" and me["next_meeting_due_jalali"]


def test_one_application_per_national_id(api, flows):
    body = flows.application()
    assert api.post("/applications", body).status == 201
    dup = api.post("/applications", dict(body, mobile="09350000000"))
    assert dup.status == 409 and dup.json["code"] == "duplicate_application"
    assert "national_id" in dup.json["errors"]


def test_duplicate_applications_racing_leave_exactly_one(api, flows):
    body = flows.application()
    pool = eventlet.GreenPool(8)
    statuses = sorted(pool.imap(lambda _: api.post("/applications", body).status, range(8)))
    assert statuses == [201] + [409] * 7


@pytest.mark.parametrize("field,value,code", [
    ("national_id", "1234567890", "national_id"),
    ("mobile", "0812345", "mobile"),
    ("birth_date", "1370/13/40", "birth_date"),
    ("county", "1", "county"),  # Arak is in Markazi, not in Khorasan Razavi
    ("education", "phd", "education"),
    ("gender", "other", "gender"),
])
def test_invalid_fields_are_named_in_persian_and_english(api, flows, field, value, code):
    r = api.post("/applications", dict(flows.application(), **{field: value}))
    assert r.status == 422 and r.headers["Content-Type"].startswith("application/problem+json")
    assert code in r.json["errors"], r
    assert any("\u0600" <= ch <= "\u06ff" for ch in r.json["errors"][code])
    en = api.post("/applications", dict(flows.application(), **{field: value}), headers={"Accept-Language": "en"})
    assert en.json["errors"][code].isascii()


def test_bad_input_shapes(api, flows):
    raw = api.call("POST", "/applications", data="{not json", headers={"Content-Type": "application/json"})
    assert raw.status == 400 and raw.json["code"] == "malformed_json"
    extra = api.post("/applications", dict(flows.application(), status="activated"))
    assert extra.status == 422 and "status" in extra.json["errors"]
    wrong = api.post("/applications", dict(flows.application(), first_name=12))
    assert wrong.status == 422 and "first_name" in wrong.json["errors"]
    big = api.call("POST", "/applications", data="x" * (70 * 1024), headers={"Content-Type": "application/json"})
    assert big.status == 413
    assert api.post("/applications", [1, 2]).status == 422
    assert api.get("/no/such/route").status == 404


def test_overdue_after_fifteen_days(system, api, flows, office):
    from sqlalchemy import update

    from services.membership.models import applications
    r = api.post("/applications", flows.application())
    db = system.database("membership")
    with db.engine.begin() as conn:
        conn.execute(update(applications).where(applications.c.id == r.json["id"]).values(
            submitted_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=16)))
    listed = api.get("/applications?status=overdue&limit=200", token=office["9"])
    assert r.json["id"] in [a["id"] for a in listed.json["items"]]
    assert all(a["overdue"] for a in listed.json["items"]) and listed.json["overdue_count"] >= 1
    fresh = api.post("/applications", flows.application())
    assert fresh.json["id"] not in [a["id"] for a in listed.json["items"]]
    # the gauge, as Prometheus would read it
    counts = system.container("membership").service_cls.measure_overdue  # noqa: F841 (the timer's method exists)
    from nameko.testing.services import entrypoint_hook

    from kit import metrics
    with entrypoint_hook(system.container("membership"), "measure_overdue") as measure:
        assert measure()["9"] >= 1
    assert metrics.OVERDUE_APPLICATIONS.labels("9")._value.get() >= 1


def test_another_province_sees_nothing(api, flows, office):
    r = api.post("/applications", flows.application("9"))
    app_id = r.json["id"]
    tehran = office["23"]
    assert app_id not in [a["id"] for a in api.get("/applications?limit=200", token=tehran).json["items"]]
    for path in (f"/applications/{app_id}/activate",):
        assert api.post(path, token=tehran).status == 404
    o = api.post("/orientations", {"starts_at": "2099-01-01T10:00:00Z", "place": "تهران", "capacity": 5},
                 token=tehran)
    assert api.post(f"/applications/{app_id}/invite", {"orientation_id": o.json["id"]}, token=tehran).status == 404
    mashhad_o = api.post("/orientations", {"starts_at": "2099-01-01T10:00:00Z", "place": "مشهد", "capacity": 5},
                         token=office["9"])
    assert api.post(f"/orientations/{mashhad_o.json['id']}/attendance", {"application_ids": [app_id]},
                    token=tehran).status == 404


def test_orientation_capacity_is_never_exceeded(api, flows, office):
    token = office["9"]
    o = api.post("/orientations", {"starts_at": "1406/01/20 10:00", "place": "حسینیه", "capacity": 3}, token=token)
    apps = [api.post("/applications", flows.application()).json["id"] for _ in range(8)]
    pool = eventlet.GreenPool(8)
    statuses = list(pool.imap(lambda a: api.post(f"/applications/{a}/invite", {"orientation_id": o.json["id"]},
                                                 token=token).status, apps))
    assert statuses.count(200) == 3 and statuses.count(409) == 5


def test_roles_and_tokens(api, flows, office):
    member = flows.member(office["9"])
    assert api.get("/applications", token=member["token"]).status == 403
    assert api.get("/applications").status == 401
    assert api.get("/applications", token="not-a-token").status == 401
    tampered = member["token"][:-3] + ("aaa" if not member["token"].endswith("aaa") else "bbb")
    assert api.get("/me", token=tampered).status == 401
    import jwt
    none_alg = jwt.encode({"sub": member["id"], "role": "admin", "iss": "khademyar", "aud": "khademyar-api",
                           "exp": 9999999999}, key=None, algorithm="none")
    assert api.get("/applications", token=none_alg).status == 401
    office_staff = api.post("/staff", {"national_id": next_national_id(), "first_name": "الف", "last_name": "ب",
                                       "mobile": "09120000001", "role": "province_office", "province": "9"},
                            token=office["9"])
    assert office_staff.status == 403
    other = api.post("/staff", {"national_id": next_national_id(), "first_name": "الف", "last_name": "ب",
                                "mobile": "09120000001", "role": "desk_officer", "province": "23"}, token=office["9"])
    assert other.status == 403
    scoped = api.post("/staff", {"national_id": next_national_id(), "first_name": "الف", "last_name": "ب",
                                 "mobile": "09120000001", "role": "thematic_center", "province": "9"},
                      token=office["9"])
    assert scoped.status == 422 and {"county", "field"} <= set(scoped.json["errors"])


def test_failed_logins_are_limited_per_national_id(api):
    nid = next_national_id()
    statuses = [api.post("/auth/login", {"national_id": nid, "password": "wrong"},
                         headers={"X-Forwarded-For": f"10.1.0.{i}"}).status for i in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    limited = api.post("/auth/login", {"national_id": nid, "password": "wrong"}, headers={"X-Forwarded-For": "10.1.1.1"})
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


def test_failed_logins_are_limited_per_client_address(api, flows):
    client = {"X-Forwarded-For": "10.2.3.4"}
    statuses = [api.post("/auth/login", {"national_id": next_national_id(), "password": "wrong"},
                         headers=client).status for _ in range(31)]
    assert statuses[:30] == [401] * 30 and statuses[30] == 429
    # the same person from elsewhere is not affected
    assert api.post("/auth/login", {"national_id": ADMIN_NID, "password": "admin-test-password"},
                    headers={"X-Forwarded-For": "10.2.3.5"}).status == 200


def test_admin_logs_in(api):
    assert api.post("/auth/login", {"national_id": ADMIN_NID, "password": "admin-test-password"}).status == 200


def test_meetings(api, flows, office):
    member = flows.member(office["9"])
    m = api.post("/meetings", {"starts_at": "2026-01-10T09:00:00+03:30", "place": "مسجد جامع"}, token=office["9"])
    assert m.status == 201
    r = api.post(f"/meetings/{m.json['id']}/attendance", {"member_ids": [member["id"]]}, token=office["9"])
    assert r.status == 200
    me = api.get("/me", token=member["token"]).json["profile"]
    assert me["last_meeting_jalali"] == "1404/10/20"
    stranger = api.post(f"/meetings/{m.json['id']}/attendance", {"member_ids": ["nobody"]}, token=office["9"])
    assert stranger.status == 422
    assert api.post(f"/meetings/{m.json['id']}/attendance", {"member_ids": [member["id"]]},
                    token=office["23"]).status == 404


# -- lists of the office: meetings, orientation sessions, and finding a person --------------------------------------
def _window(year):
    """Three hours of a day no other test schedules anything in: (start, moments at +0h, +1h, +2h)."""
    start = dt.datetime(year, 1, 1, 8, tzinfo=dt.timezone.utc) + dt.timedelta(days=uuid.uuid4().int % 360,
                                                                              minutes=uuid.uuid4().int % 600)
    return start, [(start + dt.timedelta(hours=h)).isoformat() for h in range(3)]


def _between(start, hours=3):
    return {"from": start.isoformat(), "to": (start + dt.timedelta(hours=hours)).isoformat()}


def test_meetings_are_listed_latest_first_in_the_offices_own_province(api, flows, office):
    member = flows.member(office["9"])
    start, (first, second, third) = _window(2031)
    ids = [api.post("/meetings", {"starts_at": at, "place": f"مسجد {n}"}, token=office["9"]).json["id"]
           for n, at in enumerate((first, third, second))]
    tehran = api.post("/meetings", {"starts_at": second, "place": "تهران"}, token=office["23"]).json["id"]
    by_admin = api.post("/meetings", {"starts_at": third, "place": "مشهد", "province": "9"},
                        token=flows.admin()).json["id"]
    assert api.post(f"/meetings/{ids[2]}/attendance", {"member_ids": [member["id"]]}, token=office["9"]).status == 200

    # newest first, page by page, with the attendance of each; the office's own province only
    page = api.get("/meetings", params=dict(_between(start), limit=2), token=office["9"])
    assert page.status == 200, page
    assert [m["id"] for m in page.json["items"]] == sorted([ids[1], by_admin], reverse=True)
    rest = api.get("/meetings", params=dict(_between(start), limit=2, cursor=page.json["next"]), token=office["9"])
    assert [m["id"] for m in rest.json["items"]] == [ids[2], ids[0]] and rest.json["next"] is None
    listed = {m["id"]: m for m in page.json["items"] + rest.json["items"]}
    assert listed[ids[2]]["attended"] == 1 and listed[ids[0]]["attended"] == 0
    one = listed[ids[0]]
    assert one["province"] == "9" and one["title"] == "جلسه حضوری خادمیاران" and one["place"] == "مسجد 0"
    assert one["past"] is False and one["starts_at_jalali"].startswith("14")
    assert dt.datetime.fromisoformat(one["starts_at"]) == dt.datetime.fromisoformat(first)

    # another province's office sees only its own, and may not ask for another's
    theirs = api.get("/meetings", params=_between(start), token=office["23"])
    assert [m["id"] for m in theirs.json["items"]] == [tehran]
    asked = api.get("/meetings", params=dict(_between(start), province="9"), token=office["23"])
    assert asked.status == 422 and "province" in asked.json["errors"]
    assert api.get("/meetings", params=dict(_between(start), province="23"), token=office["23"]).status == 200

    # the admin sees every province, or one
    everything = api.get("/meetings", params=_between(start), token=flows.admin()).json["items"]
    assert {m["id"] for m in everything} == set(ids) | {tehran, by_admin}
    only = api.get("/meetings", params=dict(_between(start), province="23"), token=flows.admin()).json["items"]
    assert [m["id"] for m in only] == [tehran]
    assert api.get("/meetings", params={"province": "99"}, token=flows.admin()).status == 422

    # the office's list reaches them without a window too (the latest first)
    recent = api.get("/meetings?limit=200", token=office["9"]).json["items"]
    assert all(m["province"] == "9" for m in recent)
    starts = [m["starts_at"] for m in recent]
    assert [dt.datetime.fromisoformat(s) for s in starts] == sorted((dt.datetime.fromisoformat(s) for s in starts),
                                                                     reverse=True)
    # a Jalali day (any digits) bounds the list too; a wrong cursor or range is a 422
    day = api.get("/meetings", params={"from": one["starts_at_jalali"].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
                                       "to": one["starts_at_jalali"]}, token=office["9"])
    assert {ids[0], ids[1], ids[2]} <= {m["id"] for m in day.json["items"]}
    assert api.get("/meetings?cursor=nonsense", token=office["9"]).status == 422
    assert api.get("/meetings?from=yesterday", token=office["9"]).status == 422
    # only the office and the admin
    assert api.get("/meetings", token=member["token"]).status == 403
    assert api.get("/meetings").status == 401


def test_orientation_sessions_are_listed_with_places_taken_and_attendance(api, flows, office):
    start, (first, second, _) = _window(2093)
    early = api.post("/orientations", {"starts_at": first, "place": "سالن ۱", "capacity": 5}, token=office["9"]).json["id"]
    late = api.post("/orientations", {"starts_at": second, "place": "سالن ۲", "capacity": 9,
                                      "county": flows.application()["county"]}, token=office["9"]).json["id"]
    tehran = api.post("/orientations", {"starts_at": first, "place": "تهران", "capacity": 5},
                      token=office["23"]).json["id"]
    apps = [api.post("/applications", flows.application()).json["id"] for _ in range(2)]
    for app in apps:
        assert api.post(f"/applications/{app}/invite", {"orientation_id": early}, token=office["9"]).status == 200
    assert api.post(f"/orientations/{early}/attendance", {"application_ids": apps[:1]}, token=office["9"]).status == 200

    page = api.get("/orientations", params=dict(_between(start), limit=1), token=office["9"])
    assert page.status == 200 and [o["id"] for o in page.json["items"]] == [late] and page.json["next"]
    rest = api.get("/orientations", params=dict(_between(start), cursor=page.json["next"]), token=office["9"])
    assert [o["id"] for o in rest.json["items"]] == [early] and rest.json["next"] is None
    seen = rest.json["items"][0]
    assert (seen["capacity"], seen["invited"], seen["attended"], seen["past"]) == (5, 2, 1, False)
    assert page.json["items"][0]["county"] == flows.application()["county"]
    county = api.get("/orientations", params=dict(_between(start), county=flows.application()["county"]),
                     token=office["9"])
    assert [o["id"] for o in county.json["items"]] == [late]

    assert [o["id"] for o in api.get("/orientations", params=_between(start), token=office["23"]).json["items"]] == [tehran]
    assert api.get("/orientations", params={"province": "9"}, token=office["23"]).status == 422
    admin = api.get("/orientations", params=_between(start), token=flows.admin()).json["items"]
    assert {o["id"] for o in admin} == {early, late, tehran}
    assert [o["id"] for o in api.get("/orientations", params=dict(_between(start), province="9"),
                                      token=flows.admin()).json["items"]] == [late, early]
    # sessions still open for invitations: from now on
    upcoming = api.get("/orientations", params={"from": dt.datetime.now(dt.timezone.utc).isoformat(), "limit": 200},
                       token=office["9"]).json["items"]
    assert all(not o["past"] for o in upcoming)


def _persian_word(n=6):
    letters = "ابپتثجچحخدذرزسشصضطظعغفقکگلمنوهی"
    raw = uuid.uuid4().int
    return "".join(letters[(raw >> (5 * i)) % len(letters)] for i in range(n))


def test_the_office_finds_a_person_by_national_id_or_name(api, flows, office):
    family = "کریمی" + _persian_word()
    member = flows.member(office["9"], first_name="مریم", last_name=family)
    pending = flows.application(first_name="علی", last_name=family)
    assert api.post("/applications", pending).status == 201
    other = flows.application(first_name="مریم", last_name=_persian_word())
    assert api.post("/applications", other).status == 201

    def found(token=office["9"], **query):
        r = api.get("/applications", params=dict(query, limit=200), token=token)
        assert r.status == 200, r
        return [a["national_id"] for a in r.json["items"]]

    # part of the last name; the first name and part of the last; Arabic letters as typed on some keyboards
    assert sorted(found(q=family[2:])) == sorted([member["national_id"], pending["national_id"]])
    assert found(q=f"مریم {family}") == [member["national_id"]]
    assert found(q=f"  {family.replace('ی', 'ي').replace('ک', 'ك')}  ", status="activated") == [member["national_id"]]
    assert found(q=f"مریم {family} زهرا") == []
    # the national ID, whole or its first digits, in Persian digits too
    persian = member["national_id"].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert found(q=persian) == [member["national_id"]]
    prefix = found(q=persian[:6])
    assert member["national_id"] in prefix and all(n.startswith(member["national_id"][:6]) for n in prefix)
    assert found(q=member["national_id"] + "1") == []
    # LIKE's wildcards are only characters
    assert found(q="%") == [] and found(q="_") == []
    # paged as the rest of the list
    page = api.get("/applications", params={"q": family, "limit": 1}, token=office["9"]).json
    rest = api.get("/applications", params={"q": family, "limit": 1, "cursor": page["next"]}, token=office["9"]).json
    assert len(page["items"]) == len(rest["items"]) == 1 and rest["next"] is None
    assert {page["items"][0]["last_name"], rest["items"][0]["last_name"]} == {family}

    # another province's office finds nobody of Khorasan; the admin finds them, or not when asking for Tehran
    assert found(office["23"], q=member["national_id"]) == [] and found(office["23"], q=family) == []
    assert api.get("/applications", params={"province": "9"}, token=office["23"]).status == 422
    assert found(flows.admin(), q=member["national_id"]) == [member["national_id"]]
    assert found(flows.admin(), q=family, province="23") == []
    assert sorted(found(flows.admin(), q=family, province="9")) == sorted([member["national_id"], pending["national_id"]])
    too_long = api.get("/applications", params={"q": "ا" * 81}, token=office["9"])
    assert too_long.status == 422 and "q" in too_long.json["errors"]


def test_persian_messages_have_persian_digits(api, office):
    r = api.get("/meetings?limit=0", token=office["9"])
    assert r.status == 422 and r.json["errors"]["limit"] == "باید بین ۱ و ۲۰۰ باشد."
    en = api.get("/meetings?limit=0", token=office["9"], headers={"Accept-Language": "en"})
    assert en.json["errors"]["limit"] == "Must be greater than or equal to 1 and less than or equal to 200."
    place = api.post("/meetings", {"starts_at": "1405/01/20 10:00", "place": "م"}, token=office["9"])
    assert place.json["errors"]["place"] == "طول باید بین ۲ و ۳۰۰ باشد."
