"""Routes of the shrine service: eligibility, shifts, the booking storm, waiting lists, draws and attendance."""
import json

from werkzeug.wrappers import Response

from gateway.http import PREFIX, api, query_args
from gateway.roles import ADMIN, MEMBER, SHRINE_OFFICE
from kit.rpc import RpcProxy
from services.shrine import schemas as s

MEMBERS = (MEMBER,)
SHRINE_STAFF = (SHRINE_OFFICE, ADMIN)
EVERYONE = (MEMBER, SHRINE_OFFICE, ADMIN)
TAG = "shrine"


class ShrineRoutes:
    shrine = RpcProxy("shrine")

    @api("GET", "/shrine/eligibility", roles=MEMBERS, answer=s.ShrineEligibilityOut,
         summary="Whether the member may book shrine shifts, and why (Persian and English).", tag=TAG)
    def shrine_eligibility(self, request):
        return self.shrine.eligibility(request.actor)

    @api("POST", "/shrine/shifts", roles=SHRINE_STAFF, status=201, body=s.ShiftBatchIn, answer=s.ShiftIds,
         summary="Publish duty shifts (کشیک) in bulk.", tag=TAG)
    def shrine_create_shifts(self, request):
        return self.shrine.create_shifts(request.actor, request.body)

    @api("GET", "/shrine/shifts", roles=EVERYONE, answer=s.ShiftList, query=s.ShiftQuery,
         summary="Shifts between from and to (default: today and the next 14 days) with remaining places.", tag=TAG)
    def shrine_list_shifts(self, request):
        return self.shrine.list_shifts(request.actor, query_args(request))

    @api("GET", "/shrine/shifts/<id>", roles=EVERYONE, answer=s.ShiftOut, summary="One shift.", tag=TAG)
    def shrine_get_shift(self, request, id):
        return self.shrine.get_shift(request.actor, id)

    @api("POST", "/shrine/shifts/<id>/bookings", roles=MEMBERS, status=201, answer=s.ShrineBookAnswer,
         summary="Book a place (201). In the fair-opening window: 202 and a draw; optional Idempotency-Key header.",
         tag=TAG)
    def shrine_book(self, request, id):
        answer = self.shrine.book(request.actor, id, request.headers.get("Idempotency-Key"))
        if answer.get("status") != "pending":
            return answer
        location = f"{PREFIX}/shrine/attempts/{answer['attempt']}"
        answer["location"] = location
        return Response(json.dumps(answer, ensure_ascii=False), status=202, mimetype="application/json",
                        headers={"Location": location})

    @api("GET", "/shrine/shifts/<id>/bookings", roles=SHRINE_STAFF, answer=s.ShrineBookingList,
         query=s.ShrineBookingQuery,
         summary="The bookings of a shift (the shrine office's roster).", tag=TAG)
    def shrine_roster(self, request, id):
        return self.shrine.roster(request.actor, id, query_args(request))

    @api("GET", "/shrine/shifts/<id>/draw", roles=EVERYONE, answer=s.ShrineDrawOut,
         summary="The fair-opening draw of a shift: seed, entrants and order, for audit.", tag=TAG)
    def shrine_draw(self, request, id):
        return self.shrine.draw(request.actor, id)

    @api("POST", "/shrine/shifts/<id>/waitlist", roles=MEMBERS, status=201, answer=s.ShrineWaitlistOut,
         summary="Queue for a full shift; a freed place is offered to the first in line.", tag=TAG)
    def shrine_join_waitlist(self, request, id):
        return self.shrine.join_waitlist(request.actor, id)

    @api("POST", "/shrine/shifts/<id>/attendance", roles=SHRINE_STAFF, body=s.ShrineAttendanceIn,
         answer=s.ShrineAttendanceOut,
         summary="Record a booking present or absent; the fifth absence puts the member up for review.", tag=TAG)
    def shrine_attendance(self, request, id):
        return self.shrine.record_attendance(request.actor, id, request.body)

    @api("GET", "/shrine/bookings", roles=MEMBERS, answer=s.ShrineBookingList, query=s.ShrineBookingQuery,
         summary="The member's own bookings and offers.", tag=TAG)
    def shrine_my_bookings(self, request):
        return self.shrine.my_bookings(request.actor, query_args(request))

    @api("DELETE", "/shrine/bookings/<id>", roles=MEMBERS, answer=s.ShrineBookingState,
         summary="Cancel a booking (until the shift's cut-off) or decline a waiting-list offer.", tag=TAG)
    def shrine_cancel(self, request, id):
        return self.shrine.cancel(request.actor, id)

    @api("POST", "/shrine/bookings/<id>/confirm", roles=MEMBERS, answer=s.ShrineBookingState,
         summary="Take a place offered from the waiting list, before its deadline.", tag=TAG)
    def shrine_confirm(self, request, id):
        return self.shrine.confirm(request.actor, id)

    @api("DELETE", "/shrine/waitlist/<id>", roles=MEMBERS, answer=s.ShrineBookingState,
         summary="Leave a shift's waiting list.", tag=TAG)
    def shrine_leave_waitlist(self, request, id):
        return self.shrine.leave_waitlist(request.actor, id)

    @api("GET", "/shrine/attempts/<id>", roles=MEMBERS, answer=s.ShrineAttemptOut,
         summary="The outcome of a booking attempt (pending until the fair-opening draw).", tag=TAG)
    def shrine_attempt(self, request, id):
        return self.shrine.attempt(request.actor, id)
