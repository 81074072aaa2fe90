"""Membership rules (ثبت نام، جلسه توجیهی، فعال‌سازی), pure Python."""
import datetime as dt
import re
import secrets

OVERDUE_AFTER = dt.timedelta(days=15)          # contact within 15 days of applying
ACTIVATION_WINDOW = dt.timedelta(days=60)      # activate within two months of the orientation
EDUCATION = ("below_diploma", "diploma", "associate", "bachelor", "master", "doctorate", "seminary")
STAFF_ROLES = ("province_office", "thematic_center", "neighborhood_center", "supervisor", "shrine_office",
               "desk_officer", "unit_officer")
# what each staff role is scoped to, beyond its province
ROLE_SCOPE = {
    "thematic_center": ("county", "field"),
    "neighborhood_center": ("county", "center"),
    "supervisor": ("county", "center"),
    "unit_officer": ("unit",),
}
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# failed logins tolerated in the window, per national ID and per client address
LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_LIMIT_PER_ID = 5
LOGIN_LIMIT_PER_CLIENT = 30


def is_overdue(status, submitted_at, now):
    """An application nobody contacted within 15 days of submission."""
    return status == "submitted" and now - submitted_at > OVERDUE_AFTER


def activation_deadline(attended_at):
    return attended_at + ACTIVATION_WINDOW


def initial_password(length=10):
    """One-time password handed over by the office; shown once, changed at first login."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def password_problems(new, current=None, national_id=None):
    """Why a new password is refused, as (code, fa, en) triples; empty when acceptable."""
    problems = []
    if len(new) < 8:
        problems.append(("too_short", "رمز عبور باید دست‌کم ۸ نویسه باشد.", "The password must have at least 8 characters."))
    if national_id and national_id in new:
        problems.append(("contains_national_id", "رمز عبور نباید کد ملی را در خود داشته باشد.",
                         "The password must not contain the national ID."))
    if current is not None and new == current:
        problems.append(("unchanged", "رمز عبور جدید باید با رمز فعلی فرق داشته باشد.",
                         "The new password must differ from the current one."))
    return problems


def may_create_staff(actor_role, actor_province, role, province):
    """admin creates any staff account; a provincial office only below itself, in its own province."""
    if actor_role == "admin":
        return True
    return actor_role == "province_office" and role != "province_office" and province == actor_province


def missing_scope(role, given):
    """Scope fields a staff role needs that were not given."""
    return [name for name in ROLE_SCOPE.get(role, ()) if not given.get(name)]


def sees_province(actor, province):
    """Tenancy: the national admin sees every province; everyone else only their own."""
    return actor["role"] == "admin" or actor.get("province") == province


NATIONAL_ID_LENGTH = 10
SEARCH_WORDS = 4  # at most this many words of a name are matched


def person_search(q):
    """What the office typed to find a person (already Persian-normalised: ASCII digits, ی and ک):

    - only digits (spaces and dashes between them allowed): a national ID or its first digits, as the inclusive
      range ``("national_id", (low, high))`` of the ten-digit IDs that start with them (a range, not a LIKE, so the
      unique index on national IDs serves it in any collation; more than ten digits match nothing);
    - otherwise the words of a name, each to be found in the first or the last name: ``("name", [words])``;
    - nothing to look for: None.
    """
    q = (q or "").strip()
    if not q:
        return None
    digits = re.sub(r"[\s\-]", "", q)
    if digits.isascii() and digits.isdigit():
        pad = max(NATIONAL_ID_LENGTH - len(digits), 0)
        return "national_id", (digits + "0" * pad, digits + "9" * pad)
    return "name", q.split()[:SEARCH_WORDS]


# ---------------------------------------------------------------------------------------------------------------
# Staying active: weekly training, six-monthly meetings and the review (بازنگری)
# ---------------------------------------------------------------------------------------------------------------
MEETING_INTERVAL = dt.timedelta(days=182)      # an in-person meeting at least once every six months
WEEK = dt.timedelta(days=7)
MEMBER_STATES = ("active", "suspended", "deactivated")
DECISIONS = ("continue", "suspend", "deactivate")

# configurable (config key, default)
SETTINGS = {
    "REVIEW_SWEEP_SECONDS": 3600,   # how often the sweep looks at every active member
    "REVIEW_IDLE_DAYS": 90,         # no service chosen for this long
    "REPORT_DUE_DAYS": 14,          # a service's report is due this many days after it ended
    "TRAINING_MISSED_WEEKS": 4,     # weeks with a lesson published and not read, tolerated before a review
}

# The six grounds of a review, in the words of the membership guide (راهنمای عضویت), with their numbers there.
REASONS = {
    "inactivity": (1, "عدم انتخاب خدمت در سامانه و یا عدم ورود ثبت گزارش در زمان مشخص شده به صورت مستمر",
                   "No service chosen in the system, or reports not filed on time, persistently"),
    "report_rejected": (2, "عدم تأیید گزارش ثبت شده از سوی شما توسط ناظر (مسئول کانون مربوطه)",
                        "A filed report was not approved by the supervisor (head of the centre concerned)"),
    "breach": (3, "عدم رعایت مقررات و شئون خادمی حضرت رضا علیه السلام",
               "Not observing the rules and dignity of the service of Imam Reza (AS)"),
    "training_or_meeting": (4, "عدم شرکت در آموزش‌های ضمن خدمت و یا جلسات توجیهی مستمر",
                            "Missing the in-service training or the regular in-person meetings"),
    "discontinuity": (5, "محرز شدن عدم استمرار خدمت توسط نمایندگی آستان قدس",
                      "Discontinuity of service established by the provincial office of Astan Quds"),
    "shrine_absences": (6, "داشتن بیش از چهار غیبت در زمان‌های انتخاب شده جهت خدمت در حرم مطهر",
                        "More than four absences from the times chosen for service at the holy shrine"),
}
ABSENCES_TOLERATED = 4  # the fifth absence from a shrine shift is a ground for review


def reason_title(code):
    number, fa, en = REASONS[code]
    return {"code": code, "number": number, "title": fa, "title_en": en}


def evidence(fa, en, **data):
    """A reason's evidence as stored: a sentence in Persian and in English, and the facts behind it."""
    return {"fa": fa, "en": en, "data": {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
                                         for k, v in data.items()}}


def _tehran_day(moment):
    from kit.persian import TEHRAN
    return moment.astimezone(TEHRAN).date() if isinstance(moment, dt.datetime) else moment


def lesson_week(day):
    """The Saturday that starts the Jalali week of ``day`` (a date, or an aware moment in Tehran time)."""
    from kit.persian import jalali_week_start
    return jalali_week_start(day)


def read_on_time(lesson_week_start, read_at):
    """A lesson counts for its week when it is read before that week is over (Tehran time)."""
    return lesson_week(read_at) <= lesson_week_start


def grace_from(activated_at, *later):
    """Where the review clocks start for a member: activation, or a later decision to keep or reinstate them."""
    return max([activated_at] + [moment for moment in later if moment is not None])


def idle_evidence(now, grace, has_active_offer, last_offer_end, idle_days):
    """Reason 1 (no service chosen): ``(key, evidence)`` when idle for ``idle_days`` or more, else None."""
    if has_active_offer:
        return None
    since = grace if last_offer_end is None else max(grace, last_offer_end)
    if now - since < dt.timedelta(days=idle_days):
        return None
    from kit.persian import to_jalali
    days = (now - since).days
    return (f"no_offer:{_tehran_day(since).isoformat()}",
            evidence(f"از {to_jalali(since)} ({days} روز) هیچ خدمتی انتخاب نشده است.",
                     f"No service chosen since {_tehran_day(since).isoformat()} ({days} days).",
                     since=since, days=days, idle_days=idle_days))


def report_overdue(ends_at, now, due_days):
    return ends_at is not None and now > ends_at + dt.timedelta(days=due_days)


def late_report_evidence(reservation_id, ends_at, due_days):
    from kit.persian import to_jalali
    due = ends_at + dt.timedelta(days=due_days)
    return (f"late_report:{reservation_id}",
            evidence(f"گزارش خدمتی که در {to_jalali(ends_at)} پایان یافت تا {to_jalali(due)} ثبت نشده است.",
                     f"The report of a service that ended on {_tehran_day(ends_at).isoformat()} was not filed by "
                     f"{_tehran_day(due).isoformat()}.", reservation_id=reservation_id, ended_at=ends_at, due_at=due))


def missed_weeks(lesson_weeks, on_time_weeks, grace, today):
    """Weeks since ``grace`` (those starting on or after its day) whose lesson was published and not read in
    the week, among the weeks already over on ``today``."""
    start = _tehran_day(grace)
    read = set(on_time_weeks)
    return sorted(w for w in lesson_weeks if w >= start and w + WEEK <= today and w not in read)


def training_evidence(missed, tolerance, grace):
    """Reason 4 (training): when ``tolerance`` or more weeks were missed since ``grace``."""
    if len(missed) < tolerance:
        return None
    from kit.persian import to_jalali
    weeks = [to_jalali(w) for w in missed]
    return (f"training:{_tehran_day(grace).isoformat()}",
            evidence(f"مطلب آموزشی {len(missed)} هفته خوانده نشده است (هفته‌های {'، '.join(weeks)}).",
                     f"The weekly lesson was not read in {len(missed)} weeks "
                     f"({', '.join(w.isoformat() for w in missed)}).",
                     weeks=[w.isoformat() for w in missed], tolerance=tolerance))


def meeting_due(grace, last_attendance):
    """When the next in-person meeting is due: six months after the last one (or activation, or a decision)."""
    last = grace if last_attendance is None else max(grace, last_attendance)
    return last + MEETING_INTERVAL


def meeting_evidence(now, grace, last_attendance):
    """Reason 4 (meetings): no meeting attended in six months."""
    due = meeting_due(grace, last_attendance)
    if now <= due:
        return None
    from kit.persian import to_jalali
    since = due - MEETING_INTERVAL
    if last_attendance is not None and last_attendance >= grace:
        fa = f"از آخرین جلسه حضوری ({to_jalali(last_attendance)}) بیش از شش ماه گذشته است."
        en = f"More than six months since the last in-person meeting ({_tehran_day(last_attendance).isoformat()})."
    else:
        fa = f"از {to_jalali(since)} در هیچ جلسه حضوری شرکت نکرده است (بیش از شش ماه)."
        en = f"No in-person meeting attended since {_tehran_day(since).isoformat()} (more than six months)."
    return (f"meeting:{_tehran_day(since).isoformat()}",
            evidence(fa, en, since=since, due=due, last_attendance=last_attendance))


def absence_threshold(absences):
    """The fifth, tenth, … absence that made the member's absences a ground for review; None below the fifth."""
    step = ABSENCES_TOLERATED + 1
    return None if absences < step else absences // step * step


def decision_effect(status, decision):
    """What a decision does to a member's account: ``(new status or None, event name or None)``;
    raises ValueError when the decision does not apply to that status."""
    if status == "deactivated":
        raise ValueError("deactivated")
    if decision == "continue":
        return ("active", "MemberReinstated") if status == "suspended" else (None, None)
    if decision == "suspend":
        return (None, None) if status == "suspended" else ("suspended", "MemberSuspended")
    if decision == "deactivate":
        return "deactivated", "MemberDeactivated"
    raise ValueError(decision)
