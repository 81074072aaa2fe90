"""The RPC contract of catalog: what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, fields, validate, validates_schema

from kit.schema import Phone, Text, check_place
from services.catalog import domain

# the largest document an offer may carry: part of the contract, so the gateway can refuse a bigger upload early
MAX_DOCUMENT_BYTES = domain.MAX_DOCUMENT_BYTES

Id = lambda **kw: fields.Str(validate=validate.Length(min=1, max=64), **kw)  # noqa: E731




class FieldIn(Schema):
    name = Text(required=True, validate=validate.Length(min=2, max=120))
    kind = fields.Str(required=True, validate=validate.OneOf(domain.FIELD_KINDS))


class ServiceIn(Schema):
    name = Text(required=True, validate=validate.Length(min=2, max=200))
    description = Text(required=True, validate=validate.Length(min=2, max=4000))
    requires_documents = fields.Bool(load_default=False)


class Created(Schema):
    id = fields.Str(required=True)
    status = fields.Str()


class ServiceOut(Schema):
    id = fields.Str()
    field_id = fields.Str()
    name = fields.Str()
    description = fields.Str()
    requires_documents = fields.Bool()


class FieldOut(Schema):
    id = fields.Str()
    name = fields.Str()
    kind = fields.Str()
    services = fields.List(fields.Nested(ServiceOut))


class FieldList(Schema):
    items = fields.List(fields.Nested(FieldOut))
    next = fields.Str(allow_none=True)


class ReadinessIn(Schema):
    province = fields.Str(required=True, validate=validate.Length(min=1, max=8))
    county = fields.Str(required=True, validate=validate.Length(min=1, max=8))
    field = Id(required=True)

    @validates_schema
    def _places(self, data, **kwargs):
        check_place(data)


class ReadinessOut(Schema):
    province = fields.Str()
    county = fields.Str()
    field = fields.Str()
    field_name = fields.Str()
    field_kind = fields.Str()
    declared_at = fields.DateTime()
    locked_until = fields.DateTime()
    locked_until_jalali = fields.Str()
    active_offers = fields.Int()


class StaffGrantOut(Schema):
    member_id = fields.Str()
    staff_field = fields.Bool()
    granted_at = fields.DateTime()


class OfferIn(Schema):
    service = Id(required=True)
    details = Text(required=True, validate=validate.Length(min=5, max=4000))
    phone = Phone(required=True)
    availability = Text(validate=validate.Length(min=1, max=1000), allow_none=True)


class OfferOut(Schema):
    id = fields.Str()
    member_id = fields.Str()
    province = fields.Str()
    county = fields.Str()
    field_id = fields.Str()
    field_name = fields.Str()
    service_id = fields.Str()
    service_name = fields.Str()
    requires_documents = fields.Bool()
    details = fields.Str()
    availability = fields.Str(allow_none=True)
    phone = fields.Str()
    status = fields.Str()
    reason = fields.Str(allow_none=True)
    documents = fields.Int()
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class OfferList(Schema):
    items = fields.List(fields.Nested(OfferOut))
    next = fields.Str(allow_none=True)


class OfferQuery(Schema):
    status = fields.Str(validate=validate.OneOf(domain.OFFER_STATUSES))
    county = fields.Str(validate=validate.Length(min=1, max=8))
    cursor = fields.Str()
    limit = fields.Int(validate=validate.Range(min=1, max=200), load_default=50)


class ReasonIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=3, max=2000))


class StatusOut(Schema):
    id = fields.Str()
    status = fields.Str()


class DocumentIn(Schema):
    """A document as the gateway relays it: the bytes base64-encoded (RPC payloads are JSON)."""

    content = fields.Str(required=True)
    filename = Text(validate=validate.Length(max=200), allow_none=True)
    content_type = fields.Str(validate=validate.Length(max=120), allow_none=True)


class DocumentOut(Schema):
    id = fields.Str()
    offer_id = fields.Str()
    content_type = fields.Str()
    size = fields.Int()
    sha256 = fields.Str()
    filename = fields.Str(allow_none=True)
    uploaded_at = fields.DateTime()


class DocumentList(Schema):
    items = fields.List(fields.Nested(DocumentOut))
    next = fields.Str(allow_none=True)
