"""Routes of the service desk (میز خدمت): procedures, tickets, public tracking, the scorecard, members' tickets."""
from gateway.http import api, query_args
from gateway.roles import ADMIN, DESK_OFFICER, MEMBER, OFFICE, PROVINCE_OFFICE, UNIT_OFFICER
from kit.rpc import RpcProxy
from services.desk import schemas as s

PROCEDURE_EDITORS = (ADMIN, PROVINCE_OFFICE, UNIT_OFFICER)
DESK = (ADMIN, DESK_OFFICER)
STAFF = (ADMIN, PROVINCE_OFFICE, DESK_OFFICER, UNIT_OFFICER)
TAG = "desk"


class DeskRoutes:
    desk = RpcProxy("desk")

    # -- procedures (فرآیندها): public to read ----------------------------------------------------------------
    @api("GET", "/desk/procedures", public=True, answer=s.ProcedureList, query=s.ProcedureQuery,
         summary="The public catalogue of procedures: conditions, documents, steps, standard duration, fee.",
         tag=TAG)
    def desk_list_procedures(self, request):
        return self.desk.list_procedures(query_args(request))

    @api("POST", "/desk/procedures", roles=PROCEDURE_EDITORS, status=201, body=s.ProcedureIn,
         answer=s.ProcedureSaved, summary="Publish a procedure (a unit officer: of their own unit).", tag=TAG)
    def desk_create_procedure(self, request):
        return self.desk.create_procedure(request.actor, request.body)

    @api("GET", "/desk/procedures/stale", roles=PROCEDURE_EDITORS, answer=s.ProcedureList, query=s.ProcedureQuery,
         summary="Procedures not reviewed for over a year.", tag=TAG)
    def desk_stale_procedures(self, request):
        return self.desk.stale_procedures(request.actor, query_args(request))

    @api("GET", "/desk/procedures/<id>", public=True, answer=s.ProcedureOut, query=s.ProcedureVersionQuery,
         summary="One procedure, its current version or ?version=.", tag=TAG)
    def desk_get_procedure(self, request, id):
        return self.desk.get_procedure(id, query_args(request))

    @api("PUT", "/desk/procedures/<id>", roles=PROCEDURE_EDITORS, body=s.ProcedureIn, answer=s.ProcedureSaved,
         summary="A new version of a procedure; open tickets keep the version they were opened under.", tag=TAG)
    def desk_update_procedure(self, request, id):
        return self.desk.update_procedure(request.actor, id, request.body)

    @api("GET", "/desk/procedures/<id>/summary", public=True, answer=s.ProcedureSummary,
         summary="What to expect: share done on time and typical duration over the last year.", tag=TAG)
    def desk_procedure_summary(self, request, id):
        return self.desk.procedure_summary(id)

    # -- official holidays ------------------------------------------------------------------------------------
    @api("PUT", "/desk/holidays/<jalali_year>", roles=(ADMIN,), body=s.HolidaysIn, answer=s.HolidaysOut,
         summary="Load one Jalali year's official holidays (Fridays are the weekend anyway).", tag=TAG)
    def desk_load_holidays(self, request, jalali_year):
        return self.desk.load_holidays(request.actor, jalali_year, request.body)

    @api("GET", "/desk/holidays/<jalali_year>", public=True, answer=s.HolidaysOut,
         summary="One Jalali year's official holidays.", tag=TAG)
    def desk_get_holidays(self, request, jalali_year):
        return self.desk.get_holidays(jalali_year)

    # -- tickets ------------------------------------------------------------------------------------------------
    @api("POST", "/desk/tickets", roles=DESK, status=201, body=s.TicketIn, answer=s.TicketState,
         summary="Record a visitor's request; answers the tracking code and the promised date.", tag=TAG)
    def desk_create_ticket(self, request):
        return self.desk.create_ticket(request.actor, request.body)

    @api("GET", "/desk/tickets", roles=STAFF, answer=s.TicketList, query=s.TicketQuery,
         summary="The province's tickets (a unit officer: those of their unit).", tag=TAG)
    def desk_list_tickets(self, request):
        return self.desk.list_tickets(request.actor, query_args(request))

    @api("GET", "/desk/tickets/late", roles=OFFICE, answer=s.TicketList, query=s.LateQuery,
         summary="Tickets past their promised date.", tag=TAG)
    def desk_late_tickets(self, request):
        return self.desk.late_tickets(request.actor, query_args(request))

    @api("GET", "/desk/tickets/<code>", public=True, answer=s.TrackOut, query=s.TrackQuery,
         summary="Track a ticket with its code and the visitor's mobile, without an account.", tag=TAG)
    def desk_track(self, request, code):
        return self.desk.track(code, query_args(request), request.client_ip)

    @api("POST", "/desk/tickets/<code>/resolve", roles=DESK, body=s.ResolveIn, answer=s.TicketState,
         summary="Resolve the request on the spot at the desk (closes it).", tag=TAG)
    def desk_resolve(self, request, code):
        return self.desk.resolve_ticket(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/refer", roles=DESK, body=s.ReferIn, answer=s.TicketState,
         summary="Refer to a unit with a promised date (computed from the standard duration when not given).",
         tag=TAG)
    def desk_refer(self, request, code):
        return self.desk.refer_ticket(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/result", roles=(ADMIN, UNIT_OFFICER), body=s.ResultIn, answer=s.TicketState,
         summary="The unit records its result (unit officers: tickets of their unit).", tag=TAG)
    def desk_result(self, request, code):
        return self.desk.record_result(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/deliver", roles=DESK, body=s.DeliverIn, answer=s.TicketState,
         summary="Deliver the unit's result to the visitor and close the ticket.", tag=TAG)
    def desk_deliver(self, request, code):
        return self.desk.deliver_ticket(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/await-visitor", roles=(ADMIN, DESK_OFFICER, UNIT_OFFICER),
         body=s.AwaitVisitorIn, answer=s.TicketState,
         summary="Wait for the visitor (e.g. a missing document): the promise's clock stops.", tag=TAG)
    def desk_await_visitor(self, request, code):
        return self.desk.await_visitor(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/resume", roles=(ADMIN, DESK_OFFICER, UNIT_OFFICER), body=s.ResumeIn,
         answer=s.TicketState,
         summary="The visitor is back: the clock runs again, the promise moves by the working days waited.",
         tag=TAG)
    def desk_resume(self, request, code):
        return self.desk.resume_ticket(request.actor, code, request.body)

    @api("POST", "/desk/tickets/<code>/rating", public=True, body=s.RatingIn, answer=s.RatingOut,
         summary="After delivery the visitor rates the service once (1 to 5) with the code and mobile.", tag=TAG)
    def desk_rate(self, request, code):
        return self.desk.rate(code, request.body, request.client_ip)

    # -- the scorecard ------------------------------------------------------------------------------------------
    @api("GET", "/desk/stats", roles=OFFICE, answer=s.Stats, query=s.StatsQuery,
         summary="By Jalali month, unit and procedure: received, resolved at the desk, referred, on time or late, "
                 "median and p90 days to resolve, satisfaction.", tag=TAG)
    def desk_stats(self, request):
        return self.desk.stats(request.actor, query_args(request))

    # -- members' tickets ---------------------------------------------------------------------------------------
    @api("POST", "/suggestions", roles=(MEMBER,), status=201, body=s.SuggestionIn, answer=s.MemberTicketCreated,
         summary="A suggestion or innovation (پیشنهادات و ابتکارات) to the provincial office.", tag=TAG)
    def desk_suggest(self, request):
        return self.desk.submit_suggestion(request.actor, request.body)

    @api("POST", "/integrity-reports", roles=(MEMBER,), status=201, body=s.IntegrityReportIn,
         answer=s.MemberTicketCreated,
         summary="Report that someone asked a member for money; seen only by the provincial office.", tag=TAG)
    def desk_report_integrity(self, request):
        return self.desk.report_integrity(request.actor, request.body)

    @api("GET", "/member-tickets", roles=OFFICE, answer=s.MemberTicketList, query=s.MemberTicketQuery,
         summary="The province's suggestions and integrity reports, with the reporter.", tag=TAG)
    def desk_member_tickets(self, request):
        return self.desk.list_member_tickets(request.actor, query_args(request))

    @api("GET", "/member-tickets/mine", roles=(MEMBER,), answer=s.OwnMemberTicketList, query=s.MemberTicketQuery,
         summary="What the member filed, and the office's response.", tag=TAG)
    def desk_my_member_tickets(self, request):
        return self.desk.my_member_tickets(request.actor, query_args(request))

    @api("POST", "/member-tickets/<id>/close", roles=OFFICE, body=s.CloseMemberTicketIn,
         answer=s.MemberTicketClosedOut, summary="Close a suggestion or integrity report with a response.", tag=TAG)
    def desk_close_member_ticket(self, request, id):
        return self.desk.close_member_ticket(request.actor, id, request.body)
