"""Health, readiness, metrics, the API documents, geography and the null path."""
import json

import eventlet
from nameko.dependency_providers import Config
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from gateway.http import api
from kit import geo
from kit.errors import NotFound
from kit.logs import LogContext
from kit.rpc import RpcProxy
from kit.runtime import Runtime

SERVICES = ("membership", "catalog", "reservation", "reporting", "shrine", "desk")


def _json(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


class CoreRoutes:
    config = Config()
    log_context = LogContext()
    runtime = Runtime()
    membership = RpcProxy("membership")
    catalog = RpcProxy("catalog")
    reservation = RpcProxy("reservation")
    reporting = RpcProxy("reporting")
    shrine = RpcProxy("shrine")
    desk = RpcProxy("desk")

    @api("GET", "/healthz", raw=True, public=True, summary="Liveness: the gateway process answers.", tag="system")
    def healthz(self, request):
        return _json({"status": "ok"})

    @api("GET", "/readyz", raw=True, public=True, summary="Readiness: the broker and every service answer.",
         tag="system")
    def readyz(self, request):
        checks = dict(zip(SERVICES, eventlet.GreenPool(len(SERVICES)).imap(self._check, SERVICES), strict=True))
        ready = all(v == "ok" for v in checks.values())
        return _json({"status": "ready" if ready else "not_ready", "services": checks}, 200 if ready else 503)

    def _check(self, name, seconds=3):
        """One service's health, the request's publication included, within ``seconds``: the checks run side by
        side, so /readyz answers within that bound even when the broker is silent."""
        try:
            getattr(self, name).health.call_within(seconds)
            return "ok"
        except Exception as exc:  # ServiceTimeout; UnknownService: no consumer on its queue at all
            return f"unavailable: {type(exc).__name__}"

    @api("GET", "/metrics", raw=True, public=True, summary="Prometheus metrics of the gateway.", tag="system")
    def metrics(self, request):
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST.split(";")[0])

    @api("GET", "/api/openapi.json", raw=True, public=True, summary="This OpenAPI document.", tag="system")
    def openapi(self, request):
        from gateway.openapi import document
        return _json(document())

    @api("GET", "/api/asyncapi.json", raw=True, public=True, summary="AsyncAPI document of every event.",
         tag="system")
    def asyncapi(self, request):
        from gateway.asyncapi import document
        return _json(document())

    @api("GET", "/provinces", public=True, summary="The 31 provinces (استان).", tag="geography")
    def provinces(self, request):
        return {"items": [{"code": c, "name": n} for c, n in geo.provinces().items()], "next": None}

    @api("GET", "/provinces/<code>/counties", public=True, summary="Counties (شهرستان) of a province.",
         tag="geography")
    def counties(self, request, code):
        if code not in geo.provinces():
            raise NotFound("province_not_found", "استان پیدا نشد.", "The province was not found.")
        return {"items": [{"code": c, "name": n} for c, n in geo.counties_of(code).items()], "next": None}

    @api("GET", "/ping", summary="The null path: authenticated, one RPC, no database.", tag="system",
         pending_ok=True)
    def ping(self, request):
        return self.membership.ping()
