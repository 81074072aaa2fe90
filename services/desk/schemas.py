"""The RPC contract of the desk (میز خدمت): what it accepts and what it answers (also feeds the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kit.schema import FlexDate, Mobile, NationalId, Text, persian_messages
from services.desk.domain import STATUSES
from services.desk.models import MEMBER_TICKET_KINDS

persian_messages({
    "A document is listed twice.": "یک مدرک دو بار آمده است.",
    "The review date is in the future.": "تاریخ بازنگری در آینده است.",
    "'from' is after 'to'.": "تاریخ «از» پس از تاریخ «تا» است.",
})

Document = lambda: Text(validate=validate.Length(min=1, max=200))  # noqa: E731
Cursor = lambda: fields.Str(validate=validate.Length(max=400))  # noqa: E731
Limit = lambda: fields.Int(validate=validate.Range(min=1, max=200), load_default=50)  # noqa: E731


def _distinct(values, field):
    if values and len(set(values)) != len(values):
        raise ValidationError("A document is listed twice.", field)


# -- procedures (فرآیندها) ---------------------------------------------------------------------------------
class ProcedureIn(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    unit = Text(validate=validate.Length(min=1, max=120))  # a unit officer's own unit when left out
    conditions = Text(required=True, validate=validate.Length(max=5000))
    required_documents = fields.List(Document(), required=True, validate=validate.Length(max=50))
    steps = fields.List(Text(validate=validate.Length(min=1, max=1000)), required=True,
                        validate=validate.Length(min=1, max=50))
    standard_days = fields.Int(required=True, strict=True, validate=validate.Range(min=0, max=365))
    fee = fields.Int(strict=True, validate=validate.Range(min=0, max=10**13), load_default=0)  # rials
    reviewed_on = FlexDate()  # today when left out
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only; others publish for their own

    @validates_schema
    def _documents(self, data, **kwargs):
        _distinct(data.get("required_documents"), "required_documents")


class ProcedureOut(Schema):
    id = fields.Str()
    province = fields.Str()
    version = fields.Int()
    title = fields.Str()
    unit = fields.Str()
    conditions = fields.Str()
    required_documents = fields.List(fields.Str())
    steps = fields.List(fields.Str())
    standard_days = fields.Int()
    fee = fields.Int()
    reviewed_on = fields.Date()
    reviewed_on_jalali = fields.Str()
    stale = fields.Bool()
    days_since_review = fields.Int()
    updated_at = fields.DateTime()


class ProcedureList(Schema):
    items = fields.List(fields.Nested(ProcedureOut))
    next = fields.Str(allow_none=True)


class ProcedureQuery(Schema):
    province = fields.Str(validate=validate.Length(min=1, max=8))
    unit = Text(validate=validate.Length(min=1, max=120))
    cursor = Cursor()
    limit = Limit()


class ProcedureVersionQuery(Schema):
    version = fields.Int(validate=validate.Range(min=1))


class ProcedureSaved(Schema):
    id = fields.Str()
    version = fields.Int()


class ProcedureSummary(Schema):
    procedure_id = fields.Str()
    title = fields.Str()
    unit = fields.Str()
    standard_days = fields.Int()
    since = fields.Date()
    tickets = fields.Int()
    on_time_share = fields.Float(allow_none=True)
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)
    satisfaction = fields.Float(allow_none=True)


# -- holidays (تعطیلات رسمی) -------------------------------------------------------------------------------
class HolidaysIn(Schema):
    dates = fields.List(FlexDate(), required=True, validate=validate.Length(max=60))


class HolidaysOut(Schema):
    jalali_year = fields.Int()
    dates = fields.List(fields.Date())
    dates_jalali = fields.List(fields.Str())


# -- tickets -----------------------------------------------------------------------------------------------
class VisitorIn(Schema):
    full_name = Text(required=True, validate=validate.Length(min=1, max=160))
    national_id = NationalId(required=True)
    mobile = Mobile(required=True)


class TicketIn(Schema):
    procedure = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    visitor = fields.Nested(VisitorIn, required=True)
    documents_received = fields.List(Document(), load_default=list, validate=validate.Length(max=50))
    description = Text(load_default="", validate=validate.Length(max=4000))

    @validates_schema
    def _documents(self, data, **kwargs):
        _distinct(data.get("documents_received"), "documents_received")


class TicketState(Schema):
    id = fields.Str()
    tracking_code = fields.Str()
    tracking_code_display = fields.Str()
    status = fields.Str()
    unit = fields.Str()
    due_date = fields.Date()
    due_date_jalali = fields.Str()
    missing_documents = fields.List(fields.Str())


class ResolveIn(Schema):
    resolution = Text(validate=validate.Length(max=4000))


class ReferIn(Schema):
    unit = Text(validate=validate.Length(min=1, max=120))  # the procedure's unit when left out
    promised_date = FlexDate()  # computed from the standard duration when left out


class ResultIn(Schema):
    outcome = Text(required=True, validate=validate.Length(min=1, max=4000))


class DeliverIn(Schema):
    pass


class AwaitVisitorIn(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=1000))


class ResumeIn(Schema):
    documents_received = fields.List(Document(), validate=validate.Length(max=50))  # handed over now

    @validates_schema
    def _documents(self, data, **kwargs):
        _distinct(data.get("documents_received"), "documents_received")


class VisitorOut(Schema):
    full_name = fields.Str()
    national_id = fields.Str()
    mobile = fields.Str()


class TicketOut(Schema):
    id = fields.Str()
    tracking_code = fields.Str()
    province = fields.Str()
    procedure_id = fields.Str()
    procedure_version = fields.Int()
    procedure_title = fields.Str()
    unit = fields.Str()
    visitor = fields.Nested(VisitorOut)
    documents_received = fields.List(fields.Str())
    missing_documents = fields.List(fields.Str())
    description = fields.Str()
    status = fields.Str()
    due_date = fields.Date()
    due_date_jalali = fields.Str()
    created_at = fields.DateTime()
    created_at_jalali = fields.Str()
    referred_at = fields.DateTime(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    resolution = fields.Str(allow_none=True)
    outcome = fields.Str(allow_none=True)
    awaiting_since = fields.DateTime(allow_none=True)
    awaiting_reason = fields.Str(allow_none=True)
    waited_days = fields.Int()
    rating = fields.Int(allow_none=True)
    late = fields.Bool()
    days_late = fields.Int()


class TicketList(Schema):
    items = fields.List(fields.Nested(TicketOut))
    next = fields.Str(allow_none=True)


class TicketQuery(Schema):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    unit = Text(validate=validate.Length(min=1, max=120))
    procedure = fields.Str(validate=validate.Length(min=1, max=64))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only
    cursor = Cursor()
    limit = Limit()


class LateQuery(Schema):
    unit = Text(validate=validate.Length(min=1, max=120))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only
    cursor = Cursor()
    limit = Limit()


# -- the visitor's side, without an account --------------------------------------------------------------------
class TrackQuery(Schema):
    mobile = Mobile(required=True)


class TrackOut(Schema):
    tracking_code = fields.Str()
    status = fields.Str()
    status_label = fields.Str()
    procedure_title = fields.Str()
    due_date = fields.Date()
    due_date_jalali = fields.Str()
    next_step = fields.Str()
    next_step_en = fields.Str()
    missing_documents = fields.List(fields.Str())
    created_at_jalali = fields.Str()
    can_rate = fields.Bool()
    rating = fields.Int(allow_none=True)


class RatingIn(Schema):
    mobile = Mobile(required=True)
    score = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = Text(validate=validate.Length(max=1000))


class RatingOut(Schema):
    tracking_code = fields.Str()
    rating = fields.Int()


# -- the scorecard (شاخص ارزیابی) ------------------------------------------------------------------------
class StatsQuery(Schema):
    from_ = FlexDate(data_key="from")
    to = FlexDate()
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only
    unit = Text(validate=validate.Length(min=1, max=120))
    procedure = fields.Str(validate=validate.Length(min=1, max=64))

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("'from' is after 'to'.", "from")


class Scorecard(Schema):
    received = fields.Int()
    resolved_at_desk = fields.Int()
    referred = fields.Int()
    delivered = fields.Int()
    delivered_on_time = fields.Int()
    delivered_late = fields.Int()
    median_days_to_resolve = fields.Float(allow_none=True)
    p90_days_to_resolve = fields.Float(allow_none=True)
    rated = fields.Int()
    satisfaction = fields.Float(allow_none=True)


class ScorecardRow(Scorecard):
    month = fields.Str()
    unit = fields.Str()
    procedure_id = fields.Str()
    procedure_title = fields.Str(allow_none=True)


class Stats(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    from_jalali = fields.Str()
    to_jalali = fields.Str()
    items = fields.List(fields.Nested(ScorecardRow))
    total = fields.Nested(Scorecard)


# -- members' tickets: suggestions and integrity reports ----------------------------------------------------
class SuggestionIn(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    body = Text(required=True, validate=validate.Length(min=1, max=5000))


class IntegrityReportIn(Schema):
    body = Text(required=True, validate=validate.Length(min=1, max=5000))
    accused = Text(validate=validate.Length(min=1, max=200))
    title = Text(validate=validate.Length(min=1, max=200))


class MemberTicketCreated(Schema):
    id = fields.Str()
    tracking_code = fields.Str()


class OwnMemberTicketOut(Schema):
    """As the member who filed it sees it: never the reporter (the office's view adds it, below)."""

    id = fields.Str()
    kind = fields.Str()
    tracking_code = fields.Str()
    title = fields.Str(allow_none=True)
    body = fields.Str()
    accused = fields.Str(allow_none=True)
    status = fields.Str()
    created_at = fields.DateTime()
    created_at_jalali = fields.Str()
    closed_at = fields.DateTime(allow_none=True)
    response = fields.Str(allow_none=True)


class MemberTicketOut(OwnMemberTicketOut):
    """As the provincial office sees it; the reporter is named only here."""

    reporter_id = fields.Str()


class MemberTicketList(Schema):
    items = fields.List(fields.Nested(MemberTicketOut))
    next = fields.Str(allow_none=True)


class OwnMemberTicketList(Schema):
    items = fields.List(fields.Nested(OwnMemberTicketOut))
    next = fields.Str(allow_none=True)


class MemberTicketQuery(Schema):
    kind = fields.Str(validate=validate.OneOf(MEMBER_TICKET_KINDS))
    status = fields.Str(validate=validate.OneOf(["open", "closed"]))
    province = fields.Str(validate=validate.Length(min=1, max=8))  # admin only
    cursor = Cursor()
    limit = Limit()


class CloseMemberTicketIn(Schema):
    response = Text(required=True, validate=validate.Length(min=1, max=4000))


class MemberTicketClosedOut(Schema):
    id = fields.Str()
    status = fields.Str()
