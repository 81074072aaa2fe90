"""Routes of reservation: a neighbourhood centre's beneficiaries and reservations, and the member's answer."""
from gateway.http import api, query_args
from gateway.roles import ADMIN, MEMBER, NEIGHBORHOOD_CENTER, PROVINCE_OFFICE
from kit.rpc import RpcProxy
from services.reservation import schemas as s

CENTRE_AND_OFFICE = (NEIGHBORHOOD_CENTER, PROVINCE_OFFICE, ADMIN)


class ReservationRoutes:
    reservation = RpcProxy("reservation")

    # -- beneficiaries (نیازمندان): sensitive, only their centre and its province's office
    @api("POST", "/beneficiaries", roles=(NEIGHBORHOOD_CENTER,), status=201, body=s.BeneficiaryIn, answer=s.Created,
         summary="Record a person in need (نیازمند) of the centre's area, with their needs.", tag="reservation")
    def create_beneficiary(self, request):
        return self.reservation.create_beneficiary(request.actor, request.body)

    @api("GET", "/beneficiaries", roles=CENTRE_AND_OFFICE, answer=s.BeneficiaryList, query=s.ListQuery,
         summary="The centre's beneficiaries (the office: its province's).", tag="reservation")
    def list_beneficiaries(self, request):
        return self.reservation.list_beneficiaries(request.actor, query_args(request))

    @api("GET", "/beneficiaries/<id>", roles=CENTRE_AND_OFFICE, answer=s.BeneficiaryOut,
         summary="One beneficiary (another centre gets 404).", tag="reservation")
    def get_beneficiary(self, request, id):
        return self.reservation.get_beneficiary(request.actor, id)

    # -- reservations
    @api("POST", "/reservations", roles=(NEIGHBORHOOD_CENTER,), status=201, body=s.ReservationIn, answer=s.Created,
         summary="Reserve an approved offer of the county for a beneficiary; the member is invited.",
         tag="reservation")
    def reserve(self, request):
        return self.reservation.reserve(request.actor, request.body)

    @api("GET", "/reservations", roles=CENTRE_AND_OFFICE, answer=s.ReservationList, query=s.ReservationQuery,
         summary="The centre's reservations.", tag="reservation")
    def list_reservations(self, request):
        return self.reservation.list_reservations(request.actor, query_args(request))

    @api("GET", "/reservations/<id>", roles=(MEMBER,) + CENTRE_AND_OFFICE, answer=s.ReservationOut,
         summary="One reservation.", tag="reservation")
    def get_reservation(self, request, id):
        return self.reservation.get_reservation(request.actor, id)

    @api("GET", "/me/reservations", roles=(MEMBER,), answer=s.ReservationList, query=s.ReservationQuery,
         summary="The member's invitations and reservations.", tag="reservation")
    def my_reservations(self, request):
        return self.reservation.my_reservations(request.actor, query_args(request))

    @api("POST", "/reservations/<id>/accept", roles=(MEMBER,), answer=s.StatusOut,
         summary="Accept an invitation to perform a service.", tag="reservation")
    def accept(self, request, id):
        return self.reservation.accept(request.actor, id)

    @api("POST", "/reservations/<id>/decline", roles=(MEMBER,), body=s.DeclineIn, answer=s.StatusOut,
         summary="Decline an invitation (frees the offer's time).", tag="reservation")
    def decline(self, request, id):
        return self.reservation.decline(request.actor, id, request.body)
