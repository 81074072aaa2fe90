"""Events published by the desk (the contract for consumers, e.g. the SMS integrator, and the AsyncAPI document).

Every ticket event carries the tracking code and the visitor's mobile so a notifier needs nothing else; dates
come both as ISO dates and as Jalali text (``1404/08/03``) ready for a message.
"""
from marshmallow import Schema, fields

from kit.events import Event


class _TicketStep(Schema):
    ticket_id = fields.Str(required=True)
    tracking_code = fields.Str(required=True)
    procedure_id = fields.Str(required=True)
    unit = fields.Str(required=True)
    status = fields.Str(required=True)
    mobile = fields.Str(required=True)
    due_date = fields.Date(required=True)
    due_date_jalali = fields.Str(required=True)


class ProcedurePublished(Event):
    summary = "A unit published a procedure (فرآیند) or a new version of it."

    class schema(Schema):
        procedure_id = fields.Str(required=True)
        version = fields.Int(required=True)
        title = fields.Str(required=True)
        unit = fields.Str(required=True)
        standard_days = fields.Int(required=True)
        reviewed_on = fields.Date(required=True)


class TicketCreated(Event):
    summary = "The service desk recorded a visitor's request; the visitor got a tracking code (کد رهگیری)."

    class schema(_TicketStep):
        procedure_version = fields.Int(required=True)
        missing_documents = fields.List(fields.Str(), required=True)


class TicketAwaitingVisitor(Event):
    summary = "The ticket waits for the visitor (e.g. a missing document); the promise's clock stopped."

    class schema(_TicketStep):
        reason = fields.Str(required=True)
        missing_documents = fields.List(fields.Str(), required=True)


class TicketResumed(Event):
    summary = "The visitor came back; the clock runs again and the promised date moved by the days waited."

    class schema(_TicketStep):
        waited_working_days = fields.Int(required=True)


class TicketReferred(Event):
    summary = "The desk referred the ticket to a unit (واحد ذیربط) with a promised date."

    class schema(_TicketStep):
        pass


class TicketResultReady(Event):
    summary = "The unit recorded its result; the visitor can come to receive it."

    class schema(_TicketStep):
        on_time = fields.Bool(required=True)


class TicketResolved(Event):
    summary = "The desk resolved the ticket on the spot (closed)."

    class schema(_TicketStep):
        on_time = fields.Bool(required=True)


class TicketDelivered(Event):
    summary = "The desk delivered the unit's result to the visitor (closed)."

    class schema(_TicketStep):
        on_time = fields.Bool(required=True)


class TicketRated(Event):
    summary = "The visitor rated the service (1 to 5)."

    class schema(Schema):
        ticket_id = fields.Str(required=True)
        procedure_id = fields.Str(required=True)
        unit = fields.Str(required=True)
        score = fields.Int(required=True)


class MemberTicketFiled(Event):
    summary = ("A member filed a suggestion (پیشنهادات و ابتکارات) or an integrity report with the provincial "
               "office. Neither the member nor the accused is named in the event.")

    class schema(Schema):
        ticket_id = fields.Str(required=True)
        kind = fields.Str(required=True)


class MemberTicketClosed(Event):
    summary = "The provincial office closed a member's suggestion or integrity report with its response."

    class schema(Schema):
        ticket_id = fields.Str(required=True)
        kind = fields.Str(required=True)


EVENTS = [ProcedurePublished, TicketCreated, TicketAwaitingVisitor, TicketResumed, TicketReferred,
          TicketResultReady, TicketResolved, TicketDelivered, TicketRated, MemberTicketFiled, MemberTicketClosed]
