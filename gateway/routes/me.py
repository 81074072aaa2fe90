"""``GET /me``: the caller's whole picture, gathered from every service in parallel."""
from nameko.exceptions import UnknownService

from gateway.http import api

# (key in the answer, RPC proxy attribute on the gateway, method taking the actor).
# Each area that has something to say about a member adds its line here.
ME_PARTS = (
    ("profile", "membership", "me"),
    ("readiness", "catalog", "me_readiness"),
    ("offers", "catalog", "me_offers"),
    ("reservations", "reservation", "me_reservations"),
    ("reports", "reporting", "me_reports"),
    ("shrine", "shrine", "me_part"),  # eligibility, next shifts, waiting lists
    ("standing", "membership", "me_standing"),  # this week's lesson, meetings, an open review and its reasons
)


class MeRoutes:
    @api("GET", "/me", pending_ok=True, summary="Everything about the caller in one call.", tag="me")
    def me(self, request):
        """The profile must answer; any other part that cannot is left out and named in ``unavailable``."""
        actor = request.actor
        replies = [(key, self._ask(proxy, method, actor)) for key, proxy, method in ME_PARTS]
        out, unavailable = {}, []
        for key, reply in replies:
            try:
                if isinstance(reply, Exception):
                    raise reply
                out[key] = reply.result()
            except UnknownService:
                if key == "profile":
                    raise
                out[key] = None
                unavailable.append(key)
        if unavailable:
            out["unavailable"] = unavailable
        return out

    def _ask(self, proxy, method, actor):
        try:
            return getattr(getattr(self, proxy), method).call_async(actor)
        except UnknownService as exc:  # nobody consumes that service's queue: report it, do not fail /me
            return exc
