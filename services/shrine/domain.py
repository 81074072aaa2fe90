"""Shrine duty shift (کشیک) rules, pure Python: eligibility, booking phases, cut-offs, the fair-opening draw."""
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from kit.persian import TEHRAN, to_jalali, to_persian_digits

# states of a booking that hold a place on the shift (and count for the member's overlaps)
HOLDING = ("booked", "offered")
BOOKING_STATUSES = ("booked", "offered", "cancelled", "expired")
MEMBER_STATUSES = ("active", "suspended", "deactivated")
GENDERS = ("male", "female")

DEFAULT_FAIR_WINDOW_SECONDS = 10
DEFAULT_CANCEL_CUTOFF_HOURS = 24
DEFAULT_OFFER_MINUTES = 120         # a promoted member confirms within this, or the place passes on
DEFAULT_REMINDER_HOURS = 24         # ShiftReminderDue this long before the shift
DEFAULT_RATE_LIMIT = (10, 10)       # booking attempts per member: 10 in 10 seconds
ABSENCES_FOR_REVIEW = 5             # the fifth absence (and each fifth after it) puts the member up for review
DRAW_ALGORITHM = "hmac-sha256-sort-v1"


def jalali_moment(moment):
    """``1404/08/30 14:30`` in Tehran time (ASCII digits)."""
    return f"{to_jalali(moment)} {moment.astimezone(TEHRAN):%H:%M}"


def jalali_moment_fa(moment):
    return to_persian_digits(jalali_moment(moment))


# -- eligibility (a projection of MemberActivated, ReportApproved and the membership status events)
@dataclass(frozen=True)
class Verdict:
    eligible: bool
    code: str
    fa: str
    en: str


def eligibility(member):
    """Whether a member may book shifts, and why, from the projected facts (a mapping or None)."""
    if member is None:
        return Verdict(False, "no_approved_report",
                       "هنوز گزارش خدمتی از شما تأیید نشده است؛ "
                       "با تأیید نخستین گزارش خدمت، کشیک حرم برایتان باز می‌شود.",
                       "No service report of yours has been approved yet; the first approved report opens shrine "
                       "shifts to you.")
    status = member.get("status") or "active"
    if status == "deactivated":
        return Verdict(False, "deactivated", "عضویت شما غیرفعال شده است و نمی‌توانید کشیک رزرو کنید.",
                       "Your membership is deactivated; you cannot book shifts.")
    if status == "suspended":
        return Verdict(False, "suspended", "عضویت شما معلق است و تا رفع تعلیق نمی‌توانید کشیک رزرو کنید.",
                       "Your membership is suspended; you cannot book shifts until it is reinstated.")
    if member.get("education") == "below_diploma":
        return Verdict(False, "below_diploma",
                       "خادمیاران با تحصیلات زیر دیپلم در شهر خود خدمت می‌کنند؛ کشیک حرم برایشان باز نیست.",
                       "Members with education below diploma serve in their own city; shrine shifts are not open "
                       "to them.")
    if not member.get("approved_reports"):
        return eligibility(None)
    since = member.get("eligible_since") or member.get("first_report_at")
    when_fa = f" از {to_persian_digits(to_jalali(since))}" if since else ""
    when_en = f" since {since.date().isoformat()}" if since else ""
    return Verdict(True, "eligible",
                   f"شما{when_fa} واجد شرایط کشیک حرم مطهر هستید (نخستین گزارش خدمت شما تأیید شده است).",
                   f"You are eligible for shrine shifts{when_en} (your first service report was approved).")


def gender_allows(shift_gender, member_gender):
    """A shift restricted to one gender admits only members known to be of it."""
    return shift_gender is None or shift_gender == member_gender


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open intervals [start, end): back-to-back shifts do not overlap (as tstzrange '[)')."""
    return a_start < b_end and b_start < a_end


# -- booking phases of a shift
NOT_OPEN, FAIR, DRAW_DUE, OPEN, STARTED = "not_open", "fair_window", "draw_due", "open", "started"


def fair_until(opens_at, window_seconds):
    """End of the fair-opening window; None when the shift opens at publication (no announced moment)."""
    if opens_at is None or window_seconds <= 0:
        return None
    return opens_at + dt.timedelta(seconds=window_seconds)


def phase(shift, now):
    """Where a shift stands for a booking attempt arriving at ``now``."""
    if now >= shift["starts_at"]:
        return STARTED
    if shift.get("opens_at") is not None and now < shift["opens_at"]:
        return NOT_OPEN
    until = shift.get("fair_until")
    if until is not None and shift.get("drawn_at") is None:
        return FAIR if now < until else DRAW_DUE
    return OPEN


def cancel_deadline(starts_at, cutoff_hours):
    return starts_at - dt.timedelta(hours=cutoff_hours)


def offer_deadline(now, starts_at, minutes):
    """A promoted member confirms by this moment: the offer window, but never past the shift's start."""
    return min(now + dt.timedelta(minutes=minutes), starts_at)


def flags_review(absences):
    """The fifth absence puts a member up for review (and so does each fifth after it)."""
    return absences > 0 and absences % ABSENCES_FOR_REVIEW == 0


def review_reason(absences):
    return ("repeated_absence",
            f"غیبت در {to_persian_digits(str(absences))} کشیک حرم مطهر؛ بررسی وضعیت خادمیار لازم است.",
            f"Absent from {absences} shrine shifts; the member is up for review.")


def reminder_due(starts_at, now, hours):
    return now < starts_at <= now + dt.timedelta(hours=hours)


def parse_rate(text):
    """``"10/10"`` → (10 attempts, 10 seconds)."""
    if text is None or text == "":
        return DEFAULT_RATE_LIMIT
    if isinstance(text, (tuple, list)):
        return int(text[0]), float(text[1])
    count, _, seconds = str(text).partition("/")
    return int(count), float(seconds or 10)


# -- the fair-opening draw
def new_seed():
    """256 bits from the operating system's CSPRNG, as hex: recorded with the draw for audit."""
    return secrets.token_hex(32)


def draw_key(seed, attempt_id):
    return hmac.new(bytes.fromhex(seed), str(attempt_id).encode(), hashlib.sha256).hexdigest()


def draw_order(seed, attempt_ids):
    """The order in which a draw grants places.

    Each attempt gets the key HMAC-SHA256(seed, attempt_id); places go by ascending key.  The keys are
    independent and uniform for a secret random seed chosen after the window closed, so every ordering of the
    entrants is equally likely, whatever order they arrived in.  Anyone with the recorded seed and entrant
    ids can recompute the order (``verify_draw``).
    """
    return sorted((str(a) for a in attempt_ids), key=lambda a: (draw_key(seed, a), a))


def verify_draw(seed, entrants, order):
    return draw_order(seed, entrants) == list(order)
