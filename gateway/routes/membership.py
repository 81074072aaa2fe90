"""Routes of membership: applying, the office's work, login, staff, meetings and /me."""
from gateway import auth
from gateway.http import api, query_args
from gateway.roles import OFFICE
from kit.rpc import RpcProxy
from services.membership import schemas as s


class MembershipRoutes:
    membership = RpcProxy("membership")

    @api("POST", "/applications", public=True, status=201, body=s.ApplicationIn, answer=s.Created,
         summary="Apply for membership (ثبت نام).", tag="membership")
    def apply(self, request):
        return self.membership.apply(request.body)

    @api("GET", "/applications", roles=OFFICE, answer=s.ApplicationList, query=s.ApplicationQuery,
         summary="The province's applications (admin: all, or ?province=), with the 15-day overdue flag; "
                 "?q= finds a person by national ID (or its first digits) or name.", tag="membership")
    def list_applications(self, request):
        return self.membership.list_applications(request.actor, query_args(request))

    @api("POST", "/applications/<id>/invite", roles=OFFICE, body=s.InviteIn,
         summary="Invite an applicant to an orientation session.", tag="membership")
    def invite(self, request, id):
        return self.membership.invite(request.actor, id, request.body)

    @api("POST", "/applications/<id>/activate", roles=OFFICE, answer=s.Activation,
         summary="Activate a member; the one-time initial password is shown once.", tag="membership")
    def activate(self, request, id):
        return self.membership.activate(request.actor, id)

    @api("POST", "/orientations", roles=OFFICE, status=201, body=s.OrientationIn, answer=s.IdOut,
         summary="Schedule an orientation session (جلسه توجیهی).", tag="membership")
    def create_orientation(self, request):
        return self.membership.create_orientation(request.actor, request.body)

    @api("GET", "/orientations", roles=OFFICE, answer=s.OrientationList, query=s.SessionQuery,
         summary="The province's orientation sessions (admin: all, or ?province=), latest first, with places taken "
                 "and attendance.", tag="membership")
    def list_orientations(self, request):
        return self.membership.list_orientations(request.actor, query_args(request))

    @api("POST", "/orientations/<id>/attendance", roles=OFFICE, body=s.AttendanceIn,
         summary="Record who attended an orientation session.", tag="membership")
    def orientation_attendance(self, request, id):
        return self.membership.record_orientation_attendance(request.actor, id, request.body)

    @api("POST", "/auth/login", public=True, body=s.LoginIn, answer=s.LoginOut,
         summary="Log in with national ID and password.", tag="auth")
    def login(self, request):
        claims = self.membership.login(request.body, request.client_ip)
        return self._token(claims)

    def _token(self, claims):
        ttl = int(self.config.get("JWT_TTL_SECONDS", 3600))
        return {"access_token": auth.issue(claims, self.config["JWT_SECRET"], ttl),
                "token_type": "Bearer", "expires_in": ttl,
                "must_change_password": claims["must_change_password"]}

    @api("POST", "/auth/password", status=204, body=s.PasswordIn, pending_ok=True,
         summary="Change the password (required after the initial one).", tag="auth")
    def change_password(self, request):
        self.membership.change_password(request.actor, request.body)
        return None

    @api("POST", "/staff", roles=OFFICE, status=201, body=s.StaffIn, answer=s.StaffCreated,
         summary="Create a staff account with its role and scope.", tag="membership")
    def create_staff(self, request):
        return self.membership.create_staff(request.actor, request.body)

    @api("POST", "/meetings", roles=OFFICE, status=201, body=s.MeetingIn, answer=s.IdOut,
         summary="Schedule an in-person meeting of members.", tag="membership")
    def create_meeting(self, request):
        return self.membership.create_meeting(request.actor, request.body)

    @api("GET", "/meetings", roles=OFFICE, answer=s.MeetingList, query=s.SessionQuery,
         summary="The province's in-person meetings (admin: all, or ?province=), latest first, with attendance.",
         tag="membership")
    def list_meetings(self, request):
        return self.membership.list_meetings(request.actor, query_args(request))

    @api("POST", "/meetings/<id>/attendance", roles=OFFICE, body=s.MeetingAttendanceIn,
         summary="Record which members attended a meeting.", tag="membership")
    def meeting_attendance(self, request, id):
        return self.membership.record_meeting_attendance(request.actor, id, request.body)
