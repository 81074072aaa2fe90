"""The RPC contract of membership: what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kit import geo
from kit.schema import FlexDate, FlexDateTime, Mobile, NationalId, Text, persian_messages
from services.membership.domain import EDUCATION, STAFF_ROLES

persian_messages({
    "Unknown province.": "استان شناخته نیست.",
    "The county is not in this province.": "این شهرستان در استان انتخاب‌شده نیست.",
    "The birth date is not plausible.": "تاریخ تولد پذیرفتنی نیست.",
})

Name = lambda: Text(required=True, validate=validate.Length(min=1, max=80))  # noqa: E731


def _province_and_county(data, county_required=True):
    province, county = data.get("province"), data.get("county")
    if province is not None and province not in geo.provinces():
        raise ValidationError("Unknown province.", "province")
    if county is not None and province is not None and not geo.county_in_province(county, province):
        raise ValidationError("The county is not in this province.", "county")


class ApplicationIn(Schema):
    national_id = NationalId(required=True)
    first_name = Name()
    last_name = Name()
    father_name = Name()
    gender = fields.Str(required=True, validate=validate.OneOf(["male", "female"]))
    birth_date = FlexDate(required=True)
    mobile = Mobile(required=True)
    education = fields.Str(required=True, validate=validate.OneOf(EDUCATION))
    province = fields.Str(required=True)
    county = fields.Str(required=True)
    address = Text(required=True, validate=validate.Length(min=5, max=500))

    @validates_schema
    def _places(self, data, **kwargs):
        _province_and_county(data)

    @validates_schema
    def _birth(self, data, **kwargs):
        import datetime as dt
        born = data.get("birth_date")
        if born and not (dt.date(1900, 1, 1) <= born <= dt.date.today()):
            raise ValidationError("The birth date is not plausible.", "birth_date")


class Created(Schema):
    id = fields.Str(required=True)
    status = fields.Str()


class ApplicationOut(Schema):
    id = fields.Str()
    national_id = fields.Str()
    first_name = fields.Str()
    last_name = fields.Str()
    father_name = fields.Str()
    gender = fields.Str()
    birth_date = fields.Date()
    mobile = fields.Str()
    education = fields.Str()
    province = fields.Str()
    county = fields.Str()
    address = fields.Str()
    status = fields.Str()
    submitted_at = fields.DateTime()
    submitted_at_jalali = fields.Str()
    contacted_at = fields.DateTime(allow_none=True)
    orientation_id = fields.Str(allow_none=True)
    attended_at = fields.DateTime(allow_none=True)
    member_id = fields.Str(allow_none=True)
    overdue = fields.Bool()
    contact_due_jalali = fields.Str()


class ApplicationList(Schema):
    items = fields.List(fields.Nested(ApplicationOut))
    next = fields.Str(allow_none=True)
    overdue_count = fields.Int()


class ApplicationQuery(Schema):
    status = fields.Str(validate=validate.OneOf(["submitted", "invited", "attended", "activated", "overdue"]))
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class OrientationIn(Schema):
    starts_at = FlexDateTime(required=True)
    place = Text(required=True, validate=validate.Length(min=2, max=300))
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5000))
    county = fields.Str(validate=validate.Length(min=1, max=8))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only: offices use their own


class InviteIn(Schema):
    orientation_id = fields.Str(required=True, validate=validate.Length(min=1, max=64))


class AttendanceIn(Schema):
    application_ids = fields.List(fields.Str(validate=validate.Length(max=64)), required=True,
                                  validate=validate.Length(min=1, max=1000))


class Activation(Schema):
    member_id = fields.Str()
    initial_password = fields.Str()


class LoginIn(Schema):
    national_id = fields.Str(required=True, validate=validate.Length(min=1, max=20))
    password = fields.Str(required=True, validate=validate.Length(min=1, max=256))


class LoginOut(Schema):
    access_token = fields.Str()
    token_type = fields.Str()
    expires_in = fields.Int()
    must_change_password = fields.Bool()


class PasswordIn(Schema):
    current_password = fields.Str(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.Str(required=True, validate=validate.Length(min=1, max=256))


class StaffIn(Schema):
    national_id = NationalId(required=True)
    first_name = Name()
    last_name = Name()
    mobile = Mobile(required=True)
    role = fields.Str(required=True, validate=validate.OneOf(STAFF_ROLES))
    province = fields.Str(required=True)
    county = fields.Str()
    field = fields.Str(validate=validate.Length(min=1, max=32))
    center = Text(validate=validate.Length(min=1, max=120))
    unit = Text(validate=validate.Length(min=1, max=120))

    @validates_schema
    def _places(self, data, **kwargs):
        _province_and_county(data)


class StaffCreated(Schema):
    id = fields.Str()
    initial_password = fields.Str()


class MeetingIn(Schema):
    starts_at = FlexDateTime(required=True)
    place = Text(required=True, validate=validate.Length(min=2, max=300))
    title = Text(validate=validate.Length(min=1, max=200), load_default="جلسه حضوری خادمیاران")
    county = fields.Str(validate=validate.Length(min=1, max=8))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only: offices use their own


class MeetingAttendanceIn(Schema):
    member_ids = fields.List(fields.Str(validate=validate.Length(max=64)), required=True,
                             validate=validate.Length(min=1, max=2000))


class IdOut(Schema):
    id = fields.Str()


class Profile(Schema):
    id = fields.Str()
    national_id = fields.Str()
    first_name = fields.Str()
    last_name = fields.Str()
    role = fields.Str()
    status = fields.Str()
    province = fields.Str(allow_none=True)
    county = fields.Str(allow_none=True)
    education = fields.Str(allow_none=True)
    gender = fields.Str(allow_none=True)
    mobile = fields.Str(allow_none=True)
    must_change_password = fields.Bool()
    last_meeting_at = fields.DateTime(allow_none=True)
    last_meeting_jalali = fields.Str(allow_none=True)
    next_meeting_due_jalali = fields.Str(allow_none=True)
