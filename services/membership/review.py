"""Staying active (issue 6): weekly training, six-monthly meetings, and the review of members (بازنگری).

A mixin of ``MembershipService``: its RPCs, the events it consumes from the other services, and the sweep.

- Training: one lesson per Jalali week (unique ``lessons.week``), read once per member (``lesson_reads``' key).
- The review engine opens one case per member (a partial unique index on open cases) and adds every ground that
  applies, each with its evidence: one row per (case, reason, evidence key) and per (member, reason, evidence
  key), so a redelivered event, a second sweep or a second replica adds nothing, and evidence already judged in a
  closed case never opens a new one.  Grounds come from events (a rejected report, shrine absences), from the
  provincial office (a breach, discontinuity) and from the sweep (no service chosen, a report not filed in time,
  missed lessons, no meeting in six months), which runs on a timer every ``REVIEW_SWEEP_SECONDS``.
- Time is ``clock()``: tests move it (monkeypatch ``services.membership.review.clock``) instead of sleeping.
"""
import datetime as dt
import logging

from nameko.dependency_providers import Config
from nameko.timer import Timer as NamekoTimer
from prometheus_client import Gauge
from sqlalchemy import distinct, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kit import pagination
from kit.db import as_utc, new_id, transactional, upsert, utcnow
from kit.errors import EXPECTED, Conflict, Forbidden, NotFound
from kit.events import on_event
from kit.persian import TEHRAN, parse_datetime, to_jalali
from kit.rpc import rpc
from kit.schema import load
from services.membership import domain, events, schemas
from services.membership.models import (
    accounts,
    due_reports,
    lesson_reads,
    lessons,
    meeting_attendance,
    member_offers,
    office_records,
    review_reasons,
    reviews,
    status_changes,
)

log = logging.getLogger(__name__)
SWEEP_PAGE = 1000  # active members looked at per page of the review sweep


def clock():
    """Now, as membership's time rules see it: the one seam a test moves to put the service on another day."""
    return utcnow()


OPEN_CASES = Gauge("khademyar_review_open_cases",
                   "Open review cases (بازنگری) by reason; a case with several reasons counts under each",
                   ["reason"])
MEMBERS = Gauge("khademyar_members", "Members by the state of their account", ["state"])

STATUS_EVENTS = {"MemberSuspended": events.MemberSuspended, "MemberDeactivated": events.MemberDeactivated,
                 "MemberReinstated": events.MemberReinstated}


class Timer(NamekoTimer):
    """nameko's timer, with its interval read from the configuration (``setting``) when the service starts."""

    def __init__(self, setting, default, **kwargs):
        self.setting = setting
        self.default = default
        super().__init__(default, **kwargs)

    def setup(self):
        value = self.container.config.get(self.setting)
        self.interval = float(self.default if value in (None, "") else value)
        super().setup()


configured_timer = Timer.decorator


def _key(value):
    """An id from a path: ours are 32 hex characters; anything else matches nothing (and never reaches the driver)."""
    value = str(value)
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else "-"


def _moment(envelope):
    try:
        return parse_datetime(envelope.get("occurred_at")) if envelope.get("occurred_at") else utcnow()
    except ValueError:
        return utcnow()


def _member_not_found():
    return NotFound("member_not_found", "خادمیار پیدا نشد.", "The member was not found.")


def _review_not_found():
    return NotFound("review_not_found", "پرونده بازنگری پیدا نشد.", "The review case was not found.")


def _lesson_not_found():
    return NotFound("lesson_not_found", "مطلب آموزشی پیدا نشد.", "The lesson was not found.")


def _deactivated():
    return Conflict("member_deactivated", "عضویت این خادمیار غیرفعال شده است.", "This member has been deactivated.")


def _lesson_out(row, read=None):
    out = dict(row, week_jalali=to_jalali(row["week"]))
    if read is not None:
        out.update(read=bool(read), read_at=read["read_at"] if read else None)
    return out


def _reason_out(row):
    ev = row["evidence"] or {}
    return dict(domain.reason_title(row["code"]), evidence_key=row["evidence_key"], evidence=ev.get("fa", ""),
                evidence_en=ev.get("en", ""), data=ev.get("data") or {}, source=row["source"],
                recorded_at=row["recorded_at"])


def _review_query():
    return (select(reviews, accounts.c.national_id, accounts.c.first_name, accounts.c.last_name,
                   accounts.c.county, accounts.c.status.label("member_status"))
            .join(accounts, accounts.c.id == reviews.c.member_id))


class StayingActive:
    """Training, meetings and the review: mixed into ``MembershipService``."""

    config = Config()

    def _setting(self, name):
        value = self.config.get(name)
        return domain.SETTINGS[name] if value in (None, "") else int(float(value))

    # ------------------------------------------------------------------------------------------------------
    # members, as the review sees them
    # ------------------------------------------------------------------------------------------------------
    def _member_row(self, member_id, lock=False):
        stmt = select(accounts).where(accounts.c.id == str(member_id), accounts.c.role == "member")
        if lock and self.db.dialect == "postgresql":  # NO KEY UPDATE: foreign-key checks of new rows still pass
            stmt = stmt.with_for_update(key_share=True)
        row = self.db.session.execute(stmt).mappings().first()
        return dict(row) if row else None

    def _scoped_member(self, actor, member_id, lock=False):
        member = self._member_row(_key(member_id), lock=lock)
        if member is None or not domain.sees_province(actor, member["province"]):
            raise _member_not_found()
        return member

    def _grace(self, member):
        """Where the member's review clocks start: activation, or the last decision that kept or reinstated them."""
        session = self.db.session
        closed = session.execute(select(func.max(reviews.c.closed_at)).where(
            reviews.c.member_id == member["id"], reviews.c.status == "closed")).scalar()
        reinstated = session.execute(select(func.max(status_changes.c.changed_at)).where(
            status_changes.c.member_id == member["id"], status_changes.c.status == "active")).scalar()
        return domain.grace_from(member["created_at"], closed, reinstated)

    # ------------------------------------------------------------------------------------------------------
    # training (آموزش هفتگی)
    # ------------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def publish_lesson(self, actor, data):
        body = load(schemas.LessonIn(), data)
        week = domain.lesson_week(body.get("week") or clock())
        now = utcnow()
        row = {"id": new_id(), "week": week, "title": body["title"], "body": body["body"], "link": body.get("link"),
               "published_by": actor["id"], "created_at": now}
        try:
            self.db.session.execute(insert(lessons).values(**row))
            self.db.session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("lesson_exists", f"برای هفته {to_jalali(week)} پیش‌تر مطلب آموزشی منتشر شده است.",
                           f"A lesson is already published for the week of {week.isoformat()}.",
                           fields={"week": {"fa": "این هفته مطلب دارد.", "en": "This week has its lesson."}},
                           extra={"week": week.isoformat()}) from None
        self.db.publish(events.LessonPublished, {"lesson_id": row["id"], "week": week, "week_jalali": to_jalali(week),
                                                 "title": row["title"]})
        return schemas.LessonOut().dump(_lesson_out(row))

    def _read_of(self, lesson_id, member_id):
        row = self.db.session.execute(select(lesson_reads).where(lesson_reads.c.lesson_id == lesson_id,
                                                                 lesson_reads.c.member_id == member_id)
                                      ).mappings().first()
        return dict(row) if row else None

    @rpc(expected_exceptions=EXPECTED)
    def current_lesson(self, actor):
        week = domain.lesson_week(clock())
        row = self.db.session.execute(select(lessons).where(lessons.c.week == week)).mappings().first()
        read = self._read_of(row["id"], actor["id"]) if row and actor["role"] == "member" else None
        self.db.rollback()
        if row is None:
            raise NotFound("no_lesson_this_week", "مطلب آموزشی این هفته هنوز منتشر نشده است.",
                           "This week's lesson is not published yet.", extra={"week": week.isoformat()})
        return schemas.LessonOut().dump(_lesson_out(row, (read or False) if actor["role"] == "member" else None))

    @rpc(expected_exceptions=EXPECTED)
    def list_lessons(self, actor, query):
        q = load(schemas.LessonQuery(), query or {})
        stmt = select(lessons)
        if actor["role"] not in ("admin", "province_office"):  # members see a lesson from its week on
            stmt = stmt.where(lessons.c.week <= domain.lesson_week(clock()))
        rows, nxt = pagination.page(self.db.session, stmt, lessons.c.created_at, lessons.c.id, q.get("cursor"),
                                    q["limit"])
        reads = {}
        if actor["role"] == "member" and rows:
            reads = {r["lesson_id"]: dict(r) for r in self.db.session.execute(select(lesson_reads).where(
                lesson_reads.c.member_id == actor["id"],
                lesson_reads.c.lesson_id.in_([r["id"] for r in rows]))).mappings()}
        self.db.rollback()
        items = [_lesson_out(r, reads.get(r["id"], False)) if actor["role"] == "member" else _lesson_out(r)
                 for r in rows]
        return schemas.LessonList().dump({"items": items, "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def read_lesson(self, actor, lesson_id):
        """The member read a lesson: recorded once (a second call answers the first record)."""
        session = self.db.session
        now = clock()
        lesson = session.execute(select(lessons).where(lessons.c.id == _key(lesson_id))).mappings().first()
        if lesson is None or lesson["week"] > domain.lesson_week(now):
            raise _lesson_not_found()
        if self._member_row(actor["id"]) is None:
            raise Forbidden("members_only", "فقط خادمیاران مطلب آموزشی را مطالعه‌شده ثبت می‌کنند.",
                            "Only members record reading a lesson.")
        session.execute_compiled(upsert(self.db.dialect, lesson_reads), {
            "lesson_id": lesson["id"], "member_id": actor["id"], "week": lesson["week"], "read_at": now,
            "on_time": domain.read_on_time(lesson["week"], now)})
        read = self._read_of(lesson["id"], actor["id"])
        return schemas.LessonReadOut().dump(dict(read, week_jalali=to_jalali(read["week"])))

    def _training_record(self, member, limit):
        session = self.db.session
        now = clock()
        today = now.astimezone(TEHRAN).date()
        grace = self._grace(member)
        first_week = domain.lesson_week(member["created_at"])
        rows = session.execute(select(lessons.c.id, lessons.c.week, lessons.c.title).where(
            lessons.c.week >= first_week, lessons.c.week <= domain.lesson_week(now))
            .order_by(lessons.c.week.desc())).mappings().all()
        reads = {r["lesson_id"]: dict(r) for r in session.execute(select(lesson_reads).where(
            lesson_reads.c.member_id == member["id"], lesson_reads.c.week >= first_week)).mappings()}
        on_time = [reads[r["id"]]["week"] for r in rows if r["id"] in reads and reads[r["id"]]["on_time"]]
        missed = set(domain.missed_weeks([r["week"] for r in rows], on_time, grace, today))
        items = []
        for r in rows[:limit]:
            read = reads.get(r["id"])
            items.append({"week": r["week"], "week_jalali": to_jalali(r["week"]), "lesson_id": r["id"],
                          "title": r["title"], "read": read is not None, "read_at": read["read_at"] if read else None,
                          "on_time": bool(read and read["on_time"]), "missed": r["week"] in missed})
        return {"member_id": member["id"], "items": items, "next": None, "missed_weeks": len(missed),
                "tolerance": self._setting("TRAINING_MISSED_WEEKS")}

    @rpc(expected_exceptions=EXPECTED)
    def training_record(self, actor, member_id=None, query=None):
        """A member's reading record per week (their own, or, for the office, one of its province's members)."""
        q = load(schemas.TrainingQuery(), query or {})
        if member_id is None:
            member = self._member_row(actor["id"])
            if member is None:
                raise _member_not_found()
        else:
            member = self._scoped_member(actor, member_id)
        out = self._training_record(member, q["limit"])
        self.db.rollback()
        return schemas.TrainingRecord().dump(out)

    # ------------------------------------------------------------------------------------------------------
    # where a member stands: GET /me's "standing", and the office's view of one member
    # ------------------------------------------------------------------------------------------------------
    def _standing(self, member):
        session = self.db.session
        now = clock()
        week = domain.lesson_week(now)
        grace = self._grace(member)
        lesson = session.execute(select(lessons).where(lessons.c.week == week)).mappings().first()
        read = self._read_of(lesson["id"], member["id"]) if lesson else None
        record = self._training_record(member, 0)
        last = session.execute(select(func.max(meeting_attendance.c.attended_at)).where(
            meeting_attendance.c.member_id == member["id"])).scalar()
        due = domain.meeting_due(grace, last)
        case = session.execute(_review_query().where(reviews.c.member_id == member["id"],
                                                     reviews.c.status == "open")).mappings().first()
        review = self._reviews_out([case])[0] if case else None
        return {
            "member_id": member["id"], "status": member["status"],
            "training": {"week": week, "week_jalali": to_jalali(week),
                         "lesson": _lesson_out(lesson, read or False) if lesson else None, "read": read is not None,
                         "missed_weeks": record["missed_weeks"], "tolerance": record["tolerance"]},
            "meetings": {"last_at": last, "last_jalali": to_jalali(last) if last else None, "next_due": due,
                         "next_due_jalali": to_jalali(due), "overdue": now > due},
            "review": review,
        }

    @rpc(expected_exceptions=EXPECTED)
    def me_standing(self, actor):
        """For ``GET /me``: this week's lesson, meetings, and an open review with its reasons (members only)."""
        if actor.get("role") != "member":
            return None
        member = self._member_row(actor["id"])
        if member is None:
            self.db.rollback()
            return None
        out = self._standing(member)
        self.db.rollback()
        return schemas.Standing().dump(out)

    @rpc(expected_exceptions=EXPECTED)
    def member_standing(self, actor, member_id):
        member = self._scoped_member(actor, member_id)
        out = self._standing(member)
        self.db.rollback()
        return schemas.Standing().dump(out)

    # ------------------------------------------------------------------------------------------------------
    # the review engine: one open case per member, every reason with its evidence
    # ------------------------------------------------------------------------------------------------------
    def _open_case(self, member, now):
        """The member's open case, opened now if there is none: ``(id, opened)``."""
        session = self.db.session
        found = session.execute(select(reviews.c.id).where(reviews.c.member_id == member["id"],
                                                           reviews.c.status == "open")).scalar()
        if found:
            return found, False
        case_id = new_id()
        try:
            with session.begin_nested():  # another worker may open it at the same moment: the index decides
                session.execute(insert(reviews).values(id=case_id, member_id=member["id"],
                                                       province=member["province"], status="open", opened_at=now))
        except IntegrityError:
            found = session.execute(select(reviews.c.id).where(reviews.c.member_id == member["id"],
                                                               reviews.c.status == "open")).scalar()
            return found, False
        return case_id, True

    def _record_reason(self, member, code, key, ev, source, now):
        """Add a ground for review to the member's open case (opening one): ``(case id, opened)``; None when
        this evidence is known already (or the member is deactivated)."""
        session = self.db.session
        if member["status"] == "deactivated":
            return None
        if session.execute(select(review_reasons.c.id).where(
                review_reasons.c.member_id == member["id"], review_reasons.c.code == code,
                review_reasons.c.evidence_key == key)).first():
            return None
        case_id, opened = self._open_case(member, now)
        added = session.execute_compiled(upsert(self.db.dialect, review_reasons), {
            "id": new_id(), "review_id": case_id, "member_id": member["id"], "code": code, "evidence_key": key,
            "evidence": ev, "source": source, "recorded_at": now}).rowcount
        if added != 1:
            return None
        self.db.publish(events.ReviewReasonRecorded, {"review_id": case_id, "member_id": member["id"], "reason": code,
                                                      "evidence_key": key, "opened": opened},
                        province=member["province"])
        return case_id, opened

    # -- grounds the office records: (3) a breach of the rules, (5) discontinuity
    def _office_record(self, actor, member_id, data, kind):
        body = load(schemas.NoteIn(), data)
        member = self._scoped_member(actor, member_id, lock=True)
        if member["status"] == "deactivated":
            raise _deactivated()
        now = clock()
        record_id = new_id()
        self.db.session.execute(insert(office_records).values(
            id=record_id, member_id=member["id"], province=member["province"], kind=kind, note=body["note"],
            recorded_by=actor["id"], recorded_at=now))
        if kind == "breach":
            ev = domain.evidence(f"تخلف ثبت‌شده در نمایندگی استان: {body['note']}",
                                 f"A breach recorded by the provincial office: {body['note']}",
                                 record_id=record_id, note=body["note"], recorded_by=actor["id"])
        else:
            ev = domain.evidence(f"عدم استمرار خدمت، محرزشده در نمایندگی استان: {body['note']}",
                                 f"Discontinuity established by the provincial office: {body['note']}",
                                 record_id=record_id, note=body["note"], recorded_by=actor["id"])
        recorded = self._record_reason(member, kind, f"{kind}:{record_id}", ev, "office", now)
        case_id = recorded[0] if recorded else None
        return schemas.OfficeRecordOut().dump({"id": record_id, "kind": kind, "member_id": member["id"],
                                                "review_id": case_id, "recorded_at": now})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def record_breach(self, actor, member_id, data):
        return self._office_record(actor, member_id, data, "breach")

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def record_discontinuity(self, actor, member_id, data):
        return self._office_record(actor, member_id, data, "discontinuity")

    # -- grounds from events: (2) a rejected report, (6) shrine absences
    @on_event("reporting", "ReportRejected")
    def on_report_rejected(self, envelope):
        p = envelope["payload"]
        member = self._member_row(p["member_id"])
        if member is None:
            return
        ev = domain.evidence(f"گزارش خدمت از سوی ناظر تأیید نشد؛ دلیل: {p.get('reason', '')}",
                             f"A service report was not approved by the supervisor; reason: {p.get('reason', '')}",
                             report_id=p["report_id"], reservation_id=p.get("reservation_id"),
                             reason=p.get("reason"))
        self._record_reason(member, "report_rejected", f"report:{p['report_id']}", ev, "reporting.ReportRejected",
                            clock())

    @on_event("shrine", "MemberFlaggedForReview")
    def on_member_flagged(self, envelope):
        p = envelope["payload"]
        absences = int(p.get("absences") or 0)
        threshold = domain.absence_threshold(absences) or absences
        member = self._member_row(p["member_id"])
        if member is None:
            return
        ev = domain.evidence(p.get("reason") or f"{absences} غیبت در کشیک حرم مطهر",
                             p.get("reason_en") or f"{absences} absences from shrine shifts",
                             absences=absences, shift_id=p.get("shift_id"), shrine_reason=p.get("reason_code"))
        self._record_reason(member, "shrine_absences", f"absences:{threshold}", ev, "shrine.MemberFlaggedForReview",
                            clock())

    @on_event("shrine", "AbsenceRecorded")
    def on_absence_recorded(self, envelope):
        """The same ground from the count itself (whichever of the two events comes first records it)."""
        p = envelope["payload"]
        threshold = domain.absence_threshold(int(p.get("absences") or 0))
        if threshold is None:
            return
        member = self._member_row(p["member_id"])
        if member is None:
            return
        ev = domain.evidence(f"غیبت در {threshold} کشیک حرم مطهر؛ بررسی وضعیت خادمیار لازم است.",
                             f"Absent from {threshold} shrine shifts; the member is up for review.",
                             absences=int(p["absences"]), shift_id=p.get("shift_id"))
        self._record_reason(member, "shrine_absences", f"absences:{threshold}", ev, "shrine.AbsenceRecorded",
                            clock())

    # -- what the sweep needs to know: offers (catalog), accepted reservations (reservation), reports (reporting)
    def _offer_started(self, envelope):
        p = envelope["payload"]
        at = _moment(envelope)
        self.db.session.defer(upsert(self.db.dialect, member_offers), {  # an end that came first stays
            "offer_id": p["offer_id"], "member_id": p["member_id"], "status": "active", "submitted_at": at,
            "updated_at": utcnow()})

    def _offer_ended(self, envelope):
        p = envelope["payload"]
        at = _moment(envelope)
        self.db.session.defer(
            upsert(self.db.dialect, member_offers, ("offer_id",), ("status", "ended_at", "updated_at")),
            {"offer_id": p["offer_id"], "member_id": p["member_id"], "status": "ended", "ended_at": at,
             "updated_at": utcnow()})

    @on_event("catalog", "OfferSubmitted")
    def on_offer_submitted(self, envelope):
        self._offer_started(envelope)

    @on_event("catalog", "OfferRejected")
    def on_offer_rejected(self, envelope):
        self._offer_ended(envelope)

    @on_event("catalog", "OfferWithdrawn")
    def on_offer_withdrawn(self, envelope):
        self._offer_ended(envelope)

    @on_event("catalog", "OfferCompleted")
    def on_offer_completed(self, envelope):
        self._offer_ended(envelope)

    @on_event("reservation", "ReservationAccepted")
    def on_reservation_accepted(self, envelope):
        p = envelope["payload"]
        self.db.session.defer(  # the report may have been filed first: keep that
            upsert(self.db.dialect, due_reports, ("reservation_id",), ("ends_at", "offer_id", "updated_at")),
            {"reservation_id": p["reservation_id"], "member_id": p["member_id"], "offer_id": p.get("offer_id"),
             "ends_at": parse_datetime(p["ends_at"]), "status": "due", "updated_at": utcnow()})

    @on_event("reservation", "ReservationCancelled")
    def on_reservation_cancelled(self, envelope):
        p = envelope["payload"]
        self.db.session.defer(
            upsert(self.db.dialect, due_reports, ("reservation_id",), ("status", "updated_at"), when=("status", "due")),
            {"reservation_id": p["reservation_id"], "member_id": p["member_id"], "offer_id": p.get("offer_id"),
             "status": "cancelled", "updated_at": utcnow()})

    @on_event("reporting", "ReportSubmitted")
    def on_report_submitted(self, envelope):
        p = envelope["payload"]
        at = _moment(envelope)
        self.db.session.defer(
            upsert(self.db.dialect, due_reports, ("reservation_id",), ("status", "report_id", "filed_at", "updated_at")),
            {"reservation_id": p["reservation_id"], "member_id": p["member_id"], "offer_id": p.get("offer_id"),
             "status": "filed", "report_id": p["report_id"], "filed_at": at, "updated_at": utcnow()})

    # -- the sweep: (1) no service chosen / a report not filed in time, (4) missed lessons / no meeting
    @configured_timer("REVIEW_SWEEP_SECONDS", domain.SETTINGS["REVIEW_SWEEP_SECONDS"])
    def review_sweep(self):
        """Look at every active member; record each ground that holds (idempotent: known evidence adds nothing).

        Answers counts (members looked at, reasons added, cases opened) and the gauges' values.
        """
        now = clock()
        swept = with_findings = added = opened = 0
        after = ""
        while True:  # a page of members at a time: the memory of a sweep does not grow with the membership
            page, found = self._sweep_findings(now, after)
            self.db.rollback()
            if not page:
                break
            swept += len(page)
            with_findings += len(found)
            after = page[-1]["id"]
            for member, reasons in found:
                try:
                    results = []
                    for code, key, ev in reasons:
                        result = self._record_reason(member, code, key, ev, "sweep", now)
                        if result is None:
                            continue
                        results.append(result)
                        if key.startswith("late_report:"):
                            self.db.session.execute(update(due_reports).where(
                                due_reports.c.reservation_id == key.split(":", 1)[1]).values(flagged_at=now))
                    self.db.commit()
                except Exception:  # one member's trouble must not stop the others' review
                    self.db.rollback()
                    log.exception("review sweep failed for member %s", member["id"])
                    continue
                added += len(results)
                opened += sum(1 for _, was_opened in results if was_opened)
        gauges = self._measure_reviews()
        return {"members": swept, "with_findings": with_findings, "reasons_added": added, "cases_opened": opened,
                **gauges}

    def _sweep_findings(self, now, after="", page_size=None):
        """``(members looked at, [(member, [(code, evidence key, evidence)])])`` for the next page of active members
        (ids after ``after``): those with a new ground."""
        session = self.db.session
        idle_days = self._setting("REVIEW_IDLE_DAYS")
        due_days = self._setting("REPORT_DUE_DAYS")
        tolerance = self._setting("TRAINING_MISSED_WEEKS")
        today = now.astimezone(TEHRAN).date()
        members = [dict(r) for r in session.execute(select(
            accounts.c.id, accounts.c.province, accounts.c.status, accounts.c.created_at).where(
            accounts.c.role == "member", accounts.c.status == "active", accounts.c.id > after)
            .order_by(accounts.c.id).limit(page_size or SWEEP_PAGE)).mappings()]
        if not members:
            return [], []
        ids = [m["id"] for m in members]
        closed = dict(session.execute(select(reviews.c.member_id, func.max(reviews.c.closed_at)).where(
            reviews.c.status == "closed", reviews.c.member_id.in_(ids)).group_by(reviews.c.member_id)).all())
        reinstated = dict(session.execute(select(status_changes.c.member_id, func.max(status_changes.c.changed_at))
                                          .where(status_changes.c.status == "active",
                                                 status_changes.c.member_id.in_(ids))
                                          .group_by(status_changes.c.member_id)).all())
        offering = set(session.execute(select(distinct(member_offers.c.member_id)).where(
            member_offers.c.status == "active", member_offers.c.member_id.in_(ids))).scalars())
        last_end = dict(session.execute(select(member_offers.c.member_id, func.max(member_offers.c.ended_at))
                                        .where(member_offers.c.member_id.in_(ids))
                                        .group_by(member_offers.c.member_id)).all())
        last_meeting = dict(session.execute(select(meeting_attendance.c.member_id,
                                                   func.max(meeting_attendance.c.attended_at))
                                            .where(meeting_attendance.c.member_id.in_(ids))
                                            .group_by(meeting_attendance.c.member_id)).all())
        late = {}
        for row in session.execute(select(due_reports).where(
                due_reports.c.status == "due", due_reports.c.flagged_at.is_(None), due_reports.c.member_id.in_(ids),
                due_reports.c.ends_at < now - dt.timedelta(days=due_days))).mappings():
            late.setdefault(row["member_id"], []).append(dict(row))
        weeks = list(session.execute(select(lessons.c.week).where(
            lessons.c.week <= today - domain.WEEK)).scalars())
        reads = {}
        if weeks:
            for member_id, week in session.execute(select(lesson_reads.c.member_id, lesson_reads.c.week).where(
                    lesson_reads.c.on_time.is_(True), lesson_reads.c.week >= min(weeks),
                    lesson_reads.c.member_id.in_(ids))).all():
                reads.setdefault(member_id, []).append(week)
        findings = []
        for member in members:
            grace = domain.grace_from(member["created_at"], closed.get(member["id"]), reinstated.get(member["id"]))
            reasons = []
            idle = domain.idle_evidence(now, grace, member["id"] in offering, last_end.get(member["id"]), idle_days)
            if idle:
                reasons.append(("inactivity",) + idle)
            for due in late.get(member["id"], ()):
                if domain.report_overdue(due["ends_at"], now, due_days):
                    reasons.append(("inactivity",) + domain.late_report_evidence(due["reservation_id"], due["ends_at"],
                                                                                  due_days))
            if weeks:
                missed = domain.missed_weeks(weeks, reads.get(member["id"], ()), grace, today)
                training = domain.training_evidence(missed, tolerance, grace)
                if training:
                    reasons.append(("training_or_meeting",) + training)
            meeting = domain.meeting_evidence(now, grace, last_meeting.get(member["id"]))
            if meeting:
                reasons.append(("training_or_meeting",) + meeting)
            if reasons:
                findings.append((member, reasons))
        return members, self._only_new(findings)

    def _only_new(self, findings):
        """Drop the evidence already recorded (the usual case on every sweep after the first), in a few queries."""
        session = self.db.session
        keys = sorted({key for _, reasons in findings for _, key, _ in reasons})
        known = set()
        for start in range(0, len(keys), 500):
            known.update(session.execute(select(review_reasons.c.member_id, review_reasons.c.code,
                                                review_reasons.c.evidence_key).where(
                review_reasons.c.evidence_key.in_(keys[start:start + 500]))).all())
        out = []
        for member, reasons in findings:
            fresh = [r for r in reasons if (member["id"], r[0], r[1]) not in known]
            if fresh:
                out.append((member, fresh))
        return out

    def _measure_reviews(self):
        """Set the gauges: open cases by reason, members by state."""
        session = self.db.session
        by_reason = dict(session.execute(select(review_reasons.c.code, func.count(distinct(review_reasons.c.review_id)))
                                         .join(reviews, reviews.c.id == review_reasons.c.review_id)
                                         .where(reviews.c.status == "open").group_by(review_reasons.c.code)).all())
        by_state = dict(session.execute(select(accounts.c.status, func.count()).where(accounts.c.role == "member")
                                        .group_by(accounts.c.status)).all())
        self.db.rollback()
        for code in domain.REASONS:
            OPEN_CASES.labels(code).set(by_reason.get(code, 0))
        for state in domain.MEMBER_STATES:
            MEMBERS.labels(state).set(by_state.get(state, 0))
        return {"open_cases": {c: by_reason.get(c, 0) for c in domain.REASONS},
                "members_by_state": {s: by_state.get(s, 0) for s in domain.MEMBER_STATES}}

    # ------------------------------------------------------------------------------------------------------
    # the office's decisions
    # ------------------------------------------------------------------------------------------------------
    def _reviews_out(self, rows):
        if not rows:
            return []
        reasons = {}
        for r in self.db.session.execute(select(review_reasons).where(
                review_reasons.c.review_id.in_([row["id"] for row in rows]))
                .order_by(review_reasons.c.recorded_at, review_reasons.c.id)).mappings():
            reasons.setdefault(r["review_id"], []).append(_reason_out(r))
        out = []
        for row in rows:
            out.append({
                "id": row["id"], "province": row["province"], "status": row["status"],
                "member": {"id": row["member_id"], "national_id": row["national_id"],
                           "name": f"{row['first_name']} {row['last_name']}", "county": row["county"],
                           "status": row["member_status"]},
                "reasons": reasons.get(row["id"], []), "opened_at": row["opened_at"],
                "opened_at_jalali": to_jalali(row["opened_at"]), "closed_at": row["closed_at"],
                "decision": row["decision"], "note": row["note"], "decided_by": row["decided_by"]})
        return out

    @rpc(expected_exceptions=EXPECTED)
    def list_reviews(self, actor, query):
        q = load(schemas.ReviewQuery(), query or {})
        stmt = _review_query()
        if actor["role"] != "admin":
            stmt = stmt.where(reviews.c.province == actor.get("province"))
        if q.get("status"):
            stmt = stmt.where(reviews.c.status == q["status"])
        if q.get("member"):
            stmt = stmt.where(reviews.c.member_id == _key(q["member"]))
        if q.get("reason"):
            stmt = stmt.where(exists().where(review_reasons.c.review_id == reviews.c.id,
                                             review_reasons.c.code == q["reason"]))
        rows, nxt = pagination.page(self.db.session, stmt, reviews.c.opened_at, reviews.c.id, q.get("cursor"),
                                    q["limit"])
        items = self._reviews_out(rows)
        self.db.rollback()
        return schemas.ReviewList().dump({"items": items, "next": nxt})

    def _scoped_review(self, actor, review_id, lock=False):
        stmt = _review_query().where(reviews.c.id == _key(review_id))
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update(of=reviews, key_share=True)
        row = self.db.session.execute(stmt).mappings().first()
        if row is None or not domain.sees_province(actor, row["province"]):
            raise _review_not_found()
        return dict(row)

    @rpc(expected_exceptions=EXPECTED)
    def get_review(self, actor, review_id):
        row = self._scoped_review(actor, review_id)
        out = self._reviews_out([row])[0]
        self.db.rollback()
        return schemas.ReviewOut().dump(out)

    @rpc
    def deactivated_since(self, seconds):
        """Members deactivated within the last ``seconds`` and still deactivated, with when: the gateway refuses
        their tokens issued before (a token lives JWT_TTL_SECONDS, so that is all it needs to know at start-up)."""
        since = utcnow() - dt.timedelta(seconds=float(seconds))
        rows = self.db.session.execute(
            select(status_changes.c.member_id, func.max(status_changes.c.changed_at))
            .join(accounts, accounts.c.id == status_changes.c.member_id)
            .where(status_changes.c.status == "deactivated", status_changes.c.changed_at >= since,
                   accounts.c.status == "deactivated")
            .group_by(status_changes.c.member_id)).all()
        self.db.rollback()
        return [{"member_id": member_id, "at": as_utc(at).isoformat()} for member_id, at in rows]

    def _change_status(self, member, status, review_id, note, actor, now):
        """Move a member's account to ``status``, write why, and publish the matching event."""
        done = self.db.session.execute(update(accounts).where(
            accounts.c.id == member["id"], accounts.c.status == member["status"]).values(status=status)).rowcount
        if done != 1:
            raise Conflict("concurrent_update", "هم‌زمان تغییر دیگری ثبت شد؛ دوباره تلاش کنید.",
                           "Another change was saved at the same time; try again.")
        self.db.session.execute(insert(status_changes).values(
            id=new_id(), member_id=member["id"], province=member["province"], status=status,
            previous_status=member["status"], review_id=review_id, note=note, changed_by=actor["id"], changed_at=now))
        event = {"active": events.MemberReinstated, "suspended": events.MemberSuspended,
                 "deactivated": events.MemberDeactivated}[status]
        self.db.publish(event, {"member_id": member["id"], "review_id": review_id, "note": note},
                        province=member["province"])

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def decide_review(self, actor, review_id, data):
        body = load(schemas.DecisionIn(), data)
        # locks in one order everywhere: the member's account, then the case
        member = self._member_row(self._scoped_review(actor, review_id)["member_id"], lock=True)
        case = self._scoped_review(actor, review_id, lock=True)
        if case["status"] != "open":
            raise Conflict("review_closed", "این پرونده بازنگری پیش‌تر تصمیم‌گیری و بسته شده است.",
                           "This review case was already decided and closed.", extra={"decision": case["decision"]})
        try:
            status, _ = domain.decision_effect(member["status"], body["decision"])
        except ValueError:
            raise _deactivated() from None
        now = clock()
        done = self.db.session.execute(update(reviews).where(reviews.c.id == case["id"], reviews.c.status == "open")
                                       .values(status="closed", closed_at=now, decision=body["decision"],
                                               note=body["note"], decided_by=actor["id"])).rowcount
        if done != 1:
            raise Conflict("review_closed", "این پرونده بازنگری پیش‌تر تصمیم‌گیری و بسته شده است.",
                           "This review case was already decided and closed.")
        if status:
            self._change_status(member, status, case["id"], body["note"], actor, now)
        self.db.publish(events.ReviewDecided, {"review_id": case["id"], "member_id": member["id"],
                                               "decision": body["decision"], "note": body["note"]},
                        province=member["province"])
        out = self._reviews_out([self._scoped_review(actor, case["id"])])[0]
        return schemas.ReviewOut().dump(out)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def reinstate_member(self, actor, member_id, data):
        """The office lifts a suspension (or undoes a deactivation) outside a review's decision."""
        body = load(schemas.NoteIn(), data)
        member = self._scoped_member(actor, member_id, lock=True)
        if member["status"] == "active":
            raise Conflict("not_suspended", "این خادمیار تعلیق یا غیرفعال نشده است.",
                           "This member is neither suspended nor deactivated.")
        review_id = self.db.session.execute(select(status_changes.c.review_id).where(
            status_changes.c.member_id == member["id"], status_changes.c.status == member["status"])
            .order_by(status_changes.c.changed_at.desc()).limit(1)).scalar()
        self._change_status(member, "active", review_id, body["note"], actor, clock())
        return schemas.StatusChangeOut().dump({"member_id": member["id"], "status": "active", "review_id": review_id})
