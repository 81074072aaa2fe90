"""The gateway's HTTP entrypoint: JSON in, JSON or problem out, with authentication, roles and metrics.

``@api("POST", "/applications", roles=ROLES, status=201, body=Schema, answer=Schema)``
registers a route under ``/api/v1``; the method gets ``request`` with
``request.actor`` (the authenticated caller or None) and ``request.body`` (the
parsed JSON).  It returns a dict/list (JSON with ``status``) or a werkzeug Response.
"""
import json
import logging
import time
import uuid

from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from gateway import auth
from gateway.errors import (
    BadRequest,
    GatewayError,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    language,
    problem,
    problem_from_exception,
    status_of,
)
from gateway.revocation import Revocations
from kit import metrics
from kit.errors import EXPECTED, Forbidden

log = logging.getLogger("gateway")

PREFIX = "/api/v1"
MAX_BODY = 64 * 1024


class ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, answering unknown routes and wrong methods as problems, not HTML."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
            headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
            response = problem(exc.code, code, language(request), instance=request.path, headers=headers)
        return response(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self):
        return ProblemWsgiApp(self)


class ApiRoute(HttpRequestHandler):
    server = ProblemWebServer()

    def __init__(self, method, path, roles=None, public=False, status=200, body=None, answer=None, query=None,
                 raw=False, max_body=MAX_BODY, summary="", tag=None, pending_ok=False, **kwargs):
        url = path if raw else PREFIX + path
        kwargs.setdefault("expected_exceptions", EXPECTED + (GatewayError,))
        super().__init__(method, url, **kwargs)
        self.path = url
        self.roles = tuple(roles or ())
        self.public = public
        self.status = status
        self.body_schema = body
        self.answer_schema = answer
        self.query_schema = query
        self.raw = raw
        self.max_body = max_body
        self.summary = summary
        self.tag = tag
        self.pending_ok = pending_ok  # open to a token whose password must still change

    def handle_request(self, request):
        started = time.perf_counter()
        request.shallow = False
        response = None
        try:
            self._authenticate(request)
            self._parse_body(request)
            context_data = self.server.context_data_from_headers(request)
            context_data["correlation_id"] = request.correlation_id
            args, kwargs = self.get_entrypoint_parameters(request)
            outcome = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=lambda ctx, res, exc: self._handled(outcome, res, exc))
            result, error = outcome.wait()
            outcome = None
            if error is not None:
                try:
                    raise error
                finally:  # its traceback holds this frame: no reference back from here (no cycle to collect)
                    error = None
            response = result if isinstance(result, Response) else self._json(result)
        except Exception as exc:
            response = self.response_from_exception(exc, request)
        response.headers["X-Request-ID"] = request.correlation_id
        elapsed = time.perf_counter() - started
        metrics.HTTP_REQUESTS.labels(self.method, self.path, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(self.method, self.path).observe(elapsed)
        if response.status_code >= 500:
            log.error("request failed", extra={"method": self.method, "route": self.path,
                                               "status": response.status_code, "correlation_id": request.correlation_id})
        return response

    def _handled(self, outcome, result, exc_info):
        # the error as a value, not Event.send_exception: an Event that raises keeps the error, and the error's
        # traceback keeps the Event's wait frame, a cycle per refused request left to the garbage collector
        outcome.send((result, exc_info[1] if exc_info is not None else None))
        return result, exc_info

    def _json(self, result):
        if result is None and self.status == 204:
            return Response(status=204)
        return Response(json.dumps(result, ensure_ascii=False, default=str), status=self.status,
                        mimetype="application/json")

    def _authenticate(self, request):
        request.correlation_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        request.client_ip = client_address(request, self.container.config.get("TRUSTED_PROXIES", ""))
        request.actor = None
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("invalid_token", "توکن دسترسی نامعتبر است.", "The access token is invalid.")
            try:
                claims = auth.decode(token.strip(), self.container.config["JWT_SECRET"])
            except Exception:
                raise Unauthenticated("invalid_token", "توکن دسترسی نامعتبر یا منقضی است؛ دوباره وارد شوید.",
                                      "The access token is invalid or expired; log in again.") from None
            request.actor = auth.actor(claims)
            if self._revocations().refuses(request.actor["id"], claims.get("iat")):
                raise Unauthenticated("account_deactivated", "حساب کاربری شما غیرفعال شده است.",
                                      "Your account has been deactivated.")
        if self.public:
            return
        if request.actor is None:
            raise Unauthenticated("authentication_required", "برای این کار باید وارد سامانه شوید.",
                                  "You must log in to do this.")
        if request.actor["must_change_password"] and not self.pending_ok:
            raise Forbidden("password_change_required", "ابتدا رمز عبور اولیه را تغییر دهید.",
                            "Change your initial password first.")
        if self.roles and request.actor["role"] not in self.roles:
            raise Forbidden("role_not_allowed", "نقش شما اجازه این کار را ندارد.", "Your role may not do this.")

    def _revocations(self):
        found = getattr(self, "_revocations_found", None)
        if found is None:
            found = self._revocations_found = next(
                d for d in self.container.dependencies if isinstance(d, Revocations))
        return found

    def _parse_body(self, request):
        request.body = {}
        if request.method not in ("POST", "PUT", "PATCH") or self.raw:
            return
        length = request.content_length
        if length is not None and length > self.max_body:
            raise PayloadTooLarge("payload_too_large", f"حجم درخواست بیش از {self.max_body} بایت است.",
                                  f"The request body exceeds {self.max_body} bytes.")
        request.max_content_length = self.max_body
        try:
            raw = request.get_data(cache=True)
        except RequestEntityTooLarge:
            raise PayloadTooLarge("payload_too_large", f"حجم درخواست بیش از {self.max_body} بایت است.",
                                  f"The request body exceeds {self.max_body} bytes.") from None
        if not raw.strip():
            return
        ctype = (request.mimetype or "").lower()
        if ctype and ctype != "application/json" and not ctype.endswith("+json"):
            raise UnsupportedMediaType("unsupported_media_type", "بدنهٔ درخواست باید JSON باشد.",
                                       "The request body must be JSON.")
        try:
            request.body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("malformed_json", "بدنهٔ درخواست JSON درستی نیست.", "The request body is not valid JSON.") \
                from None

    def response_from_exception(self, exc, request=None):
        if status_of(exc) == 500:
            log.error("unexpected error: %r", exc, exc_info=exc)
        return problem_from_exception(exc, request)


api = ApiRoute.decorator


def client_address(request, trusted):
    """The visitor's address, for rate limits: behind our own proxies (``TRUSTED_PROXIES``, comma-separated),
    the nearest address in ``X-Forwarded-For`` that is not one of them; otherwise the peer itself.
    """
    proxies = {p.strip() for p in str(trusted or "").split(",") if p.strip()}
    peer = request.remote_addr or ""
    if peer not in proxies:
        return peer
    chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    for address in reversed(chain):
        if address not in proxies:
            return address[:64]
    return peer


def query_args(request):
    """Query parameters as a plain dict (last value wins), for the service's own schema to check."""
    return {k: v for k, v in request.args.items()}
