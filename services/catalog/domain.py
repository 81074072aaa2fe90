"""Catalog rules (عرصه، خدمت، اعلام آمادگی، پیشنهاد خدمت), pure Python."""
import datetime as dt

import jdatetime

from kit.persian import TEHRAN

FIELD_KINDS = ("general", "specialized", "staff")
LOCK_MONTHS = 6                      # a declared field is locked for six months
MAX_ACTIVE_OFFERS = 2                # at most two services at the same time
ACTIVE_STATUSES = ("pending_review", "approved")
OFFER_STATUSES = ("pending_review", "approved", "rejected", "withdrawn", "completed")
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_DOCUMENTS_PER_OFFER = 10

# magic bytes of the accepted document types
_MAGIC = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def add_jalali_months(moment, months):
    """The same Tehran wall-clock time ``months`` Jalali months later (the day clamped to the month's end)."""
    local = moment.astimezone(TEHRAN)
    j = jdatetime.date.fromgregorian(date=local.date())
    index = j.month - 1 + months
    year, month = j.year + index // 12, index % 12 + 1
    day = j.day
    while True:
        try:
            target = jdatetime.date(year, month, day).togregorian()
            break
        except ValueError:
            day -= 1
    naive = dt.datetime.combine(target, local.time().replace(tzinfo=None))
    return naive.replace(tzinfo=TEHRAN).astimezone(dt.timezone.utc)


def lock_until(chosen_at):
    """When a field chosen at ``chosen_at`` may be changed again."""
    return add_jalali_months(chosen_at, LOCK_MONTHS)


def field_change(current_field, locked_until, new_field, now):
    """How a re-declaration is treated: ``"new"`` (first), ``"same"``, ``"change"`` or ``"locked"``."""
    if current_field is None:
        return "new"
    if current_field == new_field:
        return "same"
    if now < locked_until:
        return "locked"
    return "change"




def document_type(content):
    """``(content_type, extension)`` of a PDF, JPEG or PNG recognised by its magic bytes, else None."""
    for magic, ctype, ext in _MAGIC:
        if content.startswith(magic):
            return ctype, ext
    return None


def reviews(actor, offer):
    """The thematic centre of the offer's county and field reviews it (in its own province)."""
    return (actor["role"] == "thematic_center" and actor.get("province") == offer["province"]
            and actor.get("county") == offer["county"] and actor.get("field") == offer["field_id"])


def sees_offer(actor, offer):
    """Who may read an offer (and its documents): its member, its reviewers, its province's office, admin."""
    role = actor["role"]
    if role == "admin":
        return True
    if actor.get("province") != offer["province"]:
        return False
    if role == "member":
        return actor["id"] == offer["member_id"]
    if role == "province_office":
        return True
    if role == "thematic_center":
        return reviews(actor, offer)
    if role == "neighborhood_center":
        return offer["status"] == "approved" and actor.get("county") == offer["county"]
    return False


def reads_documents(actor, offer):
    """Documents are personal: the member, the reviewing centre, the province's office and admin only."""
    return actor["role"] != "neighborhood_center" and sees_offer(actor, offer)


def offers_scope(actor):
    """Filters of ``GET /offers`` by role: ``{"province", "county", "field_id", "status"}`` (None: any)."""
    role = actor["role"]
    if role == "admin":
        return {}
    scope = {"province": actor.get("province")}
    if role == "thematic_center":
        scope.update(county=actor.get("county"), field_id=actor.get("field"))
    elif role == "neighborhood_center":
        scope.update(county=actor.get("county"), status="approved")
    elif role != "province_office":
        scope["member_id"] = actor["id"]
    return scope
