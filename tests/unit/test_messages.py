"""kit.errors and kit.schema: Persian messages speak with Persian digits (the errors every service raises, and
marshmallow's messages); a range's ends are a moment or a day (``DayOrMoment``)."""
import datetime as dt

import pytest
from marshmallow import Schema, fields, validate
from nameko.exceptions import deserialize, serialize

from kit.errors import Conflict, Invalid
from kit.schema import DayOrMoment, load


def test_a_service_errors_persian_message_and_field_messages_get_persian_digits():
    e = Conflict("lesson_exists", "برای هفته 1405/01/01 پیش‌تر مطلب آموزشی منتشر شده است.",
                 "A lesson is already published for the week of 2026-03-21.",
                 fields={"week": {"fa": "هفته 1405/01/01", "en": "week 2026-03-21"}, "ids": "3fa2b1"},
                 extra={"week": "2026-03-21"})
    assert e.fa == "برای هفته ۱۴۰۵/۰۱/۰۱ پیش‌تر مطلب آموزشی منتشر شده است."
    assert e.fields["week"] == {"fa": "هفته ۱۴۰۵/۰۱/۰۱", "en": "week 2026-03-21"}
    # the code, the English, the extra members and plain field messages are left alone
    assert (e.code, e.en, e.extra, e.fields["ids"]) == (
        "lesson_exists", "A lesson is already published for the week of 2026-03-21.", {"week": "2026-03-21"}, "3fa2b1")
    # rebuilt from the RPC wire, it is the same
    back = deserialize(serialize(e))
    assert (back.fa, back.en, back.fields) == (e.fa, e.en, e.fields)


def test_without_an_english_message_the_english_keeps_latin_digits():
    e = Invalid("x", "بیش از 5")
    assert e.fa == "بیش از ۵" and e.en == "بیش از 5"


class Sample(Schema):
    title = fields.Str(validate=validate.Length(min=1, max=2000))
    hours = fields.Int(validate=validate.Range(min=1, max=12))


def test_marshmallows_messages_in_persian_with_persian_digits():
    try:
        load(Sample(), {"title": "", "hours": 40})
    except Invalid as e:
        assert e.fields["title"] == {"fa": "طول باید بین ۱ و ۲۰۰۰ باشد.", "en": "Length must be between 1 and 2000."}
        assert e.fields["hours"] == {"fa": "باید بین ۱ و ۱۲ باشد.",
                                     "en": "Must be greater than or equal to 1 and less than or equal to 12."}
    else:
        raise AssertionError("not refused")


class Range(Schema):
    from_ = DayOrMoment(data_key="from")
    to = DayOrMoment(end=True)


UTC = dt.timezone.utc


@pytest.mark.parametrize("given,expected", [
    ({"from": "1404/08/30"}, {"from_": dt.datetime(2025, 11, 20, 20, 30, tzinfo=UTC)}),  # the day's start in Tehran
    ({"to": "۱۴۰۴/۰۸/۳۰"}, {"to": dt.datetime(2025, 11, 21, 20, 30, tzinfo=UTC)}),  # a day's end: inclusive
    ({"from": "1404/08/30 14:30"}, {"from_": dt.datetime(2025, 11, 21, 11, 0, tzinfo=UTC)}),
    ({"from": "2025-11-21T10:00:00 03:30"}, {"from_": dt.datetime(2025, 11, 21, 6, 30, tzinfo=UTC)}),  # "+" unescaped
])
def test_a_range_end_is_a_moment_or_a_day(given, expected):
    assert load(Range(), given) == expected


@pytest.mark.parametrize("value", ["yesterday", "1404/13/01", "9999-12-31", "9999-12-31T23:59:59-14:00", "12"])
def test_a_wrong_range_end_is_named_in_persian(value):
    try:
        load(Range(), {"to": value})
    except Invalid as e:
        assert e.fields["to"]["en"] == "Not a valid date or time."
        assert e.fields["to"]["fa"].startswith("تاریخ یا زمان معتبر نیست")
    else:
        raise AssertionError("not refused")
