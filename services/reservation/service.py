"""Reservation service (رزرو خدمت): the centres' beneficiaries, and reservations of approved offers."""
import logging
import os

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from kit import pagination
from kit.db import Database, UTCDateTime, new_id, one_of, retry_deadlocks, transactional, utcnow
from kit.errors import EXPECTED, Conflict, Invalid, NotFound
from kit.events import on_event
from kit.persian import parse_datetime, to_jalali
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.reservation import domain, events, schemas
from services.reservation.models import beneficiaries, metadata, offers, reservations

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def _beneficiary_not_found():
    return NotFound("beneficiary_not_found", "نیازمند پیدا نشد.", "The beneficiary was not found.")


def _reservation_not_found():
    return NotFound("reservation_not_found", "رزرو پیدا نشد.", "The reservation was not found.")


def _member_busy():
    return Conflict("member_busy", "در این زمان خدمت پذیرفته‌شده دیگری دارید.",
                    "You have accepted another reservation at an overlapping time.")


def _reservation_query():
    return (select(reservations, offers.c.service_id, offers.c.service_name, offers.c.field_name)
            .join(offers, offers.c.offer_id == reservations.c.offer_id))


def _reservation_out(row):
    return dict(row, starts_at_jalali=to_jalali(row["starts_at"]), cancel_note=domain.cancel_note(row["cancel_reason"]))


def _offer_clash(offer_id, starts_at, ends_at):
    """The reservations that hold an offer's time overlapping [starts_at, ends_at)."""
    return select(reservations.c.starts_at, reservations.c.ends_at).where(
        reservations.c.offer_id == offer_id, one_of(reservations.c.status, domain.HOLDING),
        reservations.c.starts_at < ends_at, reservations.c.ends_at > starts_at)


# The statements of the story path, built once: a request only binds its values, so SQLAlchemy reuses the compiled
# statement without building it and its cache key again (a third of a millisecond each, on every call).
_HERE = exists().where(beneficiaries.c.id == bindparam("beneficiary"), beneficiaries.c.province == bindparam("province"),
                       beneficiaries.c.county == bindparam("county"), beneficiaries.c.center == bindparam("center"))
# ``prepare``: the statements of the story path are planned once per connection on PostgreSQL, kit/db.py;
# planning them cost PostgreSQL 0.2–0.35 ms each, more than running them.
# the offer, and whether the beneficiary is the centre's
_OFFER_TO_RESERVE = select(offers.c.offer_id, offers.c.status, offers.c.member_id, offers.c.province,
                           offers.c.county, _HERE.label("beneficiary_here")).where(
    offers.c.offer_id == bindparam("offer"))
_OFFER_TO_RESERVE_LOCKED = _OFFER_TO_RESERVE.with_for_update(of=offers).execution_options(prepare="reservation_offer")
# a new reservation, written only when no reservation holding the offer overlaps it
_NEW = {c: bindparam(f"new_{c}", type_=reservations.c[c].type) for c in (
    "id", "offer_id", "beneficiary_id", "member_id", "province", "county", "center", "starts_at", "ends_at", "place",
    "status", "created_by", "created_at")}
_RESERVE = insert(reservations).from_select(list(_NEW), select(*[b.label(c) for c, b in _NEW.items()]).where(
    ~exists(_offer_clash(_NEW["offer_id"], _NEW["starts_at"], _NEW["ends_at"])))).execution_options(
    prepare="reservation_reserve")
# the offer of the member's reservation
_OFFER_OF = select(offers.c.status, offers.c.service_id, offers.c.service_name).where(
    offers.c.offer_id == select(reservations.c.offer_id).where(
        reservations.c.id == bindparam("reservation"), reservations.c.member_id == bindparam("member"))
    .scalar_subquery())
_OFFER_OF_LOCKED = _OFFER_OF.with_for_update(read=True).execution_options(prepare="reservation_offer_of")
# accepted only while still an invitation and while the member holds no other accepted reservation at an overlapping
# time (the database refuses the overlap all the same: exclusion constraint, SQLite triggers)
_other = reservations.alias("other")
_ACCEPT = update(reservations).where(
    reservations.c.id == bindparam("reservation"), reservations.c.member_id == bindparam("member"),
    reservations.c.status == "invited",
    ~exists().where(_other.c.member_id == reservations.c.member_id, _other.c.status == "accepted",
                    _other.c.starts_at < reservations.c.ends_at, _other.c.ends_at > reservations.c.starts_at),
).values(status="accepted", responded_at=bindparam("at", type_=UTCDateTime())).returning(*reservations.c) \
    .execution_options(prepare="reservation_accept")


def _scoped(stmt, table, scope):
    for key, value in scope.items():
        stmt = stmt.where(table.c[key] == value)
    return stmt


class ReservationService(ServiceBase):
    name = "reservation"
    db = Database(metadata, MIGRATIONS)

    # -- beneficiaries (نیازمندان) of a neighbourhood centre
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_beneficiary(self, actor, data):
        body = load(schemas.BeneficiaryIn(), data)
        province, county, center = domain.centre_of(actor)
        if not (province and county and center):
            raise NotFound("centre_not_found", "کانون محله‌ای شما مشخص نیست.", "Your centre is not known.")
        bid = new_id()
        self.db.session.execute(insert(beneficiaries).values(
            id=bid, province=province, county=county, center=center, created_by=actor["id"], created_at=utcnow(),
            **body))
        return {"id": bid}

    @rpc(expected_exceptions=EXPECTED)
    def list_beneficiaries(self, actor, query):
        q = load(schemas.ListQuery(), query or {})
        stmt = _scoped(select(beneficiaries), beneficiaries, domain.centre_scope(actor))
        rows, nxt = pagination.page(self.db.session, stmt, beneficiaries.c.created_at, beneficiaries.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        return schemas.BeneficiaryList().dump({"items": [dict(r) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def get_beneficiary(self, actor, beneficiary_id):
        row = self.db.session.execute(select(beneficiaries).where(
            beneficiaries.c.id == str(beneficiary_id))).mappings().first()
        self.db.rollback()
        if row is None or not domain.sees_centre_record(actor, row):
            raise _beneficiary_not_found()
        return schemas.BeneficiaryOut().dump(dict(row))

    # -- reserving (رزرو)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def reserve(self, actor, data):
        body = load(schemas.ReservationIn(), data)
        problem = domain.window_problem(body["starts_at"], body["ends_at"], utcnow())
        if problem:
            raise Invalid("validation_failed", problem[1], problem[2],
                          fields={problem[0]: {"fa": problem[1], "en": problem[2]}})
        session = self.db.session
        province, county, center = domain.centre_of(actor)
        # one statement: the offer, locked (its row is its lock: one reservation of an offer at a time decides;
        # SQLite's BEGIN IMMEDIATE already serialises every writer), and whether the beneficiary is this centre's
        place = {"beneficiary": body["beneficiary"], "province": province, "county": county, "center": center}
        stmt = _OFFER_TO_RESERVE_LOCKED if self.db.dialect == "postgresql" else _OFFER_TO_RESERVE
        offer = session.execute(stmt, dict(place, offer=body["offer"])).mappings().first()
        if not (offer["beneficiary_here"] if offer is not None else session.execute(select(_HERE), place).scalar()):
            raise _beneficiary_not_found()
        if not domain.may_reserve(actor, offer):
            raise NotFound("offer_not_available",
                           "این خدمت در شهرستان شما برای رزرو در دسترس نیست (اگر همین حالا تأیید شده، چند لحظه دیگر "
                           "دوباره تلاش کنید).",
                           "This offer is not available for reservation in your county (if it was just approved, "
                           "try again in a moment).")
        # the overlap check and the insert in one statement, after the offer's lock (so it sees every reservation
        # of the offer committed before): nothing is written when the offer's time is already held
        rid = new_id()
        values = {"id": rid, "offer_id": offer["offer_id"], "beneficiary_id": body["beneficiary"],
                  "member_id": offer["member_id"], "province": province, "county": county, "center": center,
                  "starts_at": body["starts_at"], "ends_at": body["ends_at"], "place": body["place"],
                  "status": "invited", "created_by": actor["id"], "created_at": utcnow()}
        if session.execute(_RESERVE, {f"new_{c}": v for c, v in values.items()}).rowcount != 1:
            held = session.execute(_offer_clash(offer["offer_id"], body["starts_at"], body["ends_at"])
                                   .limit(1)).mappings().first()
            raise Conflict("offer_already_booked",
                           f"این خدمت در {to_jalali(held['starts_at'])} برای همین زمان رزرو شده است؛ زمان دیگری "
                           "برگزینید.",
                           "This offer is already reserved for an overlapping time; choose another time.",
                           extra={"starts_at": held["starts_at"].isoformat(), "ends_at": held["ends_at"].isoformat()})
        self.db.publish(events.ReservationCreated, {
            "reservation_id": rid, "offer_id": offer["offer_id"], "member_id": offer["member_id"], "county": county,
            "center": center, "starts_at": body["starts_at"], "ends_at": body["ends_at"]}, province=province)
        return {"id": rid, "status": "invited"}

    @rpc(expected_exceptions=EXPECTED)
    def list_reservations(self, actor, query):
        """A centre's reservations (its province's office: the province's)."""
        q = load(schemas.ReservationQuery(), query or {})
        stmt = _scoped(_reservation_query(), reservations, domain.centre_scope(actor))
        if q.get("status"):
            stmt = stmt.where(reservations.c.status == q["status"])
        rows, nxt = pagination.page(self.db.session, stmt, reservations.c.created_at, reservations.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        return schemas.ReservationList().dump({"items": [_reservation_out(r) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def my_reservations(self, actor, query=None):
        q = load(schemas.ReservationQuery(), query or {})
        stmt = _reservation_query().where(reservations.c.member_id == actor["id"])
        if q.get("status"):
            stmt = stmt.where(reservations.c.status == q["status"])
        rows, nxt = pagination.page(self.db.session, stmt, reservations.c.created_at, reservations.c.id,
                                    q.get("cursor"), q["limit"])
        self.db.rollback()
        return schemas.ReservationList().dump({"items": [_reservation_out(r) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def me_reservations(self, actor):
        """The member's last reservations for ``GET /me``."""
        if actor.get("role") != "member":
            return []
        rows = self.db.session.execute(_reservation_query().where(reservations.c.member_id == actor["id"])
                                       .order_by(reservations.c.starts_at.desc()).limit(20)).mappings().all()
        self.db.rollback()
        return schemas.ReservationOut(many=True).dump([_reservation_out(r) for r in rows])

    @rpc(expected_exceptions=EXPECTED)
    def get_reservation(self, actor, reservation_id):
        row = self.db.session.execute(_reservation_query().where(
            reservations.c.id == str(reservation_id))).mappings().first()
        self.db.rollback()
        if row is None or not (row["member_id"] == actor["id"] or domain.sees_centre_record(actor, row)):
            raise _reservation_not_found()
        return schemas.ReservationOut().dump(_reservation_out(row))

    # -- the member's answer
    def _invitation(self, actor, reservation_id):
        stmt = select(reservations).where(reservations.c.id == str(reservation_id))
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.db.session.execute(stmt).mappings().first()
        if row is None or row["member_id"] != actor["id"]:
            raise _reservation_not_found()
        if row["status"] != "invited":
            raise Conflict("reservation_not_invited", "به این دعوت پیش‌تر پاسخ داده شده است.",
                           "This invitation was already answered.", extra={"status": row["status"]})
        return row

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    @retry_deadlocks  # two accepts of one member at overlapping times can wait for each other's exclusion check
    def accept(self, actor, reservation_id):
        session = self.db.session
        rid = str(reservation_id)
        # the offer's row first, then the reservation's, in the order reserving and cancelling take them: an accept
        # racing a withdrawal or a suspension waits for it and then finds the offer ended
        which = {"reservation": rid, "member": actor["id"]}
        stmt = _OFFER_OF_LOCKED if self.db.dialect == "postgresql" else _OFFER_OF
        offer = session.execute(stmt, which).mappings().first()
        if offer is None:
            raise _reservation_not_found()
        if offer["status"] != "approved":
            self._invitation(actor, rid)  # an invitation answered or cancelled says so first
            raise Conflict("offer_no_longer_available", "این خدمت دیگر فعال نیست.", "This offer is no longer active.")
        try:
            row = session.execute(_ACCEPT, dict(which, at=utcnow())).mappings().first()
        except IntegrityError:  # another accept of this member, at an overlapping time, committed first
            self.db.rollback()
            raise _member_busy() from None
        if row is None:
            self._invitation(actor, rid)  # not the member's, or answered already
            raise _member_busy()
        self.db.publish(events.ReservationAccepted, {
            "reservation_id": row["id"], "offer_id": row["offer_id"], "member_id": row["member_id"],
            "county": row["county"], "center": row["center"], "service_id": offer["service_id"],
            "service_name": offer["service_name"], "starts_at": row["starts_at"], "ends_at": row["ends_at"]},
            province=row["province"])
        return {"id": row["id"], "status": "accepted"}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def decline(self, actor, reservation_id, data=None):
        body = load(schemas.DeclineIn(), data or {})
        row = self._invitation(actor, reservation_id)
        self.db.session.execute(update(reservations).where(reservations.c.id == row["id"],
                                                           reservations.c.status == "invited")
                                .values(status="declined", responded_at=utcnow(), decline_reason=body.get("reason")))
        self.db.publish(events.ReservationDeclined, {
            "reservation_id": row["id"], "offer_id": row["offer_id"], "member_id": row["member_id"],
            "reason": body.get("reason")}, province=row["province"])
        return {"id": row["id"], "status": "declined"}

    # -- the projection of catalog's approved offers (events may arrive in any order across types)
    @on_event("catalog", "OfferApproved")
    def offer_approved(self, envelope):
        p = envelope["payload"]
        session = self.db.session
        existing = session.execute(select(offers.c.status).where(offers.c.offer_id == p["offer_id"])).scalar()
        values = {"member_id": p["member_id"], "province": envelope["province"], "county": p["county"],
                  "field_id": p["field_id"], "field_name": p["field_name"], "service_id": p["service_id"],
                  "service_name": p["service_name"], "details": p["details"], "availability": p.get("availability"),
                  "phone": p["phone"], "approved_at": parse_datetime(p["approved_at"]), "updated_at": utcnow()}
        if existing is None:
            session.execute(insert(offers).values(offer_id=p["offer_id"], status="approved", **values))
        else:  # already ended (its end overtook the approval): keep the end, complete the facts
            session.execute(update(offers).where(offers.c.offer_id == p["offer_id"]).values(**values))

    def _offer_ended(self, envelope, status, reason):
        """The offer leaves the bookable list, and its open reservations are cancelled: nobody could accept an
        invitation of an ended offer, and the centre must book another one for its beneficiary."""
        p = envelope["payload"]
        session = self.db.session
        now = utcnow()
        # the offer's row first (an accept or a reservation racing this waits for it), then its reservations
        if session.execute(select(offers.c.offer_id).where(offers.c.offer_id == p["offer_id"])).first():
            session.execute(update(offers).where(offers.c.offer_id == p["offer_id"])
                            .values(status=status, updated_at=now))
        else:  # its end overtook its approval: a tombstone, and no reservation of it can exist yet
            session.execute(insert(offers).values(offer_id=p["offer_id"], status=status, member_id=p["member_id"],
                                                  province=envelope["province"], updated_at=now))
            return
        self._cancel_open(reservations.c.offer_id == p["offer_id"], reason, now)

    @on_event("catalog", "OfferWithdrawn")
    def offer_withdrawn(self, envelope):
        p = envelope["payload"]
        if p.get("previous_status") == "pending_review":
            return  # never approved: never reservable
        # withdrawn by the member, or by catalog because membership stopped the member (then say so)
        reason = p.get("reason") if p.get("reason") in ("suspended", "deactivated") else "offer_withdrawn"
        self._offer_ended(envelope, "withdrawn", reason)

    @on_event("catalog", "OfferCompleted")
    def offer_completed(self, envelope):
        self._offer_ended(envelope, "completed", "offer_completed")

    # -- membership suspended or deactivated a member: their offers leave the list, their future reservations end
    def _member_stopped(self, envelope, reason):
        member_id = envelope["payload"]["member_id"]
        session = self.db.session
        now = utcnow()
        session.execute(update(offers).where(offers.c.member_id == member_id, offers.c.status == "approved")
                        .values(status="withdrawn", updated_at=now))
        self._cancel_open(reservations.c.member_id == member_id, reason, now)

    def _cancel_open(self, which, reason, now):
        """Cancel the open reservations (invited, or accepted and still to come) among ``which``, each announced by
        ReservationCancelled. Called after the offers' rows were written, so an accept racing this waits for it."""
        session = self.db.session
        candidates = session.execute(select(reservations).where(
            which, reservations.c.status.in_(domain.HOLDING))).mappings().all()
        for row in candidates:
            if not domain.still_open(row["status"], row["starts_at"], now):
                continue
            done = session.execute(update(reservations).where(reservations.c.id == row["id"],
                                                              reservations.c.status == row["status"])
                                   .values(status="cancelled", cancelled_at=now, cancel_reason=reason)).rowcount
            if done == 1:
                self.db.publish(events.ReservationCancelled, {
                    "reservation_id": row["id"], "offer_id": row["offer_id"], "member_id": row["member_id"],
                    "county": row["county"], "center": row["center"], "previous_status": row["status"],
                    "starts_at": row["starts_at"], "ends_at": row["ends_at"], "reason": reason},
                    province=row["province"])

    @on_event("membership", "MemberSuspended")
    def member_suspended(self, envelope):
        self._member_stopped(envelope, "suspended")

    @on_event("membership", "MemberDeactivated")
    def member_deactivated(self, envelope):
        self._member_stopped(envelope, "deactivated")
