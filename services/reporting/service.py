"""Reporting service (گزارش خدمت): members report accepted services, supervisors approve or reject them."""
import functools
import logging
import os

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from kit import pagination
from kit.db import Database, UTCDateTime, new_id, transactional, upsert, utcnow
from kit.errors import EXPECTED, Conflict, Invalid, NotFound
from kit.events import on_event
from kit.persian import parse_datetime, to_jalali
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.reporting import domain, events, schemas
from services.reporting.models import cancellations, first_reports, metadata, reports, reservations

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def _report_not_found():
    return NotFound("report_not_found", "گزارش پیدا نشد.", "The report was not found.")


def _report_query():
    return (select(reports, reservations.c.service_name)
            .join(reservations, reservations.c.reservation_id == reports.c.reservation_id))


def _reservation_cancelled():
    return Conflict("reservation_cancelled", "این رزرو لغو شده است و برای آن گزارشی ثبت نمی‌شود.",
                    "This reservation was cancelled; no report is filed for it.",
                    fields={"reservation": {"fa": "لغو شده است.", "en": "Cancelled."}})


def _report_out(row):
    return dict(row, performed_on_jalali=to_jalali(row["performed_on"]))


# The statements of the story path, built once: a request only binds its values, so SQLAlchemy reuses the compiled
# statement without building it and its cache key again.
# the reservation to report on, and whether it was cancelled
_TO_REPORT = select(reservations, exists().where(cancellations.c.reservation_id == reservations.c.reservation_id)
                    .label("cancelled")).where(reservations.c.reservation_id == bindparam("reservation")) \
    .execution_options(prepare="reporting_to_report")  # planned once per connection on PostgreSQL (kit/db.py)


@functools.lru_cache(maxsize=None)
def _approval(scope):
    """Approve a submitted report within ``scope`` (the names of ``domain.reports_scope``, bound as ``in_<name>``),
    returning it; ``first_for_member`` tells whether no approved report of the member is on record yet."""
    stmt = update(reports).where(reports.c.id == bindparam("report"), reports.c.status == "submitted")
    for key in scope:
        stmt = stmt.where(reports.c[key] == bindparam(f"in_{key}"))
    return stmt.values(status="approved", reviewed_at=bindparam("at", type_=UTCDateTime()), reviewed_by=bindparam("by"),
                       first_for_member=~exists().where(first_reports.c.member_id == reports.c.member_id)
                       ).returning(*reports.c).execution_options(prepare="reporting_approval_" + "_".join(scope))


class ReportingService(ServiceBase):
    name = "reporting"
    db = Database(metadata, MIGRATIONS)

    # -- the member files a report (گزارش خدمت)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def file_report(self, actor, data):
        body = load(schemas.ReportIn(), data)
        session = self.db.session
        res = session.execute(_TO_REPORT, {"reservation": body["reservation"]}).mappings().first()
        if res is None or res["member_id"] != actor["id"]:
            raise NotFound("reservation_not_found",
                           "رزرو پذیرفته‌شده‌ای با این شناسه برای شما پیدا نشد (اگر همین حالا آن را پذیرفته‌اید، چند "
                           "لحظه دیگر دوباره تلاش کنید).",
                           "No accepted reservation of yours has this id (if you just accepted it, try again in a "
                           "moment).", fields={"reservation": {"fa": "پیدا نشد.", "en": "Not found."}})
        if res["cancelled"]:
            raise _reservation_cancelled()
        problem = domain.performed_on_problem(body["performed_on"], res["starts_at"], utcnow())
        if problem:
            raise Invalid("validation_failed", problem[0], problem[1],
                          fields={"performed_on": {"fa": problem[0], "en": problem[1]}})
        rid = new_id()
        try:
            session.execute(insert(reports).values(
                id=rid, reservation_id=res["reservation_id"], member_id=res["member_id"], offer_id=res["offer_id"],
                province=res["province"], county=res["county"], center=res["center"],
                performed_on=body["performed_on"], hours=body["hours"], summary=body["summary"], status="submitted",
                open_reservation=res["reservation_id"], submitted_at=utcnow()))
        except IntegrityError:  # a live report of it exists, or its cancellation was written meanwhile (a trigger)
            self.db.rollback()
            if self._cancelled(res["reservation_id"]):
                raise _reservation_cancelled() from None
            raise Conflict("report_exists", "برای این خدمت پیش‌تر گزارش ثبت شده است.",
                           "A report of this service was already filed.") from None
        self.db.publish(events.ReportSubmitted, {
            "report_id": rid, "member_id": res["member_id"], "reservation_id": res["reservation_id"],
            "offer_id": res["offer_id"], "performed_on": body["performed_on"], "hours": body["hours"]},
            province=res["province"])
        return {"id": rid, "status": "submitted"}

    def _cancelled(self, reservation_id):
        return self.db.session.execute(select(cancellations.c.reservation_id).where(
            cancellations.c.reservation_id == reservation_id)).first() is not None

    # -- lists
    @rpc(expected_exceptions=EXPECTED)
    def list_reports(self, actor, query):
        q = load(schemas.ReportQuery(), query or {})
        stmt = _report_query()
        for key, value in domain.reports_scope(actor).items():
            stmt = stmt.where(reports.c[key] == value)
        if q.get("status"):
            stmt = stmt.where(reports.c.status == q["status"])
        rows, nxt = pagination.page(self.db.session, stmt, reports.c.submitted_at, reports.c.id, q.get("cursor"),
                                    q["limit"])
        self.db.rollback()
        return schemas.ReportList().dump({"items": [_report_out(r) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def my_reports(self, actor, query=None):
        return self.list_reports(dict(actor, role="member"), query)

    @rpc(expected_exceptions=EXPECTED)
    def me_reports(self, actor):
        """The member's last reports for ``GET /me``."""
        if actor.get("role") != "member":
            return []
        rows = self.db.session.execute(_report_query().where(reports.c.member_id == actor["id"])
                                       .order_by(reports.c.submitted_at.desc()).limit(20)).mappings().all()
        self.db.rollback()
        return schemas.ReportOut(many=True).dump([_report_out(r) for r in rows])

    @rpc(expected_exceptions=EXPECTED)
    def get_report(self, actor, report_id):
        row = self.db.session.execute(_report_query().where(reports.c.id == str(report_id))).mappings().first()
        self.db.rollback()
        if row is None or not domain.sees_report(actor, row):
            raise _report_not_found()
        return schemas.ReportOut().dump(_report_out(row))

    # -- the supervisor's review (ناظر)
    def _reviewable(self, actor, report_id):
        stmt = select(reports).where(reports.c.id == str(report_id))
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.db.session.execute(stmt).mappings().first()
        if row is None or not domain.supervises(actor, row):
            raise _report_not_found()
        if row["status"] != "submitted":
            raise Conflict("report_not_submitted", "این گزارش پیش‌تر بررسی شده است.",
                           "This report was already reviewed.", extra={"status": row["status"]})
        return row

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def approve(self, actor, report_id):
        session = self.db.session
        now = utcnow()
        # one statement decides and returns the report; whether it is the member's first approved report is known
        # at once when an earlier one is on record, and otherwise decided by the primary key of first_reports
        scope = domain.reports_scope(actor)
        row = session.execute(_approval(tuple(sorted(scope))), {
            "report": str(report_id), "at": now, "by": actor["id"], **{f"in_{k}": v for k, v in scope.items()},
        }).mappings().first()
        if row is None or not domain.supervises(actor, row):
            self.db.rollback()
            self._reviewable(actor, report_id)  # says why: not found, or reviewed already
            raise _report_not_found()
        first = row["first_for_member"]
        if first:
            first = session.execute_compiled(upsert(self.db.dialect, first_reports), {
                "member_id": row["member_id"], "report_id": row["id"], "approved_at": now}).rowcount == 1
            if not first:  # another report of the member was approved first, meanwhile
                session.execute(update(reports).where(reports.c.id == row["id"]).values(first_for_member=False))
        self.db.publish(events.ReportApproved, {
            "report_id": row["id"], "member_id": row["member_id"], "reservation_id": row["reservation_id"],
            "offer_id": row["offer_id"], "performed_on": row["performed_on"], "hours": row["hours"],
            "first_for_member": first}, province=row["province"])
        return {"id": row["id"], "status": "approved", "first_for_member": first}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def reject(self, actor, report_id, data):
        body = load(schemas.ReasonIn(), data)
        row = self._reviewable(actor, report_id)
        self.db.session.execute(update(reports).where(reports.c.id == row["id"], reports.c.status == "submitted")
                                .values(status="rejected", open_reservation=None, reviewed_at=utcnow(),
                                        reviewed_by=actor["id"], reason=body["reason"]))
        self.db.publish(events.ReportRejected, {"report_id": row["id"], "member_id": row["member_id"],
                                                "reservation_id": row["reservation_id"], "reason": body["reason"]},
                        province=row["province"])
        return {"id": row["id"], "status": "rejected"}

    # -- what reporting learns from reservation (the two events travel in different queues: either may come first)
    @on_event("reservation", "ReservationAccepted")
    def reservation_accepted(self, envelope):
        p = envelope["payload"]
        self.db.session.defer(upsert(self.db.dialect, reservations), {
            "reservation_id": p["reservation_id"], "member_id": p["member_id"], "offer_id": p["offer_id"],
            "province": envelope["province"], "county": p["county"], "center": p["center"],
            "service_name": p.get("service_name"), "starts_at": parse_datetime(p["starts_at"]),
            "ends_at": parse_datetime(p["ends_at"]), "accepted_at": parse_datetime(envelope["occurred_at"])})

    @on_event("reservation", "ReservationCancelled")
    def reservation_cancelled(self, envelope):
        """An accepted reservation was cancelled: no report of it from now on (one still invited was never
        reportable). A report filed before the cancellation was known stays for the supervisor to decide."""
        p = envelope["payload"]
        if p.get("previous_status") != "accepted":
            return
        self.db.session.defer(upsert(self.db.dialect, cancellations), {
            "reservation_id": p["reservation_id"], "member_id": p["member_id"], "reason": p["reason"],
            "cancelled_at": parse_datetime(envelope["occurred_at"])})
