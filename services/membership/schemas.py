"""The RPC contract of membership: what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kit.schema import (
    DayOrMoment,
    FlexDate,
    FlexDateTime,
    Mobile,
    NationalId,
    Text,
    check_place,
    persian_messages,
)
from services.membership.domain import EDUCATION, REASONS, STAFF_ROLES

persian_messages({
    "The birth date is not plausible.": "تاریخ تولد پذیرفتنی نیست.",
})

Name = lambda: Text(required=True, validate=validate.Length(min=1, max=80))  # noqa: E731


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
        check_place(data)

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
    q = Text(validate=validate.Length(max=80), metadata={
        "description": "find a person: a national ID or its first digits (any digits), or part of the first or "
                       "last name (every word must match one of them)"})
    province = fields.Str(validate=validate.Length(min=1, max=8),
                          metadata={"description": "admin: one province; an office: only its own"})
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class OrientationIn(Schema):
    starts_at = FlexDateTime(required=True)
    place = Text(required=True, validate=validate.Length(min=2, max=300))
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5000))
    county = fields.Str(validate=validate.Length(min=1, max=8))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only: offices use their own


class SessionQuery(Schema):
    """Listing orientation sessions or meetings: newest first (latest start first)."""
    province = fields.Str(validate=validate.Length(min=1, max=8),
                          metadata={"description": "admin: one province; an office: only its own"})
    county = fields.Str(validate=validate.Length(min=1, max=8))
    from_ = DayOrMoment(data_key="from", metadata={"description": "starting at or after (a day: its start)"})
    to = DayOrMoment(end=True, metadata={"description": "starting before (a day: its end)"})
    cursor = fields.Str(validate=validate.Length(max=400))
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class OrientationOut(Schema):
    id = fields.Str()
    province = fields.Str()
    county = fields.Str(allow_none=True)
    starts_at = fields.DateTime()
    starts_at_jalali = fields.Str()
    place = fields.Str()
    capacity = fields.Int()
    invited = fields.Int(metadata={"description": "places taken: invited applicants, present or not"})
    attended = fields.Int(metadata={"description": "applicants recorded present"})
    past = fields.Bool(metadata={"description": "has started (no more invitations)"})
    created_at = fields.DateTime()


class OrientationList(Schema):
    items = fields.List(fields.Nested(OrientationOut))
    next = fields.Str(allow_none=True)


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
        check_place(data)


class StaffCreated(Schema):
    id = fields.Str()
    initial_password = fields.Str()


class MeetingIn(Schema):
    starts_at = FlexDateTime(required=True)
    place = Text(required=True, validate=validate.Length(min=2, max=300))
    title = Text(validate=validate.Length(min=1, max=200), load_default="جلسه حضوری خادمیاران")
    county = fields.Str(validate=validate.Length(min=1, max=8))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only: offices use their own


class MeetingOut(Schema):
    id = fields.Str()
    province = fields.Str()
    county = fields.Str(allow_none=True)
    title = fields.Str()
    starts_at = fields.DateTime()
    starts_at_jalali = fields.Str()
    place = fields.Str()
    attended = fields.Int(metadata={"description": "members recorded present"})
    past = fields.Bool(metadata={"description": "has started"})
    created_at = fields.DateTime()


class MeetingList(Schema):
    items = fields.List(fields.Nested(MeetingOut))
    next = fields.Str(allow_none=True)


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


# -- training (آموزش هفتگی)
class LessonIn(Schema):
    title = Text(required=True, validate=validate.Length(min=2, max=200))
    body = Text(required=True, validate=validate.Length(min=2, max=20000))
    link = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), allow_none=True)
    week = FlexDate(metadata={"description": "any day of the Jalali week (ISO or Jalali); default: this week"})


class LessonOut(Schema):
    id = fields.Str()
    title = fields.Str()
    body = fields.Str()
    link = fields.Str(allow_none=True)
    week = fields.Date(metadata={"description": "the Saturday its Jalali week starts"})
    week_jalali = fields.Str()
    created_at = fields.DateTime()
    read = fields.Bool(allow_none=True, metadata={"description": "members: whether they have read it"})
    read_at = fields.DateTime(allow_none=True)


class LessonList(Schema):
    items = fields.List(fields.Nested(LessonOut))
    next = fields.Str(allow_none=True)


class LessonQuery(Schema):
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class LessonReadOut(Schema):
    lesson_id = fields.Str()
    week = fields.Date()
    week_jalali = fields.Str()
    read_at = fields.DateTime()
    on_time = fields.Bool(metadata={"description": "read during the lesson's own week"})


class TrainingQuery(Schema):
    limit = fields.Int(validate=validate.Range(min=1, max=260), load_default=26)


class TrainingWeek(Schema):
    week = fields.Date()
    week_jalali = fields.Str()
    lesson_id = fields.Str()
    title = fields.Str()
    read = fields.Bool()
    read_at = fields.DateTime(allow_none=True)
    on_time = fields.Bool()
    missed = fields.Bool(metadata={"description": "over, not read in its week, and counted for the review"})


class TrainingRecord(Schema):
    member_id = fields.Str()
    items = fields.List(fields.Nested(TrainingWeek))
    next = fields.Str(allow_none=True)
    missed_weeks = fields.Int()
    tolerance = fields.Int()


# -- the review (بازنگری)
REASON_CODES = tuple(REASONS)


class ReviewQuery(Schema):
    status = fields.Str(validate=validate.OneOf(("open", "closed")))
    reason = fields.Str(validate=validate.OneOf(REASON_CODES))
    member = fields.Str(validate=validate.Length(min=1, max=64))
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class ReasonOut(Schema):
    code = fields.Str()
    number = fields.Int(metadata={"description": "its number in the membership guide (1-6)"})
    title = fields.Str()
    title_en = fields.Str()
    evidence_key = fields.Str()
    evidence = fields.Str()
    evidence_en = fields.Str()
    data = fields.Dict()
    source = fields.Str()
    recorded_at = fields.DateTime()


class MemberRef(Schema):
    id = fields.Str()
    national_id = fields.Str()
    name = fields.Str()
    county = fields.Str(allow_none=True)
    status = fields.Str()


class ReviewOut(Schema):
    id = fields.Str()
    member = fields.Nested(MemberRef)
    province = fields.Str()
    status = fields.Str()
    reasons = fields.List(fields.Nested(ReasonOut))
    opened_at = fields.DateTime()
    opened_at_jalali = fields.Str()
    closed_at = fields.DateTime(allow_none=True)
    decision = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    decided_by = fields.Str(allow_none=True)


class ReviewList(Schema):
    items = fields.List(fields.Nested(ReviewOut))
    next = fields.Str(allow_none=True)


class DecisionIn(Schema):
    decision = fields.Str(required=True, validate=validate.OneOf(("continue", "suspend", "deactivate")))
    note = Text(required=True, validate=validate.Length(min=2, max=2000))


class NoteIn(Schema):
    note = Text(required=True, validate=validate.Length(min=2, max=2000))


class OfficeRecordOut(Schema):
    id = fields.Str()
    kind = fields.Str()
    member_id = fields.Str()
    review_id = fields.Str(allow_none=True)
    recorded_at = fields.DateTime()


class StatusChangeOut(Schema):
    member_id = fields.Str()
    status = fields.Str()
    review_id = fields.Str(allow_none=True)


class StandingTraining(Schema):
    week = fields.Date()
    week_jalali = fields.Str()
    lesson = fields.Nested(LessonOut, allow_none=True)
    read = fields.Bool()
    missed_weeks = fields.Int()
    tolerance = fields.Int()


class StandingMeetings(Schema):
    last_at = fields.DateTime(allow_none=True)
    last_jalali = fields.Str(allow_none=True)
    next_due = fields.DateTime()
    next_due_jalali = fields.Str()
    overdue = fields.Bool()


class Standing(Schema):
    member_id = fields.Str()
    status = fields.Str()
    training = fields.Nested(StandingTraining)
    meetings = fields.Nested(StandingMeetings)
    review = fields.Nested(ReviewOut, allow_none=True)
