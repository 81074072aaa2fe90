"""The gateway: the HTTP API of Khademyar, composed of one route group per area."""
from gateway.revocation import RevocationEvents
from gateway.routes.catalog import CatalogRoutes
from gateway.routes.core import CoreRoutes
from gateway.routes.desk import DeskRoutes
from gateway.routes.me import MeRoutes
from gateway.routes.membership import MembershipRoutes
from gateway.routes.reporting import ReportingRoutes
from gateway.routes.reservation import ReservationRoutes
from gateway.routes.reviews import ReviewRoutes
from gateway.routes.shrine import ShrineRoutes
from gateway.routes.web import WebRoutes


class Gateway(CoreRoutes, MeRoutes, MembershipRoutes, CatalogRoutes, ReservationRoutes, ReportingRoutes,
              ShrineRoutes, DeskRoutes, WebRoutes, ReviewRoutes, RevocationEvents):
    name = "gateway"
