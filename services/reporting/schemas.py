"""The RPC contract of reporting: what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, fields, validate

from kit.schema import FlexDate, Text
from services.reporting import domain


class ReportIn(Schema):
    reservation = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    performed_on = FlexDate(required=True)
    hours = fields.Float(required=True, allow_nan=False,
                         validate=validate.Range(min=0, max=domain.MAX_HOURS, min_inclusive=False))
    summary = Text(required=True, validate=validate.Length(min=5, max=4000))


class Created(Schema):
    id = fields.Str(required=True)
    status = fields.Str()


class ReasonIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=3, max=2000))


class ReportQuery(Schema):
    status = fields.Str(validate=validate.OneOf(domain.STATUSES))
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class ReportOut(Schema):
    id = fields.Str()
    reservation_id = fields.Str()
    member_id = fields.Str()
    offer_id = fields.Str()
    province = fields.Str()
    county = fields.Str()
    center = fields.Str()
    service_name = fields.Str(allow_none=True)
    performed_on = fields.Date()
    performed_on_jalali = fields.Str()
    hours = fields.Float()
    summary = fields.Str()
    status = fields.Str()
    reason = fields.Str(allow_none=True)
    first_for_member = fields.Bool(allow_none=True)
    submitted_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class ReportList(Schema):
    items = fields.List(fields.Nested(ReportOut))
    next = fields.Str(allow_none=True)


class StatusOut(Schema):
    id = fields.Str()
    status = fields.Str()
    first_for_member = fields.Bool()
