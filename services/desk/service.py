"""Service desk (میز خدمت): procedures, visitors' tickets and the promised date, public tracking, the scorecard,
and members' suggestions and integrity reports."""
import datetime as dt
import logging
import os
import time

from nameko.extensions import DependencyProvider
from nameko.timer import timer
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import String, and_, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from kit import geo, pagination
from kit.db import Database, UTCDateTime, new_id, transactional, utcnow
from kit.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from kit.persian import add_working_days, jalali_month_bounds, to_jalali
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.desk import domain, events, schemas
from services.desk.models import (
    holidays,
    member_tickets,
    metadata,
    procedure_versions,
    procedures,
    tickets,
    tracking_misses,
)

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def clock():
    """Now, as the desk sees it: the one seam a test moves to put the desk on a chosen day."""
    return utcnow()


# -- metrics (the scorecard as Prometheus sees it) -----------------------------------------------------------
_DAY = 86400
TICKETS_RECEIVED = Counter("khademyar_desk_tickets_received_total", "Tickets recorded at the service desk",
                           ["province", "unit"])
TICKETS_RESOLVED_AT_DESK = Counter("khademyar_desk_tickets_resolved_at_desk_total",
                                   "Tickets resolved on the spot at the service desk", ["province", "unit"])
TICKETS_REFERRED = Counter("khademyar_desk_tickets_referred_total", "Tickets referred to a unit",
                           ["province", "unit"])
TICKETS_DELIVERED = Counter("khademyar_desk_tickets_delivered_total",
                            "Tickets closed (resolved at the desk, or delivered after the unit's result), "
                            "by whether they were done by the promised date", ["province", "unit", "timeliness"])
TIME_TO_RESOLVE = Histogram("khademyar_desk_time_to_resolve_seconds",
                            "From the ticket's creation to its resolution at the desk or the unit's result",
                            ["province", "unit"],
                            buckets=(600, 3600, 4 * 3600, _DAY, 2 * _DAY, 3 * _DAY, 5 * _DAY, 7 * _DAY, 10 * _DAY,
                                     15 * _DAY, 21 * _DAY, 30 * _DAY, 60 * _DAY))
RATINGS = Counter("khademyar_desk_ratings_total", "Visitors' ratings of the service", ["province", "unit"])
RATING_POINTS = Counter("khademyar_desk_rating_points_total",
                        "Sum of visitors' ratings (divide by khademyar_desk_ratings_total for the mean)",
                        ["province", "unit"])
TRACKING_MISSES = Counter("khademyar_desk_tracking_misses_total",
                          "Public tracking lookups with an unknown code or a wrong mobile")
TRACKING_LIMITED = Counter("khademyar_desk_tracking_limited_total",
                           "Public tracking lookups refused by the rate limit")
OPEN_TICKETS = Gauge("khademyar_desk_open_tickets", "Tickets not closed yet", ["province", "unit"])
LATE_TICKETS = Gauge("khademyar_desk_late_tickets",
                     "Tickets past their promised date while the office holds them", ["province", "unit"])
STALE_PROCEDURES = Gauge("khademyar_desk_stale_procedures", "Procedures not reviewed for over a year",
                         ["province"])
_gauge_labels = {OPEN_TICKETS: set(), LATE_TICKETS: set(), STALE_PROCEDURES: set()}


class _Pending:
    def __init__(self):
        self.actions = []

    def inc(self, counter, *labels, amount=1):
        self.actions.append(lambda: counter.labels(*labels).inc(amount))

    def observe(self, histogram, value, *labels):
        self.actions.append(lambda: histogram.labels(*labels).observe(value))


class Tally(DependencyProvider):
    """Counts only work that was committed: metrics queued during a call are applied when it succeeded."""

    def setup(self):
        self.pending = {}

    def get_dependency(self, worker_ctx):
        self.pending[worker_ctx] = _Pending()
        return self.pending[worker_ctx]

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        pending = self.pending.pop(worker_ctx, None)
        if pending is not None and exc_info is None:
            for action in pending.actions:
                action()

    def worker_teardown(self, worker_ctx):
        self.pending.pop(worker_ctx, None)


class HolidayCache(DependencyProvider):
    """Official holidays, read on every ticket and loaded once a year: each process keeps a copy.

    A load in this process replaces it once committed; other processes' copies age out within
    ``DESK_HOLIDAYS_CACHE_SECONDS`` (60).
    """

    def setup(self):
        self.ttl = float(self.container.config.get("DESK_HOLIDAYS_CACHE_SECONDS", 60))
        self.copy = None  # (fresh until, frozenset of days)
        self.generation = 0  # moves on each load, so a read that began before it is not kept
        self.loads = set()  # the workers that loaded holidays

    def get_dependency(self, worker_ctx):
        return _Holidays(self, worker_ctx)

    def days(self, read):
        copy = self.copy
        if copy is not None and copy[0] > time.monotonic():
            return copy[1]
        generation = self.generation
        days = frozenset(read())
        if generation == self.generation and self.ttl > 0:
            self.copy = (time.monotonic() + self.ttl, days)
        return days

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if worker_ctx in self.loads:  # after the commit (``@transactional`` has returned)
            self.loads.discard(worker_ctx)
            self.generation += 1
            self.copy = None

    def worker_teardown(self, worker_ctx):
        self.loads.discard(worker_ctx)


class _Holidays:
    def __init__(self, provider, worker_ctx):
        self.provider = provider
        self.worker_ctx = worker_ctx

    def days(self, read):
        return self.provider.days(read)

    def changed(self):
        self.provider.generation += 1
        self.provider.loads.add(self.worker_ctx)


class ProcedureCache(DependencyProvider):
    """Procedures with the version last seen current, per process. A version never changes once written; whether
    it is still the current one is decided by the ticket's INSERT, which takes the current version itself."""

    def setup(self):
        self.entries = {}

    def get_dependency(self, worker_ctx):
        return self

    def get(self, procedure_id):
        return self.entries.get(procedure_id)

    def put(self, procedure_id, version):
        if len(self.entries) > 10000:
            self.entries.clear()
        self.entries[procedure_id] = version
        return version

    def forget(self, procedure_id):
        self.entries.pop(procedure_id, None)


# A ticket takes the procedure's current version in its own INSERT, so it is opened under the version that is
# current when it is written (and the round trip that read it is saved).
TICKET_INSERT = (insert(tickets).values(procedure_version=select(procedures.c.version)
                                        .where(procedures.c.id == bindparam("head"))
                                        .scalar_subquery())
                 .returning(tickets.c.procedure_version))
TICKET_IN = schemas.TicketIn()
TICKET_STATE = schemas.TicketState()


# -- errors ----------------------------------------------------------------------------------------------------
def _procedure_not_found():
    return NotFound("procedure_not_found", "فرآیند پیدا نشد.", "The procedure was not found.")


def _ticket_not_found():
    return NotFound("ticket_not_found", "درخواستی با این کد رهگیری پیدا نشد.", "No ticket has this tracking code.")


def _tracking_miss():
    # the same answer whether the code exists or the mobile is wrong: nothing tells a guesser which
    return NotFound("ticket_not_found", "درخواستی با این کد رهگیری و شماره همراه پیدا نشد.",
                    "No ticket was found with this tracking code and mobile number.")


def _not_your_unit():
    return Forbidden("not_your_unit", "این کار با واحد دیگری است.", "This belongs to another unit.")


def _member_ticket_not_found():
    return NotFound("member_ticket_not_found", "این مورد پیدا نشد.", "The record was not found.")


def _misses_since(key):
    """Failed tracking attempts under ``key`` since ``since`` (a NULL key counts none)."""
    return (select(func.count()).select_from(tracking_misses)
            .where(tracking_misses.c.key == bindparam(key, type_=String(80)),
                   tracking_misses.c.at > bindparam("since", type_=UTCDateTime()))
            .scalar_subquery())


# A visitor's lookup in one prepared statement (was three round trips): always one row, the ticket's columns NULL
# when no ticket has the code
_VISITORS_TICKET = (
    select(_misses_since("code_key").label("code_misses"), _misses_since("client_key").label("client_misses"),
           *tickets.c, procedure_versions.c.title.label("version_title"),
           procedure_versions.c.required_documents.label("version_documents"))
    .select_from(select(literal_column("1").label("one")).subquery("one")
                 .outerjoin(tickets, tickets.c.tracking_code == bindparam("code", type_=String(11)))
                 .outerjoin(procedure_versions, and_(procedure_versions.c.procedure_id == tickets.c.procedure_id,
                                                     procedure_versions.c.version == tickets.c.procedure_version)))
    .execution_options(prepare="desk_visitors_ticket"))


def _field_error(code, fa, en, field, fa_field=None, en_field=None):
    return Invalid(code, fa, en, fields={field: {"fa": fa_field or fa, "en": en_field or en}})


class DeskService(ServiceBase):
    name = "desk"
    db = Database(metadata, MIGRATIONS)
    tally = Tally()
    holiday_cache = HolidayCache()
    procedure_cache = ProcedureCache()

    # -- procedures (فرآیندها) ------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_procedure(self, actor, data):
        body = load(schemas.ProcedureIn(), data)
        province = _own_province(actor, body.pop("province", None))
        unit = _procedure_unit(actor, body.get("unit"))
        now = clock()
        procedure_id = new_id()
        self.db.session.execute(insert(procedures).values(id=procedure_id, province=province, version=1,
                                                          created_at=now, updated_at=now))
        self._add_version(actor, procedure_id, 1, body, unit, province, now)
        return {"id": procedure_id, "version": 1}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def update_procedure(self, actor, procedure_id, data):
        """A new version: tickets opened under an earlier one keep theirs."""
        body = load(schemas.ProcedureIn(), data)
        session = self.db.session
        head = session.execute(select(procedures).where(procedures.c.id == str(procedure_id))).mappings().first()
        if head is None or not domain.sees_province(actor, head["province"]):
            raise _procedure_not_found()
        given = body.pop("province", None)
        if given is not None and given != head["province"]:
            raise _field_error("validation_failed", "استان فرآیند تغییر نمی‌کند.", "A procedure's province is fixed.",
                               "province")
        current = self._version(head["id"], head["version"])
        if actor["role"] == "unit_officer" and current["unit"] != actor.get("unit"):
            raise _not_your_unit()
        unit = _procedure_unit(actor, body.get("unit") or current["unit"])
        now = clock()
        new = head["version"] + 1
        moved = session.execute(update(procedures).where(procedures.c.id == head["id"],
                                                         procedures.c.version == head["version"])
                                .values(version=new, updated_at=now)).rowcount
        if moved != 1:
            raise Conflict("procedure_changed", "این فرآیند هم‌زمان تغییر کرد؛ دوباره تلاش کنید.",
                           "The procedure changed meanwhile; try again.")
        self._add_version(actor, head["id"], new, body, unit, head["province"], now)
        return {"id": head["id"], "version": new}

    def _add_version(self, actor, procedure_id, version, body, unit, province, now):
        today = domain.tehran_date(now)
        reviewed_on = body.get("reviewed_on") or today
        if reviewed_on > today:
            raise _field_error("validation_failed", "تاریخ بازنگری در آینده است.", "The review date is in the future.",
                               "reviewed_on")
        row = {"procedure_id": procedure_id, "version": version, "title": body["title"], "unit": unit,
               "conditions": body["conditions"], "required_documents": body["required_documents"],
               "steps": body["steps"], "standard_days": body["standard_days"], "fee": body["fee"],
               "reviewed_on": reviewed_on, "created_at": now, "created_by": actor["id"]}
        self.db.session.execute(insert(procedure_versions).values(**row))
        self.db.publish(events.ProcedurePublished, {
            "procedure_id": procedure_id, "version": version, "title": row["title"], "unit": unit,
            "standard_days": row["standard_days"], "reviewed_on": reviewed_on}, province=province)

    def _version(self, procedure_id, version):
        return self.db.session.execute(select(procedure_versions).where(
            procedure_versions.c.procedure_id == procedure_id,
            procedure_versions.c.version == version)).mappings().first()

    @staticmethod
    def _current_procedures():
        pv = procedure_versions
        return (select(procedures.c.id, procedures.c.province, procedures.c.created_at, procedures.c.updated_at,
                       pv.c.version, pv.c.title, pv.c.unit, pv.c.conditions, pv.c.required_documents, pv.c.steps,
                       pv.c.standard_days, pv.c.fee, pv.c.reviewed_on)
                .join(pv, (pv.c.procedure_id == procedures.c.id) & (pv.c.version == procedures.c.version)))

    @rpc(expected_exceptions=EXPECTED)
    def list_procedures(self, query):
        """The public catalogue: visitors read it before they come."""
        q = load(schemas.ProcedureQuery(), query or {})
        stmt = self._current_procedures()
        if q.get("province"):
            stmt = stmt.where(procedures.c.province == q["province"])
        if q.get("unit"):
            stmt = stmt.where(procedure_versions.c.unit == q["unit"])
        rows, nxt = pagination.page(self.db.session, stmt, procedures.c.created_at, procedures.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        today = domain.tehran_date(clock())
        return schemas.ProcedureList().dump({"items": [_procedure_out(r, today) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def get_procedure(self, procedure_id, query=None):
        q = load(schemas.ProcedureVersionQuery(), query or {})
        head = self.db.session.execute(select(procedures).where(
            procedures.c.id == str(procedure_id))).mappings().first()
        version = head and self._version(head["id"], q.get("version") or head["version"])
        self.db.rollback()
        if version is None:
            raise _procedure_not_found()
        row = dict(version, id=head["id"], province=head["province"], updated_at=version["created_at"])
        return schemas.ProcedureOut().dump(_procedure_out(row, domain.tehran_date(clock())))

    @rpc(expected_exceptions=EXPECTED)
    def stale_procedures(self, actor, query):
        """Procedures not reviewed for over a year, for the office (and a unit, its own)."""
        q = load(schemas.ProcedureQuery(), query or {})
        today = domain.tehran_date(clock())
        stmt = self._current_procedures().where(procedure_versions.c.reviewed_on < domain.one_year_before(today))
        stmt = _scoped(stmt, actor, procedures.c.province, q.get("province"))
        if actor["role"] == "unit_officer":
            stmt = stmt.where(procedure_versions.c.unit == actor.get("unit"))
        elif q.get("unit"):
            stmt = stmt.where(procedure_versions.c.unit == q["unit"])
        rows, nxt = pagination.page(self.db.session, stmt, procedures.c.created_at, procedures.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        return schemas.ProcedureList().dump({"items": [_procedure_out(r, today) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def procedure_summary(self, procedure_id):
        """What a visitor may expect, from the last year of this procedure's tickets."""
        session = self.db.session
        head = session.execute(select(procedures).where(procedures.c.id == str(procedure_id))).mappings().first()
        if head is None:
            self.db.rollback()
            raise _procedure_not_found()
        current = self._version(head["id"], head["version"])
        today = domain.tehran_date(clock())
        since = domain.one_year_before(today)
        start, _ = domain.tehran_day_bounds(since, today)
        rows = session.execute(select(tickets.c.status, tickets.c.created_at, tickets.c.referred_at,
                                      tickets.c.done_at, tickets.c.due_date, tickets.c.rating).where(
            tickets.c.procedure_id == head["id"], tickets.c.done_at >= start)).mappings().all()
        self.db.rollback()
        summary = domain.public_summary([dict(r) for r in rows])
        summary.update(procedure_id=head["id"], title=current["title"], unit=current["unit"],
                       standard_days=current["standard_days"], since=since)
        return schemas.ProcedureSummary().dump(summary)

    # -- official holidays (تعطیلات رسمی) -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def load_holidays(self, actor, jalali_year, data):
        """Replace one Jalali year's official holidays (promises already given keep their dates)."""
        year = _jalali_year(jalali_year)
        body = load(schemas.HolidaysIn(), data)
        first, after = _jalali_year_bounds(year)
        outside = sorted({d for d in body["dates"] if not first <= d < after})
        if outside:
            raise _field_error("validation_failed", "برخی تاریخ‌ها در این سال نیستند.",
                               "Some dates are not in this year.", "dates",
                               f"خارج از سال {year}: " + "، ".join(to_jalali(d) for d in outside),
                               f"not in {year}: " + ", ".join(d.isoformat() for d in outside))
        days = sorted(set(body["dates"]))
        session = self.db.session
        session.execute(delete(holidays).where(holidays.c.jalali_year == year))
        if days:
            session.execute(insert(holidays), [{"day": d, "jalali_year": year} for d in days])
        self.holiday_cache.changed()
        return _holidays_out(year, days)

    @rpc(expected_exceptions=EXPECTED)
    def get_holidays(self, jalali_year):
        year = _jalali_year(jalali_year)
        days = list(self.db.session.execute(select(holidays.c.day).where(holidays.c.jalali_year == year)
                                            .order_by(holidays.c.day)).scalars())
        self.db.rollback()
        return _holidays_out(year, days)

    def _holidays(self):
        """Every official holiday loaded (a few dozen a year), from this process's copy when it is fresh."""
        return self.holiday_cache.days(
            lambda: self.db.session.execute(select(holidays.c.day)).scalars().all())

    # -- tickets ---------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_ticket(self, actor, data):
        """The desk records a visitor's request; the visitor gets a tracking code and a promised date."""
        body = load(TICKET_IN, data)
        received = body["documents_received"]
        for attempt in range(5):
            version = self._current_version(actor, body["procedure"], cached=attempt == 0)
            if attempt == 0 and domain.unknown_documents(version["required_documents"], received):
                continue  # refused by what this process remembers: ask the database before refusing
            _check_known_documents(version["required_documents"], received, "documents_received")
            missing = domain.missing_documents(version["required_documents"], received)
            now = clock()
            due = domain.promised_date(domain.tehran_date(now), version["standard_days"], self._holidays())
            visitor = body["visitor"]
            row = {
                "id": new_id(), "tracking_code": domain.new_tracking_code(), "province": version["province"],
                "procedure_id": version["id"], "unit": version["unit"], "visitor_name": visitor["full_name"],
                "visitor_national_id": visitor["national_id"], "visitor_mobile": visitor["mobile"],
                "documents_received": received, "description": body["description"],
                "status": domain.AWAITING if missing else domain.OPEN, "due_date": due, "created_at": now,
                "created_by": actor["id"], "waited_days": 0, "awaiting_since": None, "resume_status": None,
                "awaiting_reason": None,
            }
            if missing:  # the clock waits for the visitor to bring them
                row.update(awaiting_since=now, resume_status=domain.OPEN,
                           awaiting_reason="مدارک کسری: " + "، ".join(missing))
            try:
                opened_under = self.db.session.execute(TICKET_INSERT, dict(row, head=row["procedure_id"])).scalar_one()
            except IntegrityError:  # the tracking code was drawn before (one chance in 10¹⁴): draw again
                self.db.rollback()
                continue
            if opened_under != version["version"]:  # a version published since it was cached: its rules apply
                self.db.rollback()
                self.procedure_cache.forget(version["id"])
                continue
            row["procedure_version"] = opened_under
            self.db.publish(events.TicketCreated, dict(_step_payload(row), procedure_version=opened_under,
                                                       missing_documents=missing), province=row["province"])
            self.tally.inc(TICKETS_RECEIVED, row["province"], row["unit"])
            return _state(row, missing)
        raise Conflict("try_again", "ثبت درخواست انجام نشد؛ دوباره تلاش کنید.", "Please try again.")

    def _current_version(self, actor, procedure_id, cached=True):
        """The procedure with its current version as last read by this process (versions never change; which one
        is current is decided again by the ticket's INSERT), or as read now."""
        version = self.procedure_cache.get(procedure_id) if cached else None
        if version is None:
            version = self.db.session.execute(self._current_procedures().where(procedures.c.id == procedure_id)) \
                .mappings().first()
            if version is not None:
                version = self.procedure_cache.put(procedure_id, dict(version))
        if version is None or not domain.sees_province(actor, version["province"]):
            raise NotFound("procedure_not_found", "فرآیند پیدا نشد.", "The procedure was not found.",
                           fields={"procedure": {"fa": "پیدا نشد.", "en": "Not found."}})
        return version

    def _scoped_ticket(self, actor, code, lock=True):
        try:
            code = domain.normalize_tracking_code(code)
        except ValueError:
            raise _ticket_not_found() from None
        stmt = select(tickets).where(tickets.c.tracking_code == code)
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        ticket = self.db.session.execute(stmt).mappings().first()
        if ticket is None or not domain.sees_province(actor, ticket["province"]):
            raise _ticket_not_found()
        return ticket

    def _ticket_for_step(self, actor, code, step, unit_bound=False):
        """The actor's ticket, checked for this step; a unit officer acts only on tickets of their unit."""
        ticket = self._scoped_ticket(actor, code)
        if unit_bound and actor["role"] == "unit_officer" and ticket["unit"] != actor.get("unit"):
            raise _not_your_unit()
        version = self._version(ticket["procedure_id"], ticket["procedure_version"])
        missing = domain.missing_documents(version["required_documents"], ticket["documents_received"])
        refusal = domain.step_refusal(step, ticket["status"], missing)
        if refusal:
            fields = {"documents_received": {"fa": "، ".join(missing), "en": ", ".join(missing)}} \
                if refusal[0] == "documents_missing" else None
            raise Conflict(*refusal, fields=fields)
        return ticket, version

    def _move(self, ticket, **values):
        """The step's change, only if nobody moved the ticket meanwhile."""
        moved = self.db.session.execute(update(tickets).where(tickets.c.id == ticket["id"],
                                                              tickets.c.status == ticket["status"])
                                        .values(**values)).rowcount
        if moved != 1:
            raise Conflict("ticket_changed", "این درخواست هم‌زمان تغییر کرد؛ دوباره تلاش کنید.",
                           "The ticket changed meanwhile; try again.")
        return dict(ticket, **values)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def resolve_ticket(self, actor, code, data=None):
        """Done on the spot at the desk (closed)."""
        body = load(schemas.ResolveIn(), data or {})
        ticket, _ = self._ticket_for_step(actor, code, "resolve")
        now = clock()
        row = self._move(ticket, status=domain.RESOLVED, resolution=body.get("resolution"), done_at=now,
                         delivered_at=now, delivered_by=actor["id"])
        on_time = domain.is_on_time(domain.tehran_date(now), row["due_date"])
        self.db.publish(events.TicketResolved, dict(_step_payload(row), on_time=on_time), province=row["province"])
        self._count_done(row, on_time, closed=True)
        self.tally.inc(TICKETS_RESOLVED_AT_DESK, row["province"], row["unit"])
        return _state(row)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def refer_ticket(self, actor, code, data):
        """Refer to a unit with a promised date: computed from the standard duration, or given and checked."""
        body = load(schemas.ReferIn(), data or {})
        ticket, version = self._ticket_for_step(actor, code, "refer")
        unit = body.get("unit") or ticket["unit"]
        if unit != ticket["unit"] and not self._unit_known(ticket["province"], unit):
            raise _field_error("unknown_unit", "این واحد در فهرست واحدهای دارای فرآیند این استان نیست.",
                               "No procedure of this province belongs to that unit.", "unit")
        now = clock()
        today = domain.tehran_date(now)
        days_off = self._holidays()
        earliest = domain.promised_date(today, version["standard_days"], days_off)
        promised = body.get("promised_date") or earliest
        problem = domain.promise_problem(promised, earliest, days_off)
        if problem:
            raise Invalid(problem[0], problem[1], problem[2],
                          fields={"promised_date": {"fa": problem[1], "en": problem[2]}})
        row = self._move(ticket, status=domain.REFERRED, unit=unit, due_date=promised, referred_at=now,
                         referred_by=actor["id"])
        self.db.publish(events.TicketReferred, _step_payload(row), province=row["province"])
        self.tally.inc(TICKETS_REFERRED, row["province"], unit)
        return _state(row)

    def _unit_known(self, province, unit):
        stmt = self._current_procedures().where(procedures.c.province == province,
                                                procedure_versions.c.unit == unit).limit(1)
        return self.db.session.execute(stmt).first() is not None

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def record_result(self, actor, code, data):
        """The unit returns its result; the desk then tells the visitor to come."""
        body = load(schemas.ResultIn(), data)
        ticket, _ = self._ticket_for_step(actor, code, "result", unit_bound=True)
        now = clock()
        row = self._move(ticket, status=domain.RESULT_READY, outcome=body["outcome"], result_by=actor["id"],
                         done_at=now)
        on_time = domain.is_on_time(domain.tehran_date(now), row["due_date"])
        self.db.publish(events.TicketResultReady, dict(_step_payload(row), on_time=on_time), province=row["province"])
        self._count_done(row, on_time, closed=False)
        return _state(row)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def deliver_ticket(self, actor, code, data=None):
        load(schemas.DeliverIn(), data or {})
        ticket, _ = self._ticket_for_step(actor, code, "deliver")
        row = self._move(ticket, status=domain.DELIVERED, delivered_at=clock(), delivered_by=actor["id"])
        on_time = domain.is_on_time(domain.tehran_date(row["done_at"]), row["due_date"])
        self.db.publish(events.TicketDelivered, dict(_step_payload(row), on_time=on_time), province=row["province"])
        self.tally.inc(TICKETS_DELIVERED, row["province"], row["unit"], "on_time" if on_time else "late")
        return _state(row)

    def _count_done(self, row, on_time, closed):
        self.tally.observe(TIME_TO_RESOLVE, (row["done_at"] - row["created_at"]).total_seconds(),
                           row["province"], row["unit"])
        if closed:
            self.tally.inc(TICKETS_DELIVERED, row["province"], row["unit"], "on_time" if on_time else "late")

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def await_visitor(self, actor, code, data):
        """Stop the clock: the ticket waits for the visitor (e.g. a missing document)."""
        body = load(schemas.AwaitVisitorIn(), data)
        ticket, version = self._ticket_for_step(actor, code, "await_visitor", unit_bound=True)
        row = self._move(ticket, status=domain.AWAITING, awaiting_since=clock(), awaiting_reason=body["reason"],
                         resume_status=ticket["status"])
        missing = domain.missing_documents(version["required_documents"], row["documents_received"])
        self.db.publish(events.TicketAwaitingVisitor, dict(_step_payload(row), reason=body["reason"],
                                                           missing_documents=missing), province=row["province"])
        return _state(row, missing)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def resume_ticket(self, actor, code, data=None):
        """The visitor is back: the clock runs again and the promise moves by the working days spent waiting."""
        body = load(schemas.ResumeIn(), data or {})
        ticket, version = self._ticket_for_step(actor, code, "resume", unit_bound=True)
        brought = body.get("documents_received") or []
        _check_known_documents(version["required_documents"], brought, "documents_received")
        received = ticket["documents_received"] + [d for d in brought if d not in ticket["documents_received"]]
        missing = domain.missing_documents(version["required_documents"], received)
        if missing:
            fa, en = domain.documents_refusal(missing)[1:]
            raise Conflict("documents_missing", fa, en,
                           fields={"documents_received": {"fa": "، ".join(missing), "en": ", ".join(missing)}})
        today = domain.tehran_date(clock())
        since = domain.tehran_date(ticket["awaiting_since"])
        days_off = self._holidays()
        waited = domain.working_days_between(since, today, days_off)
        due = add_working_days(ticket["due_date"], waited, days_off) if waited else ticket["due_date"]
        row = self._move(ticket, status=ticket["resume_status"], due_date=due,
                         waited_days=ticket["waited_days"] + waited, documents_received=received,
                         awaiting_since=None, resume_status=None)
        self.db.publish(events.TicketResumed, dict(_step_payload(row), waited_working_days=waited),
                        province=row["province"])
        return _state(row, [])

    @rpc(expected_exceptions=EXPECTED)
    def list_tickets(self, actor, query):
        """The staff's queue: the desk sees its province, a unit officer the tickets of their unit."""
        q = load(schemas.TicketQuery(), query or {})
        stmt = _scoped(_ticket_select(), actor, tickets.c.province, q.get("province"))
        if actor["role"] == "unit_officer":
            stmt = stmt.where(tickets.c.unit == actor.get("unit"))
        elif q.get("unit"):
            stmt = stmt.where(tickets.c.unit == q["unit"])
        if q.get("status"):
            stmt = stmt.where(tickets.c.status == q["status"])
        if q.get("procedure"):
            stmt = stmt.where(tickets.c.procedure_id == q["procedure"])
        return self._ticket_page(stmt, q)

    @rpc(expected_exceptions=EXPECTED)
    def late_tickets(self, actor, query):
        """Tickets past their promised date while the office holds them (the clock was running)."""
        q = load(schemas.LateQuery(), query or {})
        today = domain.tehran_date(clock())
        stmt = _scoped(_ticket_select(), actor, tickets.c.province, q.get("province")).where(
            tickets.c.status.in_(domain.CLOCK_RUNNING), tickets.c.due_date < today)
        if q.get("unit"):
            stmt = stmt.where(tickets.c.unit == q["unit"])
        return self._ticket_page(stmt, q)

    def _ticket_page(self, stmt, q):
        rows, nxt = pagination.page(self.db.session, stmt, tickets.c.created_at, tickets.c.id, q.get("cursor"),
                                    q["limit"])
        self.db.rollback()
        today = domain.tehran_date(clock())
        return schemas.TicketList().dump({"items": [_ticket_out(r, today) for r in rows], "next": nxt})

    # -- the visitor's side, without an account ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional(replay=False)  # safe to run twice; its answer is not worth keeping
    def track(self, code, query, client=None):
        """Status, promised date (Jalali) and next step, only with the visitor's mobile."""
        q = load(schemas.TrackQuery(), query or {})
        ticket, version = self._visitors_ticket(code, q["mobile"], client)
        status = ticket["status"]
        label, _ = domain.STATUS_LABELS[status]
        step_fa, step_en = domain.NEXT_STEPS[status]
        missing = domain.missing_documents(version["required_documents"], ticket["documents_received"]) \
            if status == domain.AWAITING else []
        return schemas.TrackOut().dump({
            "tracking_code": ticket["tracking_code"], "status": status, "status_label": label,
            "procedure_title": version["title"], "due_date": ticket["due_date"],
            "due_date_jalali": to_jalali(ticket["due_date"]), "next_step": step_fa, "next_step_en": step_en,
            "missing_documents": missing, "created_at_jalali": to_jalali(ticket["created_at"]),
            "can_rate": domain.may_rate(status) and ticket["rating"] is None, "rating": ticket["rating"]})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def rate(self, code, data, client=None):
        """After delivery the visitor rates the service once (1 to 5)."""
        body = load(schemas.RatingIn(), data)
        ticket, _ = self._visitors_ticket(code, body["mobile"], client)
        if not domain.may_rate(ticket["status"]):
            raise Conflict("not_delivered", "پیش از انجام و تحویل کار نمی‌توان امتیاز داد.",
                           "The service can be rated only after delivery.")
        if ticket["rating"] is not None:
            raise Conflict("already_rated", "به این خدمت پیش‌تر امتیاز داده‌اید.", "This service was already rated.")
        rated = self.db.session.execute(update(tickets).where(
            tickets.c.id == ticket["id"], tickets.c.rating.is_(None), tickets.c.status.in_(domain.CLOSED))
            .values(rating=body["score"], rating_comment=body.get("comment"), rated_at=clock())).rowcount
        if rated != 1:
            raise Conflict("already_rated", "به این خدمت پیش‌تر امتیاز داده‌اید.", "This service was already rated.")
        self.db.publish(events.TicketRated, {"ticket_id": ticket["id"], "procedure_id": ticket["procedure_id"],
                                             "unit": ticket["unit"], "score": body["score"]},
                        province=ticket["province"])
        self.tally.inc(RATINGS, ticket["province"], ticket["unit"])
        self.tally.inc(RATING_POINTS, ticket["province"], ticket["unit"], amount=body["score"])
        return {"tracking_code": ticket["tracking_code"], "rating": body["score"]}

    def _visitors_ticket(self, raw_code, mobile, client):
        """The ticket of this code and mobile; misses are counted per client and per code, and limited."""
        try:
            code = domain.normalize_tracking_code(raw_code)
        except ValueError:  # the check character caught a typo: no lookup needed, nothing learnt
            raise _field_error("invalid_tracking_code",
                               "کد رهگیری درست وارد نشده است؛ آن را دوباره بررسی کنید.",
                               "The tracking code is mistyped; please check it.", "tracking_code") from None
        session = self.db.session
        now = clock()
        keys = {"code": f"code:{code}", "client": f"client:{client}"[:80] if client else None}
        wanted = [k for k in keys.values() if k]
        # one statement, a transaction by itself: the misses of this code and of this client, the ticket and its
        # procedure's version (a rating's UPDATE checks again what it relies on)
        [row] = session.read_alone(_VISITORS_TICKET, {"code": code, "code_key": keys["code"],
                                                      "client_key": keys["client"], "since": now - domain.TRACK_WINDOW})
        if row["code_misses"] >= domain.TRACK_LIMIT_PER_CODE or \
                (keys["client"] and row["client_misses"] >= domain.TRACK_LIMIT_PER_CLIENT):
            TRACKING_LIMITED.inc()
            raise TooManyRequests("too_many_tracking_attempts",
                                  "تلاش‌های ناموفق پیگیری بیش از حد مجاز است؛ ۱۵ دقیقه دیگر دوباره تلاش کنید.",
                                  "Too many failed tracking attempts; try again in 15 minutes.",
                                  extra={"retry_after": int(domain.TRACK_WINDOW.total_seconds())})
        if row["id"] is None or row["visitor_mobile"] != mobile:
            session.execute(insert(tracking_misses), [{"id": new_id(), "key": k, "at": now} for k in wanted])
            self.db.commit()
            TRACKING_MISSES.inc()
            raise _tracking_miss()
        return {c: row[c] for c in tickets.c.keys()}, {"title": row["version_title"],
                                                      "required_documents": row["version_documents"]}

    # -- the scorecard (شاخص ارزیابی) -----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def stats(self, actor, query):
        """By Jalali month of creation, unit and procedure: received, resolved at the desk, referred, delivered
        on time or late, median and p90 days to resolve, satisfaction."""
        q = load(schemas.StatsQuery(), query or {})
        today = domain.tehran_date(clock())
        last = q.get("to") or today
        first = q.get("from_") or _jalali_year_bounds(int(to_jalali(last)[:4]))[0]
        start, end = domain.tehran_day_bounds(first, last)
        pv = procedure_versions
        stmt = (select(tickets.c.procedure_id, tickets.c.unit, tickets.c.status, tickets.c.created_at,
                       tickets.c.referred_at, tickets.c.done_at, tickets.c.due_date, tickets.c.rating,
                       pv.c.title.label("procedure_title"))
                .join(pv, (pv.c.procedure_id == tickets.c.procedure_id) & (pv.c.version == tickets.c.procedure_version))
                .where(tickets.c.created_at >= start, tickets.c.created_at < end))
        stmt = _scoped(stmt, actor, tickets.c.province, q.get("province"))
        if q.get("unit"):
            stmt = stmt.where(tickets.c.unit == q["unit"])
        if q.get("procedure"):
            stmt = stmt.where(tickets.c.procedure_id == q["procedure"])
        rows = [dict(r) for r in self.db.session.execute(stmt).mappings()]
        self.db.rollback()
        return schemas.Stats().dump({
            "from_": first, "to": last, "from_jalali": to_jalali(first), "to_jalali": to_jalali(last),
            "items": domain.scorecard_by_month(rows), "total": domain.scorecard(rows)})

    @timer(interval=60)
    def measure(self):
        """Gauges of open and late tickets and stale procedures; old tracking misses are dropped."""
        session = self.db.session
        now = clock()
        today = domain.tehran_date(now)
        open_counts = _group_counts(session, select(tickets.c.province, tickets.c.unit, func.count()).where(
            tickets.c.status.notin_(domain.CLOSED)).group_by(tickets.c.province, tickets.c.unit))
        late_counts = _group_counts(session, select(tickets.c.province, tickets.c.unit, func.count()).where(
            tickets.c.status.in_(domain.CLOCK_RUNNING), tickets.c.due_date < today)
            .group_by(tickets.c.province, tickets.c.unit))
        pv = procedure_versions
        stale_counts = _group_counts(session, select(procedures.c.province, func.count()).join(
            pv, (pv.c.procedure_id == procedures.c.id) & (pv.c.version == procedures.c.version))
            .where(pv.c.reviewed_on < domain.one_year_before(today)).group_by(procedures.c.province))
        session.execute(delete(tracking_misses).where(tracking_misses.c.at < now - dt.timedelta(days=1)))
        self.db.commit()
        _set_gauge(OPEN_TICKETS, open_counts)
        _set_gauge(LATE_TICKETS, late_counts)
        _set_gauge(STALE_PROCEDURES, stale_counts)
        return {"open": _flat(open_counts), "late": _flat(late_counts), "stale": _flat(stale_counts)}

    # -- members' tickets: suggestions and integrity reports ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def submit_suggestion(self, actor, data):
        """A suggestion or innovation (پیشنهادات و ابتکارات), routed to the member's provincial office."""
        body = load(schemas.SuggestionIn(), data)
        return self._file_member_ticket(actor, "suggestion", title=body["title"], body=body["body"])

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def report_integrity(self, actor, data):
        """Someone asked a member for money: seen only by the provincial office, never with the reporter shown
        to anyone else."""
        body = load(schemas.IntegrityReportIn(), data)
        return self._file_member_ticket(actor, "integrity_report", title=body.get("title"), body=body["body"],
                                        accused=body.get("accused"))

    def _file_member_ticket(self, actor, kind, **content):
        if not actor.get("province"):
            raise Forbidden("no_province", "حساب شما به استانی تعلق ندارد.", "Your account belongs to no province.")
        row = dict(content, id=new_id(), tracking_code=domain.new_tracking_code(), kind=kind,
                   province=actor["province"], member_id=actor["id"], status="open", created_at=clock())
        self.db.session.execute(insert(member_tickets).values(**row))
        self.db.publish(events.MemberTicketFiled, {"ticket_id": row["id"], "kind": kind}, province=row["province"])
        return {"id": row["id"], "tracking_code": row["tracking_code"]}

    @rpc(expected_exceptions=EXPECTED)
    def list_member_tickets(self, actor, query):
        """The provincial office's list, with the reporter (shown only here)."""
        q = load(schemas.MemberTicketQuery(), query or {})
        stmt = _scoped(select(member_tickets), actor, member_tickets.c.province, q.get("province"))
        if q.get("kind"):
            stmt = stmt.where(member_tickets.c.kind == q["kind"])
        if q.get("status"):
            stmt = stmt.where(member_tickets.c.status == q["status"])
        rows, nxt = pagination.page(self.db.session, stmt, member_tickets.c.created_at, member_tickets.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        items = [dict(r, reporter_id=r["member_id"], created_at_jalali=to_jalali(r["created_at"])) for r in rows]
        return schemas.MemberTicketList().dump({"items": items, "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def my_member_tickets(self, actor, query):
        """What a member filed, and the office's response; never anyone else's."""
        q = load(schemas.MemberTicketQuery(), query or {})
        stmt = select(member_tickets).where(member_tickets.c.member_id == actor["id"])
        if q.get("kind"):
            stmt = stmt.where(member_tickets.c.kind == q["kind"])
        rows, nxt = pagination.page(self.db.session, stmt, member_tickets.c.created_at, member_tickets.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        items = [dict(r, created_at_jalali=to_jalali(r["created_at"])) for r in rows]
        return schemas.OwnMemberTicketList().dump({"items": items, "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def close_member_ticket(self, actor, ticket_id, data):
        body = load(schemas.CloseMemberTicketIn(), data)
        session = self.db.session
        row = session.execute(select(member_tickets).where(
            member_tickets.c.id == str(ticket_id))).mappings().first()
        if row is None or not domain.sees_province(actor, row["province"]):
            raise _member_ticket_not_found()
        closed = session.execute(update(member_tickets).where(member_tickets.c.id == row["id"],
                                                              member_tickets.c.status == "open")
                                 .values(status="closed", closed_at=clock(), closed_by=actor["id"],
                                         response=body["response"])).rowcount
        if closed != 1:
            raise Conflict("already_closed", "این مورد پیش‌تر بسته شده است.", "This was already closed.")
        self.db.publish(events.MemberTicketClosed, {"ticket_id": row["id"], "kind": row["kind"]},
                        province=row["province"])
        return {"id": row["id"], "status": "closed"}


# -- helpers -----------------------------------------------------------------------------------------------------
def _own_province(actor, given):
    """Procedures belong to the publishing office's province; only the admin names another."""
    if actor["role"] == "admin":
        province = given or actor.get("province")
        if not province:
            raise _field_error("validation_failed", "استان را مشخص کنید.", "Name the province.", "province")
        if province not in geo.provinces():
            raise _field_error("validation_failed", "استان شناخته نیست.", "Unknown province.", "province")
        return province
    if given is not None and given != actor.get("province"):
        raise _field_error("validation_failed", "فقط برای استان خودتان می‌توانید فرآیند ثبت کنید.",
                           "You may publish procedures only for your own province.", "province")
    return actor["province"]


def _procedure_unit(actor, unit):
    """A unit officer documents the procedures of their own unit (واحد)."""
    if actor["role"] == "unit_officer":
        if unit and unit != actor.get("unit"):
            raise _not_your_unit()
        return actor.get("unit")
    if not unit:
        raise _field_error("validation_failed", "واحد مسئول را مشخص کنید.", "Name the responsible unit.", "unit")
    return unit


def _scoped(stmt, actor, province_col, wanted=None):
    """The actor's province only; the admin sees every province, or the one asked for."""
    if actor["role"] == "admin":
        return stmt.where(province_col == wanted) if wanted else stmt
    return stmt.where(province_col == actor.get("province"))


def _check_known_documents(required, received, field):
    unknown = domain.unknown_documents(required, received)
    if unknown:
        raise Invalid("unknown_documents", "برخی مدارک در فهرست مدارک این فرآیند نیستند.",
                      "Some documents are not on this procedure's list.",
                      fields={field: {"fa": "در فهرست نیست: " + "، ".join(unknown) + ". مدارک لازم: "
                                      + "، ".join(required),
                                      "en": "not on the list: " + ", ".join(unknown) + ". Required: "
                                      + ", ".join(required)}})


def _jalali_year(raw):
    try:
        year = int(str(raw))
    except ValueError:
        year = 0
    if not 1300 <= year <= 1600:
        raise _field_error("validation_failed", "سال خورشیدی نادرست است.", "Not a valid Jalali year.", "jalali_year")
    return year


def _jalali_year_bounds(year):
    return jalali_month_bounds(f"{year}-01")[0], jalali_month_bounds(f"{year}-12")[1]


def _holidays_out(year, days):
    return schemas.HolidaysOut().dump({"jalali_year": year, "dates": days,
                                       "dates_jalali": [to_jalali(d) for d in days]})


def _procedure_out(row, today):
    out = dict(row)
    out["reviewed_on_jalali"] = to_jalali(row["reviewed_on"])
    out["stale"] = domain.is_stale(row["reviewed_on"], today)
    out["days_since_review"] = (today - row["reviewed_on"]).days
    return out


def _ticket_select():
    pv = procedure_versions
    return (select(tickets, pv.c.title.label("procedure_title"), pv.c.required_documents)
            .join(pv, (pv.c.procedure_id == tickets.c.procedure_id) & (pv.c.version == tickets.c.procedure_version)))


def _ticket_out(row, today):
    out = dict(row)
    out["visitor"] = {"full_name": row["visitor_name"], "national_id": row["visitor_national_id"],
                      "mobile": row["visitor_mobile"]}
    out["missing_documents"] = domain.missing_documents(row["required_documents"], row["documents_received"])
    out["due_date_jalali"] = to_jalali(row["due_date"])
    out["created_at_jalali"] = to_jalali(row["created_at"])
    late = row["status"] in domain.CLOCK_RUNNING and row["due_date"] < today
    out["late"] = late
    out["days_late"] = (today - row["due_date"]).days if late else 0
    return out


def _state(row, missing=None):
    return TICKET_STATE.dump({
        "id": row["id"], "tracking_code": row["tracking_code"],
        "tracking_code_display": domain.format_tracking_code(row["tracking_code"]), "status": row["status"],
        "unit": row["unit"], "due_date": row["due_date"], "due_date_jalali": to_jalali(row["due_date"]),
        "missing_documents": missing or []})


def _step_payload(row):
    return {"ticket_id": row["id"], "tracking_code": row["tracking_code"], "procedure_id": row["procedure_id"],
            "unit": row["unit"], "status": row["status"], "mobile": row["visitor_mobile"],
            "due_date": row["due_date"], "due_date_jalali": to_jalali(row["due_date"])}


def _group_counts(session, stmt):
    return {tuple(r[:-1]): r[-1] for r in session.execute(stmt).all()}


def _set_gauge(gauge, counts):
    """Set each label set counted now, and zero those counted before that are gone."""
    seen = _gauge_labels[gauge]
    for labels in seen - set(counts):
        gauge.labels(*labels).set(0)
    for labels, n in counts.items():
        gauge.labels(*labels).set(n)
    seen |= set(counts)


def _flat(counts):
    return {"|".join(k): v for k, v in counts.items()}
