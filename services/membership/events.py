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


EVENTS = [ApplicationSubmitted, ApplicantInvited, MemberActivated, StaffAccountCreated, MeetingAttended]
