"""Events published by the shrine service (the contract for consumers and the AsyncAPI document).

The envelope's ``province`` is the member's province (the tenant the person belongs to).
"""
from marshmallow import Schema, fields

from kit.events import Event


class ShrineEligibilityGranted(Event):
    summary = "A member became eligible for shrine shifts (first approved report, or reinstated)."

    class schema(Schema):
        member_id = fields.Str(required=True)
        reason = fields.Str(required=True, metadata={"description": "first_report | reinstated"})
        report_id = fields.Str(allow_none=True)
        granted_at = fields.DateTime(required=True)


class ShiftBooked(Event):
    summary = ("A member holds a place on a shrine shift (booked directly, won in a draw, or confirmed from the "
               "waiting list).")

    class schema(Schema):
        booking_id = fields.Str(required=True)
        shift_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        post = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        ends_at = fields.DateTime(required=True)
        source = fields.Str(required=True, metadata={"description": "direct | draw | waitlist"})


class ShiftCancelled(Event):
    summary = "A booking or waiting-list offer of a shrine shift ended before the shift."

    class schema(Schema):
        booking_id = fields.Str(required=True)
        shift_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        reason = fields.Str(required=True, metadata={
            "description": "member | offer_declined | offer_expired | suspended | deactivated | ineligible"})


class WaitlistPromoted(Event):
    summary = "A place freed up and was offered to the first member on the shift's waiting list."

    class schema(Schema):
        booking_id = fields.Str(required=True)
        shift_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        confirm_by = fields.DateTime(required=True)


class AbsenceRecorded(Event):
    summary = "The shrine office recorded a member absent from a booked shift."

    class schema(Schema):
        booking_id = fields.Str(required=True)
        shift_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        absences = fields.Int(required=True, metadata={"description": "the member's absences so far"})


class MemberFlaggedForReview(Event):
    summary = "A member is put up for review by their provincial office (the fifth shrine-shift absence)."

    class schema(Schema):
        member_id = fields.Str(required=True)
        reason_code = fields.Str(required=True)
        reason = fields.Str(required=True, metadata={"description": "in Persian"})
        reason_en = fields.Str(required=True)
        absences = fields.Int(required=True)
        shift_id = fields.Str(allow_none=True)


class ShiftReminderDue(Event):
    summary = "A booked shrine shift starts within a day: remind the member."

    class schema(Schema):
        booking_id = fields.Str(required=True)
        shift_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        post = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        starts_at_jalali = fields.Str(required=True)


EVENTS = [ShrineEligibilityGranted, ShiftBooked, ShiftCancelled, WaitlistPromoted, AbsenceRecorded,
          MemberFlaggedForReview, ShiftReminderDue]
