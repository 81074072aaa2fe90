"""Events published by reservation (the contract for consumers and the AsyncAPI document).

Beneficiaries are sensitive personal data: no event carries more than their opaque id.
"""
from marshmallow import Schema, fields

from kit.events import Event


class ReservationCreated(Event):
    summary = "A neighbourhood centre reserved an approved offer for one of its beneficiaries; the member is invited."

    class schema(Schema):
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        center = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        ends_at = fields.DateTime(required=True)


class ReservationAccepted(Event):
    summary = "The member accepted a reservation: the service will be performed (and then reported)."

    class schema(Schema):
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        center = fields.Str(required=True)
        service_id = fields.Str(allow_none=True)
        service_name = fields.Str(allow_none=True)
        starts_at = fields.DateTime(required=True)
        ends_at = fields.DateTime(required=True)


class ReservationDeclined(Event):
    summary = "The member declined a reservation; the offer's time is free again."

    class schema(Schema):
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reason = fields.Str(allow_none=True)


class ReservationCancelled(Event):
    summary = ("An open reservation (invited, or accepted and still to come) was cancelled: its member was suspended "
               "or deactivated, or its offer was withdrawn or completed. The centre should book another offer for its "
               "beneficiary; a cancelled reservation is never reported.")

    class schema(Schema):
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        county = fields.Str(required=True)
        center = fields.Str(required=True)
        previous_status = fields.Str(required=True)
        starts_at = fields.DateTime(required=True)
        ends_at = fields.DateTime(required=True)
        reason = fields.Str(required=True, metadata={
            "description": "suspended | deactivated | offer_withdrawn | offer_completed"})


EVENTS = [ReservationCreated, ReservationAccepted, ReservationDeclined, ReservationCancelled]
