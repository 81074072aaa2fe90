"""Catalog through HTTP: fields, readiness and its six-month lock, offers and their review, on both databases."""
import datetime as dt
import time
import uuid

import eventlet
from sqlalchemy import func, select, update

from bench.shrine import mint
from kit import geo
from kit.db import new_id, utcnow
from kit.persian import normalize_digits
from tests.fixtures import next_mobile, next_national_id


def _field_with_services(flows, kind="general", n=1, requires_documents=False):
    admin = flows.admin()
    tag = uuid.uuid4().hex[:8]
    f = flows.api.post("/fields", {"name": f"عرصه {tag}", "kind": kind}, token=admin)
    assert f.status == 201, f
    services = []
    for i in range(n):
        s = flows.api.post(f"/fields/{f.json['id']}/services", {
            "name": f"خدمت {i} {tag}", "description": "شرح خدمت", "requires_documents": requires_documents},
            token=admin)
        assert s.status == 201, s
        services.append(s.json["id"])
    return f.json["id"], services


def _offer(api, token, service, phone="09151234567", **over):
    return api.post("/me/offers", dict({"service": service, "details": "هر هفته پنجشنبه‌ها", "phone": phone}, **over),
                    token=token)


# -- fields and services
def test_fields_are_managed_by_admin_and_public_to_read(api, flows, office):
    member = flows.member(office["9"])
    tag = uuid.uuid4().hex[:8]
    assert api.post("/fields", {"name": f"عرصه {tag}", "kind": "general"}, token=office["9"]).status == 403
    assert api.post("/fields", {"name": f"عرصه {tag}", "kind": "general"}, token=member["token"]).status == 403
    assert api.post("/fields", {"name": f"عرصه {tag}", "kind": "general"}).status == 401
    bad = api.post("/fields", {"name": f"عرصه {tag}", "kind": "secret"}, token=flows.admin())
    assert bad.status == 422 and "kind" in bad.json["errors"]
    field, [service] = _field_with_services(flows, "specialized", requires_documents=True)
    dup = api.post("/fields", {"name": api.get("/fields").json["items"][0]["name"], "kind": "general"},
                   token=flows.admin())
    assert dup.status == 409 and dup.json["code"] == "duplicate_field"
    assert api.post("/fields/nope/services", {"name": "خدمت", "description": "شرح"},
                    token=flows.admin()).status == 404
    listed = api.get("/fields").json["items"]
    mine = next(f for f in listed if f["id"] == field)
    assert mine["kind"] == "specialized" and mine["services"][0]["requires_documents"] is True


# -- readiness (اعلام آمادگی)
def test_readiness_is_in_the_members_own_province_and_a_county_of_it(api, flows, office):
    v = flows.volunteer(office["9"])
    body = {"province": "9", "county": v["county"], "field": v["field"]}
    tehran_county = sorted(geo.counties_of("23"))[0]
    other = api.put("/me/readiness", dict(body, province="23", county=tehran_county), token=v["token"])
    assert other.status == 422 and other.json["code"] == "not_your_province" and "province" in other.json["errors"]
    wrong = api.put("/me/readiness", dict(body, county=tehran_county), token=v["token"])
    assert wrong.status == 422 and "county" in wrong.json["errors"]
    unknown = api.put("/me/readiness", dict(body, field="no-such-field"), token=v["token"])
    assert unknown.status == 422 and "field" in unknown.json["errors"]
    assert api.put("/me/readiness", body, token=office["9"]).status == 403


def test_the_field_is_locked_for_six_months_with_the_jalali_unlock_date(system, api, flows, office):
    v = flows.volunteer(office["9"])
    other_field, [other_service] = _field_with_services(flows)
    first = api.get("/me/readiness", token=v["token"]).json
    # re-declaring the same field (another county of the province) is fine, and keeps the lock
    second_county = sorted(geo.counties_of("9"))[1]
    same = api.put("/me/readiness", {"province": "9", "county": second_county, "field": v["field"]}, token=v["token"])
    assert same.status == 200 and same.json["locked_until"] == first["locked_until"]
    assert same.json["county"] == second_county
    # a change before six months is refused, stating the Jalali date it unlocks
    locked = api.put("/me/readiness", {"province": "9", "county": v["county"], "field": other_field},
                     token=v["token"])
    assert locked.status == 409 and locked.json["code"] == "field_locked", locked
    assert first["locked_until_jalali"] in normalize_digits(locked.json["detail"])  # Persian digits or Latin
    assert locked.json["locked_until_jalali"] == first["locked_until_jalali"]
    assert api.get("/me/readiness", token=v["token"]).json["field"] == v["field"]
    # six months later (the clock moved by the database) the field may change, but not while an offer runs
    from services.catalog.models import readiness
    with system.database("catalog").engine.begin() as conn:
        conn.execute(update(readiness).where(readiness.c.member_id == v["id"]).values(
            locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
    o = _offer(api, v["token"], v["service"])
    assert o.status == 201
    busy = api.put("/me/readiness", {"province": "9", "county": v["county"], "field": other_field}, token=v["token"])
    assert busy.status == 409 and busy.json["code"] == "offers_still_active"
    assert api.post(f"/me/offers/{o.json['id']}/withdraw", token=v["token"]).status == 200
    changed = api.put("/me/readiness", {"province": "9", "county": v["county"], "field": other_field},
                      token=v["token"])
    assert changed.status == 200 and changed.json["field"] == other_field
    assert dt.datetime.fromisoformat(changed.json["locked_until"]) > dt.datetime.now(dt.timezone.utc) + \
        dt.timedelta(days=175)


def test_the_staff_field_only_after_the_provincial_office_grants_it(api, flows, office):
    staff_field, _ = _field_with_services(flows, "staff")
    member = flows.member(office["9"])
    county = member["application"]["county"]
    body = {"province": "9", "county": county, "field": staff_field}
    refused = flows.eventually(lambda: api.put("/me/readiness", body, token=member["token"]), ok=(403,))
    assert refused.status == 403 and refused.json["code"] == "staff_field_not_granted", refused
    # Tehran's office may not grant it to a member of Khorasan Razavi; a member may not grant it at all
    assert api.post(f"/members/{member['id']}/staff-grant", token=office["23"]).status == 404
    assert api.post(f"/members/{member['id']}/staff-grant", token=member["token"]).status == 403
    granted = api.post(f"/members/{member['id']}/staff-grant", token=office["9"])
    assert granted.status == 200 and granted.json["staff_field"] is True
    assert api.post(f"/members/{member['id']}/staff-grant", token=office["9"]).status == 200  # idempotent
    ok = api.put("/me/readiness", body, token=member["token"])
    assert ok.status == 200 and ok.json["field_kind"] == "staff"


# -- offers
def test_an_offer_needs_readiness_and_a_valid_phone(api, flows, office):
    member = flows.member(office["9"])
    _, [service] = _field_with_services(flows)
    first = flows.eventually(lambda: _offer(api, member["token"], service), ok=(409,))
    assert first.json["code"] in ("readiness_required", "membership_not_known")
    v = flows.volunteer(office["9"])
    bad = _offer(api, v["token"], v["service"], phone="12345")
    assert bad.status == 422 and "phone" in bad.json["errors"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in bad.json["errors"]["phone"])
    short = _offer(api, v["token"], v["service"], details="")
    assert short.status == 422 and "details" in short.json["errors"]
    unknown = _offer(api, v["token"], "no-such-service")
    assert unknown.status == 422 and "service" in unknown.json["errors"]
    landline = _offer(api, v["token"], v["service"], phone="(۰۵۱) ۳۸۰۰-۱۲۳۴")
    assert landline.status == 201 and landline.json["status"] == "pending_review"
    mine = api.get("/me/offers", token=v["token"]).json["items"]
    assert [o["phone"] for o in mine] == ["05138001234"]


def test_a_third_concurrent_offer_is_refused(api, flows, office):
    field, services = _field_with_services(flows, n=4)
    v = flows.volunteer(office["9"], field=(field, services[0]))
    a = _offer(api, v["token"], services[0])
    b = _offer(api, v["token"], services[1])
    assert a.status == 201 and b.status == 201
    third = _offer(api, v["token"], services[2])
    assert third.status == 409 and third.json["code"] == "offer_limit_reached", third
    assert "۲" in third.json["detail"]
    assert api.get("/me/readiness", token=v["token"]).json["active_offers"] == 2
    # ending one (withdrawn or completed) frees its place
    assert api.post(f"/me/offers/{a.json['id']}/withdraw", token=v["token"]).json["status"] == "withdrawn"
    assert api.post(f"/me/offers/{a.json['id']}/withdraw", token=v["token"]).status == 409
    assert _offer(api, v["token"], services[2]).status == 201
    # the same service twice at once is refused
    dup = _offer(api, v["token"], services[1])
    assert dup.status == 409 and dup.json["code"] in ("duplicate_offer", "offer_limit_reached")


def test_an_offer_from_another_field_is_refused(api, flows, office):
    v = flows.volunteer(office["9"])
    _, [elsewhere] = _field_with_services(flows)
    r = _offer(api, v["token"], elsewhere)
    assert r.status == 409 and r.json["code"] == "service_not_in_your_field" and "service" in r.json["errors"]
    en = api.post("/me/offers", {"service": elsewhere, "details": "جزئیات خدمت", "phone": "09151234567"},
                  token=v["token"], headers={"Accept-Language": "en"})
    assert en.json["detail"].isascii()
    assert api.get("/me/offers", token=v["token"]).json["items"] == []


def test_third_offers_racing_leave_exactly_two(api, flows, office):
    field, services = _field_with_services(flows, n=8)
    v = flows.volunteer(office["9"], field=(field, services[0]))
    pool = eventlet.GreenPool(8)
    results = list(pool.imap(lambda s: _offer(api, v["token"], s), services))
    statuses = sorted(r.status for r in results)
    assert statuses == [201] * 2 + [409] * 6, results
    assert all(r.json["code"] == "offer_limit_reached" for r in results if r.status == 409)
    assert api.get("/me/readiness", token=v["token"]).json["active_offers"] == 2
    assert len(api.get("/me/offers", token=v["token"]).json["items"]) == 2


# -- review by the county thematic centre
def test_review_by_the_thematic_centre_of_that_county_and_field(api, flows, office):
    v = flows.volunteer(office["9"])
    o = _offer(api, v["token"], v["service"]).json["id"]
    counties = sorted(geo.counties_of("9"))
    thematic = flows.cached_staff("thematic_center", "9", county=v["county"], field=v["field"])
    other_county = flows.cached_staff("thematic_center", "9", county=counties[2], field=v["field"])
    other_field = flows.cached_staff("thematic_center", "9", county=v["county"], field=_field_with_services(flows)[0])
    tehran = flows.cached_staff("thematic_center", "23", county=sorted(geo.counties_of("23"))[0], field=v["field"])
    for token in (other_county, other_field, tehran):
        assert api.post(f"/offers/{o}/approve", token=token).status == 404
        assert o not in [x["id"] for x in api.get("/offers?limit=200", token=token).json["items"]]
    assert api.post(f"/offers/{o}/approve", token=v["token"]).status == 403
    listed = api.get("/offers?status=pending_review&limit=200", token=thematic).json["items"]
    assert o in [x["id"] for x in listed]
    assert all(x["county"] == v["county"] and x["field_id"] == v["field"] for x in listed)
    # neighbourhood centres see approved offers only
    centre = flows.cached_staff("neighborhood_center", "9", county=v["county"], center="کانون محله آزمون")
    assert o not in [x["id"] for x in api.get("/offers?limit=200", token=centre).json["items"]]
    assert api.get(f"/offers/{o}", token=centre).status == 404
    no_reason = api.post(f"/offers/{o}/reject", {}, token=thematic)
    assert no_reason.status == 422 and "reason" in no_reason.json["errors"]
    assert api.post(f"/offers/{o}/approve", token=thematic).json == {"id": o, "status": "approved"}
    assert api.post(f"/offers/{o}/approve", token=thematic).status == 409
    assert o in [x["id"] for x in api.get("/offers?limit=200", token=centre).json["items"]]
    assert api.get(f"/offers/{o}", token=centre).json["status"] == "approved"
    assert api.get(f"/offers/{o}", token=office["23"]).status == 404
    # a pending offer cannot be completed; an approved one can
    p = _offer(api, v["token"], _second_service(flows, v))
    assert api.post(f"/me/offers/{p.json['id']}/complete", token=v["token"]).status == 409
    assert api.post(f"/me/offers/{o}/complete", token=v["token"]).json["status"] == "completed"


def _second_service(flows, v):
    s = flows.api.post(f"/fields/{v['field']}/services", {"name": f"خدمت دوم {uuid.uuid4().hex[:6]}",
                                                          "description": "شرح"}, token=flows.admin())
    return s.json["id"]


def test_a_rejected_offer_frees_its_place_and_keeps_the_reason(api, flows, office):
    v = flows.volunteer(office["9"])
    o = _offer(api, v["token"], v["service"]).json["id"]
    thematic = flows.cached_staff("thematic_center", "9", county=v["county"], field=v["field"])
    r = api.post(f"/offers/{o}/reject", {"reason": "جزئیات خدمت کافی نیست"}, token=thematic)
    assert r.status == 200 and r.json["status"] == "rejected"
    mine = api.get("/me/offers", token=v["token"]).json["items"][0]
    assert mine["status"] == "rejected" and mine["reason"] == "جزئیات خدمت کافی نیست"
    assert api.get("/me/readiness", token=v["token"]).json["active_offers"] == 0
    assert _offer(api, v["token"], v["service"]).status == 201  # the same service may be offered again


# -- who may offer: catalog's own projection of membership's status events (no question to membership per offer)
def _status_event(event_type, member_id, at=None, province="9"):
    return {"event_id": new_id(), "event_type": event_type, "version": 1,
            "occurred_at": (at or utcnow()).isoformat(), "province": province, "correlation_id": None,
            "payload": {"member_id": member_id, "review_id": None, "note": "آزمون"}}


def _handled(system, envelope, timeout=20):
    """Wait until catalog's inbox shows the event handled."""
    db = system.database("catalog")
    deadline = time.time() + timeout
    while time.time() < deadline:
        with db.engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(db.inbox).where(
                    db.inbox.c.event_id == envelope["event_id"])).scalar():
                return
        eventlet.sleep(0.1)
    raise AssertionError(f"{envelope['event_type']} was not handled in time")


def _member_row(system, member_id):
    from services.catalog.models import members
    with system.database("catalog").engine.connect() as conn:
        return conn.execute(select(members).where(members.c.member_id == member_id)).mappings().first()


def test_a_suspended_or_deactivated_member_offers_nothing_new(system, api, flows, office):
    from services.catalog.service import CatalogService
    assert "membership" not in vars(CatalogService)  # no RPC to membership any more
    field, services = _field_with_services(flows, n=3)
    v = flows.volunteer(office["9"], field=(field, services[0]))
    running = _offer(api, v["token"], services[0])
    assert running.status == 201
    publish = flows.event_publisher(system.config)
    # membership itself still calls the member active: the refusal comes from catalog's projection alone
    suspended = _status_event("MemberSuspended", v["id"])
    publish("membership", "MemberSuspended", suspended)
    _handled(system, suspended)
    refused = _offer(api, v["token"], services[1])
    assert refused.status == 403 and refused.json["code"] == "member_suspended", refused
    assert "تعلیق" in refused.json["detail"]
    en = api.post("/me/offers", {"service": services[1], "details": "جزئیات", "phone": "09151234567"},
                  token=v["token"], headers={"Accept-Language": "en"})
    assert en.status == 403 and "suspended" in en.json["detail"]
    mine = {o["id"]: o["status"] for o in api.get("/me/offers", token=v["token"]).json["items"]}
    assert mine == {running.json["id"]: "withdrawn"}  # and what ran was withdrawn
    reinstated = _status_event("MemberReinstated", v["id"])
    publish("membership", "MemberReinstated", reinstated)
    _handled(system, reinstated)
    assert _offer(api, v["token"], services[1]).status == 201
    deactivated = _status_event("MemberDeactivated", v["id"])
    publish("membership", "MemberDeactivated", deactivated)
    _handled(system, deactivated)
    # the gateway now refuses the member's token (gateway/revocation.py); catalog's own refusal is seen with a token
    # issued after the deactivation
    time.sleep(1.1)
    gone = _offer(api, mint(system.config["JWT_SECRET"], v["id"], province="9"), services[2])
    assert gone.status == 403 and gone.json["code"] == "member_deactivated", gone
    assert _member_row(system, v["id"])["status"] == "deactivated"


def test_member_status_events_overtaking_each_other_leave_the_latest(system, api, flows, office):
    publish = flows.event_publisher(system.config)
    # a reinstatement that overtook its suspension: the older suspension changes nothing, and withdraws only what
    # was running when it happened
    v = flows.volunteer(office["9"])
    now = utcnow()
    reinstated = _status_event("MemberReinstated", v["id"], at=now)
    publish("membership", "MemberReinstated", reinstated)
    _handled(system, reinstated)
    offer = _offer(api, v["token"], v["service"])
    assert offer.status == 201
    late = _status_event("MemberSuspended", v["id"], at=now - dt.timedelta(minutes=1))
    publish("membership", "MemberSuspended", late)
    _handled(system, late)
    assert _member_row(system, v["id"])["status"] == "active"
    assert api.get("/me/offers", token=v["token"]).json["items"][0]["status"] == "pending_review"
    # a suspension that overtook the activation: kept, and the activation fills in the facts
    stranger = new_id()
    early = _status_event("MemberSuspended", stranger)
    publish("membership", "MemberSuspended", early)
    _handled(system, early)
    row = _member_row(system, stranger)
    assert row["status"] == "suspended" and row["activated_at"] is None and row["county"] is None
    activated = {"event_id": new_id(), "event_type": "MemberActivated", "version": 1,
                 "occurred_at": (utcnow() - dt.timedelta(minutes=5)).isoformat(), "province": "9",
                 "correlation_id": None, "payload": {"member_id": stranger, "county": v["county"],
                                                     "education": "bachelor", "gender": "female",
                                                     "national_id": next_national_id(), "first_name": "زهرا",
                                                     "last_name": "رضایی", "mobile": next_mobile()}}
    publish("membership", "MemberActivated", activated)
    _handled(system, activated)
    row = _member_row(system, stranger)
    assert row["status"] == "suspended" and row["activated_at"] is not None and row["county"] == v["county"]
