"""Reservation rules (نیازمندان، رزرو خدمت), pure Python."""
import datetime as dt

STATUSES = ("invited", "accepted", "declined", "cancelled")
HOLDING = ("invited", "accepted")       # reservations that hold the offer's time
MAX_LENGTH = dt.timedelta(hours=12)    # one reservation is one working session


# why a reservation was cancelled (لغو): the code kept in ``cancel_reason`` and carried by ReservationCancelled,
# and what the member and the centre read
CANCEL_REASONS = {
    "suspended": "لغو شد: عضویت خادمیار در پی بازنگری تعلیق شد.",
    "deactivated": "لغو شد: عضویت خادمیار غیرفعال شد.",
    "offer_withdrawn": "لغو شد: خادمیار از این خدمت انصراف داد.",
    "offer_completed": "لغو شد: خادمیار این خدمت را پایان‌یافته اعلام کرد.",
}


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open intervals [start, end) share some time."""
    return a_start < b_end and b_start < a_end


def window_problem(starts_at, ends_at, now):
    """Why a reservation's time is refused, as (field, fa, en); None when acceptable."""
    if ends_at <= starts_at:
        return ("ends_at", "پایان باید پس از آغاز باشد.", "The end must be after the start.")
    if ends_at - starts_at > MAX_LENGTH:
        return ("ends_at", "هر رزرو حداکثر ۱۲ ساعت است.", "A reservation lasts at most 12 hours.")
    if starts_at <= now:
        return ("starts_at", "زمان آغاز باید در آینده باشد.", "The start must be in the future.")
    return None


def centre_of(actor):
    """The neighbourhood centre an actor speaks for: (province, county, center)."""
    return actor.get("province"), actor.get("county"), actor.get("center")


def sees_centre_record(actor, row):
    """Beneficiaries and reservations: their own centre, the province's office, and the national admin."""
    role = actor["role"]
    if role == "admin":
        return True
    if actor.get("province") != row["province"]:
        return False
    if role == "province_office":
        return True
    if role == "neighborhood_center":
        return (actor.get("county"), actor.get("center")) == (row["county"], row["center"])
    return False


def centre_scope(actor):
    """Filters for lists of a centre's records: ``{"province", "county", "center"}`` (absent: any)."""
    role = actor["role"]
    if role == "admin":
        return {}
    if role == "province_office":
        return {"province": actor.get("province")}
    return {"province": actor.get("province"), "county": actor.get("county"), "center": actor.get("center")}


def may_reserve(actor, offer):
    """A neighbourhood centre reserves approved offers of its own county (in its own province)."""
    return (offer is not None and offer["status"] == "approved" and offer["province"] == actor.get("province")
            and offer["county"] == actor.get("county"))


def still_open(status, starts_at, now):
    """A reservation that a cancellation ends: any invitation not yet answered, and an accepted one still to come
    (one that has started is left to be reported)."""
    return status == "invited" or (status == "accepted" and starts_at > now)


def cancel_note(reason):
    """The Persian sentence shown for a cancellation reason code (None when not cancelled)."""
    return CANCEL_REASONS.get(reason) if reason else None
