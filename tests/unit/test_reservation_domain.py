"""Reservation rules, pure: overlapping windows, valid times, and whose records a centre sees."""
import datetime as dt

import pytest

from kit.persian import normalize_phone
from services.reservation import domain

T0 = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize("a,b,clash", [
    ((0, 2), (1, 3), True),
    ((0, 2), (2, 3), False),   # back to back
    ((1, 3), (0, 1), False),
    ((0, 4), (1, 2), True),    # inside
    ((1, 2), (0, 4), True),    # around
    ((0, 1), (0, 1), True),
])
def test_overlaps(a, b, clash):
    assert domain.overlaps(T0 + a[0] * H, T0 + a[1] * H, T0 + b[0] * H, T0 + b[1] * H) is clash


def test_window_problems():
    now = T0 - H
    assert domain.window_problem(T0, T0 + 2 * H, now) is None
    assert domain.window_problem(T0, T0, now)[0] == "ends_at"
    assert domain.window_problem(T0, T0 - H, now)[0] == "ends_at"
    assert domain.window_problem(T0, T0 + 13 * H, now)[0] == "ends_at"
    assert domain.window_problem(T0, T0 + H, T0 + H)[0] == "starts_at"


ROW = {"province": "9", "county": "904", "center": "کانون محله الف"}


def test_a_centres_records_are_its_own_and_its_offices():
    centre = {"id": "c", "role": "neighborhood_center", "province": "9", "county": "904", "center": "کانون محله الف"}
    assert domain.sees_centre_record(centre, ROW)
    assert not domain.sees_centre_record(dict(centre, center="کانون محله ب"), ROW)
    assert not domain.sees_centre_record(dict(centre, county="905"), ROW)
    assert domain.sees_centre_record({"id": "o", "role": "province_office", "province": "9"}, ROW)
    assert not domain.sees_centre_record({"id": "o", "role": "province_office", "province": "23"}, ROW)
    assert domain.sees_centre_record({"id": "a", "role": "admin"}, ROW)
    assert not domain.sees_centre_record({"id": "m", "role": "member", "province": "9"}, ROW)
    assert not domain.sees_centre_record({"id": "s", "role": "supervisor", "province": "9", "county": "904",
                                          "center": "کانون محله الف"}, ROW)
    assert domain.centre_scope(centre) == ROW
    assert domain.centre_scope({"id": "o", "role": "province_office", "province": "9"}) == {"province": "9"}


def test_a_centre_reserves_approved_offers_of_its_county():
    centre = {"id": "c", "role": "neighborhood_center", "province": "9", "county": "904", "center": "x"}
    offer = {"status": "approved", "province": "9", "county": "904"}
    assert domain.may_reserve(centre, offer)
    assert not domain.may_reserve(centre, None)
    assert not domain.may_reserve(centre, dict(offer, status="withdrawn"))
    assert not domain.may_reserve(centre, dict(offer, county="905"))
    assert not domain.may_reserve(dict(centre, province="23"), offer)


def test_beneficiary_phones():
    assert normalize_phone("۰۹۱۵ ۰۰۰ ۱۱۱۱") == "09150001111"
    assert normalize_phone("051 3800 1234") == "05138001234"
    with pytest.raises(ValueError):
        normalize_phone("1234")
