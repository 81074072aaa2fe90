"""Catalog service (عرصه‌ها و خدمات): fields and their services, readiness, offers and their review."""
import base64
import binascii
import hashlib
import logging
import os
import time

from nameko.dependency_providers import Config
from nameko.timer import timer
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kit import pagination
from kit.db import Database, new_id, transactional, utcnow
from kit.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound
from kit.events import on_event
from kit.persian import parse_datetime, to_jalali
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.catalog import domain, events, schemas
from services.catalog.models import fields, members, metadata, offer_documents, offers, readiness, services, staff_grants

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
DEFAULT_DOCUMENTS_DIR = os.path.join("var", "documents")
PART = ".part"                  # a document's bytes until its row is committed
DOCUMENTS_TIDY_SECONDS = 3600
STALE_PART_SECONDS = 3600


def _discard(staged):
    for temp, _target in staged:
        try:
            os.remove(temp)
        except FileNotFoundError:
            pass


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except FileNotFoundError:
        return None


def _field_error(name, fa, en):
    return {name: {"fa": fa, "en": en}}


def _membership_not_known():
    return Conflict("membership_not_known",
                    "عضویت شما هنوز به بخش عرصه‌ها و خدمات نرسیده است؛ چند لحظه دیگر دوباره تلاش کنید.",
                    "Your membership is not yet known to the catalog; try again in a moment.")


def _offer_not_found():
    return NotFound("offer_not_found", "پیشنهاد خدمت پیدا نشد.", "The offer was not found.")


def _document_not_found():
    return NotFound("document_not_found", "مدرک پیدا نشد.", "The document was not found.")


def _may_offer(member):
    """A suspended or deactivated member offers nothing new (what already runs is withdrawn by the status events).
    The status is catalog's own projection of membership's events: no question to membership per offer."""
    if member["status"] == "suspended":
        raise Forbidden("member_suspended",
                        "عضویت شما در پی بازنگری تعلیق شده است و تا رفع تعلیق نمی‌توانید خدمت تازه‌ای انتخاب کنید.",
                        "Your membership is suspended after a review; you cannot offer a new service until the "
                        "suspension is lifted.")
    if member["status"] == "deactivated":
        raise Forbidden("member_deactivated", "عضویت شما غیرفعال شده است.", "Your membership has been deactivated.")


def _offer_query():
    """Offers with their service and field names and their number of documents."""
    docs = (select(func.count()).select_from(offer_documents)
            .where(offer_documents.c.offer_id == offers.c.id).scalar_subquery())
    return (select(offers, services.c.name.label("service_name"), services.c.requires_documents,
                   fields.c.name.label("field_name"), docs.label("documents"))
            .join(services, services.c.id == offers.c.service_id)
            .join(fields, fields.c.id == offers.c.field_id))


class CatalogService(ServiceBase):
    name = "catalog"
    db = Database(metadata, MIGRATIONS)
    config = Config()

    # -- fields and services (عرصه‌ها و خدمات)
    @rpc(expected_exceptions=EXPECTED)
    def list_fields(self):
        session = self.db.session
        rows = session.execute(select(fields).order_by(fields.c.kind, fields.c.name)).mappings().all()
        svc = session.execute(select(services).order_by(services.c.name)).mappings().all()
        self.db.rollback()
        by_field = {}
        for s in svc:
            by_field.setdefault(s["field_id"], []).append(dict(s))
        items = [dict(r, services=by_field.get(r["id"], [])) for r in rows]
        return schemas.FieldList().dump({"items": items, "next": None})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_field(self, actor, data):
        body = load(schemas.FieldIn(), data)
        fid = new_id()
        try:
            self.db.session.execute(insert(fields).values(id=fid, name=body["name"], kind=body["kind"],
                                                          created_at=utcnow()))
            self.db.session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("duplicate_field", "عرصه‌ای با این نام وجود دارد.", "A field with this name exists.",
                           fields=_field_error("name", "تکراری است.", "Already exists.")) from None
        return {"id": fid}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_service(self, actor, field_id, data):
        body = load(schemas.ServiceIn(), data)
        session = self.db.session
        if session.execute(select(fields.c.id).where(fields.c.id == str(field_id))).first() is None:
            raise NotFound("field_not_found", "عرصه پیدا نشد.", "The field was not found.")
        sid = new_id()
        try:
            session.execute(insert(services).values(id=sid, field_id=str(field_id), created_at=utcnow(), **body))
            session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("duplicate_service", "خدمتی با این نام در این عرصه وجود دارد.",
                           "A service with this name exists in this field.",
                           fields=_field_error("name", "تکراری است.", "Already exists.")) from None
        return {"id": sid}

    # -- the provincial office's grant of the staff field (عرصه ستادی)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def grant_staff_field(self, actor, member_id):
        session = self.db.session
        member = self._known_member(str(member_id))
        if member is None or not (actor["role"] == "admin" or actor.get("province") == member["province"]):
            raise NotFound("member_not_found",
                           "خادمیار پیدا نشد (اگر تازه فعال شده، چند لحظه دیگر دوباره تلاش کنید).",
                           "The member was not found (if just activated, try again in a moment).")
        existing = session.execute(select(staff_grants).where(
            staff_grants.c.member_id == member["member_id"])).mappings().first()
        if existing:
            return schemas.StaffGrantOut().dump({"member_id": member["member_id"], "staff_field": True,
                                                 "granted_at": existing["granted_at"]})
        now = utcnow()
        try:
            session.execute(insert(staff_grants).values(member_id=member["member_id"], province=member["province"],
                                                        granted_by=actor["id"], granted_at=now))
            session.flush()
        except IntegrityError:  # granted at the same instant by someone else: the same outcome
            self.db.rollback()
            return schemas.StaffGrantOut().dump({"member_id": member["member_id"], "staff_field": True,
                                                 "granted_at": now})
        self.db.publish(events.StaffFieldGranted, {"member_id": member["member_id"], "granted_by": actor["id"]},
                        province=member["province"])
        return schemas.StaffGrantOut().dump({"member_id": member["member_id"], "staff_field": True,
                                             "granted_at": now})

    # -- readiness (اعلام آمادگی)
    def _known_member(self, member_id, lock=False):
        """The member's row once MemberActivated has arrived (a row made by a status event alone is not yet one)."""
        stmt = select(members).where(members.c.member_id == member_id, members.c.activated_at.is_not(None))
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update(read=True)
        return self.db.session.execute(stmt).mappings().first()

    def _member(self, actor, lock=False):
        row = self._known_member(actor["id"], lock)
        if row is None:
            raise _membership_not_known()
        return row

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def declare_readiness(self, actor, data):
        body = load(schemas.ReadinessIn(), data)
        session = self.db.session
        member = self._member(actor)
        if body["province"] != member["province"]:
            raise Invalid("not_your_province", "استان باید استان عضویت شما باشد.",
                          "The province must be the one you are a member in.",
                          fields=_field_error("province", "استان عضویت شما نیست.", "Not your province."))
        field = session.execute(select(fields).where(fields.c.id == body["field"])).mappings().first()
        if field is None:
            raise Invalid("validation_failed", "عرصه شناخته نیست.", "Unknown field.",
                          fields=_field_error("field", "عرصه شناخته نیست.", "Unknown field."))
        if field["kind"] == "staff" and session.execute(select(staff_grants.c.member_id).where(
                staff_grants.c.member_id == actor["id"])).first() is None:
            raise Forbidden("staff_field_not_granted",
                            "عرصه ستادی فقط برای خادمیاران ستادی دفتر نمایندگی استان است و باید نخست نمایندگی استان "
                            "آن را برای شما فعال کند.",
                            "The staff field is only for staff of the provincial office, once the office grants it.")
        stmt = select(readiness).where(readiness.c.member_id == actor["id"])
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        current = session.execute(stmt).mappings().first()
        now = utcnow()
        kind = domain.field_change(current and current["field_id"], current and current["locked_until"],
                                   field["id"], now)
        place = {"province": body["province"], "county": body["county"], "declared_at": now}
        if kind == "locked":
            unlock = current["locked_until"]
            raise Conflict("field_locked",
                           f"عرصه انتخاب‌شده تا شش ماه قابل تغییر نیست؛ از {to_jalali(unlock)} می‌توانید آن را تغییر دهید.",
                           f"Your field is locked for six months; you may change it from {unlock.date().isoformat()}.",
                           fields=_field_error("field", f"تا {to_jalali(unlock)} قابل تغییر نیست.",
                                               f"Locked until {unlock.date().isoformat()}."),
                           extra={"locked_until": unlock.isoformat(), "locked_until_jalali": to_jalali(unlock)})
        if kind == "new":
            values = dict(place, member_id=actor["id"], field_id=field["id"], field_since=now,
                          locked_until=domain.lock_until(now), active_offers=0)
            try:
                session.execute(insert(readiness).values(**values))
                session.flush()
            except IntegrityError:
                self.db.rollback()
                raise Conflict("concurrent_update", "هم‌زمان تغییر دیگری ثبت شد؛ دوباره تلاش کنید.",
                               "Another change was saved at the same time; try again.") from None
            locked = values["locked_until"]
        elif kind == "same":
            session.execute(update(readiness).where(readiness.c.member_id == actor["id"]).values(**place))
            locked = current["locked_until"]
        else:  # a new field after the lock: only with no offer still running in the old one
            locked = domain.lock_until(now)
            changed = session.execute(update(readiness).where(readiness.c.member_id == actor["id"],
                                                              readiness.c.active_offers == 0)
                                      .values(field_id=field["id"], field_since=now, locked_until=locked,
                                              **place)).rowcount
            if changed != 1:
                raise Conflict("offers_still_active",
                               "تا پایان یا انصراف از خدمت‌های فعلی نمی‌توانید عرصه را تغییر دهید.",
                               "Complete or withdraw your current offers before changing your field.")
        self.db.publish(events.ReadinessDeclared, {"member_id": actor["id"], "county": body["county"],
                                                   "field_id": field["id"], "field_kind": field["kind"],
                                                   "locked_until": locked}, province=member["province"])
        return schemas.ReadinessOut().dump({
            "province": body["province"], "county": body["county"], "field": field["id"],
            "field_name": field["name"], "field_kind": field["kind"], "declared_at": now, "locked_until": locked,
            "locked_until_jalali": to_jalali(locked),
            "active_offers": current["active_offers"] if current and kind != "change" else 0})

    def _readiness_out(self, member_id):
        row = self.db.session.execute(
            select(readiness, fields.c.name.label("field_name"), fields.c.kind.label("field_kind"))
            .join(fields, fields.c.id == readiness.c.field_id)
            .where(readiness.c.member_id == member_id)).mappings().first()
        if row is None:
            return None
        return schemas.ReadinessOut().dump(dict(row, field=row["field_id"],
                                                locked_until_jalali=to_jalali(row["locked_until"])))

    @rpc(expected_exceptions=EXPECTED)
    def me_readiness(self, actor):
        """The member's readiness for ``GET /me`` (None before declaring, and for staff)."""
        if actor.get("role") != "member":
            return None
        out = self._readiness_out(actor["id"])
        self.db.rollback()
        return out

    @rpc(expected_exceptions=EXPECTED)
    def my_readiness(self, actor):
        out = self._readiness_out(actor["id"])
        self.db.rollback()
        if out is None:
            raise NotFound("readiness_not_declared", "هنوز اعلام آمادگی نکرده‌اید.",
                           "You have not declared readiness yet.")
        return out

    # -- offers (پیشنهاد خدمت)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_offer(self, actor, data):
        body = load(schemas.OfferIn(), data)
        session = self.db.session
        # the member's row shared-locked: a suspension being written waits for this offer (and then withdraws it),
        # or this offer waits for the suspension and is refused
        member = self._member(actor, lock=True)
        _may_offer(member)
        ready = session.execute(select(readiness).where(readiness.c.member_id == actor["id"])).mappings().first()
        if ready is None:
            raise Conflict("readiness_required", "نخست اعلام آمادگی کنید و عرصه خود را برگزینید.",
                           "Declare your readiness and choose your field first.")
        service = session.execute(select(services).where(services.c.id == body["service"])).mappings().first()
        if service is None:
            raise Invalid("validation_failed", "خدمت شناخته نیست.", "Unknown service.",
                          fields=_field_error("service", "خدمت شناخته نیست.", "Unknown service."))
        if service["field_id"] != ready["field_id"]:
            raise self._other_field()
        # the place is taken by the database: a conditional update, backed by a CHECK constraint
        taken = session.execute(update(readiness).where(
            readiness.c.member_id == actor["id"], readiness.c.field_id == service["field_id"],
            readiness.c.active_offers < domain.MAX_ACTIVE_OFFERS)
            .values(active_offers=readiness.c.active_offers + 1)).rowcount
        if taken != 1:
            field_now = session.execute(select(readiness.c.field_id).where(
                readiness.c.member_id == actor["id"])).scalar()
            if field_now != service["field_id"]:
                raise self._other_field()
            raise Conflict("offer_limit_reached",
                           "هر خادمیار هم‌زمان حداکثر ۲ خدمت می‌تواند داشته باشد؛ تا پایان یا انصراف از یکی از "
                           "خدمت‌های فعلی، خدمت تازه‌ای انتخاب نکنید.",
                           "A member may hold at most 2 services at the same time; complete or withdraw one first.")
        oid = new_id()
        now = utcnow()
        try:
            session.execute(insert(offers).values(
                id=oid, member_id=actor["id"], province=member["province"], county=ready["county"],
                field_id=service["field_id"], service_id=service["id"], details=body["details"],
                availability=body.get("availability"), phone=body["phone"], status="pending_review",
                active_service=service["id"], created_at=now))
            session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("duplicate_offer", "این خدمت را پیش‌تر انتخاب کرده‌اید و هنوز فعال است.",
                           "You already offer this service.",
                           fields=_field_error("service", "تکراری است.", "Already offered.")) from None
        self.db.publish(events.OfferSubmitted, {
            "offer_id": oid, "member_id": actor["id"], "county": ready["county"], "field_id": service["field_id"],
            "service_id": service["id"], "requires_documents": service["requires_documents"]},
            province=member["province"])
        return {"id": oid, "status": "pending_review"}

    @staticmethod
    def _other_field():
        return Conflict("service_not_in_your_field",
                        "این خدمت از عرصه‌ای است که اعلام آمادگی نکرده‌اید؛ فقط خدمت‌های عرصه اعلام‌شده را می‌توانید "
                        "انتخاب کنید.",
                        "This service belongs to another field than the one you declared.",
                        fields=_field_error("service", "از عرصه اعلام‌شده شما نیست.", "Not in your declared field."))

    def _offer(self, offer_id, lock=False):
        stmt = select(offers).where(offers.c.id == str(offer_id))
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return self.db.session.execute(stmt).mappings().first()

    @rpc(expected_exceptions=EXPECTED)
    def list_offers(self, actor, query):
        q = load(schemas.OfferQuery(), query or {})
        scope = domain.offers_scope(actor)
        stmt = _offer_query()
        for key in ("province", "county", "field_id", "member_id", "status"):
            if key in scope:
                stmt = stmt.where(offers.c[key] == scope[key])
        if q.get("status"):
            stmt = stmt.where(offers.c.status == q["status"])
        if q.get("county"):
            stmt = stmt.where(offers.c.county == q["county"])
        rows, nxt = pagination.page(self.db.session, stmt, offers.c.created_at, offers.c.id, q.get("cursor"),
                                    q["limit"])
        self.db.rollback()
        return schemas.OfferList().dump({"items": [dict(r) for r in rows], "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    def my_offers(self, actor, query=None):
        return self.list_offers(dict(actor, role="member"), query)

    @rpc(expected_exceptions=EXPECTED)
    def me_offers(self, actor):
        """The member's offers for ``GET /me``: the running ones first, then the last ended ones."""
        if actor.get("role") != "member":
            return []
        rows = self.db.session.execute(_offer_query().where(offers.c.member_id == actor["id"])
                                       .order_by(offers.c.created_at.desc()).limit(20)).mappings().all()
        self.db.rollback()
        items = schemas.OfferOut(many=True).dump([dict(r) for r in rows])
        return sorted(items, key=lambda o: o["status"] not in domain.ACTIVE_STATUSES)

    @rpc(expected_exceptions=EXPECTED)
    def get_offer(self, actor, offer_id):
        row = self.db.session.execute(_offer_query().where(offers.c.id == str(offer_id))).mappings().first()
        self.db.rollback()
        if row is None or not domain.sees_offer(actor, row):
            raise _offer_not_found()
        return schemas.OfferOut().dump(dict(row))

    # -- review by the county thematic centre (کانون موضوعی)
    def _reviewable(self, actor, offer_id, described=False):
        """The offer, locked, when the actor may review it; ``described``: with its service, field and documents
        (``_offer_query``), read in the same statement."""
        if described:
            stmt = _offer_query().where(offers.c.id == str(offer_id))
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(of=offers)
            offer = self.db.session.execute(stmt).mappings().first()
        else:
            offer = self._offer(offer_id, lock=True)
        if offer is None or not (domain.reviews(actor, offer) or actor["role"] == "admin"):
            raise _offer_not_found()
        if offer["status"] != "pending_review":
            raise Conflict("offer_not_pending", "این پیشنهاد در انتظار بررسی نیست.",
                           "This offer is not waiting for review.", extra={"status": offer["status"]})
        return offer

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def approve_offer(self, actor, offer_id):
        offer = self._reviewable(actor, offer_id, described=True)
        session = self.db.session
        # documents are never removed from an offer: a count read as the lock was taken can only be short (and refuse)
        if offer["requires_documents"] and not offer["documents"]:
            raise Conflict("documents_required",
                           "این خدمت تخصصی است و بدون بارگذاری مدارک تخصصی تأیید نمی‌شود.",
                           "This specialized service cannot be approved without its documents.")
        now = utcnow()
        done = session.execute(update(offers).where(offers.c.id == offer["id"], offers.c.status == "pending_review")
                               .values(status="approved", reviewed_at=now, reviewed_by=actor["id"])).rowcount
        if done != 1:
            raise Conflict("offer_not_pending", "این پیشنهاد در انتظار بررسی نیست.",
                           "This offer is not waiting for review.")
        self.db.publish(events.OfferApproved, {
            "offer_id": offer["id"], "member_id": offer["member_id"], "county": offer["county"],
            "field_id": offer["field_id"], "field_name": offer["field_name"], "service_id": offer["service_id"],
            "service_name": offer["service_name"], "details": offer["details"], "availability": offer["availability"],
            "phone": offer["phone"], "approved_at": now}, province=offer["province"])
        return {"id": offer["id"], "status": "approved"}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def reject_offer(self, actor, offer_id, data):
        body = load(schemas.ReasonIn(), data)
        offer = self._reviewable(actor, offer_id)
        if not self._end(offer, "rejected", ("pending_review",), reviewed_at=utcnow(), reviewed_by=actor["id"],
                         reason=body["reason"]):
            raise Conflict("offer_not_pending", "این پیشنهاد در انتظار بررسی نیست.",
                           "This offer is not waiting for review.")
        self.db.publish(events.OfferRejected, {"offer_id": offer["id"], "member_id": offer["member_id"],
                                               "reason": body["reason"]}, province=offer["province"])
        return {"id": offer["id"], "status": "rejected"}

    def _end(self, offer, status, allowed, **values):
        """End an active offer and free its place, in one transaction; False if it was not in ``allowed``."""
        session = self.db.session
        now = utcnow()
        done = session.execute(update(offers).where(offers.c.id == offer["id"], offers.c.status.in_(allowed))
                               .values(status=status, active_service=None, ended_at=now, **values)).rowcount
        if done != 1:
            return False
        session.execute(update(readiness).where(readiness.c.member_id == offer["member_id"])
                        .values(active_offers=readiness.c.active_offers - 1))
        return True

    # -- the member ends an offer: withdraw (انصراف) or complete (پایان خدمت)
    def _own_offer(self, actor, offer_id):
        offer = self._offer(offer_id, lock=True)
        if offer is None or offer["member_id"] != actor["id"]:
            raise _offer_not_found()
        return offer

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def withdraw_offer(self, actor, offer_id):
        offer = self._own_offer(actor, offer_id)
        if not self._end(offer, "withdrawn", domain.ACTIVE_STATUSES):
            raise Conflict("offer_not_active", "این پیشنهاد دیگر فعال نیست.", "This offer is no longer active.",
                           extra={"status": offer["status"]})
        self.db.publish(events.OfferWithdrawn, {"offer_id": offer["id"], "member_id": offer["member_id"],
                                                "previous_status": offer["status"]}, province=offer["province"])
        return {"id": offer["id"], "status": "withdrawn"}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def complete_offer(self, actor, offer_id):
        offer = self._own_offer(actor, offer_id)
        if not self._end(offer, "completed", ("approved",)):
            raise Conflict("offer_not_approved", "فقط خدمت تأییدشده را می‌توان پایان‌یافته اعلام کرد.",
                           "Only an approved offer can be completed.", extra={"status": offer["status"]})
        self.db.publish(events.OfferCompleted, {"offer_id": offer["id"], "member_id": offer["member_id"]},
                        province=offer["province"])
        return {"id": offer["id"], "status": "completed"}

    # -- documents of specialized services (مدارک تخصصی)
    def _documents_dir(self):
        return os.path.abspath(self.config.get("DOCUMENTS_DIR") or DEFAULT_DOCUMENTS_DIR)

    @rpc(expected_exceptions=EXPECTED)
    def upload_document(self, actor, offer_id, data):
        """Store a document: its bytes go to ``<path>.part`` (flushed to disk) before the transaction, and are moved
        into place only once the row is committed. A failure anywhere (a refusal, the insert, the commit) removes the
        temporary file, so there is never a file without its row; a crash between the commit and the move leaves the
        complete ``.part`` beside its row, which ``get_document`` and ``tidy_documents`` finish moving."""
        staged = {}
        try:
            out = self._record_document(actor, offer_id, data, staged)
        except BaseException:
            _discard(staged.values())
            raise
        mine = staged.pop(out["id"], None)
        _discard(staged.values())  # a redelivered request answered from its first run: this run's bytes go
        if mine is not None:
            try:
                os.replace(*mine)
            except FileNotFoundError:  # a reader of the new row finished the move first
                pass
            except OSError:  # the row is committed and the bytes are whole: a later read finishes the move
                log.exception("document %s stays under its temporary name for now", out["id"])
        return out

    @transactional
    def _record_document(self, actor, offer_id, data, staged):
        body = load(schemas.DocumentIn(), data)
        try:
            content = base64.b64decode(body["content"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("validation_failed", "محتوای مدرک خوانا نیست.", "The document content is not readable.",
                          fields=_field_error("content", "base64 نادرست است.", "Not valid base64.")) from None
        if not content:
            raise Invalid("empty_document", "فایل مدرک خالی است.", "The document is empty.")
        if len(content) > domain.MAX_DOCUMENT_BYTES:
            raise Invalid("document_too_large", "حجم مدرک بیش از ۵ مگابایت است.", "The document exceeds 5 MiB.")
        kind = domain.document_type(content)
        if kind is None:
            raise Invalid("unsupported_document_type", "مدرک باید PDF، JPEG یا PNG باشد.",
                          "The document must be a PDF, JPEG or PNG file.")
        offer = self._own_offer(actor, offer_id)
        if offer["status"] not in domain.ACTIVE_STATUSES:
            raise Conflict("offer_not_active", "این پیشنهاد دیگر فعال نیست.", "This offer is no longer active.")
        session = self.db.session
        count = session.execute(select(func.count()).select_from(offer_documents).where(
            offer_documents.c.offer_id == offer["id"])).scalar()
        if count >= domain.MAX_DOCUMENTS_PER_OFFER:
            raise Conflict("too_many_documents", "برای هر پیشنهاد حداکثر ۱۰ مدرک پذیرفته می‌شود.",
                           "At most 10 documents per offer.")
        doc_id = new_id()
        relative = os.path.join(offer["province"], offer["id"], f"{doc_id}.{kind[1]}")
        target = os.path.join(self._documents_dir(), relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temp = target + PART
        staged[doc_id] = (temp, target)
        with open(temp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())  # whole on disk before the row that names it is committed
        now = utcnow()
        row = {"id": doc_id, "offer_id": offer["id"], "province": offer["province"], "content_type": kind[0],
               "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "path": relative,
               "filename": body.get("filename"), "uploaded_by": actor["id"], "uploaded_at": now}
        session.execute(insert(offer_documents).values(**row))
        return schemas.DocumentOut().dump(row)

    @timer(interval=DOCUMENTS_TIDY_SECONDS)
    def tidy_documents(self):
        """Temporary files a crash left behind: moved into place when their row was committed, removed when not
        (only those older than an hour: younger ones may belong to an upload still running). Answers the counts."""
        root = self._documents_dir()
        cutoff = time.time() - STALE_PART_SECONDS
        parts = []
        for folder, _dirs, names in os.walk(root):
            parts += [os.path.join(folder, n) for n in names if n.endswith(PART)]
        stale = [p for p in parts if _mtime(p) is not None and _mtime(p) < cutoff]
        ids = {os.path.basename(p).split(".", 1)[0]: p for p in stale}
        known = set(self.db.session.execute(select(offer_documents.c.id).where(
            offer_documents.c.id.in_(list(ids)))).scalars()) if ids else set()
        self.db.rollback()
        done = {"moved": 0, "removed": 0}
        for doc_id, path in ids.items():
            try:
                if doc_id in known:
                    os.replace(path, path[:-len(PART)])
                    done["moved"] += 1
                else:
                    os.remove(path)
                    done["removed"] += 1
            except FileNotFoundError:  # another replica got there first
                pass
        if any(done.values()):
            log.warning("documents tidied: %s", done)
        return done

    def _readable_offer(self, actor, offer_id):
        offer = self._offer(offer_id)
        if offer is None or not domain.reads_documents(actor, offer):
            raise _offer_not_found()
        return offer

    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, actor, offer_id):
        offer = self._readable_offer(actor, offer_id)
        rows = self.db.session.execute(select(offer_documents).where(offer_documents.c.offer_id == offer["id"])
                                       .order_by(offer_documents.c.uploaded_at)).mappings().all()
        self.db.rollback()
        return schemas.DocumentList().dump({"items": [dict(r) for r in rows], "next": None})

    @rpc(expected_exceptions=EXPECTED)
    def get_document(self, actor, offer_id, document_id):
        offer = self._readable_offer(actor, offer_id)
        row = self.db.session.execute(select(offer_documents).where(
            offer_documents.c.id == str(document_id), offer_documents.c.offer_id == offer["id"],
            offer_documents.c.province == offer["province"])).mappings().first()
        self.db.rollback()
        if row is None:
            raise _document_not_found()
        path = os.path.join(self._documents_dir(), row["path"])
        try:
            content = _read(path)
        except FileNotFoundError:
            try:  # committed, but a crash came before the move: the whole file is under its temporary name
                os.replace(path + PART, path)
                content = _read(path)
            except FileNotFoundError:
                log.error("document %s of offer %s is missing on disk", row["id"], offer["id"])
                raise _document_not_found() from None
        out = schemas.DocumentOut().dump(dict(row))
        out["content"] = base64.b64encode(content).decode("ascii")
        return out

    # -- what catalog learns from membership: who is a member, where, and whether they may offer. The events travel in
    # different queues and may overtake each other: a status that comes before the activation is kept, and a status
    # older than the one recorded (status_at) changes nothing.
    @on_event("membership", "MemberActivated")
    def member_activated(self, envelope):
        p = envelope["payload"]
        session = self.db.session
        facts = {"county": p["county"], "education": p.get("education"), "gender": p.get("gender"),
                 "activated_at": utcnow()}
        known = session.execute(select(members.c.activated_at).where(members.c.member_id == p["member_id"])).first()
        if known is None:
            session.execute(insert(members).values(member_id=p["member_id"], province=envelope["province"],
                                                   status="active", **facts))
        elif known.activated_at is None:  # a status arrived first: keep it, fill in the facts
            session.execute(update(members).where(members.c.member_id == p["member_id"]).values(**facts))

    def _status(self, envelope, status):
        """Record the member's status (first, so an offer being submitted meanwhile is decided before or after it);
        False when a newer status is already known."""
        member_id = envelope["payload"]["member_id"]
        at = parse_datetime(envelope["occurred_at"])
        session = self.db.session
        stmt = select(members.c.status_at).where(members.c.member_id == member_id)
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = session.execute(stmt).first()
        if row is None:  # before its activation arrived
            session.execute(insert(members).values(member_id=member_id, province=envelope["province"], status=status,
                                                   status_at=at))
            return True
        if row.status_at is not None and row.status_at >= at:
            log.info("status %s of member %s is older than the one known; ignored", status, member_id)
            return False
        session.execute(update(members).where(members.c.member_id == member_id).values(status=status, status_at=at))
        return True

    # -- what catalog does when membership suspends or deactivates a member: their running offers end
    def _withdraw_all(self, envelope, reason, current):
        """End the member's running offers; a status that arrived after a newer one (``current`` False: the member
        was reinstated since) ends only the offers that were running when it happened."""
        member_id = envelope["payload"]["member_id"]
        stmt = select(offers).where(offers.c.member_id == member_id, offers.c.status.in_(domain.ACTIVE_STATUSES))
        if not current:
            stmt = stmt.where(offers.c.created_at <= parse_datetime(envelope["occurred_at"]))
        if self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        text = {"suspended": "انصراف خودکار: عضویت خادمیار تعلیق شد.",
                "deactivated": "انصراف خودکار: عضویت خادمیار غیرفعال شد."}[reason]
        for offer in self.db.session.execute(stmt).mappings().all():
            if self._end(offer, "withdrawn", domain.ACTIVE_STATUSES, reason=text):
                self.db.publish(events.OfferWithdrawn, {"offer_id": offer["id"], "member_id": member_id,
                                                        "previous_status": offer["status"], "reason": reason},
                                province=offer["province"])

    @on_event("membership", "MemberSuspended")
    def member_suspended(self, envelope):
        self._withdraw_all(envelope, "suspended", self._status(envelope, "suspended"))

    @on_event("membership", "MemberDeactivated")
    def member_deactivated(self, envelope):
        self._withdraw_all(envelope, "deactivated", self._status(envelope, "deactivated"))

    @on_event("membership", "MemberReinstated")
    def member_reinstated(self, envelope):
        """New offers are welcome again (the offers withdrawn at the suspension stay withdrawn)."""
        self._status(envelope, "active")
