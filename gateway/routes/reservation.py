"""Routes of the reservation service (filled in by its issue)."""
from nameko.rpc import RpcProxy


class ReservationRoutes:
    reservation = RpcProxy("reservation")
