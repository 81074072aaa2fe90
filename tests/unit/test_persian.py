"""Unit tests for kit.persian (Persian digits/text, national IDs, mobiles, Jalali dates)."""

from datetime import date, datetime, timedelta, timezone

import jdatetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.persian import (  # noqa: E402
    TEHRAN,
    add_working_days,
    is_valid_national_id,
    jalali_month_bounds,
    jalali_month_key,
    jalali_week_start,
    make_national_id,
    national_id_check_digit,
    normalize_digits,
    normalize_mobile,
    normalize_national_id,
    normalize_text,
    parse_date,
    parse_datetime,
    persian_numbers,
    to_jalali,
    to_jalali_fa,
    to_persian_digits,
)

UTC = timezone.utc
dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2090, 12, 31))


# --- digits and text --------------------------------------------------------


def test_normalize_digits_persian_and_arabic():
    assert normalize_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert normalize_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize_digits(" پلاک ۱۲-ب ") == " پلاک 12-ب "  # nothing else touched


def test_to_persian_digits():
    assert to_persian_digits("1404/08/30") == "۱۴۰۴/۰۸/۳۰"


@pytest.mark.parametrize("text,expected", [
    ("طول باید بین 1 و 2000 باشد.", "طول باید بین ۱ و ۲۰۰۰ باشد."),
    ("خارج از سال 1406: 1405/12/29، 1407/01/01", "خارج از سال ۱۴۰۶: ۱۴۰۵/۱۲/۲۹، ۱۴۰۷/۰۱/۰۱"),
    ("ساعت 14:30 روز 2025-11-21", "ساعت ۱۴:۳۰ روز ۲۰۲۵-۱۱-۲۱"),
    ("کد ملی 0012345678 تکراری است.", "کد ملی ۰۰۱۲۳۴۵۶۷۸ تکراری است."),
    ("حداکثر 2.5 ساعت (50%)", "حداکثر ۲.۵ ساعت (۵۰%)"),
    # what is copied letter by letter keeps its digits: opaque ids, tracking codes, a number after a Latin word
    ("دعوت‌نشده: 3fa2b91c، 77e0d", "دعوت‌نشده: 3fa2b91c، 77e0d"),
    ("کد رهگیری A2B3-C4D5-E6F", "کد رهگیری A2B3-C4D5-E6F"),
    ("نمونه: ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰ یا ISO 8601", "نمونه: ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰ یا ISO 8601"),
    ("The week of 2026-03-21", "The week of 2026-03-21"),
    ("", ""),
])
def test_persian_numbers(text, expected):
    assert persian_numbers(text) == expected


@given(st.text())
def test_persian_numbers_is_idempotent_and_changes_only_digits(s):
    once = persian_numbers(s)
    assert persian_numbers(once) == once
    assert normalize_digits(once) == normalize_digits(s)


def test_normalize_text_letters_spaces_and_zwnj():
    raw = "\u200c  علي   كريمي\u200cزاده\t\n تهران ۱۲ \u200c"
    assert normalize_text(raw) == "علی کریمی\u200cزاده تهران 12"
    assert normalize_text("مصطفى") == "مصطفی"


@given(st.text())
def test_normalize_text_idempotent(s):
    once = normalize_text(s)
    assert normalize_text(once) == once


@given(st.text(alphabet="0123456789/-: "))
def test_persian_digits_roundtrip(s):
    assert normalize_digits(to_persian_digits(s)) == s


# --- national ID --------------------------------------------------------------


def test_known_national_ids():
    # 0*10+4*9+9*8+9*7+3*6+7*5+0*4+8*3+9*2 = 266; 266 % 11 = 2; check = 11-2 = 9
    assert national_id_check_digit("049937089") == "9"
    assert is_valid_national_id("0499370899")
    assert not is_valid_national_id("0499370890")
    # hand-computed: s = weighted sum (weights 10..2), r = s % 11
    assert national_id_check_digit("000000001") == "9"  # s=2, r=2 → 11-2
    assert national_id_check_digit("100000000") == "1"  # s=10, r=10 → 11-10
    assert national_id_check_digit("000000006") == "1"  # s=12, r=1 → r (r < 2)
    assert national_id_check_digit("000000031") == "0"  # s=9+2=11, r=0 → r
    assert national_id_check_digit("000000107") == "4"  # s=4+14=18, r=7 → 11-7
    assert is_valid_national_id("0000000310") and not is_valid_national_id("0000000311")
    with pytest.raises(ValueError):
        national_id_check_digit("12345678")


def test_normalize_national_id_forms():
    assert normalize_national_id("۰۴۹۹-۳۷۰۸۹۹") == "0499370899"
    assert normalize_national_id(" 049 937 0899 ") == "0499370899"
    assert normalize_national_id("٠٤٩٩٣٧٠٨٩٩") == "0499370899"


@pytest.mark.parametrize(
    "bad",
    ["", "049937089", "04993708990", "049937089x", "0499370890", "1111111111", "0000000000",
     None, 499370899],
)
def test_invalid_national_ids(bad):
    assert not is_valid_national_id(bad)
    with pytest.raises(ValueError, match="invalid national id"):
        normalize_national_id(bad)


def test_all_same_digit_ids_pass_checksum_but_are_rejected():
    for d in "0123456789":
        assert national_id_check_digit(d * 9) == d
        assert not is_valid_national_id(d * 10)


def test_make_national_id_deterministic_and_bumps_repdigits():
    assert make_national_id(49937089) == "0499370899"
    assert make_national_id(49937089) == make_national_id(49937089 + 10**9)
    assert make_national_id(0) == "0000000019"  # 000000000 bumped to 000000001
    assert make_national_id(999_999_999) == "0000000019"  # bumps wrap to 000000001
    assert make_national_id(111_111_111)[:9] == "111111112"


@given(st.integers())
def test_make_national_id_always_valid(n):
    nid = make_national_id(n)
    assert len(nid) == 10 and nid.isdigit()
    assert is_valid_national_id(nid)
    assert normalize_national_id(to_persian_digits(nid)) == nid


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(min_value=1, max_value=9))
def test_changing_check_digit_invalidates(n, delta):
    nid = make_national_id(n)
    wrong = str((int(nid[9]) + delta) % 10)
    assert not is_valid_national_id(nid[:9] + wrong)


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(0, 8), st.integers(1, 9))
def test_single_digit_typo_in_body_invalidates(n, pos, delta):
    # weights 10..2 are non-zero and < 11, so any single-digit change alters r = s % 11;
    # the only blind spot is r=1 vs r=10, which both map to check digit 1.
    def rem(first9):
        return sum(int(c) * (10 - i) for i, c in enumerate(first9)) % 11

    nid = make_national_id(n)
    typo = nid[:pos] + str((int(nid[pos]) + delta) % 10) + nid[pos + 1 :]
    assert rem(typo[:9]) != rem(nid[:9])
    if is_valid_national_id(typo):
        assert {rem(typo[:9]), rem(nid[:9])} == {1, 10} and nid[9] == "1"


# --- mobile -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["09123456789", "9123456789", "+989123456789", "00989123456789", "989123456789",
     "۰۹۱۲۳۴۵۶۷۸۹", "٠٩١٢٣٤٥٦٧٨٩", "0912 345 6789", "+98 912-345-6789", " ۰۹۱۲-۳۴۵-۶۷۸۹ "],
)
def test_normalize_mobile_variants(raw):
    assert normalize_mobile(raw) == "09123456789"


def test_normalize_mobile_10_digit_starting_98():
    # "98..." with 10 digits is the bare 9xxxxxxxxx form, not a country code
    assert normalize_mobile("9891234567") == "09891234567"


@pytest.mark.parametrize(
    "bad",
    ["", "0912345678", "091234567890", "02112345678", "+982112345678", "8123456789",
     "+1 912 345 6789", "0912345678a", "۰۹۱۲۳۴۵۶۷۸", None],
)
def test_normalize_mobile_rejects(bad):
    with pytest.raises(ValueError):
        normalize_mobile(bad)


@given(st.from_regex(r"9[0-9]{9}", fullmatch=True),
       st.sampled_from(["0", "", "+98", "0098", "98"]), st.booleans())
def test_normalize_mobile_forms_and_idempotent(core, prefix, persian):
    raw = prefix + core
    if persian:
        raw = to_persian_digits(raw)
    out = normalize_mobile(raw)
    assert out == "0" + core
    assert normalize_mobile(out) == out


# --- dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1370/05/12", date(1991, 8, 3)),
        ("1370-05-12", date(1991, 8, 3)),
        ("۱۳۷۰/۵/۱۲", date(1991, 8, 3)),
        ("1404/01/01", date(2025, 3, 21)),
        ("1404/1/1", date(2025, 3, 21)),
        ("1403/12/30", date(2025, 3, 20)),  # 1403 is a leap year
        ("2025-03-21", date(2025, 3, 21)),
        ("٢٠٢٥-٠٣-٢١", date(2025, 3, 21)),
        ("2024-2-29", date(2024, 2, 29)),
        (" 1404/08/30 ", date(2025, 11, 21)),
    ],
)
def test_parse_date_known_pairs(raw, expected):
    assert parse_date(raw) == expected


def test_known_pairs_agree_with_jdatetime():
    assert jdatetime.date(1370, 5, 12).togregorian() == date(1991, 8, 3)
    assert jdatetime.date(1404, 1, 1).togregorian() == date(2025, 3, 21)


@pytest.mark.parametrize(
    "bad",
    ["1403/12/31", "1404/12/30", "1404/13/01", "1404/00/10", "2025-02-29", "2025-13-01",
     "1404/08", "14040830", "1404.08.30", "today", "", "1404/08/30 10:00", None],
)
def test_parse_date_invalid(bad):
    with pytest.raises(ValueError):
        parse_date(bad)


def test_parse_date_error_message_is_english():
    with pytest.raises(ValueError, match="invalid Jalali date"):
        parse_date("1404/12/30")


def test_to_jalali_formats():
    assert to_jalali(date(1991, 8, 3)) == "1370/05/12"
    assert to_jalali(date(2025, 3, 21)) == "1404/01/01"
    assert to_jalali_fa(date(2025, 11, 21)) == "۱۴۰۴/۰۸/۳۰"


def test_to_jalali_aware_datetime_uses_tehran_day():
    # 2025-03-20 21:00 UTC is 00:30 on 2025-03-21 (Nowruz 1404) in Tehran
    late = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)
    assert to_jalali(late) == "1404/01/01"
    assert jalali_month_key(late) == "1404-01"
    # naive datetimes are taken as-is
    assert to_jalali(datetime(2025, 3, 20, 21, 0)) == "1403/12/30"


@given(dates)
def test_to_jalali_parse_date_roundtrip(d):
    assert parse_date(to_jalali(d)) == d
    assert parse_date(to_jalali_fa(d)) == d
    assert parse_date(d.isoformat()) == d


# --- datetimes --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["1404/08/30 14:30", "1404/08/30T14:30", "1404/08/30T14:30:00", "۱۴۰۴/۰۸/۳۰ ۱۴:۳۰",
     "1404-08-30 14:30", "2025-11-21T14:30", "2025-11-21 14:30:00", "2025-11-21T11:00:00Z",
     "2025-11-21T11:00Z", "2025-11-21T14:30+03:30", "2025-11-21T12:00:00+01:00"],
)
def test_parse_datetime_same_instant(raw):
    out = parse_datetime(raw)
    assert out == datetime(2025, 11, 21, 11, 0, tzinfo=UTC)
    assert out.utcoffset() == timedelta(0)


def test_parse_datetime_seconds_and_historic_dst():
    assert parse_datetime("1404/08/30 14:30:15") == datetime(2025, 11, 21, 11, 0, 15, tzinfo=UTC)
    # Iran observed DST (+04:30) until 2022: 1400/04/01 12:00 Tehran = 07:30 UTC
    assert parse_datetime("1400/04/01 12:00") == datetime(2021, 6, 22, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    ["2025-11-21", "1404/08/30", "1404/08/30 25:00", "1404/08/30 10:60", "1404/12/30 10:00",
     "1404-08-30T10:00+03:30", "tomorrow", "", None],
)
def test_parse_datetime_invalid(bad):
    with pytest.raises(ValueError):
        parse_datetime(bad)


@given(st.datetimes(min_value=datetime(1930, 1, 1), max_value=datetime(2090, 12, 31),
                    timezones=st.just(UTC)))
def test_parse_datetime_jalali_roundtrip(dt):
    dt = dt.replace(microsecond=0)
    local = dt.astimezone(TEHRAN)
    text = f"{to_jalali(local)} {local:%H:%M:%S}"
    parsed = parse_datetime(text)
    # ambiguous wall times (DST fall-back) may resolve to the other instant
    same_wall_time = parsed.astimezone(TEHRAN).replace(tzinfo=None) == local.replace(tzinfo=None)
    assert parsed == dt or (local.fold and same_wall_time)
    assert parsed.tzinfo is UTC


# --- months and weeks -----------------------------------------------------------


def test_jalali_month_bounds():
    assert jalali_month_bounds("1404-01") == (date(2025, 3, 21), date(2025, 4, 21))
    assert jalali_month_bounds("1404-08") == (date(2025, 10, 23), date(2025, 11, 22))
    # Esfand: 30 days in leap 1403, 29 days in 1404
    assert jalali_month_bounds("1403-12") == (date(2025, 2, 19), date(2025, 3, 21))
    assert jalali_month_bounds("1404-12") == (date(2026, 2, 20), date(2026, 3, 21))
    assert jalali_month_bounds("۱۴۰۴-۰۸") == jalali_month_bounds("1404-08")


@pytest.mark.parametrize("bad", ["1404-13", "1404-00", "1404", "1404-08-01", "x"])
def test_jalali_month_bounds_invalid(bad):
    with pytest.raises(ValueError):
        jalali_month_bounds(bad)


def test_jalali_month_key():
    assert jalali_month_key(date(2025, 11, 21)) == "1404-08"
    assert jalali_month_key(date(2025, 3, 20)) == "1403-12"


@given(dates.filter(lambda d: d < date(2090, 12, 1)))
def test_month_key_and_bounds_agree(d):
    start, end = jalali_month_bounds(jalali_month_key(d))
    assert start <= d < end
    assert 29 <= (end - start).days <= 31
    assert to_jalali(start).endswith("/01")
    assert jalali_month_key(end) != jalali_month_key(d)


def test_jalali_week_start():
    fri = date(2025, 11, 21)  # Friday, 1404/08/30
    assert fri.weekday() == 4
    assert jalali_week_start(fri) == date(2025, 11, 15)
    assert jalali_week_start(date(2025, 11, 15)) == date(2025, 11, 15)  # Saturday itself
    assert jalali_week_start(date(2025, 11, 16)) == date(2025, 11, 15)  # Sunday


@given(dates)
def test_jalali_week_start_property(d):
    ws = jalali_week_start(d)
    assert ws.weekday() == 5 and 0 <= (d - ws).days < 7


# --- working days --------------------------------------------------------------

THU, FRI, SAT, SUN = date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 22), date(2025, 11, 23)


def test_add_working_days_skips_friday():
    assert add_working_days(THU, 1) == SAT
    assert add_working_days(date(2025, 11, 19), 2) == SAT  # Wed + 2 → Thu, (Fri), Sat
    assert add_working_days(SAT, 1) == SUN


def test_add_working_days_skips_holiday_and_friday():
    assert add_working_days(THU, 1, {SAT}) == SUN
    assert add_working_days(THU, 2, {SAT}) == date(2025, 11, 24)


def test_add_working_days_zero():
    assert add_working_days(THU, 0) == THU
    assert add_working_days(FRI, 0) == SAT
    assert add_working_days(FRI, 0, {SAT, SUN}) == date(2025, 11, 24)


def test_add_working_days_from_friday_counts_following_days():
    assert add_working_days(FRI, 1) == SAT
    assert add_working_days(FRI, 2) == SUN


def test_add_working_days_negative_rejected():
    with pytest.raises(ValueError):
        add_working_days(THU, -1)


@given(dates, st.integers(0, 40), st.sets(dates, max_size=20))
def test_add_working_days_property(start, n, holidays):
    end = add_working_days(start, n, holidays)
    assert end >= start
    assert end.weekday() != 4 and end not in holidays
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    working = [x for x in between if x.weekday() != 4 and x not in holidays]
    if n > 0:
        assert len(working) == n
    else:
        assert len(working) <= 1 and (end == start or start.weekday() == 4 or start in holidays)
