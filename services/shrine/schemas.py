"""The RPC contract of the shrine service: what it accepts and answers (also feeds the OpenAPI document)."""
import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kit.schema import DayOrMoment, FlexDateTime, Text, persian_messages

persian_messages({
    "The shift must end after it starts.": "پایان کشیک باید پس از آغاز آن باشد.",
    "A shift lasts at most 24 hours.": "کشیک حداکثر ۲۴ ساعت است.",
    "Booking must open before the shift starts.": "زمان بازشدن رزرو باید پیش از آغاز کشیک باشد.",
    "Not a valid date or time.": "تاریخ یا زمان معتبر نیست (نمونه: ۱۴۰۴/۰۸/۳۰ یا ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰ یا ISO 8601).",
    "The range must end after it starts.": "پایان بازه باید پس از آغاز آن باشد.",
    "The range may span at most 92 days.": "بازه حداکثر ۹۲ روز است.",
    "Not a valid idempotency key.": "کلید یکتایی (Idempotency-Key) معتبر نیست (حداکثر ۶۴ نویسه).",
})


class ShiftIn(Schema):
    starts_at = FlexDateTime(required=True)
    ends_at = FlexDateTime(required=True)
    post = Text(required=True, validate=validate.Length(min=1, max=120),
                metadata={"description": "the duty post (e.g. a gate or a courtyard)"})
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=10000))
    gender = fields.Str(allow_none=True, validate=validate.OneOf(["male", "female"]))
    opens_at = FlexDateTime(allow_none=True, metadata={
        "description": "when booking opens; attempts in the first seconds after it go to a fair draw. "
                       "Omitted: booking opens at once, first come first served."})
    cancel_cutoff_hours = fields.Int(strict=True, validate=validate.Range(min=0, max=720))

    @validates_schema
    def _times(self, data, **kwargs):
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends:
            if ends <= starts:
                raise ValidationError("The shift must end after it starts.", "ends_at")
            if ends - starts > dt.timedelta(hours=24):
                raise ValidationError("A shift lasts at most 24 hours.", "ends_at")
        if starts and data.get("opens_at") and data["opens_at"] >= starts:
            raise ValidationError("Booking must open before the shift starts.", "opens_at")


class ShiftBatchIn(Schema):
    shifts = fields.List(fields.Nested(ShiftIn), required=True, validate=validate.Length(min=1, max=500))


class ShiftIds(Schema):
    ids = fields.List(fields.Str())


class ShiftQuery(Schema):
    from_ = DayOrMoment(data_key="from")
    to = DayOrMoment(end=True)
    cursor = fields.Str(validate=validate.Length(max=400))
    limit = fields.Int(validate=validate.Range(min=1, max=500), load_default=100)

    @validates_schema
    def _range(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start and end:
            if end <= start:
                raise ValidationError("The range must end after it starts.", "to")
            if end - start > dt.timedelta(days=92):
                raise ValidationError("The range may span at most 92 days.", "to")


class ShiftOut(Schema):
    id = fields.Str()
    province = fields.Str()
    post = fields.Str()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    starts_at_jalali = fields.Str()
    ends_at_jalali = fields.Str()
    capacity = fields.Int()
    booked = fields.Int()
    remaining = fields.Int()
    gender = fields.Str(allow_none=True)
    opens_at = fields.DateTime(allow_none=True)
    opens_at_jalali = fields.Str(allow_none=True)
    phase = fields.Str(metadata={"description": "not_open | fair_window | draw_due | open | started"})
    cancel_cutoff_hours = fields.Int()


class ShiftList(Schema):
    items = fields.List(fields.Nested(ShiftOut))
    next = fields.Str(allow_none=True)


class ShrineBookAnswer(Schema):
    id = fields.Str(metadata={"description": "the booking (201)"})
    status = fields.Str(metadata={"description": "booked (201) | pending (202: in the fair-opening draw)"})
    attempt = fields.Str(metadata={"description": "the attempt; its outcome at GET /shrine/attempts/{attempt}"})
    location = fields.Str()
    draw_at = fields.DateTime(allow_none=True)
    draw_at_jalali = fields.Str(allow_none=True)


class ShrineBookingOut(Schema):
    id = fields.Str()
    shift_id = fields.Str()
    member_id = fields.Str()
    status = fields.Str(metadata={"description": "booked | offered (confirm by confirm_by) | cancelled | expired"})
    source = fields.Str()
    post = fields.Str(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    starts_at_jalali = fields.Str()
    confirm_by = fields.DateTime(allow_none=True)
    confirm_by_jalali = fields.Str(allow_none=True)
    cancel_deadline = fields.DateTime(allow_none=True)
    cancel_deadline_jalali = fields.Str(allow_none=True)
    present = fields.Bool(allow_none=True)
    created_at = fields.DateTime()


class ShrineBookingList(Schema):
    items = fields.List(fields.Nested(ShrineBookingOut))
    next = fields.Str(allow_none=True)


class ShrineBookingQuery(Schema):
    cursor = fields.Str(validate=validate.Length(max=400))
    limit = fields.Int(validate=validate.Range(min=1, max=1000), load_default=200)
    status = fields.Str(validate=validate.OneOf(["booked", "offered", "cancelled", "expired", "holding"]))


class ShrineBookingState(Schema):
    id = fields.Str()
    status = fields.Str()


class ShrineAttemptOut(Schema):
    id = fields.Str()
    shift_id = fields.Str()
    status = fields.Str(metadata={"description": "pending | granted | refused"})
    outcome = fields.Str(allow_none=True, metadata={
        "description": "booked | full | overlap | already_booked | not_eligible | gender_restricted | booking_closed"})
    message = fields.Str(allow_none=True)
    message_en = fields.Str(allow_none=True)
    booking_id = fields.Str(allow_none=True)
    draw_id = fields.Str(allow_none=True)
    draw_position = fields.Int(allow_none=True)
    draw_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ShrineDrawOut(Schema):
    id = fields.Str()
    shift_id = fields.Str()
    seed = fields.Str(metadata={"description": "256-bit seed from secrets, hex"})
    algorithm = fields.Str(metadata={"description": "hmac-sha256-sort-v1: order by HMAC-SHA256(seed, attempt id)"})
    entrants = fields.List(fields.Str())
    ordering = fields.List(fields.Str())
    granted = fields.Int()
    drawn_at = fields.DateTime()


class ShrineAttendanceIn(Schema):
    booking = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    present = fields.Bool(required=True)


class ShrineAttendanceOut(Schema):
    booking = fields.Str()
    present = fields.Bool()
    absences = fields.Int()


class ShrineWaitlistOut(Schema):
    id = fields.Str()
    shift_id = fields.Str()
    status = fields.Str()
    position = fields.Int(allow_none=True)
    booking_id = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class ShrineEligibilityOut(Schema):
    eligible = fields.Bool()
    code = fields.Str(metadata={
        "description": "eligible | no_approved_report | below_diploma | suspended | deactivated"})
    reason = fields.Str(metadata={"description": "in Persian"})
    reason_en = fields.Str()
    since = fields.DateTime(allow_none=True)
    gender = fields.Str(allow_none=True)
    absences = fields.Int()


class ShrineMePart(Schema):
    eligibility = fields.Nested(ShrineEligibilityOut)
    next_shifts = fields.List(fields.Nested(ShrineBookingOut))
    waitlist = fields.List(fields.Nested(ShrineWaitlistOut))
