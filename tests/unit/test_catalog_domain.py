"""Catalog rules, pure: the six-month lock in the Jalali calendar, phones, document types, who sees what."""
import datetime as dt

import pytest

from kit.persian import TEHRAN, normalize_phone, to_jalali
from services.catalog import domain

UTC = dt.timezone.utc


def test_the_lock_is_six_jalali_months_at_the_same_tehran_time():
    chosen = dt.datetime(2025, 3, 21, 8, 30, tzinfo=UTC)
    assert to_jalali(chosen) == "1404/01/01"
    until = domain.lock_until(chosen)
    assert to_jalali(until) == "1404/07/01"
    assert until.astimezone(TEHRAN).time() == chosen.astimezone(TEHRAN).time()


def test_the_lock_clamps_to_the_end_of_a_shorter_month():
    # 31 Shahrivar 1404 + 6 months: Esfand has 29 days in 1404
    chosen = dt.datetime(2025, 9, 22, 6, 0, tzinfo=UTC)
    assert to_jalali(chosen) == "1404/06/31"
    assert to_jalali(domain.lock_until(chosen)) == "1404/12/29"
    # across the year
    assert to_jalali(domain.add_jalali_months(dt.datetime(2025, 11, 21, 6, 0, tzinfo=UTC), 6)) == "1405/02/30"


@pytest.mark.parametrize("current,new,now_offset,kind", [
    (None, "a", 0, "new"),
    ("a", "a", -10, "same"),
    ("a", "b", -10, "locked"),
    ("a", "b", 10, "change"),
])
def test_field_change(current, new, now_offset, kind):
    locked_until = dt.datetime(2026, 1, 1, tzinfo=UTC)
    now = locked_until + dt.timedelta(days=now_offset)
    assert domain.field_change(current, locked_until, new, now) == kind


@pytest.mark.parametrize("raw,phone", [
    ("09151234567", "09151234567"),
    ("+98 915 123 4567", "09151234567"),
    ("۰۹۱۵۱۲۳۴۵۶۷", "09151234567"),
    ("051-3800-1234", "05138001234"),
    ("(۰۵۱) ۳۸۰۰ ۱۲۳۴", "05138001234"),
    ("+98 21 8888 7777", "02188887777"),
])
def test_phones_are_mobiles_or_landlines_with_area_code(raw, phone):
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("raw", ["38001234", "12345", "0051238001234", "", None, "0915123456a"])
def test_bad_phones(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_documents_are_recognised_by_their_magic_bytes():
    assert domain.document_type(b"%PDF-1.7 ...") == ("application/pdf", "pdf")
    assert domain.document_type(b"\xff\xd8\xff\xe1 exif") == ("image/jpeg", "jpg")
    assert domain.document_type(b"\x89PNG\r\n\x1a\n....") == ("image/png", "png")
    assert domain.document_type(b"GIF89a") is None
    assert domain.document_type(b"MZ\x90\x00") is None
    assert domain.document_type(b"") is None


OFFER = {"province": "9", "county": "904", "field_id": "f1", "member_id": "m1", "status": "pending_review"}


def test_the_thematic_centre_of_that_county_and_field_reviews():
    centre = {"id": "t", "role": "thematic_center", "province": "9", "county": "904", "field": "f1"}
    assert domain.reviews(centre, OFFER)
    assert not domain.reviews(dict(centre, county="905"), OFFER)
    assert not domain.reviews(dict(centre, field="f2"), OFFER)
    assert not domain.reviews(dict(centre, province="23"), OFFER)
    assert not domain.reviews(dict(centre, role="neighborhood_center"), OFFER)


def test_who_sees_an_offer_and_its_documents():
    member = {"id": "m1", "role": "member", "province": "9"}
    centre = {"id": "c", "role": "neighborhood_center", "province": "9", "county": "904"}
    office = {"id": "o", "role": "province_office", "province": "9"}
    assert domain.sees_offer(member, OFFER) and not domain.sees_offer(dict(member, id="m2"), OFFER)
    assert domain.sees_offer(office, OFFER) and not domain.sees_offer(dict(office, province="23"), OFFER)
    assert not domain.sees_offer(centre, OFFER)  # pending: not yet for the neighbourhood
    approved = dict(OFFER, status="approved")
    assert domain.sees_offer(centre, approved) and not domain.sees_offer(dict(centre, county="905"), approved)
    assert not domain.reads_documents(centre, approved)
    assert domain.reads_documents(office, approved) and domain.reads_documents({"id": "a", "role": "admin"}, OFFER)


def test_the_scope_of_the_offer_list():
    assert domain.offers_scope({"id": "a", "role": "admin"}) == {}
    assert domain.offers_scope({"id": "t", "role": "thematic_center", "province": "9", "county": "904",
                                "field": "f"}) == {"province": "9", "county": "904", "field_id": "f"}
    assert domain.offers_scope({"id": "c", "role": "neighborhood_center", "province": "9", "county": "904"}) == \
        {"province": "9", "county": "904", "status": "approved"}
    assert domain.offers_scope({"id": "m", "role": "member", "province": "9"}) == {"province": "9", "member_id": "m"}
