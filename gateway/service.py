"""The gateway: the HTTP API of Khademyar (نام سرویس: gateway), composed of one route group per area."""
from gateway.routes.core import CoreRoutes
from gateway.routes.me import MeRoutes
from gateway.routes.membership import MembershipRoutes


class Gateway(CoreRoutes, MeRoutes, MembershipRoutes):
    name = "gateway"
