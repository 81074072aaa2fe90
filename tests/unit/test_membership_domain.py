"""Membership rules, pure: no broker, no database."""
import datetime as dt

from freezegun import freeze_time

from services.membership import domain

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)


def test_overdue_only_after_fifteen_days_and_only_while_uncontacted():
    assert not domain.is_overdue("submitted", NOW - dt.timedelta(days=15), NOW)
    assert domain.is_overdue("submitted", NOW - dt.timedelta(days=15, seconds=1), NOW)
    assert not domain.is_overdue("invited", NOW - dt.timedelta(days=40), NOW)


def test_activation_deadline_is_two_months_after_attending():
    assert domain.activation_deadline(NOW) == NOW + dt.timedelta(days=60)


def test_initial_passwords_are_unambiguous_and_unpredictable():
    seen = {domain.initial_password() for _ in range(200)}
    assert len(seen) == 200
    assert all(len(p) == 10 and not set(p) & set("0O1lI") for p in seen)


def test_password_rules():
    assert domain.password_problems("short")[0][0] == "too_short"
    codes = [p[0] for p in domain.password_problems("x0499370899y", national_id="0499370899")]
    assert codes == ["contains_national_id"]
    assert [p[0] for p in domain.password_problems("same-password", current="same-password")] == ["unchanged"]
    assert domain.password_problems("a-good-long-one", current="old-one", national_id="0499370899") == []


def test_who_may_create_which_staff():
    assert domain.may_create_staff("admin", None, "province_office", "9")
    assert domain.may_create_staff("province_office", "9", "desk_officer", "9")
    assert not domain.may_create_staff("province_office", "9", "desk_officer", "23")
    assert not domain.may_create_staff("province_office", "9", "province_office", "9")
    assert not domain.may_create_staff("desk_officer", "9", "unit_officer", "9")


def test_scope_each_role_needs():
    assert domain.missing_scope("thematic_center", {"county": "916"}) == ["field"]
    assert domain.missing_scope("neighborhood_center", {}) == ["county", "center"]
    assert domain.missing_scope("desk_officer", {}) == []


def test_tenancy():
    assert domain.sees_province({"role": "admin"}, "23")
    assert domain.sees_province({"role": "province_office", "province": "9"}, "9")
    assert not domain.sees_province({"role": "province_office", "province": "9"}, "23")


@freeze_time("2026-11-21 12:00:00")
def test_overdue_with_the_clock_moved():
    submitted = dt.datetime.now(dt.timezone.utc)
    with freeze_time("2026-12-06 12:00:01"):
        assert domain.is_overdue("submitted", submitted, dt.datetime.now(dt.timezone.utc))
    with freeze_time("2026-12-06 11:59:59"):
        assert not domain.is_overdue("submitted", submitted, dt.datetime.now(dt.timezone.utc))
