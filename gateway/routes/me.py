"""``GET /me``: the caller's whole picture, gathered from every service in parallel."""
from gateway.http import api

# (key in the answer, RPC proxy attribute on the gateway, method taking the actor).
# Each area that has something to say about a member adds its line here.
ME_PARTS = (
    ("profile", "membership", "me"),
)


class MeRoutes:
    @api("GET", "/me", pending_ok=True, summary="Everything about the caller in one call.", tag="me")
    def me(self, request):
        actor = request.actor
        replies = [(key, getattr(getattr(self, proxy), method).call_async(actor)) for key, proxy, method in ME_PARTS]
        return {key: reply.result() for key, reply in replies}
