"""Membership through HTTP, on the real broker, on SQLite and PostgreSQL."""
import datetime as dt

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
    from kit import metrics
    from nameko.testing.services import entrypoint_hook
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
