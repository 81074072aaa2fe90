"""Every route of the OpenAPI document that takes an id in its path, and how to make a real record for it.

``REGISTRY`` maps ``"METHOD /api/v1/path/{id}"`` (as in ``gateway.openapi.document()``) to a ``Case``: a factory
that creates a real record **in province 9** through the HTTP API (the ``Flows`` helpers) and returns a ``Target``:
the path parameters, the token of the one who may act on it (its owner), the request to send, and the status the
owner gets. ``test_tenants_and_roles.py`` then proves, for every entry:

- every role the route does not allow gets 403 (``role_not_allowed``), before anything else is looked at;
- every allowed role, scoped to **another province** (23, Tehran), gets 404: nothing leaks (admin is national);
- the owner then gets the success status: the record was real and the refusals changed nothing.

A new id-taking route in the document without an entry here fails ``test_every_id_route_is_registered``.
``PUBLIC`` lists the id-taking routes with no authentication at all, each with the reason it is excluded.
``Case.open_to`` names the roles that may, by design, act on another province's record (with the reason).
"""
import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import update

from kit import geo
from kit.persian import TEHRAN

UNIT = "امور زائرین آزمون تنانت"
CENTRE = "کانون محله آزمون"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOW = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731

# -- id-taking routes that need no token: excluded from the tenant test, with the reason
PUBLIC = {
    "GET /api/v1/provinces/{code}/counties": "public geography: the counties of a province are the same for all",
    "GET /api/v1/desk/holidays/{jalali_year}": "the official holidays are national and published for visitors",
    "GET /api/v1/desk/procedures/{id}": "procedures are public by design (PRODUCT.md §6.1: visitors read them first)",
    "GET /api/v1/desk/procedures/{id}/summary": "a public procedure's public figures (what to expect)",
    "GET /api/v1/desk/tickets/{code}": "the visitor's own tracking, by code and mobile, without an account; "
                                       "guessing is rate-limited (tests/hostile/test_rate_limits.py)",
    "POST /api/v1/desk/tickets/{code}/rating": "the visitor rates with code and mobile, without an account; "
                                               "rate-limited with tracking",
}


@dataclass
class Target:
    params: dict                      # path parameters, e.g. {"id": "…"}
    owner: str                        # token of the one who may do it
    ok: int = 200                     # the owner's status
    body: dict | None = None          # JSON body (also sent by the refused callers: refusals must not depend on it)
    data: bytes | None = None         # a raw body instead (document upload)
    headers: dict = field(default_factory=dict)


@dataclass
class Case:
    make: object                      # make(h) -> Target, the record in province 9
    open_to: dict = field(default_factory=dict)   # role -> why another province's user may act on it
    national: str = ""                # why the record belongs to no province (admin-only national data)


# -- records ---------------------------------------------------------------------------------------------------------
def _ok(r, status=(200, 201)):
    assert r.status in ((status,) if isinstance(status, int) else status), r
    return r.json


def _application(h, invited=False, attended=False):
    f = h.flows
    app = _ok(h.api.post("/applications", f.application("9")))["id"]
    if not invited:
        return app, None
    starts = (NOW() + dt.timedelta(days=3)).isoformat()
    o = _ok(h.api.post("/orientations", {"starts_at": starts, "place": "دفتر نمایندگی", "capacity": 50},
                       token=h.office("9")))["id"]
    _ok(h.api.post(f"/applications/{app}/invite", {"orientation_id": o}, token=h.office("9")))
    if attended:
        _ok(h.api.post(f"/orientations/{o}/attendance", {"application_ids": [app]}, token=h.office("9")))
    return app, o


def _member(h):
    return h.flows.member(h.office("9"))


def _review(h, member=None):
    member = member or _member(h)
    record = _ok(h.api.post(f"/members/{member['id']}/breaches", {"note": "تخلف آزمایشی"}, token=h.office("9")))
    return member, record["review_id"]


def _offer(h):
    """A volunteer of province 9 with a submitted offer (not yet reviewed)."""
    v = h.flows.volunteer(h.office("9"))
    o = _ok(h.api.post("/me/offers", {"service": v["service"], "details": "هفته‌ای دو روز",
                                      "phone": "09151234567", "availability": "شنبه‌ها"}, token=v["token"]))
    return dict(v, offer=o["id"])


def _invited(h):
    """An approved offer reserved by the county's neighbourhood centre: the member is invited (not answered)."""
    v = h.flows.approved_offer(h.office("9"))
    centre = h.token("neighborhood_center", "9")
    b = _ok(h.api.post("/beneficiaries", {"full_name": "مریم احمدی", "needs": "همراهی تا درمانگاه",
                                          "address": "مشهد، بلوار وکیل‌آباد", "phone": "05138001234"}, token=centre))
    starts = NOW().replace(microsecond=0) + dt.timedelta(days=4)
    r = h.flows.eventually(lambda: h.api.post("/reservations", {
        "offer": v["offer"], "beneficiary": b["id"], "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(), "place": "درمانگاه محله"}, token=centre))
    return dict(v, reservation=_ok(r)["id"], beneficiary=b["id"], centre=centre)


def _shifts(h, *specs, **common):
    """Shifts published by the shrine office of province 9: (hours from now + 3 days, length) pairs."""
    base = NOW().replace(microsecond=0) + dt.timedelta(days=3, hours=int(uuid.uuid4().int % 500))
    body = {"shifts": [dict({"starts_at": (base + dt.timedelta(hours=s)).isoformat(),
                             "ends_at": (base + dt.timedelta(hours=s + n)).isoformat(),
                             "post": "صحن انقلاب", "capacity": 3}, **common) for s, n in specs]}
    return _ok(h.api.post("/shrine/shifts", body, token=h.token("shrine_office", "9")))["ids"]


def _book(h, member, shift):
    return h.api.post(f"/shrine/shifts/{shift}/bookings", token=member["token"])


def _booked(h):
    [m] = h.shrine_members(1)
    [shift] = _shifts(h, (0, 2))
    return m, shift, _ok(_book(h, m, shift))["id"]


def _offered(h):
    """A place offered from the waiting list to ``waiting`` (its booking id), after the holder cancelled."""
    holder, waiting = h.shrine_members(2)
    [shift] = _shifts(h, (0, 2), capacity=1)
    booking = _ok(_book(h, holder, shift))["id"]
    _ok(h.api.post(f"/shrine/shifts/{shift}/waitlist", token=waiting["token"]))
    _ok(h.api.delete(f"/shrine/bookings/{booking}", token=holder["token"]))
    offered = h.api.get("/shrine/bookings?status=offered", token=waiting["token"]).json["items"]
    [mine] = [b for b in offered if b["shift_id"] == shift]
    return waiting, mine["id"]


def _attempt(h):
    """A booking attempt in a shift's fair-opening window (pending until the draw): (member, shift, attempt)."""
    [m] = h.shrine_members(1)
    [shift] = _shifts(h, (0, 2), capacity=1, opens_at=(NOW() - dt.timedelta(seconds=1)).isoformat())
    r = _book(h, m, shift)
    assert r.status == 202, r
    return m, shift, r.json["attempt"]


def _drawn(h):
    """A shift whose fair-opening draw has run."""
    from services.shrine.models import shifts
    m, shift, _ = _attempt(h)
    db = h.system.database("shrine")
    with db.engine.begin() as conn:  # the window closes now
        conn.execute(update(shifts).where(shifts.c.id == shift, shifts.c.drawn_at.is_(None))
                     .values(fair_until=NOW()))
    [late] = h.shrine_members(1)
    _book(h, late, shift)  # runs the draw first
    return shift


def _started_shift_booking(h):
    """A booking on a shift that has begun (attendance is recorded from the start)."""
    from services.shrine.models import bookings, shifts
    m, shift, booking = _booked(h)
    db = h.system.database("shrine")
    starts = NOW() - dt.timedelta(minutes=5)
    with db.engine.begin() as conn:
        conn.execute(update(shifts).where(shifts.c.id == shift).values(starts_at=starts,
                                                                       ends_at=starts + dt.timedelta(hours=2)))
        conn.execute(update(bookings).where(bookings.c.shift_id == shift).values(
            starts_at=starts, ends_at=starts + dt.timedelta(hours=2)))
    return shift, booking


def _procedure_body(**over):
    body = {"title": "صدور کارت زائر", "unit": UNIT, "conditions": "داشتن کارت ملی", "required_documents": [],
            "steps": ["دریافت مدارک", "بررسی"], "standard_days": 3, "fee": 0}
    body.update(over)
    return body


def _procedure(h):
    return _ok(h.api.post("/desk/procedures", _procedure_body(), token=h.office("9")))["id"]


def _ticket(h, step=None):
    """A ticket at the desk of province 9 (for the unit UNIT), moved to ``step``: None, referred, result, awaiting."""
    from tests.fixtures import next_mobile, next_national_id
    desk = h.token("desk_officer", "9")
    t = _ok(h.api.post("/desk/tickets", {"procedure": h.procedure(), "visitor": {
        "full_name": "محمد احمدی", "national_id": next_national_id(), "mobile": next_mobile()},
        "description": "درخواست آزمون"}, token=desk))
    code = t["tracking_code"]
    if step in ("referred", "result"):
        _ok(h.api.post(f"/desk/tickets/{code}/refer", {"unit": UNIT}, token=desk))
    if step == "result":
        _ok(h.api.post(f"/desk/tickets/{code}/result", {"outcome": "انجام شد"}, token=h.token("unit_officer", "9")))
    if step == "awaiting":
        _ok(h.api.post(f"/desk/tickets/{code}/await-visitor", {"reason": "امضای متقاضی"}, token=desk))
    return code


def _today():
    return dt.datetime.now(TEHRAN).date()


# -- the registry ----------------------------------------------------------------------------------------------------
SHIFTS_ARE_NATIONAL = ("the shrine's shifts are open to eligible members of every province: members see and book "
                       "every shift (services/shrine/service.py _visible_shift; PRODUCT.md §5)")


def _case(make, **kw):
    return Case(make=make, **kw)


def _activate(h):
    app, _ = _application(h, invited=True, attended=True)
    return Target({"id": app}, h.office("9"))


def _invite(h):
    app, _ = _application(h)
    starts = (NOW() + dt.timedelta(days=3)).isoformat()
    o = _ok(h.api.post("/orientations", {"starts_at": starts, "place": "دفتر نمایندگی", "capacity": 50},
                       token=h.office("9")))["id"]
    return Target({"id": app}, h.office("9"), body={"orientation_id": o})


def _orientation_attendance(h):
    app, o = _application(h, invited=True)
    return Target({"id": o}, h.office("9"), body={"application_ids": [app]})


def _meeting_attendance(h):
    m = _member(h)
    meeting = _ok(h.api.post("/meetings", {"starts_at": NOW().isoformat(), "place": "حسینیه ارشاد مشهد"},
                             token=h.office("9")))["id"]
    return Target({"id": meeting}, h.office("9"), body={"member_ids": [m["id"]]})


def _member_note(status):
    return lambda h: Target({"id": _member(h)["id"]}, h.office("9"), ok=status, body={"note": "ثبت آزمایشی دفتر"})


def _reinstate(h):
    member, case = _review(h)
    _ok(h.api.post(f"/reviews/{case}/decision", {"decision": "suspend", "note": "تعلیق آزمایشی"}, token=h.office("9")))
    return Target({"id": member["id"]}, h.office("9"), body={"note": "پایان تعلیق"})


def _member_get(h):
    return Target({"id": _member(h)["id"]}, h.office("9"))


def _review_get(h):
    return Target({"id": _review(h)[1]}, h.office("9"))


def _review_decision(h):
    return Target({"id": _review(h)[1]}, h.office("9"), body={"decision": "continue", "note": "تذکر شفاهی"})


def _lesson_read(h):
    return Target({"id": h.flows.lesson(_today())}, h.token("member", "9"))


def _field_service(h):
    field_id, _ = h.flows.field()
    return Target({"id": field_id}, h.admin(), ok=201,
                  body={"name": "خدمت " + uuid.uuid4().hex[:6], "description": "شرح خدمت"})


def _withdraw(h):
    v = _offer(h)
    return Target({"id": v["offer"]}, v["token"])


def _complete(h):
    v = h.flows.approved_offer(h.office("9"))
    return Target({"id": v["offer"]}, v["token"])


def _offer_get(h):
    v = h.flows.approved_offer(h.office("9"))
    return Target({"id": v["offer"]}, v["token"])


def _offer_review(body=None):
    def make(h):
        v = _offer(h)
        return Target({"id": v["offer"]}, h.flows.cached_staff("thematic_center", "9", county=v["county"],
                                                               field=v["field"]), body=body)
    return make


def _documents_list(h):
    v = _offer(h)
    return Target({"id": v["offer"]}, v["token"])


def _document_upload(h):
    v = _offer(h)
    return Target({"id": v["offer"]}, v["token"], ok=201, data=PDF,
                  headers={"Content-Type": "application/pdf", "X-Filename": "certificate.pdf"})


def _document_get(h):
    v = _offer(h)
    r = h.api.post(f"/offers/{v['offer']}/documents", data=PDF, token=v["token"],
                   headers={"Content-Type": "application/pdf"})
    return Target({"id": v["offer"], "document_id": _ok(r)["id"]}, v["token"])


def _beneficiary(h):
    centre = h.token("neighborhood_center", "9")
    b = _ok(h.api.post("/beneficiaries", {"full_name": "رضا موسوی", "needs": "خرید دارو",
                                          "address": "مشهد، کوهسنگی", "phone": "05138005678"}, token=centre))
    return Target({"id": b["id"]}, centre)


def _reservation(body=None, who="member"):
    def make(h):
        v = _invited(h)
        return Target({"id": v["reservation"]}, v["token"] if who == "member" else v["centre"], body=body)
    return make


def _report(body=None):
    def make(h):
        v = h.flows.submitted_report(h.office("9"))
        return Target({"id": v["report"]}, v["supervisor"], body=body)
    return make


def _shift_get(h):
    [shift] = _shifts(h, (0, 2))
    return Target({"id": shift}, h.token("shrine_office", "9"))


def _shift_roster(h):
    _, shift, _ = _booked(h)
    return Target({"id": shift}, h.token("shrine_office", "9"))


def _shift_attendance(h):
    shift, booking = _started_shift_booking(h)
    return Target({"id": shift}, h.token("shrine_office", "9"), body={"booking": booking, "present": True})


def _shift_book(h):
    [shift] = _shifts(h, (0, 2))
    [m] = h.shrine_members(1)
    return Target({"id": shift}, m["token"], ok=201)


def _shift_draw(h):
    return Target({"id": _drawn(h)}, h.token("shrine_office", "9"))


def _shift_waitlist(h):
    holder, waiting = h.shrine_members(2)
    [shift] = _shifts(h, (0, 2), capacity=1)
    _ok(_book(h, holder, shift))
    return Target({"id": shift}, waiting["token"], ok=201)


def _booking_cancel(h):
    m, _, booking = _booked(h)
    return Target({"id": booking}, m["token"])


def _booking_confirm(h):
    waiting, booking = _offered(h)
    return Target({"id": booking}, waiting["token"])


def _waitlist_leave(h):
    holder, waiting = h.shrine_members(2)
    [shift] = _shifts(h, (0, 2), capacity=1)
    _ok(_book(h, holder, shift))
    entry = _ok(h.api.post(f"/shrine/shifts/{shift}/waitlist", token=waiting["token"]))
    return Target({"id": entry["id"]}, waiting["token"])


def _attempt_get(h):
    m, _, attempt = _attempt(h)
    return Target({"id": attempt}, m["token"])


def _holidays(h):
    # a year of its own, far ahead: loading it replaces that year's holidays, and no other test uses it
    return Target({"jalali_year": "1460"}, h.admin(), body={"dates": ["1460/01/02"]})


def _procedure_update(h):
    return Target({"id": _procedure(h)}, h.office("9"), body=_procedure_body(title="صدور کارت زائر (بازنگری)"))


def _ticket_step(step, before=None, body=None, owner="desk_officer"):
    def make(h):
        code = _ticket(h, before)
        return Target({"code": code}, h.token(owner, "9"), body=body)
    return make


def _member_ticket_close(h):
    member = h.token("member", "9")
    idea = _ok(h.api.post("/suggestions", {"title": "نوبت برخط", "body": "نوبت‌دهی برخط برای زائران"},
                          token=member))
    return Target({"id": idea["id"]}, h.office("9"), body={"response": "بررسی شد"})


REGISTRY = {
    # membership
    "POST /api/v1/applications/{id}/activate": _case(_activate),
    "POST /api/v1/applications/{id}/invite": _case(_invite),
    "POST /api/v1/orientations/{id}/attendance": _case(_orientation_attendance),
    "POST /api/v1/meetings/{id}/attendance": _case(_meeting_attendance),
    "POST /api/v1/members/{id}/breaches": _case(_member_note(201)),
    "POST /api/v1/members/{id}/discontinuity": _case(_member_note(201)),
    "POST /api/v1/members/{id}/reinstate": _case(_reinstate),
    "GET /api/v1/members/{id}/standing": _case(_member_get),
    "GET /api/v1/members/{id}/training": _case(_member_get),
    "GET /api/v1/reviews/{id}": _case(_review_get),
    "POST /api/v1/reviews/{id}/decision": _case(_review_decision),
    "POST /api/v1/training/lessons/{id}/read": _case(_lesson_read, open_to={
        "member": "the weekly lesson is national: the admin publishes one for the members of every province"}),
    # catalog
    "POST /api/v1/fields/{id}/services": _case(_field_service, national="fields of service are national, admin only"),
    "POST /api/v1/members/{id}/staff-grant": _case(_member_get),
    "POST /api/v1/me/offers/{id}/withdraw": _case(_withdraw),
    "POST /api/v1/me/offers/{id}/complete": _case(_complete),
    "GET /api/v1/offers/{id}": _case(_offer_get),
    "POST /api/v1/offers/{id}/approve": _case(_offer_review()),
    "POST /api/v1/offers/{id}/reject": _case(_offer_review({"reason": "شرح خدمت کافی نیست"})),
    "GET /api/v1/offers/{id}/documents": _case(_documents_list),
    "POST /api/v1/offers/{id}/documents": _case(_document_upload),
    "GET /api/v1/offers/{id}/documents/{document_id}": _case(_document_get),
    # reservation
    "GET /api/v1/beneficiaries/{id}": _case(_beneficiary),
    "GET /api/v1/reservations/{id}": _case(_reservation(who="centre")),
    "POST /api/v1/reservations/{id}/accept": _case(_reservation()),
    "POST /api/v1/reservations/{id}/decline": _case(_reservation({"reason": "در آن روز در سفرم"})),
    # reporting
    "GET /api/v1/reports/{id}": _case(_report()),
    "POST /api/v1/reports/{id}/approve": _case(_report()),
    "POST /api/v1/reports/{id}/reject": _case(_report({"reason": "ساعت‌ها با برنامه نمی‌خواند"})),
    # shrine
    "GET /api/v1/shrine/shifts/{id}": _case(_shift_get, open_to={"member": SHIFTS_ARE_NATIONAL}),
    "GET /api/v1/shrine/shifts/{id}/bookings": _case(_shift_roster),
    "POST /api/v1/shrine/shifts/{id}/attendance": _case(_shift_attendance),
    "POST /api/v1/shrine/shifts/{id}/bookings": _case(_shift_book, open_to={"member": SHIFTS_ARE_NATIONAL}),
    "GET /api/v1/shrine/shifts/{id}/draw": _case(_shift_draw, open_to={"member": SHIFTS_ARE_NATIONAL}),
    "POST /api/v1/shrine/shifts/{id}/waitlist": _case(_shift_waitlist, open_to={"member": SHIFTS_ARE_NATIONAL}),
    "DELETE /api/v1/shrine/bookings/{id}": _case(_booking_cancel),
    "POST /api/v1/shrine/bookings/{id}/confirm": _case(_booking_confirm),
    "DELETE /api/v1/shrine/waitlist/{id}": _case(_waitlist_leave),
    "GET /api/v1/shrine/attempts/{id}": _case(_attempt_get),
    # desk
    "PUT /api/v1/desk/holidays/{jalali_year}": _case(_holidays, national="official holidays are national, admin only"),
    "PUT /api/v1/desk/procedures/{id}": _case(_procedure_update),
    "POST /api/v1/desk/tickets/{code}/resolve": _case(_ticket_step("resolve", body={"resolution": "در محل انجام شد"})),
    "POST /api/v1/desk/tickets/{code}/refer": _case(_ticket_step("refer", body={"unit": UNIT})),
    "POST /api/v1/desk/tickets/{code}/result": _case(_ticket_step("result", "referred", {"outcome": "کارت صادر شد"},
                                                                  owner="unit_officer")),
    "POST /api/v1/desk/tickets/{code}/deliver": _case(_ticket_step("deliver", "result")),
    "POST /api/v1/desk/tickets/{code}/await-visitor": _case(_ticket_step("await", body={"reason": "امضای متقاضی"})),
    "POST /api/v1/desk/tickets/{code}/resume": _case(_ticket_step("resume", "awaiting")),
    "POST /api/v1/member-tickets/{id}/close": _case(_member_ticket_close),
}


def counties(province):
    return sorted(geo.counties_of(province))

