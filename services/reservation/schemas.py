"""The RPC contract of reservation: what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, fields, validate

from kit.schema import FlexDateTime, Phone, Text
from services.reservation import domain

Id = lambda **kw: fields.Str(validate=validate.Length(min=1, max=64), **kw)  # noqa: E731




class Created(Schema):
    id = fields.Str(required=True)
    status = fields.Str()


class BeneficiaryIn(Schema):
    full_name = Text(required=True, validate=validate.Length(min=2, max=120))
    needs = Text(required=True, validate=validate.Length(min=2, max=4000))
    address = Text(required=True, validate=validate.Length(min=5, max=500))
    phone = Phone(required=True)


class BeneficiaryOut(Schema):
    id = fields.Str()
    province = fields.Str()
    county = fields.Str()
    center = fields.Str()
    full_name = fields.Str()
    needs = fields.Str()
    address = fields.Str()
    phone = fields.Str()
    created_at = fields.DateTime()


class BeneficiaryList(Schema):
    items = fields.List(fields.Nested(BeneficiaryOut))
    next = fields.Str(allow_none=True)


class ListQuery(Schema):
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class ReservationQuery(ListQuery):
    status = fields.Str(validate=validate.OneOf(domain.STATUSES))


class ReservationIn(Schema):
    offer = Id(required=True)
    beneficiary = Id(required=True)
    starts_at = FlexDateTime(required=True)
    ends_at = FlexDateTime(required=True)
    place = Text(required=True, validate=validate.Length(min=2, max=500))


class DeclineIn(Schema):
    reason = Text(validate=validate.Length(min=1, max=2000), allow_none=True)


class ReservationOut(Schema):
    id = fields.Str()
    offer_id = fields.Str()
    beneficiary_id = fields.Str()
    member_id = fields.Str()
    province = fields.Str()
    county = fields.Str()
    center = fields.Str()
    service_id = fields.Str(allow_none=True)
    service_name = fields.Str(allow_none=True)
    field_name = fields.Str(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    starts_at_jalali = fields.Str()
    place = fields.Str()
    status = fields.Str()
    decline_reason = fields.Str(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.Str(allow_none=True, metadata={
        "description": "why it was cancelled: suspended | deactivated | offer_withdrawn | offer_completed"})
    cancel_note = fields.Str(allow_none=True, metadata={"description": "the same, as a Persian sentence"})
    created_at = fields.DateTime()
    responded_at = fields.DateTime(allow_none=True)


class ReservationList(Schema):
    items = fields.List(fields.Nested(ReservationOut))
    next = fields.Str(allow_none=True)


class StatusOut(Schema):
    id = fields.Str()
    status = fields.Str()
