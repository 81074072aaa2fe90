"""The service desk (میز خدمت) through HTTP, on the real broker, on SQLite and PostgreSQL."""
import datetime as dt
import random
import uuid

import eventlet
import pytest
import requests
from sqlalchemy import select, update

from kit.persian import TEHRAN, add_working_days, jalali_month_key, to_jalali
from services.desk import domain
from tests.fixtures import Api, next_mobile, next_national_id

UTC = dt.timezone.utc
ID_CARD, BIRTH_CERTIFICATE, RECEIPT = "کارت ملی", "شناسنامه", "فیش واریزی"
DOCUMENTS = [ID_CARD, BIRTH_CERTIFICATE, RECEIPT]


# -- helpers --------------------------------------------------------------------------------------------------
def unit_name():
    """A unit of its own for each test, so figures of one test never mix with another's."""
    return "امور زائرین " + uuid.uuid4().hex[:6]


def today():
    return dt.datetime.now(TEHRAN).date()


@pytest.fixture
def desk(flows):
    """Desk officers of Khorasan Razavi (9) and Tehran (23)."""
    cache = getattr(flows, "_desk_officers", None)
    if cache is None:
        cache = flows._desk_officers = {"9": flows.staff("desk_officer", "9")[0],
                                        "23": flows.staff("desk_officer", "23")[0]}
    return cache


def procedure(api, token, unit=None, standard_days=3, documents=DOCUMENTS, **over):
    body = {"title": "صدور کارت زائر", "unit": unit, "conditions": "داشتن کارت ملی معتبر",
            "required_documents": list(documents), "steps": ["دریافت مدارک", "بررسی در واحد", "صدور کارت"],
            "standard_days": standard_days, "fee": 0}
    body.update(over)
    if body["unit"] is None:
        del body["unit"]
    r = api.post("/desk/procedures", body, token=token)
    assert r.status == 201, r
    return r.json["id"]


def visitor():
    return {"full_name": "محمد احمدی", "national_id": next_national_id(), "mobile": next_mobile()}


def ticket(api, token, procedure_id, documents=DOCUMENTS, who=None):
    who = who or visitor()
    r = api.post("/desk/tickets", {"procedure": procedure_id, "visitor": who, "documents_received": list(documents),
                                   "description": "درخواست صدور کارت زائر"}, token=token)
    assert r.status == 201, r
    return dict(r.json, mobile=who["mobile"])


class _FromAddress(requests.adapters.HTTPAdapter):
    """Connect from a chosen loopback address, so the gateway sees a client of its own."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_of_its_own(system):
    """A visitor's phone: a public client with an address no other test uses (misses are counted per client)."""
    client = Api(system.url)
    address = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(1, 254), random.randint(2, 254))
    client.http.mount("http://", _FromAddress(address))
    return client


def outbox(system, ticket_id):
    from services.desk.models import metadata
    outbox_table = metadata.tables["outbox"]
    with system.database("desk").engine.connect() as conn:
        rows = conn.execute(select(outbox_table).order_by(outbox_table.c.seq)).mappings().all()
    return [r for r in rows if r["payload"].get("ticket_id") == ticket_id]


def set_ticket(system, code, **values):
    from services.desk.models import tickets
    with system.database("desk").engine.begin() as conn:
        conn.execute(update(tickets).where(tickets.c.tracking_code == code).values(**values))


@pytest.fixture
def desk_clock(monkeypatch):
    """Put the desk on a chosen moment (Tehran wall-clock time); the real clock is back after the test."""
    import services.desk.service as desk_service

    def move(*tehran):
        moment = dt.datetime(*tehran, tzinfo=TEHRAN).astimezone(UTC)
        monkeypatch.setattr(desk_service, "clock", lambda: moment)
    return move


# -- the whole flow ---------------------------------------------------------------------------------------------
def test_the_whole_flow_from_the_desk_to_the_visitors_rating(system, api, flows, desk, office):
    unit = unit_name()
    unit_token, _ = flows.staff("unit_officer", "9", unit=unit)
    pid = procedure(api, unit_token, standard_days=3)  # the unit documents its own procedure
    listed = api.get(f"/desk/procedures?province=9&unit={unit}")
    assert listed.status == 200 and [p["id"] for p in listed.json["items"]] == [pid]
    published = listed.json["items"][0]
    assert published["unit"] == unit and published["required_documents"] == DOCUMENTS
    assert published["fee"] == 0 and published["stale"] is False and published["version"] == 1

    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    assert domain.is_valid_tracking_code(code) and t["status"] == "open" and t["missing_documents"] == []
    assert t["due_date"] == add_working_days(today(), 3).isoformat()
    assert t["tracking_code_display"].replace("-", "") == code

    tracked = api.get(f"/desk/tickets/{code}?mobile={t['mobile']}")
    assert tracked.status == 200 and tracked.json["status"] == "open", tracked
    assert tracked.json["next_step"] and tracked.json["can_rate"] is False

    referred = api.post(f"/desk/tickets/{code}/refer", {"unit": unit}, token=desk["9"])
    assert referred.status == 200 and referred.json["status"] == "referred", referred
    promised = add_working_days(today(), 3)  # three working days, Fridays skipped
    assert referred.json["due_date"] == promised.isoformat()
    tracked = api.get(f"/desk/tickets/{code.lower()}?mobile={t['mobile']}").json
    assert tracked["status"] == "referred" and tracked["due_date_jalali"] == to_jalali(promised)
    assert "واحد" in tracked["next_step"]

    queue = api.get("/desk/tickets?status=referred", token=unit_token)
    assert [i["tracking_code"] for i in queue.json["items"]] == [code]  # the unit sees its own tickets only
    assert queue.json["items"][0]["visitor"]["mobile"] == t["mobile"]

    result = api.post(f"/desk/tickets/{code}/result", {"outcome": "کارت زائر صادر شد."}, token=unit_token)
    assert result.status == 200 and result.json["status"] == "result_ready", result
    assert api.get(f"/desk/tickets/{code}?mobile={t['mobile']}").json["status"] == "result_ready"
    delivered = api.post(f"/desk/tickets/{code}/deliver", token=desk["9"])
    assert delivered.status == 200 and delivered.json["status"] == "delivered", delivered
    assert api.post(f"/desk/tickets/{code}/deliver", token=desk["9"]).json["code"] == "ticket_closed"

    tracked = api.get(f"/desk/tickets/{code}?mobile={t['mobile']}").json
    assert tracked["status"] == "delivered" and tracked["can_rate"] is True
    rated = api.post(f"/desk/tickets/{code}/rating", {"mobile": t["mobile"], "score": 5, "comment": "عالی"})
    assert rated.status == 200 and rated.json == {"tracking_code": code, "rating": 5}

    summary = api.get(f"/desk/procedures/{pid}/summary")
    assert summary.status == 200 and summary.json["tickets"] == 1 and summary.json["on_time_share"] == 1.0
    assert summary.json["satisfaction"] == 5.0 and summary.json["standard_days"] == 3

    stats = api.get(f"/desk/stats?unit={unit}", token=office["9"])
    assert stats.status == 200, stats
    (row,) = stats.json["items"]
    assert row["procedure_id"] == pid and row["month"] == jalali_month_key(today())
    assert (row["received"], row["referred"], row["delivered"], row["delivered_on_time"], row["satisfaction"]) == \
        (1, 1, 1, 1, 5.0)

    # each step wrote its event to the outbox, with what an SMS sender needs
    steps = outbox(system, t["id"])
    assert [e["event_type"] for e in steps] == ["TicketCreated", "TicketReferred", "TicketResultReady",
                                                "TicketDelivered", "TicketRated"]
    created = steps[0]["payload"]
    assert created["tracking_code"] == code and created["mobile"] == t["mobile"] and steps[0]["province"] == "9"
    assert steps[1]["payload"]["due_date"] == promised.isoformat()
    assert steps[1]["payload"]["due_date_jalali"] == to_jalali(promised)
    assert steps[3]["payload"]["on_time"] is True and steps[4]["payload"]["score"] == 5


def test_resolved_on_the_spot_and_the_events_of_waiting(system, api, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    waiting = api.post(f"/desk/tickets/{t['tracking_code']}/await-visitor", {"reason": "امضای متقاضی لازم است"},
                       token=desk["9"])
    assert waiting.status == 200 and waiting.json["status"] == "awaiting_visitor", waiting
    resumed = api.post(f"/desk/tickets/{t['tracking_code']}/resume", token=desk["9"])
    assert resumed.status == 200 and resumed.json["status"] == "open", resumed
    resolved = api.post(f"/desk/tickets/{t['tracking_code']}/resolve", {"resolution": "در محل انجام شد"},
                        token=desk["9"])
    assert resolved.status == 200 and resolved.json["status"] == "resolved", resolved
    assert api.post(f"/desk/tickets/{t['tracking_code']}/refer", token=desk["9"]).status == 409
    events = [e["event_type"] for e in outbox(system, t["id"])]
    assert events == ["TicketCreated", "TicketAwaitingVisitor", "TicketResumed", "TicketResolved"]
    # and the relay published them (published_at set after commit)
    eventlet.sleep(1)
    assert all(e["published_at"] is not None for e in outbox(system, t["id"]))


# -- documents ------------------------------------------------------------------------------------------------
def test_missing_documents_are_stated_and_stop_the_clock(api, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid, documents=[ID_CARD])
    assert t["status"] == "awaiting_visitor" and t["missing_documents"] == [BIRTH_CERTIFICATE, RECEIPT]
    code = t["tracking_code"]
    for step in ("refer", "resolve"):
        refused = api.post(f"/desk/tickets/{code}/{step}", token=desk["9"])
        assert refused.status == 409 and refused.json["code"] == "documents_missing", refused
        assert BIRTH_CERTIFICATE in refused.json["detail"] and RECEIPT in refused.json["detail"]
        assert RECEIPT in refused.json["errors"]["documents_received"]
    tracked = api.get(f"/desk/tickets/{code}?mobile={t['mobile']}").json
    assert tracked["status"] == "awaiting_visitor" and tracked["missing_documents"] == [BIRTH_CERTIFICATE, RECEIPT]
    half = api.post(f"/desk/tickets/{code}/resume", {"documents_received": [BIRTH_CERTIFICATE]}, token=desk["9"])
    assert half.status == 409 and half.json["code"] == "documents_missing" and RECEIPT in half.json["detail"]
    assert BIRTH_CERTIFICATE not in half.json["detail"]
    en = api.post(f"/desk/tickets/{code}/resume", {"documents_received": [BIRTH_CERTIFICATE]}, token=desk["9"],
                  headers={"Accept-Language": "en"})
    assert "missing" in en.json["detail"]
    whole = api.post(f"/desk/tickets/{code}/resume", {"documents_received": [BIRTH_CERTIFICATE, RECEIPT]},
                     token=desk["9"])
    assert whole.status == 200 and whole.json["status"] == "open" and whole.json["missing_documents"] == []
    assert api.post(f"/desk/tickets/{code}/refer", token=desk["9"]).status == 200


def test_documents_not_on_the_procedures_list_are_refused(api, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    r = api.post("/desk/tickets", {"procedure": pid, "visitor": visitor(), "documents_received": ["گذرنامه"],
                                   "description": ""}, token=desk["9"])
    assert r.status == 422 and r.json["code"] == "unknown_documents"
    assert "گذرنامه" in r.json["errors"]["documents_received"]
    bad = api.post("/desk/tickets", {"procedure": pid, "visitor": dict(visitor(), national_id="1234567890",
                                                                       mobile="0812")}, token=desk["9"])
    assert bad.status == 422 and {"visitor.national_id", "visitor.mobile"} <= set(bad.json["errors"])


# -- promised dates across Fridays and holidays -------------------------------------------------------------
def test_promised_dates_skip_fridays_and_official_holidays(api, flows, desk, office, desk_clock):
    desk_clock(2024, 12, 18, 9, 0)  # Wednesday 1403/09/28, at the desk
    unit = unit_name()
    pid = procedure(api, office["9"], unit=unit, standard_days=2)
    first = ticket(api, desk["9"], pid)
    assert first["due_date"] == "2024-12-21"  # Thursday, (Friday), Saturday
    referred = api.post(f"/desk/tickets/{first['tracking_code']}/refer", token=desk["9"])
    assert referred.json["due_date"] == "2024-12-21" and referred.json["due_date_jalali"] == "1403/10/01"

    # Saturday 1403/10/01 (and Wednesday 1403/10/05) become official holidays
    assert api.put("/desk/holidays/1403", {"dates": ["1403/10/01"]}, token=office["9"]).status == 403
    loaded = api.put("/desk/holidays/1403", {"dates": ["۱۴۰۳/۱۰/۰۱", "2024-12-25", "2025-03-20"]},
                     token=flows.admin())
    assert loaded.status == 200 and loaded.json["dates"] == ["2024-12-21", "2024-12-25", "2025-03-20"], loaded
    assert api.get("/desk/holidays/1403").json["dates_jalali"] == ["1403/10/01", "1403/10/05", "1403/12/30"]
    outside = api.put("/desk/holidays/1403", {"dates": ["1404/01/01"]}, token=flows.admin())
    assert outside.status == 422 and "dates" in outside.json["errors"]

    second = ticket(api, desk["9"], pid)
    assert second["due_date"] == "2024-12-22"  # Thursday, (Friday), (holiday), Sunday
    code = second["tracking_code"]
    for given, why in (("1403/10/05", "promised_date_not_working_day"),  # a holiday
                       ("2024-12-27", "promised_date_not_working_day"),  # a Friday
                       ("1403/10/01", "promised_date_too_early"),  # the holiday before the earliest date
                       ("2024-12-19", "promised_date_too_early")):
        refused = api.post(f"/desk/tickets/{code}/refer", {"promised_date": given}, token=desk["9"])
        assert refused.status == 422 and refused.json["code"] == why, (given, refused)
        assert "promised_date" in refused.json["errors"]
    later = api.post(f"/desk/tickets/{code}/refer", {"promised_date": "1403/10/06"}, token=desk["9"])
    assert later.status == 200 and later.json["due_date"] == "2024-12-26", later
    # a promise already given keeps its date
    staff_view = api.get(f"/desk/tickets?unit={unit}&limit=10", token=desk["9"]).json["items"]
    assert {i["tracking_code"]: i["due_date"] for i in staff_view}[first["tracking_code"]] == "2024-12-21"


def test_waiting_for_the_visitor_pushes_the_promise_by_the_working_days_waited(api, desk, office, desk_clock):
    desk_clock(2025, 11, 1, 10, 0)  # Saturday 1404/08/10
    pid = procedure(api, office["9"], unit=unit_name(), standard_days=3)
    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    assert t["due_date"] == "2025-11-04"  # Sunday, Monday, Tuesday
    assert api.post(f"/desk/tickets/{code}/refer", token=desk["9"]).json["due_date"] == "2025-11-04"
    assert api.post(f"/desk/tickets/{code}/await-visitor", {"reason": "کپی شناسنامه خوانا نیست"},
                    token=desk["9"]).status == 200
    desk_clock(2025, 11, 5, 11, 0)  # Wednesday: Sunday to Wednesday stood still, four working days
    late_list = api.get("/desk/tickets/late", token=office["9"]).json["items"]
    assert code not in [i["tracking_code"] for i in late_list]  # the clock is stopped: not late
    resumed = api.post(f"/desk/tickets/{code}/resume", token=desk["9"])
    assert resumed.status == 200 and resumed.json["status"] == "referred", resumed
    assert resumed.json["due_date"] == "2025-11-09"  # Tuesday + 4: Wed, Thu, (Fri), Sat, Sun
    tracked = api.get(f"/desk/tickets/{code}?mobile={t['mobile']}").json
    assert tracked["due_date_jalali"] == "1404/08/18"


# -- refusals ---------------------------------------------------------------------------------------------------
def test_a_unit_officer_records_results_only_for_their_unit(api, flows, desk, office):
    mine, other = unit_name(), unit_name()
    mine_token, _ = flows.staff("unit_officer", "9", unit=mine)
    other_token, _ = flows.staff("unit_officer", "9", unit=other)
    pid = procedure(api, mine_token)
    procedure(api, other_token)  # the other unit exists too
    wrong = api.post("/desk/procedures", {"title": "x", "unit": other, "conditions": "-", "required_documents": [],
                                          "steps": ["x"], "standard_days": 1}, token=mine_token)
    assert wrong.status == 403 and wrong.json["code"] == "not_your_unit"
    assert api.put(f"/desk/procedures/{pid}", {"title": "x", "conditions": "-", "required_documents": [],
                                               "steps": ["x"], "standard_days": 1}, token=other_token).status == 403

    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    assert api.post(f"/desk/tickets/{code}/result", {"outcome": "x"}, token=mine_token).json["code"] == "wrong_step"
    assert api.post(f"/desk/tickets/{code}/refer", {"unit": "واحدی که نیست"}, token=desk["9"]).json["code"] == \
        "unknown_unit"
    assert api.post(f"/desk/tickets/{code}/refer", token=desk["9"]).status == 200
    refused = api.post(f"/desk/tickets/{code}/result", {"outcome": "انجام شد"}, token=other_token)
    assert refused.status == 403 and refused.json["code"] == "not_your_unit"
    assert code not in [i["tracking_code"] for i in api.get("/desk/tickets", token=other_token).json["items"]]
    assert api.post(f"/desk/tickets/{code}/result", {"outcome": "انجام شد"}, token=mine_token).status == 200


def test_another_provinces_ticket_is_a_404(api, flows, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    tehran_unit, _ = flows.staff("unit_officer", "23", unit="امور زائرین")
    for step, token in (("resolve", desk["23"]), ("refer", desk["23"]), ("deliver", desk["23"]),
                        ("await-visitor", desk["23"]), ("resume", desk["23"]), ("result", tehran_unit)):
        r = api.post(f"/desk/tickets/{code}/{step}", {"reason": "x"} if step == "await-visitor" else
                     ({"outcome": "x"} if step == "result" else None), token=token)
        assert r.status == 404 and r.json["code"] == "ticket_not_found", (step, r)
    foreign = api.post("/desk/tickets", {"procedure": pid, "visitor": visitor(), "documents_received": DOCUMENTS},
                       token=desk["23"])
    assert foreign.status == 404 and foreign.json["code"] == "procedure_not_found"
    assert api.put(f"/desk/procedures/{pid}", {"title": "x", "unit": "y", "conditions": "-",
                                               "required_documents": [], "steps": ["x"], "standard_days": 1},
                   token=office["23"]).status == 404
    for path in ("/desk/tickets?limit=200", "/desk/tickets/late?limit=200"):
        assert code not in [i["tracking_code"] for i in api.get(path, token=office["23"]).json["items"]]
    assert api.get(f"/desk/stats?procedure={pid}", token=office["23"]).json["total"]["received"] == 0
    assert api.get(f"/desk/stats?procedure={pid}", token=office["9"]).json["total"]["received"] == 1


def test_roles(api, flows, desk, office):
    unit_token, _ = flows.staff("unit_officer", "9", unit=unit_name())
    member = flows.member(office["9"])
    pid = procedure(api, office["9"], unit=unit_name())
    body = {"procedure": pid, "visitor": visitor(), "documents_received": DOCUMENTS}
    assert api.post("/desk/tickets", body).status == 401
    for token in (member["token"], office["9"], unit_token):
        assert api.post("/desk/tickets", body, token=token).status == 403
    assert api.post("/desk/procedures", {}, token=desk["9"]).status == 403
    for path in ("/desk/stats", "/desk/tickets/late", "/member-tickets"):
        assert api.get(path, token=desk["9"]).status == 403
        assert api.get(path, token=unit_token).status == 403
    assert api.get("/desk/procedures/stale", token=desk["9"]).status == 403
    assert api.get("/desk/procedures").status == 200  # public


def test_concurrent_steps_on_one_ticket_leave_exactly_one(api, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    pool = eventlet.GreenPool(8)
    steps = ["resolve", "refer"] * 4
    statuses = list(pool.imap(lambda s: api.post(f"/desk/tickets/{t['tracking_code']}/{s}", token=desk["9"]).status,
                              steps))
    assert statuses.count(200) == 1 and statuses.count(409) == 7, statuses


# -- the visitor's side -----------------------------------------------------------------------------------------
def test_a_wrong_mobile_and_an_unknown_code_answer_alike(system, api, desk, office):
    phone = client_of_its_own(system)
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    wrong = phone.get(f"/desk/tickets/{code}?mobile={next_mobile()}")
    unknown_code = domain.new_tracking_code()
    unknown = phone.get(f"/desk/tickets/{unknown_code}?mobile={t['mobile']}")
    assert wrong.status == unknown.status == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731 (instance is the path)
    assert strip(wrong.json) == strip(unknown.json) and "status" not in wrong.json.get("errors", {})
    assert wrong.json["instance"].endswith(code) and unknown.json["instance"].endswith(unknown_code)
    typo = code[:3] + ("Z" if code[3] != "Z" else "Y") + code[4:]
    mistyped = phone.get(f"/desk/tickets/{typo}?mobile={t['mobile']}")
    assert mistyped.status == 422 and mistyped.json["code"] == "invalid_tracking_code"
    assert phone.get(f"/desk/tickets/{code}").status == 422  # the mobile is required
    ok = phone.get(f"/desk/tickets/{code}?mobile=+98{t['mobile'][1:]}")  # any common form of the number
    assert ok.status == 200 and set(ok.json) >= {"status", "due_date_jalali", "next_step"}
    assert "visitor" not in ok.json and "national_id" not in str(ok.json)


def test_tracking_misses_are_rate_limited_per_code_and_per_client(system, api, desk, office):
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]

    # one code guessed at with wrong mobiles, from anywhere: after five misses the code itself is shut
    for _ in range(domain.TRACK_LIMIT_PER_CODE):
        assert client_of_its_own(system).get(f"/desk/tickets/{code}?mobile={next_mobile()}").status == 404
    limited = client_of_its_own(system).get(f"/desk/tickets/{code}?mobile={t['mobile']}")
    assert limited.status == 429 and limited.json["code"] == "too_many_tracking_attempts"
    assert int(limited.headers["Retry-After"]) > 0
    rating = client_of_its_own(system).post(f"/desk/tickets/{code}/rating", {"mobile": t["mobile"], "score": 3})
    assert rating.status == 429

    # one client enumerating codes: after twenty misses that client is refused, even for a real ticket
    other = ticket(api, desk["9"], pid)
    phone = client_of_its_own(system)
    for _ in range(domain.TRACK_LIMIT_PER_CLIENT):
        assert phone.get(f"/desk/tickets/{domain.new_tracking_code()}?mobile={next_mobile()}").status == 404
    assert phone.get(f"/desk/tickets/{other['tracking_code']}?mobile={other['mobile']}").status == 429
    assert client_of_its_own(system).get(f"/desk/tickets/{other['tracking_code']}?mobile={other['mobile']}"
                                         ).status == 200

    # the misses are in the desk's database, so every replica sees them
    from services.desk.models import tracking_misses
    with system.database("desk").engine.connect() as conn:
        keys = conn.execute(select(tracking_misses.c.key)).scalars().all()
    assert keys.count(f"code:{code}") == domain.TRACK_LIMIT_PER_CODE


def test_rating_once_and_only_after_delivery(system, api, desk, office):
    phone = client_of_its_own(system)
    pid = procedure(api, office["9"], unit=unit_name())
    t = ticket(api, desk["9"], pid)
    code = t["tracking_code"]
    early = phone.post(f"/desk/tickets/{code}/rating", {"mobile": t["mobile"], "score": 4})
    assert early.status == 409 and early.json["code"] == "not_delivered"
    assert api.post(f"/desk/tickets/{code}/resolve", token=desk["9"]).status == 200
    assert phone.post(f"/desk/tickets/{code}/rating", {"mobile": t["mobile"], "score": 6}).status == 422
    stranger = phone.post(f"/desk/tickets/{code}/rating", {"mobile": next_mobile(), "score": 1})
    assert stranger.status == 404 and stranger.json["code"] == "ticket_not_found"
    pool = eventlet.GreenPool(4)
    statuses = sorted(pool.imap(lambda s: phone.post(f"/desk/tickets/{code}/rating",
                                                     {"mobile": t["mobile"], "score": s}).status, [4, 4, 4, 4]))
    assert statuses == [200, 409, 409, 409]
    again = phone.post(f"/desk/tickets/{code}/rating", {"mobile": t["mobile"], "score": 1})
    assert again.status == 409 and again.json["code"] == "already_rated"
    tracked = phone.get(f"/desk/tickets/{code}?mobile={t['mobile']}").json
    assert tracked["rating"] == 4 and tracked["can_rate"] is False


# -- procedures -------------------------------------------------------------------------------------------------
def test_a_ticket_keeps_the_procedure_version_it_was_opened_under(api, desk, office):
    unit = unit_name()
    pid = procedure(api, office["9"], unit=unit, standard_days=2, documents=[ID_CARD])
    old = ticket(api, desk["9"], pid, documents=[ID_CARD])
    v2 = api.put(f"/desk/procedures/{pid}", {"title": "صدور کارت زائر (بازنگری)", "unit": unit, "conditions": "-",
                                             "required_documents": [ID_CARD, RECEIPT], "steps": ["دریافت", "صدور"],
                                             "standard_days": 5}, token=office["9"])
    assert v2.status == 200 and v2.json == {"id": pid, "version": 2}
    current = api.get(f"/desk/procedures/{pid}").json
    assert current["version"] == 2 and current["standard_days"] == 5
    first = api.get(f"/desk/procedures/{pid}?version=1").json
    assert first["version"] == 1 and first["required_documents"] == [ID_CARD]
    assert api.get(f"/desk/procedures/{pid}?version=9").status == 404

    referred = api.post(f"/desk/tickets/{old['tracking_code']}/refer", token=desk["9"])
    assert referred.json["due_date"] == add_working_days(today(), 2).isoformat()  # version 1's two days
    new = ticket(api, desk["9"], pid, documents=[ID_CARD])
    assert new["status"] == "awaiting_visitor" and new["missing_documents"] == [RECEIPT]
    versions = {i["tracking_code"]: i["procedure_version"]
                for i in api.get(f"/desk/tickets?unit={unit}", token=desk["9"]).json["items"]}
    assert versions == {old["tracking_code"]: 1, new["tracking_code"]: 2}


def test_procedures_not_reviewed_for_a_year_are_listed_for_the_office(system, api, office):
    unit = unit_name()
    two_years_ago = today() - dt.timedelta(days=730)
    stale = procedure(api, office["9"], unit=unit, reviewed_on=two_years_ago.isoformat())
    fresh = procedure(api, office["9"], unit=unit)
    listed = api.get(f"/desk/procedures/stale?unit={unit}", token=office["9"])
    assert listed.status == 200 and [p["id"] for p in listed.json["items"]] == [stale]
    assert listed.json["items"][0]["days_since_review"] >= 730
    assert stale not in [p["id"] for p in api.get("/desk/procedures/stale?limit=200", token=office["23"]).json["items"]]
    public = {p["id"]: p["stale"] for p in api.get(f"/desk/procedures?unit={unit}").json["items"]}
    assert public == {stale: True, fresh: False}
    future = api.post("/desk/procedures", {"title": "x", "unit": unit, "conditions": "-", "required_documents": [],
                                           "steps": ["x"], "standard_days": 1,
                                           "reviewed_on": (today() + dt.timedelta(days=3)).isoformat()},
                      token=office["9"])
    assert future.status == 422 and "reviewed_on" in future.json["errors"]
    from nameko.testing.services import entrypoint_hook
    with entrypoint_hook(system.container("desk"), "measure") as measure:
        assert measure()["stale"]["9"] >= 1


# -- the scorecard ------------------------------------------------------------------------------------------------
def test_stats_split_tickets_at_the_jalali_month_start(system, api, flows, desk, office):
    unit = unit_name()
    unit_token, _ = flows.staff("unit_officer", "9", unit=unit)
    pid = procedure(api, office["9"], unit=unit)
    phone = client_of_its_own(system)
    before, after = ticket(api, desk["9"], pid), ticket(api, desk["9"], pid)
    assert api.post(f"/desk/tickets/{before['tracking_code']}/resolve", token=desk["9"]).status == 200
    assert phone.post(f"/desk/tickets/{before['tracking_code']}/rating",
                      {"mobile": before["mobile"], "score": 4}).status == 200
    code = after["tracking_code"]
    for step, body in (("refer", None), ("result", {"outcome": "انجام شد"}), ("deliver", None)):
        token = unit_token if step == "result" else desk["9"]
        assert api.post(f"/desk/tickets/{code}/{step}", body, token=token).status == 200, step

    # 23:30 on 1404/07/30 and 00:30 on 1404/08/01 in Tehran: one UTC day, two Jalali months
    last_evening = dt.datetime(2025, 10, 22, 23, 30, tzinfo=TEHRAN).astimezone(UTC)
    first_night = dt.datetime(2025, 10, 23, 0, 30, tzinfo=TEHRAN).astimezone(UTC)
    set_ticket(system, before["tracking_code"], created_at=last_evening, done_at=last_evening + dt.timedelta(days=2),
               due_date=dt.date(2025, 10, 26))
    set_ticket(system, code, created_at=first_night, referred_at=first_night,
               done_at=first_night + dt.timedelta(days=5), due_date=dt.date(2025, 10, 26))

    for first, last in (("1404/07/01", "1404/08/30"), ("2025-09-23", "2025-11-21"), ("۱۴۰۴/۰۷/۰۱", "1404-08-30")):
        stats = api.get(f"/desk/stats?from={first}&to={last}&unit={unit}", token=office["9"])
        assert stats.status == 200, stats
        rows = {r["month"]: r for r in stats.json["items"]}
        assert set(rows) == {"1404-07", "1404-08"}
        mehr, aban = rows["1404-07"], rows["1404-08"]
        assert (mehr["received"], mehr["resolved_at_desk"], mehr["referred"], mehr["delivered_on_time"],
                mehr["delivered_late"], mehr["median_days_to_resolve"], mehr["satisfaction"]) == \
            (1, 1, 0, 1, 0, 2.0, 4.0)
        assert (aban["received"], aban["resolved_at_desk"], aban["referred"], aban["delivered_on_time"],
                aban["delivered_late"], aban["median_days_to_resolve"], aban["p90_days_to_resolve"]) == \
            (1, 0, 1, 0, 1, 5.0, 5.0)
        assert stats.json["total"]["received"] == 2 and stats.json["from_jalali"] == "1404/07/01"
    only_aban = api.get(f"/desk/stats?from=1404/08/01&to=1404/08/30&unit={unit}", token=office["9"]).json
    assert [r["month"] for r in only_aban["items"]] == ["1404-08"]
    backwards = api.get("/desk/stats?from=1404/08/01&to=1404/07/01", token=office["9"])
    assert backwards.status == 422 and "from" in backwards.json["errors"]
    assert api.get("/desk/stats?from=1404/13/01", token=office["9"]).status == 422


def test_the_late_list_and_the_prometheus_metrics(system, api, desk, office):
    unit = unit_name()
    pid = procedure(api, office["9"], unit=unit)
    late, waiting = ticket(api, desk["9"], pid), ticket(api, desk["9"], pid)
    assert api.post(f"/desk/tickets/{late['tracking_code']}/refer", token=desk["9"]).status == 200
    assert api.post(f"/desk/tickets/{waiting['tracking_code']}/await-visitor", {"reason": "امضا"},
                    token=desk["9"]).status == 200
    past = today() - dt.timedelta(days=3)
    set_ticket(system, late["tracking_code"], due_date=past)
    set_ticket(system, waiting["tracking_code"], due_date=past)
    listed = api.get(f"/desk/tickets/late?unit={unit}", token=office["9"])
    assert listed.status == 200 and [i["tracking_code"] for i in listed.json["items"]] == [late["tracking_code"]]
    assert listed.json["items"][0]["late"] is True and listed.json["items"][0]["days_late"] == 3

    from nameko.testing.services import entrypoint_hook
    with entrypoint_hook(system.container("desk"), "measure") as measure:
        measured = measure()
    assert measured["late"][f"9|{unit}"] == 1 and measured["open"][f"9|{unit}"] == 2
    metrics = api.get("/metrics").raw.text
    assert f'khademyar_desk_late_tickets{{province="9",unit="{unit}"}} 1.0' in metrics
    assert f'khademyar_desk_tickets_received_total{{province="9",unit="{unit}"}} 2.0' in metrics
    assert f'khademyar_desk_tickets_referred_total{{province="9",unit="{unit}"}} 1.0' in metrics
    assert "khademyar_desk_time_to_resolve_seconds_bucket" in metrics


# -- members' tickets ----------------------------------------------------------------------------------------------
def test_suggestions_and_integrity_reports_reach_only_the_members_office(system, api, flows, office):
    reporter, colleague = flows.member(office["9"]), flows.member(office["9"])
    idea = api.post("/suggestions", {"title": "ثبت نوبت آنلاین", "body": "نوبت‌دهی برخط برای زائران"},
                    token=reporter["token"])
    assert idea.status == 201 and set(idea.json) == {"id", "tracking_code"}, idea
    report = api.post("/integrity-reports", {"body": "برای ثبت نام از من پول خواستند", "accused": "آقای الف"},
                      token=reporter["token"])
    assert report.status == 201 and domain.is_valid_tracking_code(report.json["tracking_code"]), report
    assert api.post("/integrity-reports", {"body": "x"}, token=office["9"]).status == 403

    listed = api.get("/member-tickets?kind=integrity_report&limit=200", token=office["9"])
    mine = [i for i in listed.json["items"] if i["id"] == report.json["id"]]
    assert mine and mine[0]["reporter_id"] == reporter["id"] and mine[0]["accused"] == "آقای الف"
    assert all(i["kind"] == "integrity_report" for i in listed.json["items"])
    assert idea.json["id"] in [i["id"] for i in api.get("/member-tickets?kind=suggestion&limit=200",
                                                        token=office["9"]).json["items"]]
    assert report.json["id"] not in [i["id"] for i in api.get("/member-tickets?limit=200",
                                                              token=office["23"]).json["items"]]
    assert api.get("/member-tickets", token=colleague["token"]).status == 403
    assert api.get("/member-tickets/mine", token=colleague["token"]).json["items"] == []
    own = api.get("/member-tickets/mine", token=reporter["token"]).json["items"]
    assert {i["id"] for i in own} == {idea.json["id"], report.json["id"]}
    assert all("reporter_id" not in i for i in own)

    assert api.post(f"/member-tickets/{report.json['id']}/close", {"response": "پیگیری شد"},
                    token=office["23"]).status == 404
    closed = api.post(f"/member-tickets/{report.json['id']}/close", {"response": "پیگیری شد"}, token=office["9"])
    assert closed.status == 200 and closed.json["status"] == "closed"
    assert api.post(f"/member-tickets/{report.json['id']}/close", {"response": "x"}, token=office["9"]).status == 409
    own = {i["id"]: i for i in api.get("/member-tickets/mine", token=reporter["token"]).json["items"]}
    assert own[report.json["id"]]["response"] == "پیگیری شد"

    # the events name neither the reporter nor the accused
    filed = [e for e in outbox(system, report.json["id"])]
    assert [e["event_type"] for e in filed] == ["MemberTicketFiled", "MemberTicketClosed"]
    assert reporter["id"] not in str(filed) and "آقای الف" not in str(filed) and filed[0]["province"] == "9"


def test_the_event_catalogue_lists_the_desk(api):
    messages = api.get("/api/asyncapi.json").json["components"]["messages"]
    assert {"TicketCreated", "TicketReferred", "TicketResultReady", "TicketResolved", "TicketDelivered",
            "TicketAwaitingVisitor", "TicketResumed", "TicketRated"} <= set(messages)
