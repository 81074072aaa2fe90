"""marshmallow helpers: Persian-aware fields and loading that raises ``Invalid`` with bilingual field errors.

The Persian messages may carry Latin digits (``Length must be between 1 and 2000.`` -> ``… بین 1 و 2000 …``):
``Invalid`` (kit/errors.py) writes every Persian message it carries with Persian digits, once for all.
"""
import datetime as dt
import re

from marshmallow import Schema, ValidationError, fields

from kit import geo, persian
from kit.errors import Invalid

# marshmallow's English messages, and ours, in Persian.
_FA = [
    (r"Missing data for required field\.", "این فیلد الزامی است."),
    (r"Unknown field\.", "این فیلد شناخته نیست یا قابل تعیین نیست."),
    (r"Field may not be null\.", "این فیلد نمی‌تواند خالی باشد."),
    (r"Not a valid string\.", "باید متن باشد."),
    (r"Not a valid integer\.", "باید عدد صحیح باشد."),
    (r"Not a valid number\.", "باید عدد باشد."),
    (r"Not a valid boolean\.", "باید درست یا نادرست باشد."),
    (r"Not a valid list\.", "باید فهرست باشد."),
    (r"Not a valid mapping type\.", "باید شیء باشد."),
    (r"Invalid input type\.", "نوع ورودی نادرست است."),
    (r"Invalid value\.", "مقدار نادرست است."),
    (r"Not a valid date\.", "تاریخ معتبر نیست (نمونه: ۱۳۷۰/۰۵/۱۲ یا 1991-08-03)."),
    (r"Not a valid datetime\.", "زمان معتبر نیست (نمونه: ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰ یا ISO 8601)."),
    (r"Not a valid date or time\.", "تاریخ یا زمان معتبر نیست (نمونه: ۱۴۰۴/۰۸/۳۰ یا ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰ یا ISO 8601)."),
    (r"Must be one of: (.*)\.", r"باید یکی از این‌ها باشد: \1."),
    (r"Shorter than minimum length (\d+)\.", r"کوتاه‌تر از حداقل طول \1 است."),
    (r"Longer than maximum length (\d+)\.", r"بلندتر از حداکثر طول \1 است."),
    (r"Length must be between (\d+) and (\d+)\.", r"طول باید بین \1 و \2 باشد."),
    (r"Must be greater than or equal to (\S+)\.", r"باید دست‌کم \1 باشد."),
    (r"Must be less than or equal to (\S+)\.", r"باید حداکثر \1 باشد."),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.", r"باید بین \1 و \2 باشد."),
    (r"Not a valid national ID\.", "کد ملی معتبر نیست (۱۰ رقم با رقم کنترل درست)."),
    (r"Not a valid mobile number\.", "شماره همراه معتبر نیست (نمونه: ۰۹۱۲۳۴۵۶۷۸۹)."),
    (r"Not a valid phone number\.", "شماره تماس معتبر نیست (همراه ۰۹۱۲۳۴۵۶۷۸۹ یا ثابت با کد شهر ۰۵۱۳۸۰۰۱۲۳۴)."),
    (r"May not be blank\.", "نمی‌تواند خالی باشد."),
    (r"Unknown province\.", "استان شناخته نیست."),
    (r"The county is not in this province\.", "این شهرستان در استان انتخاب‌شده نیست."),
]
_FA = [(re.compile(f"^{en}$"), fa) for en, fa in _FA]


def persian_messages(mapping):
    """Register the Persian of a service's own validation messages: ``{english: persian}``."""
    _FA.extend((re.compile("^" + re.escape(en) + "$"), fa.replace("\\", "\\\\")) for en, fa in mapping.items())


def to_persian(message):
    for pattern, fa in _FA:
        if pattern.match(message):
            return pattern.sub(fa, message)
    return message


def _flatten(messages, prefix=""):
    out = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.update(_flatten(value, name or "_body"))
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        out[prefix or "_body"] = {"en": " ".join(messages), "fa": " ".join(to_persian(m) for m in messages)}
    elif isinstance(messages, list):
        for m in messages:
            out.update(_flatten(m, prefix))
    else:
        out[prefix or "_body"] = {"en": str(messages), "fa": to_persian(str(messages))}
    return out


def field_errors(messages):
    """marshmallow's nested messages as ``{"field": {"fa", "en"}}`` (dotted names for nesting)."""
    return _flatten(messages)


def load(schema, data, partial=False):
    """Validate and deserialise, or raise ``Invalid`` naming every bad field."""
    if not isinstance(data, dict):
        raise Invalid("invalid_body", "بدنهٔ درخواست باید یک شیء JSON باشد.", "The request body must be a JSON object.")
    try:
        return schema.load(data, partial=partial)
    except ValidationError as err:
        raise Invalid("validation_failed", "برخی از فیلدها نادرست است.", "Some fields are invalid.",
                      fields=field_errors(err.messages)) from None


def check_place(data):
    """For a ``@validates_schema``: the province is one of Iran's, and the county lies in it."""
    province, county = data.get("province"), data.get("county")
    if province is not None and province not in geo.provinces():
        raise ValidationError("Unknown province.", "province")
    if county is not None and province is not None and not geo.county_in_province(county, province):
        raise ValidationError("The county is not in this province.", "county")


class Text(fields.String):
    """Persian text: Arabic letters and digits normalised, whitespace trimmed; blank refused when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = persian.normalize_text(super()._deserialize(value, attr, data, **kwargs))
        if self.required and not value:
            raise ValidationError("May not be blank.")
        return value


class NationalId(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return persian.normalize_national_id(super()._deserialize(value, attr, data, **kwargs))
        except ValueError:
            raise ValidationError("Not a valid national ID.") from None


class Mobile(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return persian.normalize_mobile(super()._deserialize(value, attr, data, **kwargs))
        except ValueError:
            raise ValidationError("Not a valid mobile number.") from None


class Phone(fields.String):
    """A contact phone: mobile or landline with its area code, in any digits; stored as 11 ASCII digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return persian.normalize_phone(super()._deserialize(value, attr, data, **kwargs))
        except ValueError:
            raise ValidationError("Not a valid phone number.") from None


class FlexDate(fields.Date):
    """A date given as ISO ``1991-08-03`` or Jalali ``1370/05/12``, in any digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a valid date.")
        try:
            return persian.parse_date(value)
        except ValueError:
            raise ValidationError("Not a valid date.") from None


class FlexDateTime(fields.DateTime):
    """A moment given as ISO 8601 or Jalali ``1404/08/30 14:30`` (Tehran time); stored as aware UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a valid datetime.")
        try:
            return persian.parse_datetime(value)
        except ValueError:
            raise ValidationError("Not a valid datetime.") from None


class DayOrMoment(fields.Field):
    """For ranges in query strings: a moment (ISO 8601 or Jalali ``1404/08/30 14:30``) or a whole day
    (``1404/08/30``, ``2025-11-21``), as aware UTC.

    A day means its start in Tehran, or with ``end=True`` the start of the next day (so ``to`` is inclusive).
    """

    def __init__(self, end=False, **kwargs):
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a valid date or time.")
        # an unescaped "+03:30" in a query string arrives as " 03:30"
        value = re.sub(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", value.strip())
        try:
            return persian.parse_datetime(value)
        except (ValueError, OverflowError):
            pass
        try:
            day = persian.parse_date(value)
            if self.end:
                day += dt.timedelta(days=1)
            return dt.datetime(day.year, day.month, day.day, tzinfo=persian.TEHRAN).astimezone(dt.timezone.utc)
        except (ValueError, OverflowError):  # not a date, or at the very ends of the calendar
            raise ValidationError("Not a valid date or time.") from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class Actor(Schema):
    """Who is calling, as the gateway authenticated them (passed to every scoped RPC)."""

    id = fields.Str(required=True)
    role = fields.Str(required=True)
    province = fields.Str(allow_none=True)
    county = fields.Str(allow_none=True)
    field = fields.Str(allow_none=True)
    center = fields.Str(allow_none=True)
    unit = fields.Str(allow_none=True)
