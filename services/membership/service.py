"""Membership service (عضویت): applications, orientation, activation, accounts, meetings; and, in review.py,
weekly training, the six-monthly meeting rule and the review of members (بازنگری)."""
import logging
import os

from nameko.timer import timer
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kit import geo, metrics, pagination
from kit.db import Database, new_id, transactional, utcnow
from kit.errors import EXPECTED, Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from kit.persian import normalize_digits, to_jalali
from kit.rpc import rpc
from kit.schema import load
from kit.service import ServiceBase
from services.membership import domain, events, passwords, schemas
from services.membership.bootstrap import AdminBootstrap
from services.membership.models import (
    accounts,
    applications,
    login_failures,
    meeting_attendance,
    meetings,
    metadata,
    orientations,
)
from services.membership.review import StayingActive

log = logging.getLogger(__name__)
MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def _application_not_found():
    return NotFound("application_not_found", "درخواست عضویت پیدا نشد.", "The application was not found.")


def _orientation_not_found():
    return NotFound("orientation_not_found", "جلسه توجیهی پیدا نشد.", "The orientation session was not found.")


class MembershipService(StayingActive, ServiceBase):
    name = "membership"
    db = Database(metadata, MIGRATIONS)
    bootstrap = AdminBootstrap()

    # -- applying (ثبت نام)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def apply(self, data):
        app = load(schemas.ApplicationIn(), data)
        row = dict(app, id=new_id(), status="submitted", submitted_at=utcnow())
        try:
            self.db.session.execute(insert(applications), row)
        except IntegrityError:
            self.db.rollback()
            raise Conflict("duplicate_application", "برای این کد ملی پیش‌تر درخواست عضویت ثبت شده است.",
                           "An application for this national ID already exists.",
                           fields={"national_id": {"fa": "تکراری است.", "en": "Already applied."}}) from None
        self.db.publish(events.ApplicationSubmitted, {"application_id": row["id"], "county": row["county"],
                                                      "education": row["education"]}, province=row["province"])
        return {"id": row["id"], "status": "submitted"}

    @rpc(expected_exceptions=EXPECTED)
    def list_applications(self, actor, query):
        q = load(schemas.ApplicationQuery(), query or {})
        now = utcnow()
        province = _listed_province(actor, q)
        stmt = select(applications)
        if province:
            stmt = stmt.where(applications.c.province == province)
        status = q.get("status")
        if status == "overdue":
            stmt = stmt.where(applications.c.status == "submitted",
                              applications.c.submitted_at < now - domain.OVERDUE_AFTER)
        elif status:
            stmt = stmt.where(applications.c.status == status)
        stmt = _searched(stmt, domain.person_search(q.get("q")))
        rows, nxt = pagination.page(self.db.session, stmt, applications.c.submitted_at, applications.c.id,
                                    q.get("cursor"), q["limit"])
        overdue = self._overdue_count(province, now)
        self.db.rollback()
        items = [self._application_out(r, now) for r in rows]
        return schemas.ApplicationList().dump({"items": items, "next": nxt, "overdue_count": overdue})

    def _overdue_count(self, province, now):
        stmt = select(func.count()).select_from(applications).where(
            applications.c.status == "submitted", applications.c.submitted_at < now - domain.OVERDUE_AFTER)
        if province:
            stmt = stmt.where(applications.c.province == province)
        return self.db.session.execute(stmt).scalar()

    @staticmethod
    def _application_out(row, now):
        out = dict(row)
        out["overdue"] = domain.is_overdue(row["status"], row["submitted_at"], now)
        out["submitted_at_jalali"] = to_jalali(row["submitted_at"])
        out["contact_due_jalali"] = to_jalali(row["submitted_at"] + domain.OVERDUE_AFTER)
        return out

    def _scoped_application(self, actor, application_id, lock=False):
        stmt = select(applications).where(applications.c.id == str(application_id))
        if lock and self.db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self.db.session.execute(stmt).mappings().first()
        if row is None or not domain.sees_province(actor, row["province"]):
            raise _application_not_found()
        return row

    # -- orientation (جلسه توجیهی)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_orientation(self, actor, data):
        o = load(schemas.OrientationIn(), data)
        province = _target_province(actor, o)
        oid = new_id()
        self.db.session.execute(insert(orientations).values(id=oid, province=province, county=o.get("county"),
                                                            starts_at=o["starts_at"], place=o["place"],
                                                            capacity=o["capacity"], invited=0, created_at=utcnow()))
        return {"id": oid}

    @rpc(expected_exceptions=EXPECTED)
    def list_orientations(self, actor, query):
        # present: applicants recorded at the session (on ix_applications_orientation)
        return self._schedule(actor, query, orientations, schemas.OrientationList, lambda ids: select(
            applications.c.orientation_id, func.count()).where(
            applications.c.orientation_id.in_(ids), applications.c.status.in_(("attended", "activated")))
            .group_by(applications.c.orientation_id))

    def _schedule(self, actor, query, table, answer, present):
        """A page of orientation sessions or meetings, latest first, each with the count ``present(ids)`` gives."""
        q = load(schemas.SessionQuery(), query or {})
        session = self.db.session
        rows, nxt = pagination.page(session, _sessions(table, _listed_province(actor, q), q), table.c.starts_at,
                                    table.c.id, q.get("cursor"), q["limit"], newest_first=True)
        counts = dict(session.execute(present([r["id"] for r in rows])).all()) if rows else {}
        self.db.rollback()
        now = utcnow()
        return answer().dump({"items": [dict(r, attended=counts.get(r["id"], 0), past=r["starts_at"] <= now,
                                             starts_at_jalali=to_jalali(r["starts_at"])) for r in rows],
                              "next": nxt})

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def invite(self, actor, application_id, data):
        body = load(schemas.InviteIn(), data)
        app = self._scoped_application(actor, application_id, lock=True)
        session = self.db.session
        orientation = session.execute(select(orientations).where(
            orientations.c.id == body["orientation_id"])).mappings().first()
        if orientation is None or orientation["province"] != app["province"]:
            raise _orientation_not_found()
        if app["status"] not in ("submitted", "invited"):
            raise Conflict("not_invitable", "این متقاضی در مرحله دعوت نیست.",
                           "This applicant is past the invitation step.")
        if app["orientation_id"] == orientation["id"]:
            return {"id": app["id"], "status": "invited"}
        if orientation["starts_at"] <= utcnow():
            raise Conflict("orientation_past", "این جلسه توجیهی برگزار شده است.", "This session has already taken place.")
        # the capacity check is the database's: a conditional update, backed by a CHECK constraint
        taken = session.execute(update(orientations).where(orientations.c.id == orientation["id"],
                                                           orientations.c.invited < orientations.c.capacity)
                                .values(invited=orientations.c.invited + 1)).rowcount
        if taken != 1:
            raise Conflict("orientation_full", "ظرفیت این جلسه توجیهی تکمیل است.", "This session is full.")
        if app["orientation_id"]:  # moved to another session: free the old place
            session.execute(update(orientations).where(orientations.c.id == app["orientation_id"])
                            .values(invited=orientations.c.invited - 1))
        now = utcnow()
        session.execute(update(applications).where(applications.c.id == app["id"]).values(
            status="invited", orientation_id=orientation["id"], contacted_at=app["contacted_at"] or now))
        self.db.publish(events.ApplicantInvited, {"application_id": app["id"], "orientation_id": orientation["id"],
                                                  "starts_at": orientation["starts_at"], "mobile": app["mobile"]},
                        province=app["province"])
        return {"id": app["id"], "status": "invited"}

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def record_orientation_attendance(self, actor, orientation_id, data):
        body = load(schemas.AttendanceIn(), data)
        session = self.db.session
        orientation = session.execute(select(orientations).where(
            orientations.c.id == str(orientation_id))).mappings().first()
        if orientation is None or not domain.sees_province(actor, orientation["province"]):
            raise _orientation_not_found()
        ids = sorted(set(body["application_ids"]))
        invited = set(session.execute(select(applications.c.id).where(
            applications.c.id.in_(ids), applications.c.orientation_id == orientation["id"],
            applications.c.status.in_(("invited", "attended")))).scalars())
        strangers = [i for i in ids if i not in invited]
        if strangers:
            raise Invalid("not_invited", "این متقاضیان به این جلسه دعوت نشده‌اند.",
                          "These applicants were not invited to this session.",
                          fields={"application_ids": {"fa": "دعوت‌نشده: " + "، ".join(strangers),
                                                      "en": "not invited: " + ", ".join(strangers)}})
        session.execute(update(applications).where(applications.c.id.in_(ids), applications.c.status == "invited")
                        .values(status="attended", attended_at=utcnow()))
        return {"id": orientation["id"], "attended": len(ids)}

    # -- activation (فعال‌سازی)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def activate(self, actor, application_id):
        app = self._scoped_application(actor, application_id, lock=True)
        if app["status"] == "activated":
            raise Conflict("already_active", "این متقاضی پیش‌تر فعال شده است.", "This applicant is already a member.")
        if app["status"] != "attended":
            raise Conflict("not_attended", "متقاضی هنوز در جلسه توجیهی شرکت نکرده است.",
                           "The applicant has not attended an orientation session yet.")
        deadline = domain.activation_deadline(app["attended_at"])
        if utcnow() > deadline:
            raise Conflict("activation_window_passed",
                           f"مهلت دو ماهه فعال‌سازی در {to_jalali(deadline)} گذشته است؛ "
                           "متقاضی را دوباره به جلسه توجیهی دعوت کنید.",
                           f"The two-month activation window ended on {deadline.date().isoformat()}; "
                           "invite the applicant to a new orientation session.")
        password = domain.initial_password()
        member_id = new_id()
        session = self.db.session
        try:
            session.execute(insert(accounts).values(
                id=member_id, national_id=app["national_id"], password_hash=passwords.hash_password(password),
                must_change_password=True, role="member", status="active", first_name=app["first_name"],
                last_name=app["last_name"], mobile=app["mobile"], province=app["province"], county=app["county"],
                education=app["education"], gender=app["gender"], created_at=utcnow()))
            session.execute(update(applications).where(applications.c.id == app["id"],
                                                       applications.c.status == "attended")
                            .values(status="activated", member_id=member_id))
            session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("account_exists", "برای این کد ملی حساب کاربری وجود دارد.",
                           "An account with this national ID exists.") from None
        self.db.publish(events.MemberActivated, {
            "member_id": member_id, "national_id": app["national_id"], "first_name": app["first_name"],
            "last_name": app["last_name"], "gender": app["gender"], "education": app["education"],
            "county": app["county"], "mobile": app["mobile"]}, province=app["province"])
        return {"member_id": member_id, "initial_password": password}

    # -- authentication
    @rpc(expected_exceptions=EXPECTED)
    @transactional(replay=False)  # safe to run twice; its answer is not worth keeping
    def login(self, data, client=None):
        """Check a national ID and password; answer the claims the gateway puts in its token."""
        creds = load(schemas.LoginIn(), data)
        national_id = normalize_digits(creds["national_id"]).strip()
        session = self.db.session
        now = utcnow()
        keys = [f"id:{national_id}"] + ([f"ip:{client}"] if client else [])
        counts = dict(session.execute(select(login_failures.c.key, func.count()).where(
            login_failures.c.key.in_(keys), login_failures.c.at > now - domain.LOGIN_WINDOW)
            .group_by(login_failures.c.key)).all())
        if counts.get(keys[0], 0) >= domain.LOGIN_LIMIT_PER_ID or \
                (client and counts.get(keys[-1], 0) >= domain.LOGIN_LIMIT_PER_CLIENT):
            raise TooManyRequests("too_many_login_attempts",
                                  "تلاش‌های ناموفق ورود بیش از حد مجاز است؛ ۱۵ دقیقه دیگر دوباره تلاش کنید.",
                                  "Too many failed login attempts; try again in 15 minutes.",
                                  extra={"retry_after": int(domain.LOGIN_WINDOW.total_seconds())})
        account = session.execute(select(accounts).where(accounts.c.national_id == national_id)).mappings().first()
        ok = passwords.verify(account["password_hash"] if account else None, creds["password"])
        if not ok or account["status"] == "deactivated":
            session.execute(insert(login_failures), [{"id": new_id(), "key": k, "at": now} for k in keys])
            self.db.commit()
            raise Unauthorized("invalid_credentials", "کد ملی یا رمز عبور نادرست است.",
                               "The national ID or password is wrong.")
        return _claims(account)

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def change_password(self, actor, data):
        body = load(schemas.PasswordIn(), data)
        session = self.db.session
        account = session.execute(select(accounts).where(accounts.c.id == actor["id"])).mappings().first()
        if account is None:
            raise NotFound("account_not_found", "حساب کاربری پیدا نشد.", "The account was not found.")
        if not passwords.verify(account["password_hash"], body["current_password"]):
            raise Unauthorized("invalid_credentials", "رمز عبور فعلی نادرست است.", "The current password is wrong.")
        problems = domain.password_problems(body["new_password"], body["current_password"], account["national_id"])
        if problems:
            raise Invalid("weak_password", problems[0][1], problems[0][2],
                          fields={"new_password": {"fa": " ".join(p[1] for p in problems),
                                                   "en": " ".join(p[2] for p in problems)}})
        session.execute(update(accounts).where(accounts.c.id == account["id"]).values(
            password_hash=passwords.hash_password(body["new_password"]), must_change_password=False,
            password_changed_at=utcnow()))
        return _claims(dict(account, must_change_password=False))

    # -- staff accounts
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_staff(self, actor, data):
        staff = load(schemas.StaffIn(), data)
        if not domain.may_create_staff(actor["role"], actor.get("province"), staff["role"], staff["province"]):
            if actor["role"] == "province_office" and staff["province"] != actor.get("province"):
                raise Forbidden("other_province", "ایجاد کاربر در استان دیگر مجاز نیست.",
                                "You may not create accounts in another province.")
            raise Forbidden("role_not_allowed", "ایجاد کاربر با این نقش برای شما مجاز نیست.",
                            "You may not create an account with this role.")
        missing = domain.missing_scope(staff["role"], staff)
        if missing:
            raise Invalid("validation_failed", "دامنه این نقش کامل نیست.", "This role needs its scope.",
                          fields={m: {"fa": "برای این نقش الزامی است.", "en": "Required for this role."} for m in missing})
        scope = {k: staff.get(k) if k in domain.ROLE_SCOPE.get(staff["role"], ()) else None
                 for k in ("county", "field", "center", "unit")}
        if staff["role"] in ("neighborhood_center", "supervisor"):
            scope["county"] = staff["county"]
        password = domain.initial_password()
        account_id = new_id()
        try:
            self.db.session.execute(insert(accounts).values(
                id=account_id, national_id=staff["national_id"], password_hash=passwords.hash_password(password),
                must_change_password=True, role=staff["role"], status="active", first_name=staff["first_name"],
                last_name=staff["last_name"], mobile=staff["mobile"], province=staff["province"], created_at=utcnow(),
                **scope))
            self.db.session.flush()
        except IntegrityError:
            self.db.rollback()
            raise Conflict("duplicate_account", "برای این کد ملی حساب کاربری وجود دارد.",
                           "An account with this national ID exists.",
                           fields={"national_id": {"fa": "تکراری است.", "en": "Already exists."}}) from None
        self.db.publish(events.StaffAccountCreated, dict(account_id=account_id, role=staff["role"], **scope),
                        province=staff["province"])
        return {"id": account_id, "initial_password": password}

    # -- meetings (جلسات حضوری)
    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def create_meeting(self, actor, data):
        m = load(schemas.MeetingIn(), data)
        province = _target_province(actor, m)
        mid = new_id()
        self.db.session.execute(insert(meetings).values(id=mid, province=province, county=m.get("county"),
                                                        title=m["title"], starts_at=m["starts_at"], place=m["place"],
                                                        created_at=utcnow()))
        return {"id": mid}

    @rpc(expected_exceptions=EXPECTED)
    def list_meetings(self, actor, query):
        return self._schedule(actor, query, meetings, schemas.MeetingList, lambda ids: select(
            meeting_attendance.c.meeting_id, func.count()).where(meeting_attendance.c.meeting_id.in_(ids))
            .group_by(meeting_attendance.c.meeting_id))

    @rpc(expected_exceptions=EXPECTED)
    @transactional
    def record_meeting_attendance(self, actor, meeting_id, data):
        body = load(schemas.MeetingAttendanceIn(), data)
        session = self.db.session
        meeting = session.execute(select(meetings).where(meetings.c.id == str(meeting_id))).mappings().first()
        if meeting is None or not domain.sees_province(actor, meeting["province"]):
            raise NotFound("meeting_not_found", "جلسه پیدا نشد.", "The meeting was not found.")
        ids = sorted(set(body["member_ids"]))
        known = set(session.execute(select(accounts.c.id).where(
            accounts.c.id.in_(ids), accounts.c.role == "member",
            accounts.c.province == meeting["province"])).scalars())
        strangers = [i for i in ids if i not in known]
        if strangers:
            raise Invalid("unknown_members", "این خادمیاران در این استان پیدا نشدند.",
                          "These members were not found in this province.",
                          fields={"member_ids": {"fa": "ناشناخته: " + "، ".join(strangers),
                                                 "en": "unknown: " + ", ".join(strangers)}})
        already = set(session.execute(select(meeting_attendance.c.member_id).where(
            meeting_attendance.c.meeting_id == meeting["id"])).scalars())
        new = [i for i in ids if i not in already]
        if new:
            session.execute(insert(meeting_attendance), [
                {"meeting_id": meeting["id"], "member_id": i, "attended_at": meeting["starts_at"]} for i in new])
            for member_id in new:
                self.db.publish(events.MeetingAttended, {"meeting_id": meeting["id"], "member_id": member_id,
                                                         "starts_at": meeting["starts_at"]},
                                province=meeting["province"])
        return {"id": meeting["id"], "attended": len(ids)}

    # -- the member's own page
    @rpc(expected_exceptions=EXPECTED)
    def me(self, actor):
        session = self.db.session
        account = session.execute(select(accounts).where(accounts.c.id == actor["id"])).mappings().first()
        if account is None:
            raise NotFound("account_not_found", "حساب کاربری پیدا نشد.", "The account was not found.")
        last = session.execute(select(func.max(meeting_attendance.c.attended_at)).where(
            meeting_attendance.c.member_id == account["id"])).scalar()
        grace = self._grace(account) if account["role"] == "member" else None
        self.db.rollback()
        profile = dict(account, last_meeting_at=last)
        if account["role"] == "member":
            profile["last_meeting_jalali"] = to_jalali(last) if last else None
            profile["next_meeting_due_jalali"] = to_jalali(domain.meeting_due(grace, last))
        return schemas.Profile().dump(profile)

    @rpc
    def account_claims(self, account_id):
        row = self.db.session.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
        self.db.rollback()
        return _claims(row) if row else None

    # -- the overdue gauge (تماس ظرف ۱۵ روز)
    @timer(interval=60)
    def measure_overdue(self):
        cutoff = utcnow() - domain.OVERDUE_AFTER
        counts = dict(self.db.session.execute(select(applications.c.province, func.count()).where(
            applications.c.status == "submitted", applications.c.submitted_at < cutoff)
            .group_by(applications.c.province)).all())
        self.db.rollback()
        for code in geo.provinces():
            metrics.OVERDUE_APPLICATIONS.labels(code).set(counts.get(code, 0))
        self._measure_reviews()  # and the review gauges, fresher than the hourly sweep's
        return counts


def _target_province(actor, data):
    """The province a new session or meeting belongs to: the office's own; the admin must name one."""
    province = actor.get("province") if actor["role"] != "admin" else data.get("province")
    if province is None:
        raise Invalid("validation_failed", "استان را مشخص کنید.", "Name the province.",
                      fields={"province": {"fa": "الزامی است.", "en": "Required."}})
    if province not in geo.provinces() or (actor["role"] != "admin" and data.get("province", province) != province):
        raise Invalid("validation_failed", "استان نادرست است.", "Wrong province.",
                      fields={"province": {"fa": "استان شما نیست.", "en": "Not your province."}})
    if data.get("county") and not geo.county_in_province(data["county"], province):
        raise Invalid("validation_failed", "شهرستان در این استان نیست.", "The county is not in this province.",
                      fields={"county": {"fa": "شهرستان در این استان نیست.", "en": "Not in your province."}})
    return province


def _listed_province(actor, q):
    """The province a list is confined to: an office's own (naming another is refused), the admin's choice or
    every province (None)."""
    wanted = q.get("province")
    if actor["role"] == "admin":
        if wanted is not None and wanted not in geo.provinces():
            raise Invalid("validation_failed", "استان شناخته نیست.", "Unknown province.",
                          fields={"province": {"fa": "استان شناخته نیست.", "en": "Unknown province."}})
        return wanted
    if wanted is not None and wanted != actor.get("province"):
        raise Invalid("validation_failed", "استان نادرست است.", "Wrong province.",
                      fields={"province": {"fa": "استان شما نیست.", "en": "Not your province."}})
    return actor.get("province")


def _searched(stmt, search):
    """Applications narrowed to what the office typed (``domain.person_search``)."""
    if search is None:
        return stmt
    kind, value = search
    if kind == "national_id":
        return stmt.where(applications.c.national_id.between(*value))
    for word in value:
        stmt = stmt.where(or_(applications.c.first_name.icontains(word, autoescape=True),
                              applications.c.last_name.icontains(word, autoescape=True)))
    return stmt


def _sessions(table, province, q):
    """Orientation sessions or meetings of a province (None: every one), of a county, starting in [from, to)."""
    stmt = select(table)
    if province:
        stmt = stmt.where(table.c.province == province)
    if q.get("county"):
        stmt = stmt.where(table.c.county == q["county"])
    if q.get("from_"):
        stmt = stmt.where(table.c.starts_at >= q["from_"])
    if q.get("to"):
        stmt = stmt.where(table.c.starts_at < q["to"])
    return stmt


def _claims(account):
    return {
        "id": account["id"], "role": account["role"], "province": account["province"],
        "county": account["county"], "field": account["field"], "center": account["center"],
        "unit": account["unit"], "must_change_password": bool(account["must_change_password"]),
        "status": account["status"],
    }
