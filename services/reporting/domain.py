"""Reporting rules (گزارش خدمت، ناظر), pure Python."""
from kit.persian import TEHRAN

STATUSES = ("submitted", "approved", "rejected")
MAX_HOURS = 24


def tehran_date(moment):
    return moment.astimezone(TEHRAN).date()


def performed_on_problem(performed_on, starts_at, now):
    """Why a report's date is refused, as (fa, en); None when acceptable.

    The service is reported on or after the day the reservation starts, and never for a day still to come.
    """
    if performed_on < tehran_date(starts_at):
        return ("تاریخ انجام خدمت پیش از زمان رزرو است.", "The date is before the reservation's start.")
    if performed_on > tehran_date(now):
        return ("تاریخ انجام خدمت نمی‌تواند در آینده باشد.", "The date cannot be in the future.")
    return None


def supervises(actor, report):
    """The supervisor (ناظر) of the centre that reserved the service reviews its reports."""
    return (actor["role"] == "supervisor" and actor.get("province") == report["province"]
            and actor.get("county") == report["county"] and actor.get("center") == report["center"])


def sees_report(actor, report):
    role = actor["role"]
    if role == "admin":
        return True
    if actor.get("province") != report["province"]:
        return False
    if role == "member":
        return actor["id"] == report["member_id"]
    if role == "province_office":
        return True
    return supervises(actor, report)


def reports_scope(actor):
    """Filters of ``GET /reports`` by role (absent: any)."""
    role = actor["role"]
    if role == "admin":
        return {}
    if role == "province_office":
        return {"province": actor.get("province")}
    if role == "supervisor":
        return {"province": actor.get("province"), "county": actor.get("county"), "center": actor.get("center")}
    return {"province": actor.get("province"), "member_id": actor["id"]}
