"""Membership rules (ثبت نام، جلسه توجیهی، فعال‌سازی), pure Python."""
import datetime as dt
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
