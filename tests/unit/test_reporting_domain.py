"""Reporting rules, pure: the report's date, and who reviews and sees a report."""
import datetime as dt

from services.reporting import domain

UTC = dt.timezone.utc


def test_the_date_is_on_or_after_the_reservations_day_and_not_in_the_future():
    # 21:00 UTC is already the next day in Tehran (+03:30)
    starts = dt.datetime(2030, 1, 1, 21, 0, tzinfo=UTC)
    now = dt.datetime(2030, 1, 5, 9, 0, tzinfo=UTC)
    assert domain.performed_on_problem(dt.date(2030, 1, 2), starts, now) is None
    assert domain.performed_on_problem(dt.date(2030, 1, 1), starts, now) is not None
    assert domain.performed_on_problem(dt.date(2030, 1, 5), starts, now) is None
    assert domain.performed_on_problem(dt.date(2030, 1, 6), starts, now) is not None


REPORT = {"province": "9", "county": "904", "center": "کانون محله الف", "member_id": "m1"}


def test_the_supervisor_of_that_centre_reviews():
    supervisor = {"id": "s", "role": "supervisor", "province": "9", "county": "904", "center": "کانون محله الف"}
    assert domain.supervises(supervisor, REPORT)
    assert not domain.supervises(dict(supervisor, center="کانون محله ب"), REPORT)
    assert not domain.supervises(dict(supervisor, county="905"), REPORT)
    assert not domain.supervises(dict(supervisor, province="23"), REPORT)
    assert not domain.supervises(dict(supervisor, role="neighborhood_center"), REPORT)


def test_who_sees_a_report():
    assert domain.sees_report({"id": "m1", "role": "member", "province": "9"}, REPORT)
    assert not domain.sees_report({"id": "m2", "role": "member", "province": "9"}, REPORT)
    assert domain.sees_report({"id": "o", "role": "province_office", "province": "9"}, REPORT)
    assert not domain.sees_report({"id": "o", "role": "province_office", "province": "23"}, REPORT)
    assert domain.sees_report({"id": "a", "role": "admin"}, REPORT)
    assert domain.reports_scope({"id": "s", "role": "supervisor", "province": "9", "county": "904",
                                 "center": "c"}) == {"province": "9", "county": "904", "center": "c"}
    assert domain.reports_scope({"id": "m", "role": "member", "province": "9"}) == {"province": "9", "member_id": "m"}
