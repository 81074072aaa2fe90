"""Service-desk rules (میز خدمت), pure Python: tracking codes, working days, the ticket's steps, the scorecard."""
import datetime as dt
import math
import secrets
import statistics

from kit.persian import TEHRAN, add_working_days, jalali_month_key, normalize_digits, to_jalali

# -- tracking codes (کد رهگیری) ------------------------------------------------------------------------------
# 31 symbols without the ones read or heard alike (0/O, 1/I/L); 31 is prime, so a weighted sum modulo 31
# catches every single wrong character and every swap of two neighbours.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_BODY = 10  # random characters: 31**10 ≈ 8·10**14 codes, so guessing one is hopeless
TRACKING_LENGTH = TRACKING_BODY + 1
_VALUE = {ch: i for i, ch in enumerate(TRACKING_ALPHABET)}
_BASE = len(TRACKING_ALPHABET)


def tracking_check_char(body):
    """The character that makes ``sum(position * value) ≡ 0 (mod 31)`` over the whole code (positions from 1)."""
    total = sum((i + 1) * _VALUE[ch] for i, ch in enumerate(body))
    weight = len(body) + 1
    # solve total + weight * c ≡ 0 (mod 31)
    c = (-total * pow(weight, -1, _BASE)) % _BASE
    return TRACKING_ALPHABET[c]


def new_tracking_code():
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_BODY))
    return body + tracking_check_char(body)


def normalize_tracking_code(raw):
    """A code as typed (lower case, Persian digits, spaces or dashes) to its canonical form; ValueError if wrong."""
    if not isinstance(raw, str):
        raise ValueError("not a tracking code")
    code = "".join(ch for ch in normalize_digits(raw).upper() if ch not in " -_\u200c\u200f\u200e")
    if len(code) != TRACKING_LENGTH or any(ch not in _VALUE for ch in code):
        raise ValueError("not a tracking code")
    if tracking_check_char(code[:-1]) != code[-1]:
        raise ValueError("tracking code check character does not match")
    return code


def is_valid_tracking_code(raw):
    try:
        normalize_tracking_code(raw)
    except ValueError:
        return False
    return True


def format_tracking_code(code):
    """For reading aloud: ``ABCD-EFGH-JKM``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# -- days ----------------------------------------------------------------------------------------------------
FRIDAY = 4


def tehran_date(moment):
    """The calendar day in Tehran of an aware moment."""
    return moment.astimezone(TEHRAN).date()


def tehran_day_bounds(first, last):
    """Aware UTC ``[start of first, start of the day after last)`` in Tehran time."""
    start = dt.datetime.combine(first, dt.time(), TEHRAN)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), TEHRAN)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def is_working_day(day, holidays=frozenset()):
    """Friday (جمعه) is the weekend; official holidays come from the holiday table."""
    return day.weekday() != FRIDAY and day not in holidays


def promised_date(start, standard_days, holidays=frozenset()):
    """The date promised to the visitor: ``standard_days`` working days after ``start``."""
    return add_working_days(start, standard_days, holidays)


def working_days_between(start, end, holidays=frozenset()):
    """Working days in ``(start, end]``: how far a stopped clock pushes the promise."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            count += 1
    return count


def promise_problem(given, earliest, holidays=frozenset()):
    """Why a promised date given by the desk is refused, as (code, fa, en); None when acceptable."""
    if given < earliest:
        return ("promised_date_too_early",
                f"تاریخ وعده زودتر از مدت استاندارد این فرآیند است؛ زودترین تاریخ {to_jalali(earliest)} است.",
                f"The promised date is earlier than the procedure's standard duration allows; "
                f"the earliest is {earliest.isoformat()}.")
    if given.weekday() == FRIDAY:
        return ("promised_date_not_working_day", "تاریخ وعده جمعه است؛ یک روز کاری انتخاب کنید.",
                "The promised date is a Friday; choose a working day.")
    if given in holidays:
        return ("promised_date_not_working_day", "تاریخ وعده تعطیل رسمی است؛ یک روز کاری انتخاب کنید.",
                "The promised date is an official holiday; choose a working day.")
    return None


def one_year_before(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def is_stale(reviewed_on, today):
    """A procedure must be reviewed at least once a year."""
    return reviewed_on < one_year_before(today)


# -- documents -----------------------------------------------------------------------------------------------
def missing_documents(required, received):
    """Required documents (مدارک) the visitor has not handed over, in the procedure's order."""
    got = set(received)
    return [d for d in required if d not in got]


def unknown_documents(required, received):
    known = set(required)
    return [d for d in received if d not in known]


# -- the ticket's steps --------------------------------------------------------------------------------------
OPEN, AWAITING, REFERRED, RESULT_READY, RESOLVED, DELIVERED = (
    "open", "awaiting_visitor", "referred", "result_ready", "resolved", "delivered")
STATUSES = (OPEN, AWAITING, REFERRED, RESULT_READY, RESOLVED, DELIVERED)
CLOSED = (RESOLVED, DELIVERED)
CLOCK_RUNNING = (OPEN, REFERRED)  # the promise is measured only while the office holds the ticket

# step -> the statuses it may start from
STEPS = {
    "resolve": (OPEN,),
    "refer": (OPEN,),
    "result": (REFERRED,),
    "deliver": (RESULT_READY,),
    "await_visitor": (OPEN, REFERRED),
    "resume": (AWAITING,),
}

STATUS_LABELS = {
    OPEN: ("در حال بررسی در میز خدمت", "Being handled at the service desk"),
    AWAITING: ("در انتظار مراجعه شما", "Waiting for you"),
    REFERRED: ("ارجاع شده به واحد ذیربط", "Referred to the responsible unit"),
    RESULT_READY: ("نتیجه آماده است", "The result is ready"),
    RESOLVED: ("انجام شد", "Done"),
    DELIVERED: ("انجام و تحویل شد", "Done and delivered"),
}

NEXT_STEPS = {
    OPEN: ("میز خدمت درخواست شما را بررسی می‌کند.", "The service desk is handling your request."),
    AWAITING: ("لطفاً با مدارک کسری به میز خدمت مراجعه کنید.",
               "Please come to the service desk with the missing documents."),
    REFERRED: ("واحد ذیربط درخواست را انجام می‌دهد؛ نتیجه تا تاریخ وعده به شما اعلام می‌شود.",
               "The responsible unit is working on it; you will hear the result by the promised date."),
    RESULT_READY: ("برای دریافت نتیجه به میز خدمت مراجعه کنید.", "Come to the service desk to receive the result."),
    RESOLVED: ("کار انجام شد؛ می‌توانید به خدمت میز خدمت امتیاز دهید.", "Done; you may rate the service."),
    DELIVERED: ("کار انجام و تحویل شد؛ می‌توانید به خدمت میز خدمت امتیاز دهید.",
                "Done and delivered; you may rate the service."),
}


NEEDS_DOCUMENTS = ("resolve", "refer")  # the desk acts on a request only with every required document


def step_refusal(step, status, missing=()):
    """Why a step is refused in this status (``missing``: required documents not received), as (code, fa, en);
    None when allowed."""
    if status not in CLOSED and step in NEEDS_DOCUMENTS and missing:
        return documents_refusal(missing)
    if status in STEPS[step]:
        return None
    if status in CLOSED:
        return ("ticket_closed", "این درخواست بسته شده است.", "This ticket is closed.")
    if status == AWAITING:
        return ("awaiting_visitor", "این درخواست در انتظار مراجعه ارباب رجوع است؛ ابتدا آن را از سر بگیرید.",
                "This ticket is waiting for the visitor; resume it first.")
    return ("wrong_step", f"این کار در وضعیت «{STATUS_LABELS[status][0]}» ممکن نیست.",
            f"This step is not possible while the ticket is {status}.")


def is_on_time(done_day, due_day):
    return done_day <= due_day


def may_rate(status):
    return status in CLOSED


# -- tracking misses -----------------------------------------------------------------------------------------
TRACK_WINDOW = dt.timedelta(minutes=15)
TRACK_LIMIT_PER_CODE = 5      # wrong mobiles tried against one code
TRACK_LIMIT_PER_CLIENT = 20   # codes or mobiles missed by one client address


# -- the scorecard -------------------------------------------------------------------------------------------
def percentile(values, q):
    """Nearest-rank percentile (the smallest value with at least q% of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values) if values else None


def days_between(start, end):
    return (end - start).total_seconds() / 86400


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def scorecard(tickets):
    """The figures of one group of tickets.

    Each ticket is a mapping with ``status``, ``created_at``, ``referred_at``, ``done_at`` (when the desk resolved
    it or the unit's result was ready), ``due_date`` and ``rating``. Delivered tickets are the closed ones
    (resolved at the desk, or delivered after the unit's result); on time means done by the promised date.
    """
    received = len(tickets)
    resolved_at_desk = sum(1 for t in tickets if t["status"] == RESOLVED)
    referred = sum(1 for t in tickets if t.get("referred_at") is not None)
    closed = [t for t in tickets if t["status"] in CLOSED]
    on_time = sum(1 for t in closed if is_on_time(tehran_date(t["done_at"]), t["due_date"]))
    durations = [days_between(t["created_at"], t["done_at"]) for t in tickets if t.get("done_at") is not None]
    ratings = [t["rating"] for t in tickets if t.get("rating") is not None]
    return {
        "received": received,
        "resolved_at_desk": resolved_at_desk,
        "referred": referred,
        "delivered": len(closed),
        "delivered_on_time": on_time,
        "delivered_late": len(closed) - on_time,
        "median_days_to_resolve": _round(median(durations)),
        "p90_days_to_resolve": _round(percentile(durations, 90)),
        "rated": len(ratings),
        "satisfaction": _round(sum(ratings) / len(ratings)) if ratings else None,
    }


def scorecard_by_month(tickets):
    """Scorecards grouped by (Jalali month of creation in Tehran, unit, procedure), in that order."""
    groups = {}
    for t in tickets:
        key = (jalali_month_key(t["created_at"]), t["unit"], t["procedure_id"])
        groups.setdefault(key, []).append(t)
    out = []
    for (month, unit, procedure_id), group in sorted(groups.items()):
        row = {"month": month, "unit": unit, "procedure_id": procedure_id,
               "procedure_title": group[0].get("procedure_title")}
        row.update(scorecard(group))
        out.append(row)
    return out


def public_summary(tickets):
    """What a visitor may expect of a procedure: share done on time and the typical duration."""
    card = scorecard(tickets)
    done = card["delivered"]
    return {
        "tickets": done,
        "on_time_share": _round(card["delivered_on_time"] / done) if done else None,
        "median_days": card["median_days_to_resolve"],
        "p90_days": card["p90_days_to_resolve"],
        "satisfaction": card["satisfaction"],
    }


# -- who sees what -------------------------------------------------------------------------------------------
def sees_province(actor, province):
    """Tenancy: the national admin sees every province; everyone else only their own."""
    return actor["role"] == "admin" or actor.get("province") == province


def documents_refusal(missing):
    """The refusal of a step that needs every required document, stating what is missing."""
    return ("documents_missing",
            "مدارک این درخواست کامل نیست؛ مدارک کسری: " + "، ".join(missing) + ".",
            "The ticket's documents are incomplete; missing: " + ", ".join(missing) + ".")
