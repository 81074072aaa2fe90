"""Persian-first input handling: digits, text, national IDs, mobiles, Jalali dates.

Pure functions only (no nameko / SQLAlchemy). The Jalali (خورشیدی) calendar is
delegated to ``jdatetime``; time zones use ``zoneinfo`` (Asia/Tehran).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jdatetime

__all__ = [
    "TEHRAN",
    "normalize_digits",
    "to_persian_digits",
    "persian_numbers",
    "normalize_text",
    "national_id_check_digit",
    "is_valid_national_id",
    "normalize_national_id",
    "make_national_id",
    "normalize_mobile",
    "parse_date",
    "parse_datetime",
    "to_jalali",
    "to_jalali_fa",
    "jalali_month_key",
    "jalali_month_bounds",
    "jalali_week_start",
    "add_working_days",
]

TEHRAN = ZoneInfo("Asia/Tehran")

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669
_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _PERSIAN_DIGITS)
_ARABIC_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})

# Whitespace and zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM).
_EDGE_JUNK = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")  # spaces and dash-like chars
_MOBILE = re.compile(r"(?:\+98|0098|98|0)?(9\d{9})", re.ASCII)
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.ASCII)
_DATETIME = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII
)
_JALALI_CUTOFF = 1700  # four-digit years below this are Jalali


def normalize_digits(s: str) -> str:
    """Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII; nothing else changes."""
    return s.translate(_TO_ASCII)


def to_persian_digits(s: str) -> str:
    """ASCII digits to Persian digits (ارقام فارسی)."""
    return s.translate(_TO_PERSIAN)


# A Latin "word": letters and digits, possibly joined by - _ . : / (ids, tracking codes, dates, times).
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:[-_.:/][A-Za-z0-9]+)*")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def persian_numbers(s: str) -> str:
    """The numbers of a Persian sentence in Persian digits: ``"بین 1 و 2000"`` -> ``"بین ۱ و ۲۰۰۰"``.

    Dates, times and national IDs become Persian too (``1405/12/29``, ``14:30``, ``0012345678``: a Persian
    reader expects them so, and every input of the API takes either digits). Digits that belong to a Latin
    word stay as they are, so what is meant to be copied letter by letter survives: opaque ids (``3fa2…``),
    tracking codes (``A2B3-C4D5-E6F``), and a number right after a Latin word (``ISO 8601``).
    """
    def one(m: re.Match) -> str:
        word = m.group(0)
        start = m.start()
        if _LATIN_LETTER.search(word) or (start >= 2 and s[start - 1] == " " and s[start - 2].isascii()
                                          and s[start - 2].isalpha()):
            return word
        return word.translate(_TO_PERSIAN)

    return _LATIN_WORD.sub(one, s) if isinstance(s, str) else s


def normalize_text(s: str) -> str:
    """Normalise Persian names/addresses.

    Arabic ي/ى -> ی and ك -> ک, digits to ASCII, whitespace runs collapsed to
    one space, whitespace and zero-width characters stripped at the ends only
    (an inner ZWNJ, نیم‌فاصله, is meaningful and kept).
    """
    s = normalize_digits(s.translate(_ARABIC_LETTERS))
    return _EDGE_JUNK.sub("", re.sub(r"\s+", " ", s))


# --- national ID (کد ملی) -------------------------------------------------


def national_id_check_digit(first9: str) -> str:
    """Check digit for the first nine digits of a national ID."""
    if not re.fullmatch(r"\d{9}", first9, re.ASCII):
        raise ValueError("need exactly 9 ASCII digits")
    r = sum(int(c) * (10 - i) for i, c in enumerate(first9)) % 11
    return str(r if r < 2 else 11 - r)


def normalize_national_id(s: str) -> str:
    """Return the 10-digit کد ملی or raise ``ValueError("invalid national id")``."""
    if isinstance(s, str):
        digits = _SEPARATORS.sub("", normalize_digits(s))
        if (
            re.fullmatch(r"\d{10}", digits, re.ASCII)
            and len(set(digits)) > 1
            and national_id_check_digit(digits[:9]) == digits[9]
        ):
            return digits
    raise ValueError("invalid national id")


def is_valid_national_id(s: str) -> bool:
    """True iff ``s`` is a valid Iranian national ID (any digits, spaces/dashes allowed)."""
    try:
        normalize_national_id(s)
    except ValueError:
        return False
    return True


def make_national_id(n: int) -> str:
    """Deterministic valid national ID from an integer (for fixtures).

    The first nine digits are ``n % 10**9`` zero-padded, bumped by one while
    they are all the same digit (which would always give a rejected ID).
    """
    m = n % 10**9
    while len(set(f"{m:09d}")) == 1:
        m = (m + 1) % 10**9
    first9 = f"{m:09d}"
    return first9 + national_id_check_digit(first9)


# --- mobile numbers --------------------------------------------------------


def normalize_mobile(s: str) -> str:
    """Iranian mobile (شماره همراه) in any common form to ``09xxxxxxxxx``."""
    if isinstance(s, str):
        m = _MOBILE.fullmatch(_SEPARATORS.sub("", normalize_digits(s)))
        if m:
            return "0" + m.group(1)
    raise ValueError(f"invalid mobile number: {s!r}")


# --- dates -----------------------------------------------------------------


def _make_date(y: int, m: int, d: int, jalali: bool, raw: str) -> date:
    try:
        return jdatetime.date(y, m, d).togregorian() if jalali else date(y, m, d)
    except ValueError:
        cal = "Jalali" if jalali else "Gregorian"
        raise ValueError(f"invalid {cal} date: {raw!r}") from None


def parse_date(s: str) -> date:
    """Parse ``YYYY-MM-DD`` / ``YYYY/MM/DD`` with any digits into a Gregorian date.

    Years below 1700 are Jalali (``1370/5/12``, ``1370-05-12``); otherwise the
    date is Gregorian ISO. A slash with a Gregorian-range year (``2025/03/21``)
    is read as Gregorian, never as a Jalali year 2025.
    """
    if isinstance(s, date) and not isinstance(s, datetime):
        return s
    if not isinstance(s, str):
        raise ValueError(f"invalid date: {s!r}")
    m = _DATE.fullmatch(normalize_digits(s).strip())
    if not m:
        raise ValueError(f"invalid date: {s!r}")
    y, mo, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
    return _make_date(y, mo, d, y < _JALALI_CUTOFF, s)


def parse_datetime(s: str) -> datetime:
    """Parse an ISO 8601 or Jalali (``1404/08/30 14:30[:ss]``) datetime to aware UTC.

    Years below 1700 are Jalali (``/`` or ``-``). Values without an offset,
    including all Jalali ones, are Tehran wall-clock time. A bare date is rejected.
    """
    if not isinstance(s, str):
        raise ValueError(f"invalid datetime: {s!r}")
    text = normalize_digits(s).strip()
    m = _DATETIME.fullmatch(text)
    if m:  # plain "date time" (no offset): calendar chosen by year, as in parse_date
        y, _, mo, d, hh, mi, ss = m.groups()
        day = _make_date(int(y), int(mo), int(d), int(y) < _JALALI_CUTOFF, s)
        try:
            dt = datetime(day.year, day.month, day.day, int(hh), int(mi), int(ss or 0))
        except ValueError:
            raise ValueError(f"invalid time in datetime: {s!r}") from None
    else:
        if not re.search(r"\d[T ]\d", text):
            raise ValueError(f"invalid datetime (time part required): {s!r}")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"invalid datetime: {s!r}") from None
        if dt.year < _JALALI_CUTOFF:  # a Jalali year in a form only ISO could parse
            raise ValueError(f"unsupported Jalali datetime form: {s!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=TEHRAN)
    return dt.astimezone(timezone.utc)


def _tehran_date(d: date) -> date:
    """Calendar date of ``d``; aware datetimes are first converted to Tehran time."""
    if isinstance(d, datetime):
        return (d.astimezone(TEHRAN) if d.tzinfo else d).date()
    return d


def _jalali(d: date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=_tehran_date(d))


def to_jalali(d: date) -> str:
    """Date/datetime to Jalali ``YYYY/MM/DD`` (ASCII digits)."""
    j = _jalali(d)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def to_jalali_fa(d: date) -> str:
    """Like :func:`to_jalali` with Persian digits, e.g. ``۱۴۰۴/۰۸/۳۰``."""
    return to_persian_digits(to_jalali(d))


def jalali_month_key(d: date) -> str:
    """Jalali month of a date/datetime (Tehran time) as ``YYYY-MM``, e.g. ``1404-08``."""
    j = _jalali(d)
    return f"{j.year:04d}-{j.month:02d}"


def jalali_month_bounds(key: str) -> tuple[date, date]:
    """Gregorian ``(first_day, first_day_of_next_month)`` of a Jalali ``YYYY-MM`` key."""
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})", normalize_digits(key).strip(), re.ASCII)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"invalid Jalali month key: {key!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    nxt = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return jdatetime.date(y, mo, 1).togregorian(), jdatetime.date(*nxt, 1).togregorian()


def jalali_week_start(d: date) -> date:
    """The Saturday (شنبه, first day of the Persian week) on or before ``d``."""
    d = _tehran_date(d)
    return d - timedelta(days=(d.weekday() - 5) % 7)


def _is_working_day(d: date, holidays) -> bool:
    return d.weekday() != 4 and d not in holidays  # Friday (جمعه) is the weekend


def add_working_days(start: date, days: int, holidays: set[date] = frozenset()) -> date:
    """The ``days``-th working day (روز کاری) after ``start``.

    Fridays and ``holidays`` are skipped. ``days=0`` returns ``start`` if it is
    a working day, else the next working day. Negative ``days`` are rejected.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    d = start
    if days == 0:
        while not _is_working_day(d, holidays):
            d += timedelta(days=1)
        return d
    while days:
        d += timedelta(days=1)
        if _is_working_day(d, holidays):
            days -= 1
    return d


_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()]+")
_LANDLINE = re.compile(r"(?:\+98|0098|98|0)?([1-8]\d{9})", re.ASCII)


def normalize_phone(value):
    """A contact phone: an Iranian mobile or a landline with its area code, as 11 ASCII digits (``0…``)."""
    if not isinstance(value, str):
        raise ValueError("not a phone number")
    try:
        return normalize_mobile(value)
    except ValueError:
        pass
    m = _LANDLINE.fullmatch(_PHONE_SEPARATORS.sub("", normalize_digits(value)))
    if not m:
        raise ValueError(f"invalid phone number: {value!r}")
    return "0" + m.group(1)
