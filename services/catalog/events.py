"""Events published by catalog (the contract for consumers and the AsyncAPI document)."""
from marshmallow import Schema, fields

from kit.events import Event


class ReadinessDeclared(Event):
    summary = "A member declared readiness (اعلام آمادگی) in a county and a field; the field is locked until locked_until."

    class schema(Schema):
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        field_id = fields.Str(required=True)
        field_kind = fields.Str(required=True)
        locked_until = fields.DateTime(required=True)


class StaffFieldGranted(Event):
    summary = "A provincial office let one of its members choose the staff field (عرصه ستادی)."

    class schema(Schema):
        member_id = fields.Str(required=True)
        granted_by = fields.Str(required=True)


class OfferSubmitted(Event):
    summary = "A member offered a service (pending review by the county thematic centre)."

    class schema(Schema):
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        field_id = fields.Str(required=True)
        service_id = fields.Str(required=True)
        requires_documents = fields.Bool(required=True)


class OfferApproved(Event):
    summary = ("The thematic centre approved an offer: it becomes visible and reservable to the county's "
               "neighbourhood centres.")

    class schema(Schema):
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        field_id = fields.Str(required=True)
        field_name = fields.Str(required=True)
        service_id = fields.Str(required=True)
        service_name = fields.Str(required=True)
        details = fields.Str(required=True)
        availability = fields.Str(allow_none=True)
        phone = fields.Str(required=True)
        approved_at = fields.DateTime(required=True)


class OfferRejected(Event):
    summary = "The thematic centre rejected an offer, with its reason; the member's place is free again."

    class schema(Schema):
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reason = fields.Str(required=True)


class OfferWithdrawn(Event):
    summary = ("An offer (pending or approved) was withdrawn, by the member or because the member was suspended or "
               "deactivated; it is no longer reservable.")

    class schema(Schema):
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        previous_status = fields.Str(required=True)
        reason = fields.Str(allow_none=True, metadata={"description": "member (default) | suspended | deactivated"})


class OfferCompleted(Event):
    summary = "The member marked an approved offer completed; it is no longer reservable."

    class schema(Schema):
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)


EVENTS = [ReadinessDeclared, StaffFieldGranted, OfferSubmitted, OfferApproved, OfferRejected, OfferWithdrawn,
          OfferCompleted]
