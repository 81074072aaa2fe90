"""Events published by membership (the contract for consumers and the AsyncAPI document)."""
from marshmallow import Schema, fields

from kit.events import Event


class ApplicationSubmitted(Event):
    summary = "An applicant applied for membership (ثبت نام)."

    class schema(Schema):
        application_id = fields.Str(required=True)
        county = fields.Str(required=True)
        education = fields.Str(required=True)


class ApplicantInvited(Event):
    summary = "The provincial office invited an applicant to an orientation session (جلسه توجیهی)."

    class schema(Schema):
        application_id = fields.Str(required=True)
        orientation_id = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        mobile = fields.Str(required=True)


class MemberActivated(Event):
    summary = "An applicant became a member (خادمیار) and may log in."

    class schema(Schema):
        member_id = fields.Str(required=True)
        national_id = fields.Str(required=True)
        first_name = fields.Str(required=True)
        last_name = fields.Str(required=True)
        gender = fields.Str(required=True)
        education = fields.Str(required=True)
        county = fields.Str(required=True)
        mobile = fields.Str(required=True)


class StaffAccountCreated(Event):
    summary = "A staff account was created with its role and scope."

    class schema(Schema):
        account_id = fields.Str(required=True)
        role = fields.Str(required=True)
        county = fields.Str(allow_none=True)
        field = fields.Str(allow_none=True)
        center = fields.Str(allow_none=True)
        unit = fields.Str(allow_none=True)


class MeetingAttended(Event):
    summary = "A member attended an in-person meeting (the six-monthly rule)."

    class schema(Schema):
        meeting_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)


class LessonPublished(Event):
    summary = "The weekly training lesson (مطلب آموزشی) of a Jalali week was published; members must read it that week."

    class schema(Schema):
        lesson_id = fields.Str(required=True)
        week = fields.Date(required=True, metadata={"description": "the Saturday its Jalali week starts"})
        week_jalali = fields.Str(required=True)
        title = fields.Str(required=True)


class ReviewReasonRecorded(Event):
    summary = ("A ground for review (بازنگری) was recorded for a member, with its evidence; opened is true when it "
               "opened the member's review case.")

    class schema(Schema):
        review_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reason = fields.Str(required=True, metadata={
            "description": "inactivity | report_rejected | breach | training_or_meeting | discontinuity | "
                           "shrine_absences"})
        evidence_key = fields.Str(required=True)
        opened = fields.Bool(required=True)


class ReviewDecided(Event):
    summary = "The provincial office decided a review case: continue, suspend or deactivate; the case is closed."

    class schema(Schema):
        review_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        decision = fields.Str(required=True, metadata={"description": "continue | suspend | deactivate"})
        note = fields.Str(required=True)


class MemberSuspended(Event):
    summary = ("A member was suspended after a review: may log in, but no new offers, reservations or shrine "
               "shifts; running offers are withdrawn and future reservations and shifts cancelled.")

    class schema(Schema):
        member_id = fields.Str(required=True)
        review_id = fields.Str(allow_none=True)
        note = fields.Str(allow_none=True)


class MemberDeactivated(Event):
    summary = "A member was deactivated after a review: login is refused and everything running is ended."

    class schema(Schema):
        member_id = fields.Str(required=True)
        review_id = fields.Str(allow_none=True)
        note = fields.Str(allow_none=True)


class MemberReinstated(Event):
    summary = ("A suspended (or deactivated) member is active again: by a review's decision to continue, or by "
               "the provincial office.")

    class schema(Schema):
        member_id = fields.Str(required=True)
        review_id = fields.Str(allow_none=True, metadata={"description": "the case that suspended the member"})
        note = fields.Str(allow_none=True)


EVENTS = [ApplicationSubmitted, ApplicantInvited, MemberActivated, StaffAccountCreated, MeetingAttended,
          LessonPublished, ReviewReasonRecorded, ReviewDecided, MemberSuspended, MemberDeactivated,
          MemberReinstated]
