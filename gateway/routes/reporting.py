"""Routes of reporting: the member's service reports and the supervisor's review."""
from gateway.http import api, query_args
from gateway.roles import ADMIN, MEMBER, PROVINCE_OFFICE, SUPERVISOR
from kit.rpc import RpcProxy
from services.reporting import schemas as s


class ReportingRoutes:
    reporting = RpcProxy("reporting")

    @api("POST", "/reports", roles=(MEMBER,), status=201, body=s.ReportIn, answer=s.Created,
         summary="File a service report (گزارش خدمت) for an accepted reservation of one's own.", tag="reporting")
    def file_report(self, request):
        return self.reporting.file_report(request.actor, request.body)

    @api("GET", "/reports", roles=(SUPERVISOR, PROVINCE_OFFICE, ADMIN), answer=s.ReportList, query=s.ReportQuery,
         summary="Reports of the supervisor's centre (the office: its province's).", tag="reporting")
    def list_reports(self, request):
        return self.reporting.list_reports(request.actor, query_args(request))

    @api("GET", "/me/reports", roles=(MEMBER,), answer=s.ReportList, query=s.ReportQuery,
         summary="The member's reports.", tag="reporting")
    def my_reports(self, request):
        return self.reporting.my_reports(request.actor, query_args(request))

    @api("GET", "/reports/<id>", roles=(MEMBER, SUPERVISOR, PROVINCE_OFFICE, ADMIN), answer=s.ReportOut,
         summary="One report.", tag="reporting")
    def get_report(self, request, id):
        return self.reporting.get_report(request.actor, id)

    @api("POST", "/reports/<id>/approve", roles=(SUPERVISOR,), answer=s.StatusOut,
         summary="Approve a report (the supervisor, ناظر, of its centre); publishes ReportApproved.", tag="reporting")
    def approve(self, request, id):
        return self.reporting.approve(request.actor, id)

    @api("POST", "/reports/<id>/reject", roles=(SUPERVISOR,), body=s.ReasonIn, answer=s.StatusOut,
         summary="Reject a report with a reason; publishes ReportRejected.", tag="reporting")
    def reject(self, request, id):
        return self.reporting.reject(request.actor, id, request.body)
