"""Events published by reporting (the contract for consumers and the AsyncAPI document).

``ReportApproved`` is relied on by shrine (the first approved report opens shrine shifts): its payload is fixed.
"""
from marshmallow import Schema, fields

from kit.events import Event


class ReportSubmitted(Event):
    summary = "A member filed a service report (گزارش خدمت) for an accepted reservation."

    class schema(Schema):
        report_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        performed_on = fields.Date(required=True)
        hours = fields.Float(required=True)


class ReportApproved(Event):
    summary = ("The supervisor (ناظر) approved a service report; first_for_member marks the member's first approved "
               "report (it opens shrine shifts). The envelope's province is the member's.")

    class schema(Schema):
        report_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reservation_id = fields.Str(required=True)
        offer_id = fields.Str(required=True)
        performed_on = fields.Date(required=True)
        hours = fields.Float(required=True)
        first_for_member = fields.Bool(required=True)


class ReportRejected(Event):
    summary = "The supervisor rejected a service report, with the reason (a ground for the member's review)."

    class schema(Schema):
        report_id = fields.Str(required=True)
        member_id = fields.Str(required=True)
        reservation_id = fields.Str(required=True)
        reason = fields.Str(required=True)


EVENTS = [ReportSubmitted, ReportApproved, ReportRejected]
