"""Shrine service (کشیک حرم مطهر): eligibility, duty shifts, the booking storm, waiting lists, attendance.

Eligibility is a projection of other services' events (MemberActivated, ReportApproved, and the membership
status events); no RPC leaves this service.  The booking invariants are the database's (models.py, the
migration); the Python checks before them only give the clearer answer.
"""
import datetime as dt
import logging
import os
import time

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from sqlalchemy import and_, bindparam, case, func, insert, literal_column, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from kit import pagination
from kit.db import RETRYABLE, Database, new_id, one_of, retry_deadlocks, transactional, upsert, utcnow
from kit.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from kit.events import on_event
from kit.persian import TEHRAN
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.shrine import domain, events, schemas
from services.shrine.models import attempts, bookings, draws, members, metadata, shifts, waitlist

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
SHRINE_PROVINCE = "9"          # the holy shrine is in Mashhad, Khorasan Razavi
DRAW_LOCK = 7274001            # PostgreSQL advisory lock: one draw at a time


class ShiftCache(DependencyProvider):
    """GET /shrine/shifts is polled by thousands during a storm: answers live a few hundred milliseconds.

    Per process; a write in this process clears it, other replicas' copies age out within the TTL.
    """

    def setup(self):
        self.ttl = float(self.container.config.get("SHRINE_LIST_CACHE_SECONDS", 0.3))
        self.entries = {}

    def get_dependency(self, worker_ctx):
        return self

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    def put(self, key, value):
        if self.ttl <= 0:
            return
        if len(self.entries) > 500:
            self.entries.clear()
        self.entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self):
        self.entries.clear()


# -- errors
def _shift_not_found():
    return NotFound("shift_not_found", "کشیک پیدا نشد.", "The shift was not found.")


def _booking_not_found():
    return NotFound("booking_not_found", "رزرو پیدا نشد.", "The booking was not found.")


REFUSALS = {
    "full": ("ظرفیت این کشیک تکمیل است؛ می‌توانید در فهرست انتظار آن ثبت‌نام کنید.",
             "This shift is full; you may join its waiting list."),
    "overlap": ("شما در همین ساعت کشیک دیگری دارید.", "You already hold a shift at this time."),
    "already_booked": ("شما این کشیک را پیش‌تر رزرو کرده‌اید.", "You have already booked this shift."),
    "booking_closed": ("این کشیک آغاز شده و رزرو آن بسته است.", "This shift has started; booking is closed."),
    "gender_restricted": ("این کشیک ویژه خادمیاران گروه دیگری (برادران/خواهران) است.",
                          "This shift is reserved for the other gender."),
}


def _gender_error(shift_gender):
    who_fa = "خواهران" if shift_gender == "female" else "برادران"
    who_en = "women" if shift_gender == "female" else "men"
    return Forbidden("gender_restricted", f"این کشیک ویژه {who_fa} است.", f"This shift is for {who_en} only.")


# -- the booking's statements, built once (their compiled form is cached with them)
SHIFT_COLUMNS = ("id", "post", "starts_at", "ends_at", "capacity", "booked", "gender", "opens_at", "fair_until",
                 "drawn_at")
MEMBER_COLUMNS = ("id", "province", "gender", "education", "status", "approved_reports", "eligible_since",
                  "first_report_at")
PRIOR_COLUMNS = ("id", "shift_id", "status", "outcome", "message_fa", "message_en", "booking_id")
_prior = attempts.alias("prior")
_held = bookings.alias("held")
# Everything a booking reads, in one round trip: the shift, the member (share-locked on PostgreSQL, so that a
# suspension waits for this booking or this booking for it), the member's attempts in the rate limit's window,
# whether the member holds this shift or another at this time, and the earlier attempt with this
# Idempotency-Key, if any.  No row: no such shift, or an unknown member.
BOOKING_VIEW = (
    select(*[shifts.c[c] for c in SHIFT_COLUMNS], *[members.c[c].label("m_" + c) for c in MEMBER_COLUMNS],
           select(func.count()).select_from(attempts).where(attempts.c.member_id == members.c.id,
                                                            attempts.c.created_at > bindparam("since"))
           .scalar_subquery().label("recent"),
           select(func.max(case((_held.c.shift_id == shifts.c.id, 2), else_=1)))
           .where(_held.c.member_id == members.c.id, one_of(_held.c.status, domain.HOLDING),
                  _held.c.starts_at < shifts.c.ends_at, _held.c.ends_at > shifts.c.starts_at)
           .scalar_subquery().label("held"),  # 2: this shift, 1: another one at this time, None: neither
           *[_prior.c[c].label("p_" + c) for c in PRIOR_COLUMNS])
    .select_from(members.join(shifts, shifts.c.id == bindparam("shift_id"))
                 .outerjoin(_prior, and_(_prior.c.member_id == members.c.id,
                                         _prior.c.idempotency_key == bindparam("key"))))
    .where(members.c.id == bindparam("member_id"))
    .with_for_update(read=True, of=members)  # SQLite has no row locks: BEGIN IMMEDIATE serialises writers
    # planned once per connection (PostgreSQL): planning these joins cost more than running them (0.7 of 0.9 ms)
    .execution_options(prepare="shrine_booking_view"))
ATTEMPT_INSERT = insert(attempts)
BOOKING_INSERT = insert(bookings)
TAKE_PLACE = (update(shifts).where(shifts.c.id == bindparam("place_shift"), shifts.c.booked < shifts.c.capacity)
              .values(booked=shifts.c.booked + 1))
# PostgreSQL: the place is taken by an UPDATE sent with the COMMIT, refused by CHECK (booked <= capacity) when the
# last place went meanwhile (``ShrineService._book_now``)
TAKE_PLACE_CHECKED = (update(shifts).where(shifts.c.id == bindparam("place_shift"))
                      .values(booked=shifts.c.booked + literal_column("1")))
# the refusals of the database that a booking decided at its COMMIT may meet: the last place went, or the member
# took this shift or one at the same time in a concurrent attempt. Another round then reads what happened.
LOST_RACE = frozenset({"ck_shifts_capacity", "uq_bookings_shift_member_holding", "ex_bookings_member_overlap"})
BOOK_ANSWER = schemas.ShrineBookAnswer()
AGAIN = object()  # a booking round that must start over (a draw ran first, or a conflict vanished)


# the projected member's facts that events change (``ShrineService._change_member``), all written at once from the
# row read under its lock: one statement, built once, that waits to go with the COMMIT
CHANGEABLE = ("province", "county", "gender", "education", "activated_at", "status", "approved_reports",
              "first_report_id", "first_report_at", "eligible", "eligible_since", "updated_at")
MEMBER_CHANGE = update(members).where(members.c.id == bindparam("member_id")).values(
    {c: bindparam("new_" + c, type_=members.c[c].type) for c in CHANGEABLE})
MEMBER_LOCKED = select(members).where(members.c.id == bindparam("member_id"))
MEMBER_LOCKED_PG = MEMBER_LOCKED.with_for_update()


def _attempt_row(attempt_id, member_id, shift_id, key, now, status, outcome, booking_id=None, message_fa=None,
                 message_en=None):
    """Every column the booking path writes, always the same set (one compiled INSERT)."""
    return {"id": attempt_id, "member_id": member_id, "shift_id": shift_id, "idempotency_key": key,
            "status": status, "outcome": outcome, "message_fa": message_fa, "message_en": message_en,
            "booking_id": booking_id, "created_at": now, "decided_at": now}


def _is_key_clash(exc):
    """Whether an IntegrityError is the attempts' (member, Idempotency-Key) key: a retry racing its first try."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:  # PostgreSQL names the constraint
        return diag.constraint_name == "uq_attempts_member_key"
    return "attempts.idempotency_key" in str(exc.orig)  # SQLite names the columns


def _lost_race(exc):
    """Whether an IntegrityError (PostgreSQL) refused a booking at its COMMIT for a place or a time taken by a
    concurrent attempt (``LOST_RACE``)."""
    diag = getattr(exc.orig, "diag", None)
    return diag is not None and diag.constraint_name in LOST_RACE


class ShrineService(ServiceBase):
    name = "shrine"
    db = Database(metadata, MIGRATIONS)
    config = Config()
    cache = ShiftCache()

    # -- settings (config, else the domain's defaults)
    def _setting(self, name, default, cast=float):
        value = self.config.get(name)
        return default if value in (None, "") else cast(value)

    # ------------------------------------------------------------------------------------------------------
    # eligibility: a projection of events
    # ------------------------------------------------------------------------------------------------------
    @on_event("membership", "MemberActivated")
    def on_member_activated(self, envelope):
        p = envelope["payload"]
        member = self._member_for_update(p["member_id"], envelope.get("province"))
        self._change_member(member, province=envelope.get("province") or member["province"],
                            county=p.get("county"), gender=p.get("gender"), education=p.get("education"),
                            activated_at=_moment(envelope.get("occurred_at")))

    @on_event("reporting", "ReportApproved")
    def on_report_approved(self, envelope):
        p = envelope["payload"]
        member = self._member_for_update(p["member_id"], envelope.get("province"))
        changes = {"approved_reports": member["approved_reports"] + 1}
        if member["first_report_id"] is None:
            changes.update(first_report_id=p.get("report_id"), first_report_at=_moment(envelope.get("occurred_at")))
        self._change_member(member, report_id=p.get("report_id"), **changes)

    @on_event("membership", "MemberSuspended")
    def on_member_suspended(self, envelope):
        member = self._member_for_update(envelope["payload"]["member_id"], envelope.get("province"))
        self._change_member(member, status="suspended")

    @on_event("membership", "MemberDeactivated")
    def on_member_deactivated(self, envelope):
        member = self._member_for_update(envelope["payload"]["member_id"], envelope.get("province"))
        self._change_member(member, status="deactivated")

    @on_event("membership", "MemberReinstated")
    def on_member_reinstated(self, envelope):
        member = self._member_for_update(envelope["payload"]["member_id"], envelope.get("province"))
        self._change_member(member, status="active")

    def _member_for_update(self, member_id, province=None):
        """The projected member, created empty on first sight, locked for this transaction. On PostgreSQL the event's
        inbox claim, the creation and the locking read go in one round trip."""
        session = self.db.session
        session.defer(upsert(self.db.dialect, members), {
            "id": member_id, "province": province, "status": "active", "approved_reports": 0, "eligible": False,
            "absences": 0, "updated_at": utcnow()})
        stmt = MEMBER_LOCKED_PG if self.db.dialect == "postgresql" else MEMBER_LOCKED
        return dict(session.execute(stmt, {"member_id": member_id}).mappings().one())

    def _change_member(self, before, report_id=None, **changes):
        now = utcnow()
        after = dict(before, **changes)
        was, now_ok = domain.eligibility(before).eligible, domain.eligibility(after).eligible
        if now_ok and not was:
            changes.update(eligible=True, eligible_since=now)
        elif was and not now_ok:
            changes.update(eligible=False)
        row = dict(before, **changes, updated_at=now)  # the row is locked: writing back what was read is safe
        self.db.session.defer(MEMBER_CHANGE, {"member_id": before["id"], **{"new_" + c: row[c] for c in CHANGEABLE}})
        if now_ok and not was:
            reinstated = before["status"] != "active" and before["approved_reports"] > 0
            self.db.publish(events.ShrineEligibilityGranted, {
                "member_id": before["id"], "reason": "reinstated" if reinstated else "first_report",
                "report_id": None if reinstated else (after.get("first_report_id") or report_id), "granted_at": now},
                province=after.get("province"))
        elif was and not now_ok:
            self._withdraw(after, after["status"] if after["status"] != "active" else "ineligible", now)

    def _withdraw(self, member, reason, now):
        """A member who lost eligibility: future places released, waiting lists and pending draws left."""
        session = self.db.session
        held = session.execute(select(bookings).where(
            bookings.c.member_id == member["id"], bookings.c.status.in_(domain.HOLDING),
            bookings.c.starts_at > now)).mappings().all()
        for booking in held:
            self._release(dict(booking), reason, now)
        session.execute(update(waitlist).where(waitlist.c.member_id == member["id"], waitlist.c.status == "waiting")
                        .values(status="cancelled", updated_at=now))
        verdict = domain.eligibility(member)
        session.execute(update(attempts).where(attempts.c.member_id == member["id"], attempts.c.status == "pending")
                        .values(status="refused", outcome="not_eligible", message_fa=verdict.fa,
                                message_en=verdict.en, decided_at=now))

    @rpc(expected_exceptions=EXPECTED)
    def eligibility(self, actor):
        member = self._member(actor["id"])
        self.db.rollback()
        return schemas.ShrineEligibilityOut().dump(_eligibility_out(member))

    def _member(self, member_id):
        row = self.db.session.execute(select(members).where(members.c.id == member_id)).mappings().first()
        return dict(row) if row else None

    # ------------------------------------------------------------------------------------------------------
    # shifts
    # ------------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_shifts(self, actor, data):
        body = load(schemas.ShiftBatchIn(), data)
        now = utcnow()
        late = {f"shifts.{i}.starts_at": {"fa": "آغاز کشیک گذشته است.", "en": "The shift has already started."}
                for i, s in enumerate(body["shifts"]) if s["starts_at"] <= now}
        if late:
            raise Invalid("validation_failed", "برخی از فیلدها نادرست است.", "Some fields are invalid.", fields=late)
        window = self._setting("SHRINE_FAIR_WINDOW_SECONDS", domain.DEFAULT_FAIR_WINDOW_SECONDS)
        cutoff = self._setting("SHRINE_CANCEL_CUTOFF_HOURS", domain.DEFAULT_CANCEL_CUTOFF_HOURS, int)
        province = actor.get("province") or SHRINE_PROVINCE
        rows = [{
            "id": new_id(), "province": province, "post": s["post"], "starts_at": s["starts_at"],
            "ends_at": s["ends_at"], "capacity": s["capacity"], "booked": 0, "gender": s.get("gender"),
            "opens_at": s.get("opens_at"), "fair_until": domain.fair_until(s.get("opens_at"), window),
            "drawn_at": None, "cancel_cutoff_hours": s.get("cancel_cutoff_hours", cutoff),
            "created_by": actor["id"], "created_at": now} for s in body["shifts"]]
        self.db.session.execute(insert(shifts), rows)
        self.cache.clear()
        return {"ids": [r["id"] for r in rows]}

    @rpc(expected_exceptions=EXPECTED)
    def list_shifts(self, actor, query):
        q = load(schemas.ShiftQuery(), query or {})
        now = utcnow()
        today = dt.datetime.combine(now.astimezone(TEHRAN).date(), dt.time(), tzinfo=TEHRAN).astimezone(dt.timezone.utc)
        start = q.get("from_") or today
        end = q.get("to") or start + dt.timedelta(days=14)
        scope = actor.get("province") if actor["role"] == "shrine_office" else "*"
        key = (scope, start.isoformat(), end.isoformat(), q.get("cursor"), q["limit"])
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        stmt = select(shifts).where(shifts.c.starts_at >= start, shifts.c.starts_at < end)
        if scope != "*":
            stmt = stmt.where(shifts.c.province == scope)
        rows, nxt = pagination.page(self.db.session, stmt, shifts.c.starts_at, shifts.c.id, q.get("cursor"),
                                    q["limit"])
        self.db.rollback()
        answer = schemas.ShiftList().dump({"items": [_shift_out(r, now) for r in rows], "next": nxt})
        self.cache.put(key, answer)
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def get_shift(self, actor, shift_id):
        shift = self._visible_shift(actor, shift_id)
        self.db.rollback()
        return schemas.ShiftOut().dump(_shift_out(shift, utcnow()))

    def _shift(self, shift_id, lock=False):
        stmt = select(shifts).where(shifts.c.id == _key(shift_id))
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.db.session.execute(stmt).mappings().first()
        if row is None:
            raise _shift_not_found()
        return dict(row)

    def _visible_shift(self, actor, shift_id):
        """Members see every shift; the shrine office those it published in its province; admin all."""
        shift = self._shift(shift_id)
        if actor["role"] == "shrine_office" and shift["province"] != actor.get("province"):
            raise _shift_not_found()
        return shift

    @rpc(expected_exceptions=EXPECTED)
    def roster(self, actor, shift_id, query):
        """The bookings of one shift, for the shrine office (and the storm's checker)."""
        q = load(schemas.ShrineBookingQuery(), query or {})
        shift = self._visible_shift(actor, shift_id)
        stmt = select(bookings).where(bookings.c.shift_id == shift["id"])
        stmt = _status_filter(stmt, q.get("status"))
        rows, nxt = pagination.page(self.db.session, stmt, bookings.c.created_at, bookings.c.id, q.get("cursor"),
                                    q["limit"])
        self.db.rollback()
        return schemas.ShrineBookingList().dump({"items": [_booking_out(r, shift) for r in rows], "next": nxt})

    # ------------------------------------------------------------------------------------------------------
    # booking (the storm)
    # ------------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def book(self, actor, shift_id, idempotency_key=None):
        """Book a place: {id, status: booked} (201) or, in the fair-opening window, {attempt, status: pending}."""
        key = _idempotency_key(idempotency_key)
        for round_no in range(3):
            try:
                answer = self._book(actor["id"], _key(shift_id), key)
                break
            except IntegrityError as exc:
                if key is not None and _is_key_clash(exc):  # a retry with this key was answered first (at the
                    # booking's or the refusal's COMMIT): its answer
                    answer = self._replay(self._attempt_by_key(actor["id"], key), _key(shift_id))
                    self.db.rollback()
                    break
                # a booking refused at its COMMIT (PostgreSQL): the last place or the member's time went to a
                # concurrent attempt; the next round reads that and answers the refusal (kept, as every refusal)
                if not _lost_race(exc) or round_no == 2:
                    raise
            except DBAPIError as exc:  # two attempts of a member at overlapping times waited for each other
                if getattr(exc.orig, "pgcode", None) not in RETRYABLE or round_no == 2:
                    raise
                log.warning("booking retried after database error %s", exc.orig.pgcode)
        self.db.close()  # committed: the connection goes back to the pool now, not once the reply has been sent
        if "refused" in answer:  # decided and kept (a retry with the key gets it again), so raised only now
            raise Conflict(answer["refused"], answer["message_fa"], answer["message_en"],
                           extra={"attempt": answer["attempt"], "shift": answer["shift"]})
        if answer["status"] == "booked":
            self.cache.clear()
        return BOOK_ANSWER.dump(answer)

    @transactional
    @retry_deadlocks
    def _book(self, member_id, shift_id, key):
        """The booking's transaction: the answer, or a refusal that decided something about a place."""
        for _ in range(5):
            answer = self._book_once(member_id, shift_id, key)
            if answer is not AGAIN:
                return answer
        raise Conflict("try_again", "رزرو انجام نشد؛ دوباره تلاش کنید.", "The booking did not go through; try again.")

    def _book_once(self, member_id, shift_id, key):
        session = self.db.session
        now = utcnow()
        limit, seconds = domain.parse_rate(self.config.get("SHRINE_BOOKING_RATE"))
        row = session.execute(BOOKING_VIEW, {"member_id": member_id, "shift_id": shift_id, "key": key,
                                             "since": now - dt.timedelta(seconds=seconds)}).mappings().first()
        if row is None:  # no such shift, or a member this service has never heard of
            self._shift(shift_id)
            verdict = domain.eligibility(None)
            raise Forbidden("not_eligible", verdict.fa, verdict.en, extra={"reason_code": verdict.code})
        shift = {c: row[c] for c in SHIFT_COLUMNS}
        if row["p_id"] is not None:
            return self._replay({c: row["p_" + c] for c in PRIOR_COLUMNS}, shift_id, shift)
        if row["recent"] >= limit:
            raise TooManyRequests("too_many_booking_attempts",
                                  "تلاش‌های رزرو شما بیش از حد مجاز است؛ چند ثانیه دیگر دوباره تلاش کنید.",
                                  "Too many booking attempts; try again in a few seconds.",
                                  extra={"retry_after": max(1, int(seconds))})
        stage = domain.phase(shift, now)
        if stage == domain.DRAW_DUE:  # the window's draw goes before anyone who came later
            self.db.rollback()
            self._draw(shift_id)
            return AGAIN
        member = {c: row["m_" + c] for c in MEMBER_COLUMNS}
        verdict = domain.eligibility(member)
        if not verdict.eligible:
            raise Forbidden("not_eligible", verdict.fa, verdict.en, extra={"reason_code": verdict.code})
        if not domain.gender_allows(shift["gender"], member["gender"]):
            raise _gender_error(shift["gender"])
        if stage == domain.STARTED:
            raise Conflict("booking_closed", *REFUSALS["booking_closed"])
        if stage == domain.NOT_OPEN:
            opens = shift["opens_at"]
            raise Conflict("not_open_yet", f"رزرو این کشیک از {domain.jalali_moment_fa(opens)} باز می‌شود.",
                           f"Booking for this shift opens at {domain.jalali_moment(opens)} (Tehran time, Jalali).",
                           extra={"opens_at": opens.isoformat(), "opens_at_jalali": domain.jalali_moment(opens)})
        if stage == domain.FAIR:
            return self._enter_draw(member, shift, key, now)
        if shift["booked"] >= shift["capacity"]:  # read as full: answered at once, without queueing for the row
            return self._refuse(member_id, shift_id, key, "full", now)
        if row["held"]:  # the database would refuse the booking: say why without trying
            return self._refuse(member_id, shift_id, key, "already_booked" if row["held"] == 2 else "overlap", now)
        return self._book_now(member, shift, key, now)

    def _book_now(self, member, shift, key, now):
        """Take a place in this transaction; any refusal of the database rolls all of it back (no savepoint).

        On PostgreSQL the attempt, the booking, its event, the place's UPDATE and the recorded answer wait in the
        session's pipeline and go to the server with the COMMIT: one round trip after the read. The database
        refuses the booking there when a concurrent attempt took the last place (CHECK booked <= capacity) or the
        member's time (the unique index, the exclusion constraint); ``book`` then runs another round, which reads
        what happened and answers the refusal. On SQLite (one writer at a time) the place is taken at once."""
        session = self.db.session
        attempt_id, booking_id = new_id(), new_id()
        if self.db.dialect == "postgresql":
            session.defer(ATTEMPT_INSERT, _attempt_row(attempt_id, member["id"], shift["id"], key, now,
                                                       status="granted", outcome="booked", booking_id=booking_id))
            self._insert_booking(member, shift, "direct", now, booking_id, attempt_id)
            session.defer(TAKE_PLACE_CHECKED, {"place_shift": shift["id"]})
            return {"id": booking_id, "status": "booked", "attempt": attempt_id}
        try:
            session.defer(ATTEMPT_INSERT, _attempt_row(attempt_id, member["id"], shift["id"], key, now,
                                                       status="granted", outcome="booked", booking_id=booking_id))
            taken = self._take_place(member, shift, "direct", now, booking_id, attempt_id)
        except IntegrityError as exc:
            self.db.rollback()
            if _is_key_clash(exc):  # the same key, racing: ``book`` answers what the first one got
                raise
            # the member holds this shift or an overlapping one (perhaps a concurrent attempt)
            refusal = self._holding_conflict(member["id"], shift)
            return self._refuse(member["id"], shift["id"], key, refusal, now) if refusal else AGAIN
        if not taken:  # the last places went to concurrent attempts
            self.db.rollback()
            return self._refuse(member["id"], shift["id"], key, "full", now)
        return {"id": booking_id, "status": "booked", "attempt": attempt_id}

    def _take_place(self, member, shift, source, now, booking_id, attempt_id=None):
        """Insert the booking and its event, then take the place; False when none was left.

        The booking's INSERT waits for the UPDATE (PostgreSQL), so its refusal (the member holds this shift or one
        at the same time) is raised by the UPDATE's execution."""
        self._insert_booking(member, shift, source, now, booking_id, attempt_id)
        # last, so the shift's row lock is held only for the commit
        return self.db.session.execute(TAKE_PLACE, {"place_shift": shift["id"]}).rowcount == 1

    def _insert_booking(self, member, shift, source, now, booking_id, attempt_id):
        """The booking and its ShiftBooked event, waiting to go with what follows (PostgreSQL)."""
        self.db.session.defer(BOOKING_INSERT, {
            "id": booking_id, "shift_id": shift["id"], "member_id": member["id"], "province": member["province"],
            "starts_at": shift["starts_at"], "ends_at": shift["ends_at"], "status": "booked", "source": source,
            "attempt_id": attempt_id, "created_at": now, "confirmed_at": now})
        self.db.publish(events.ShiftBooked, {
            "booking_id": booking_id, "shift_id": shift["id"], "member_id": member["id"], "post": shift["post"],
            "starts_at": shift["starts_at"], "ends_at": shift["ends_at"], "source": source},
            province=member["province"])

    def _refuse(self, member_id, shift_id, key, outcome, now):
        """Keep a refusal that decided something about a place (a retry with the same key gets it again)."""
        fa, en = REFUSALS[outcome]
        attempt_id = new_id()
        # sent with the COMMIT (PostgreSQL): a retry with this key that was answered first makes the commit fail,
        # and ``book`` answers what that one got
        self.db.session.defer(ATTEMPT_INSERT, _attempt_row(
            attempt_id, member_id, shift_id, key, now, status="refused", outcome=outcome, message_fa=fa,
            message_en=en))
        return {"refused": outcome, "message_fa": fa, "message_en": en, "attempt": attempt_id, "shift": shift_id}

    def _grant(self, member, shift, source, now, attempt_id=None):
        """Take a place inside a larger transaction (the draw): ('booked', booking id) or (why not, None)."""
        if shift["booked"] >= shift["capacity"]:
            return "full", None
        booking_id = new_id()
        try:
            with self.db.session.begin_nested():
                if not self._take_place(member, shift, source, now, booking_id, attempt_id):
                    raise _Full()
        except _Full:
            return "full", None
        except IntegrityError:  # the member holds this shift or an overlapping one
            return self._holding_conflict(member["id"], shift) or "overlap", None
        return "booked", booking_id

    def _holding_conflict(self, member_id, shift):
        rows = self.db.session.execute(select(bookings.c.shift_id).where(
            bookings.c.member_id == member_id, bookings.c.status.in_(domain.HOLDING),
            bookings.c.starts_at < shift["ends_at"], bookings.c.ends_at > shift["starts_at"])).scalars().all()
        if shift["id"] in rows:
            return "already_booked"
        return "overlap" if rows else None

    def _attempt_by_key(self, member_id, key):
        row = self.db.session.execute(select(attempts).where(attempts.c.member_id == member_id,
                                                             attempts.c.idempotency_key == key)).mappings().first()
        return dict(row) if row else None

    def _replay(self, prior, shift_id, shift=None):
        """The answer an earlier attempt with the same Idempotency-Key got (its outcome, if decided since)."""
        if prior is None:  # only a committed attempt makes a key clash, so this cannot happen
            raise RuntimeError("an Idempotency-Key clashed with no attempt")
        if prior["shift_id"] != shift_id:
            raise Invalid("idempotency_key_reused", "این کلید یکتایی پیش‌تر برای کشیک دیگری به کار رفته است.",
                          "This Idempotency-Key was already used for another shift.")
        if prior["status"] == "granted":
            return {"id": prior["booking_id"], "status": "booked", "attempt": prior["id"]}
        if prior["status"] == "pending":
            return self._pending_answer(prior["id"], shift or self._shift(shift_id))
        return {"refused": prior["outcome"], "message_fa": prior["message_fa"], "message_en": prior["message_en"],
                "attempt": prior["id"], "shift": shift_id}

    # -- fair opening: attempts in the window wait for a draw
    def _enter_draw(self, member, shift, key, now):
        session = self.db.session
        attempt_id = new_id()
        try:
            with session.begin_nested():
                session.execute(insert(attempts).values(id=attempt_id, member_id=member["id"], shift_id=shift["id"],
                                                        idempotency_key=key, status="pending", created_at=now))
        except IntegrityError:  # this key again, or this member already in this draw: the same answer
            prior = (self._attempt_by_key(member["id"], key) if key else None) or self._pending_of(member["id"],
                                                                                                   shift["id"])
            if prior is None:
                raise
            return self._replay(prior, shift["id"], shift)
        return self._pending_answer(attempt_id, shift)

    def _pending_of(self, member_id, shift_id):
        row = self.db.session.execute(select(attempts).where(
            attempts.c.member_id == member_id, attempts.c.shift_id == shift_id,
            attempts.c.status == "pending")).mappings().first()
        return dict(row) if row else None

    @staticmethod
    def _pending_answer(attempt_id, shift):
        until = shift["fair_until"]
        return {"status": "pending", "attempt": attempt_id, "draw_at": until,
                "draw_at_jalali": domain.jalali_moment(until) if until else None}

    @timer(interval=1)
    def run_draws(self):
        """Draw every shift whose fair-opening window has closed."""
        due = self.db.session.execute(select(shifts.c.id).where(
            shifts.c.drawn_at.is_(None), shifts.c.fair_until.is_not(None), shifts.c.fair_until <= utcnow())
            .order_by(shifts.c.fair_until).limit(20)).scalars().all()
        self.db.rollback()
        return [shift_id for shift_id in due if self._draw(shift_id)]

    def _draw(self, shift_id):
        """Grant the window's attempts in an order drawn from a secret random seed, recorded for audit."""
        session = self.db.session
        try:
            if self.db.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DRAW_LOCK})
            shift = self._shift(shift_id, lock=True)
            now = utcnow()
            if shift["drawn_at"] is not None or shift["fair_until"] is None or now < shift["fair_until"]:
                self.db.rollback()
                return None
            pending = {r["id"]: dict(r) for r in session.execute(select(attempts).where(
                attempts.c.shift_id == shift["id"], attempts.c.status == "pending")).mappings()}
            entrants = sorted(pending)
            seed = domain.new_seed()
            ordering = domain.draw_order(seed, entrants)
            draw_id = new_id()
            people = self._members_by_id({a["member_id"] for a in pending.values()})
            granted = 0
            for position, attempt_id in enumerate(ordering, 1):
                attempt = pending[attempt_id]
                member = people.get(attempt["member_id"])
                verdict = domain.eligibility(member)
                if not verdict.eligible:
                    outcome, booking_id, fa, en = "not_eligible", None, verdict.fa, verdict.en
                elif not domain.gender_allows(shift["gender"], member["gender"]):
                    outcome, booking_id = "gender_restricted", None
                    fa, en = REFUSALS[outcome]
                else:
                    outcome, booking_id = self._grant(member, shift, "draw", now, attempt_id)
                    fa, en = REFUSALS.get(outcome, (None, None))
                if outcome == "booked":
                    granted += 1
                    shift["booked"] += 1
                session.execute(update(attempts).where(attempts.c.id == attempt_id).values(
                    status="granted" if outcome == "booked" else "refused", outcome=outcome, booking_id=booking_id,
                    message_fa=fa, message_en=en, draw_id=draw_id, draw_position=position, decided_at=now))
            session.execute(insert(draws).values(id=draw_id, shift_id=shift["id"], seed=seed,
                                                 algorithm=domain.DRAW_ALGORITHM, entrants=entrants,
                                                 ordering=ordering, granted=granted, drawn_at=now))
            session.execute(update(shifts).where(shifts.c.id == shift["id"]).values(drawn_at=now))
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        self.cache.clear()
        log.info("draw of shift %s: %d entrants, %d granted, seed %s", shift_id, len(entrants), granted, seed)
        return draw_id

    def _members_by_id(self, ids):
        ids, found = sorted(ids), {}
        for i in range(0, len(ids), 500):
            for row in self.db.session.execute(select(members).where(members.c.id.in_(ids[i:i + 500]))).mappings():
                found[row["id"]] = dict(row)
        return found

    @rpc(expected_exceptions=EXPECTED)
    def attempt(self, actor, attempt_id):
        row = self.db.session.execute(select(attempts).where(attempts.c.id == _key(attempt_id))).mappings().first()
        if row is None or row["member_id"] != actor["id"]:
            self.db.rollback()
            raise NotFound("attempt_not_found", "درخواست رزرو پیدا نشد.", "The booking attempt was not found.")
        shift = self._shift(row["shift_id"])
        self.db.rollback()
        out = dict(row, message=row["message_fa"], draw_at=shift["fair_until"] if row["draw_id"] or
                   row["status"] == "pending" else None)
        return schemas.ShrineAttemptOut().dump(out)

    @rpc(expected_exceptions=EXPECTED)
    def draw(self, actor, shift_id):
        """The record of a shift's draw: seed, entrants and order, so anyone can check it."""
        shift = self._visible_shift(actor, shift_id)
        row = self.db.session.execute(select(draws).where(draws.c.shift_id == shift["id"])).mappings().first()
        self.db.rollback()
        if row is None:
            raise NotFound("draw_not_found", "برای این کشیک قرعه‌کشی انجام نشده است.", "This shift has had no draw.")
        return schemas.ShrineDrawOut().dump(dict(row))

    # ------------------------------------------------------------------------------------------------------
    # cancelling, the waiting list, offers
    # ------------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    @retry_deadlocks
    def cancel(self, actor, booking_id):
        booking = self._own_booking(actor, booking_id)
        if booking["status"] not in domain.HOLDING:
            return {"id": booking["id"], "status": booking["status"]}
        shift = self._shift(booking["shift_id"])
        now = utcnow()
        if booking["status"] == "booked":
            deadline = domain.cancel_deadline(shift["starts_at"], shift["cancel_cutoff_hours"])
            if now > deadline:
                raise Conflict("cancel_cutoff_passed",
                               f"مهلت لغو این کشیک در {domain.jalali_moment_fa(deadline)} به پایان رسیده است.",
                               f"The cancellation deadline of this shift passed at {domain.jalali_moment(deadline)}.",
                               extra={"cancel_deadline": deadline.isoformat()})
            reason = "member"
        else:
            if now >= shift["starts_at"]:
                raise Conflict("booking_closed", *REFUSALS["booking_closed"])
            reason = "offer_declined"
        if not self._release(booking, reason, now):
            booking = self._own_booking(actor, booking_id)
            return {"id": booking["id"], "status": booking["status"]}
        self.cache.clear()
        return {"id": booking["id"], "status": "cancelled"}

    def _own_booking(self, actor, booking_id):
        row = self.db.session.execute(select(bookings).where(bookings.c.id == _key(booking_id))).mappings().first()
        if row is None or row["member_id"] != actor["id"]:
            raise _booking_not_found()
        return dict(row)

    def _release(self, booking, reason, now, to="cancelled"):
        """End a booking or an offer that holds a place; the place passes to the waiting list or back to the shift."""
        session = self.db.session
        done = session.execute(update(bookings).where(bookings.c.id == booking["id"],
                                                      bookings.c.status == booking["status"])
                               .values(status=to, cancelled_at=now, cancel_reason=reason)).rowcount
        if done != 1:
            return False
        self.db.publish(events.ShiftCancelled, {
            "booking_id": booking["id"], "shift_id": booking["shift_id"], "member_id": booking["member_id"],
            "starts_at": booking["starts_at"], "reason": reason}, province=booking["province"])
        if booking["status"] == "offered":
            session.execute(update(waitlist).where(waitlist.c.booking_id == booking["id"]).values(
                status="expired" if to == "expired" else "left", updated_at=now))
        self._pass_on(booking["shift_id"], now)
        return True

    def _pass_on(self, shift_id, now):
        """A place came free: offer it to the first on the waiting list who can take it, else give it back."""
        session = self.db.session
        shift = self._shift(shift_id)
        if now < shift["starts_at"]:
            minutes = self._setting("SHRINE_OFFER_MINUTES", domain.DEFAULT_OFFER_MINUTES)
            line = session.execute(select(waitlist).where(waitlist.c.shift_id == shift_id,
                                                          waitlist.c.status == "waiting")
                                   .order_by(waitlist.c.created_at, waitlist.c.id).limit(50)).mappings().all()
            people = self._members_by_id({w["member_id"] for w in line})
            for entry in line:
                member = people.get(entry["member_id"])
                if not domain.eligibility(member).eligible or not domain.gender_allows(shift["gender"],
                                                                                         member["gender"]):
                    session.execute(update(waitlist).where(waitlist.c.id == entry["id"]).values(
                        status="cancelled", updated_at=now))
                    continue
                if self._holding_conflict(member["id"], shift):
                    continue  # holds another shift at this time: stays in line for a later place
                booking_id = new_id()
                confirm_by = domain.offer_deadline(now, shift["starts_at"], minutes)
                try:
                    with session.begin_nested():
                        taken = session.execute(update(waitlist).where(
                            waitlist.c.id == entry["id"], waitlist.c.status == "waiting").values(
                            status="offered", booking_id=booking_id, updated_at=now)).rowcount
                        if taken != 1:
                            continue
                        session.execute(insert(bookings).values(
                            id=booking_id, shift_id=shift_id, member_id=member["id"], province=member["province"],
                            starts_at=shift["starts_at"], ends_at=shift["ends_at"], status="offered",
                            source="waitlist", confirm_by=confirm_by, created_at=now))
                except IntegrityError:
                    continue
                self.db.publish(events.WaitlistPromoted, {
                    "booking_id": booking_id, "shift_id": shift_id, "member_id": member["id"],
                    "starts_at": shift["starts_at"], "confirm_by": confirm_by}, province=member["province"])
                return booking_id
        session.execute(update(shifts).where(shifts.c.id == shift_id).values(booked=shifts.c.booked - 1))
        return None

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    @retry_deadlocks
    def confirm(self, actor, booking_id):
        """A member promoted from the waiting list takes the offered place."""
        booking = self._own_booking(actor, booking_id)
        if booking["status"] == "booked":
            return {"id": booking["id"], "status": "booked"}
        now = utcnow()
        if booking["status"] != "offered" or now >= booking["confirm_by"]:
            raise Conflict("offer_expired", "مهلت تأیید این پیشنهاد گذشته است و جای آن به نفر بعدی رسیده است.",
                           "The offer has expired and the place passed on.")
        done = self.db.session.execute(update(bookings).where(
            bookings.c.id == booking["id"], bookings.c.status == "offered", bookings.c.confirm_by > now)
            .values(status="booked", confirmed_at=now)).rowcount
        if done != 1:
            raise Conflict("offer_expired", "مهلت تأیید این پیشنهاد گذشته است و جای آن به نفر بعدی رسیده است.",
                           "The offer has expired and the place passed on.")
        self.db.session.execute(update(waitlist).where(waitlist.c.booking_id == booking["id"])
                                .values(status="accepted", updated_at=now))
        shift = self._shift(booking["shift_id"])
        self.db.publish(events.ShiftBooked, {
            "booking_id": booking["id"], "shift_id": shift["id"], "member_id": booking["member_id"],
            "post": shift["post"], "starts_at": shift["starts_at"], "ends_at": shift["ends_at"],
            "source": "waitlist"}, province=booking["province"])
        return {"id": booking["id"], "status": "booked"}

    @timer(interval=5)
    def expire_offers(self):
        """Offers not confirmed in time: the place passes on to the next in line."""
        now = utcnow()
        due = self.db.session.execute(select(bookings).where(
            bookings.c.status == "offered", bookings.c.confirm_by <= now).limit(100)).mappings().all()
        expired = []
        for booking in due:
            if self._release(dict(booking), "offer_expired", now, to="expired"):
                expired.append(booking["id"])
            self.db.commit()
        self.db.rollback()
        if expired:
            self.cache.clear()
        return expired

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    @retry_deadlocks
    def join_waitlist(self, actor, shift_id):
        session = self.db.session
        shift = self._shift(shift_id)
        member = self._member(actor["id"])
        verdict = domain.eligibility(member)
        if not verdict.eligible:
            raise Forbidden("not_eligible", verdict.fa, verdict.en, extra={"reason_code": verdict.code})
        if not domain.gender_allows(shift["gender"], member["gender"]):
            raise _gender_error(shift["gender"])
        now = utcnow()
        stage = domain.phase(shift, now)
        if stage == domain.STARTED:
            raise Conflict("booking_closed", *REFUSALS["booking_closed"])
        if stage != domain.OPEN or shift["booked"] < shift["capacity"]:
            raise Conflict("shift_not_full", "این کشیک هنوز پر نشده است؛ آن را رزرو کنید.",
                           "This shift is not full; book it instead.")
        if self._holding_conflict(member["id"], shift) == "already_booked":
            raise Conflict("already_booked", *REFUSALS["already_booked"])
        entry = self._waiting_entry(member["id"], shift["id"])
        if entry is None:
            entry_id = new_id()
            try:
                with session.begin_nested():
                    session.execute(insert(waitlist).values(id=entry_id, shift_id=shift["id"], member_id=member["id"],
                                                            province=member["province"], status="waiting",
                                                            created_at=now))
            except IntegrityError:
                pass
            entry = self._waiting_entry(member["id"], shift["id"])
        return schemas.ShrineWaitlistOut().dump(dict(entry, position=self._position(entry)))

    def _waiting_entry(self, member_id, shift_id):
        row = self.db.session.execute(select(waitlist).where(
            waitlist.c.member_id == member_id, waitlist.c.shift_id == shift_id,
            waitlist.c.status == "waiting")).mappings().first()
        return dict(row) if row else None

    def _position(self, entry):
        if entry["status"] != "waiting":
            return None
        w = waitlist.c
        return self.db.session.execute(select(func.count()).select_from(waitlist).where(
            w.shift_id == entry["shift_id"], w.status == "waiting",
            or_(w.created_at < entry["created_at"], and_(w.created_at == entry["created_at"], w.id <= entry["id"]))
        )).scalar()

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def leave_waitlist(self, actor, entry_id):
        row = self.db.session.execute(select(waitlist).where(waitlist.c.id == _key(entry_id))).mappings().first()
        if row is None or row["member_id"] != actor["id"]:
            raise NotFound("waitlist_entry_not_found", "نوبت انتظار پیدا نشد.", "The waiting-list entry was not found.")
        self.db.session.execute(update(waitlist).where(waitlist.c.id == row["id"], waitlist.c.status == "waiting")
                                .values(status="left", updated_at=utcnow()))
        return {"id": row["id"], "status": "left" if row["status"] == "waiting" else row["status"]}

    # ------------------------------------------------------------------------------------------------------
    # the member's own bookings, attendance, reminders
    # ------------------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def my_bookings(self, actor, query):
        q = load(schemas.ShrineBookingQuery(), query or {})
        stmt = _status_filter(select(bookings).where(bookings.c.member_id == actor["id"]), q.get("status"))
        rows, nxt = pagination.page(self.db.session, stmt, bookings.c.starts_at, bookings.c.id, q.get("cursor"),
                                    q["limit"])
        by_id = self._shifts_by_id({r["shift_id"] for r in rows})
        self.db.rollback()
        return schemas.ShrineBookingList().dump({"items": [_booking_out(r, by_id.get(r["shift_id"])) for r in rows],
                                           "next": nxt})

    def _shifts_by_id(self, ids):
        if not ids:
            return {}
        return {r["id"]: dict(r) for r in self.db.session.execute(
            select(shifts).where(shifts.c.id.in_(sorted(ids)))).mappings()}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    @retry_deadlocks
    def record_attendance(self, actor, shift_id, data):
        body = load(schemas.ShrineAttendanceIn(), data)
        shift = self._visible_shift(actor, shift_id)
        session = self.db.session
        row = session.execute(select(bookings).where(bookings.c.id == _key(body["booking"]),
                                                     bookings.c.shift_id == shift["id"])).mappings().first()
        if row is None:
            raise NotFound("booking_not_found", "این رزرو در این کشیک پیدا نشد.", "The booking is not on this shift.",
                           fields={"booking": {"fa": "پیدا نشد.", "en": "Not found."}})
        if row["status"] != "booked":
            raise Conflict("not_booked", "این رزرو فعال نیست (لغو شده یا تأیید نشده).",
                           "This booking is not active (cancelled or never confirmed).")
        now = utcnow()
        if now < shift["starts_at"]:
            raise Conflict("shift_not_started",
                           f"حضور و غیاب از آغاز کشیک ({domain.jalali_moment_fa(shift['starts_at'])}) ثبت می‌شود.",
                           "Attendance is recorded from the start of the shift "
                           f"({domain.jalali_moment(shift['starts_at'])}).")
        done = session.execute(update(bookings).where(bookings.c.id == row["id"], bookings.c.present.is_(None))
                               .values(present=body["present"], attendance_at=now)).rowcount
        if done != 1:
            recorded = session.execute(select(bookings.c.present).where(bookings.c.id == row["id"])).scalar()
            if recorded != body["present"]:
                raise Conflict("attendance_recorded", "حضور و غیاب این رزرو پیش‌تر به گونه‌ای دیگر ثبت شده است.",
                               "Attendance of this booking was already recorded otherwise.")
            member = self._member(row["member_id"])
            return {"booking": row["id"], "present": recorded, "absences": member["absences"] if member else 0}
        member = self._member_for_update(row["member_id"], row["province"])
        absences = member["absences"]
        if not body["present"]:
            absences += 1
            session.execute(update(members).where(members.c.id == member["id"]).values(
                absences=members.c.absences + 1, updated_at=now))
            province = member["province"] or row["province"]
            self.db.publish(events.AbsenceRecorded, {
                "booking_id": row["id"], "shift_id": shift["id"], "member_id": member["id"],
                "starts_at": shift["starts_at"], "absences": absences}, province=province)
            if domain.flags_review(absences):
                code, fa, en = domain.review_reason(absences)
                self.db.publish(events.MemberFlaggedForReview, {
                    "member_id": member["id"], "reason_code": code, "reason": fa, "reason_en": en,
                    "absences": absences, "shift_id": shift["id"]}, province=province)
        return {"booking": row["id"], "present": body["present"], "absences": absences}

    @timer(interval=60)
    def send_reminders(self):
        """ShiftReminderDue for each booked place whose shift starts within the reminder window (a day)."""
        now = utcnow()
        hours = self._setting("SHRINE_REMINDER_HOURS", domain.DEFAULT_REMINDER_HOURS)
        session = self.db.session
        due = session.execute(select(bookings, shifts.c.post).join(shifts, shifts.c.id == bookings.c.shift_id).where(
            bookings.c.status == "booked", bookings.c.reminded_at.is_(None), bookings.c.starts_at > now,
            bookings.c.starts_at <= now + dt.timedelta(hours=hours)).limit(1000)).mappings().all()
        sent = []
        for row in due:
            done = session.execute(update(bookings).where(bookings.c.id == row["id"], bookings.c.reminded_at.is_(None))
                                   .values(reminded_at=now)).rowcount
            if done != 1:
                continue
            self.db.publish(events.ShiftReminderDue, {
                "booking_id": row["id"], "shift_id": row["shift_id"], "member_id": row["member_id"],
                "post": row["post"], "starts_at": row["starts_at"],
                "starts_at_jalali": domain.jalali_moment(row["starts_at"])}, province=row["province"])
            sent.append(row["id"])
        self.db.commit()
        return sent

    # -- the member's part of GET /me
    @rpc(expected_exceptions=EXPECTED)
    def me_part(self, actor):
        if actor.get("role") != "member":
            return None
        session = self.db.session
        member = self._member(actor["id"])
        now = utcnow()
        upcoming = session.execute(select(bookings).where(
            bookings.c.member_id == actor["id"], bookings.c.status.in_(domain.HOLDING), bookings.c.ends_at > now)
            .order_by(bookings.c.starts_at).limit(5)).mappings().all()
        waiting = session.execute(select(waitlist).where(waitlist.c.member_id == actor["id"],
                                                         waitlist.c.status == "waiting")
                                  .order_by(waitlist.c.created_at).limit(20)).mappings().all()
        by_id = self._shifts_by_id({r["shift_id"] for r in upcoming})
        entries = [dict(w, position=self._position(dict(w))) for w in waiting]
        self.db.rollback()
        return schemas.ShrineMePart().dump({
            "eligibility": _eligibility_out(member),
            "next_shifts": [_booking_out(r, by_id.get(r["shift_id"])) for r in upcoming],
            "waitlist": entries})


def _key(value):
    """An id from a path or body: ours are 32 hex characters; anything else matches nothing (and never reaches
    the database driver, which refuses some characters outright)."""
    value = str(value)
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else "-"


class _Full(Exception):
    """The conditional update found no place left (rolls the savepoint back)."""


def _idempotency_key(value):
    if value is None or value == "":
        return None
    value = str(value).strip()
    if not value or len(value) > 64 or not value.isprintable() or not value.isascii():
        raise Invalid("invalid_idempotency_key", "کلید یکتایی (Idempotency-Key) معتبر نیست (حداکثر ۶۴ نویسه).",
                      "The Idempotency-Key is not valid (at most 64 printable ASCII characters).")
    return value


def _moment(value):
    if not value:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return utcnow()
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _status_filter(stmt, status):
    if status == "holding":
        return stmt.where(bookings.c.status.in_(domain.HOLDING))
    if status:
        return stmt.where(bookings.c.status == status)
    return stmt


def _eligibility_out(member):
    verdict = domain.eligibility(member)
    return {"eligible": verdict.eligible, "code": verdict.code, "reason": verdict.fa, "reason_en": verdict.en,
            "since": member.get("eligible_since") if member and verdict.eligible else None,
            "gender": member.get("gender") if member else None,
            "absences": member.get("absences", 0) if member else 0}


def _shift_out(row, now):
    out = dict(row)
    out["remaining"] = max(0, row["capacity"] - row["booked"])
    out["starts_at_jalali"] = domain.jalali_moment(row["starts_at"])
    out["ends_at_jalali"] = domain.jalali_moment(row["ends_at"])
    out["opens_at_jalali"] = domain.jalali_moment(row["opens_at"]) if row["opens_at"] else None
    out["phase"] = domain.phase(row, now)
    return out


def _booking_out(row, shift=None):
    out = dict(row)
    out["starts_at_jalali"] = domain.jalali_moment(row["starts_at"])
    out["confirm_by_jalali"] = domain.jalali_moment(row["confirm_by"]) if row["confirm_by"] else None
    if shift is not None:
        out["post"] = shift["post"]
        deadline = domain.cancel_deadline(shift["starts_at"], shift["cancel_cutoff_hours"])
        out["cancel_deadline"] = deadline
        out["cancel_deadline_jalali"] = domain.jalali_moment(deadline)
    return out

