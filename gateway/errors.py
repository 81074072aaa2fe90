"""The one table from errors to HTTP: each service error class (matched by isinstance) to a status.

Problems are RFC 9457 ``application/problem+json`` with a stable ``code`` and
per-field ``errors``, in Persian unless the client asks for English.
"""
import json

from kombu.exceptions import OperationalError as BrokerUnavailable
from nameko.exceptions import UnknownService
from werkzeug.wrappers import Response

from kit.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, TooManyRequests, Unauthorized
from kit.rpc import ServiceTimeout


class GatewayError(ServiceError):
    """Errors of the HTTP layer itself (bad JSON, no token, oversized body…)."""


class BadRequest(GatewayError):
    pass


class Unauthenticated(GatewayError):
    pass


class PayloadTooLarge(GatewayError):
    pass


class UnsupportedMediaType(GatewayError):
    pass


STATUS = [
    (Invalid, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (Unauthorized, 401),
    (Unauthenticated, 401),
    (TooManyRequests, 429),
    (BadRequest, 400),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (UnknownService, 503),
    (BrokerUnavailable, 503),  # the broker is away (a restart, a failover): try again shortly
    (ServiceTimeout, 504),
]

TITLES = {
    400: ("درخواست نادرست", "Bad request"),
    401: ("نیاز به ورود", "Unauthorized"),
    403: ("دسترسی مجاز نیست", "Forbidden"),
    404: ("پیدا نشد", "Not found"),
    405: ("روش مجاز نیست", "Method not allowed"),
    409: ("تعارض با وضعیت فعلی", "Conflict"),
    413: ("درخواست بیش از اندازه بزرگ است", "Payload too large"),
    415: ("نوع محتوا پشتیبانی نمی‌شود", "Unsupported media type"),
    422: ("ورودی نامعتبر", "Unprocessable content"),
    429: ("درخواست‌ها بیش از حد مجاز", "Too many requests"),
    500: ("خطای داخلی", "Internal error"),
    503: ("سرویس در دسترس نیست", "Service unavailable"),
    504: ("پاسخ سرویس دیر شد", "Gateway timeout"),
}


def status_of(exc):
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def language(request):
    accept = (request.headers.get("Accept-Language") or "").strip().lower() if request is not None else ""
    return "en" if accept.startswith("en") else "fa"


def problem(status, code, lang="fa", detail=None, fields=None, instance=None, headers=None, extra=None):
    fa_title, en_title = TITLES.get(status, TITLES[500])
    body = {
        "type": f"https://khademyar.ir/problems/{code}",
        "title": en_title if lang == "en" else fa_title,
        "status": status,
        "code": code,
        "detail": detail or (en_title if lang == "en" else fa_title),
    }
    if fields:
        body["errors"] = fields
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/problem+json", headers=headers or {})
    response.headers["Content-Language"] = lang
    return response


def problem_from_exception(exc, request=None):
    lang = language(request)
    status = status_of(exc)
    instance = request.path if request is not None else None
    if status == 500:
        return problem(500, "internal_error", lang, instance=instance)
    if status == 503:
        return problem(503, "service_unavailable", lang, instance=instance, headers={"Retry-After": "5"})
    if status == 504:
        detail = ("سامانه در زمان مقرر پاسخ نداد. پیش از تکرار درخواست، نتیجهٔ آن را بررسی کنید؛ ممکن است انجام شده باشد."
                  if lang == "fa" else
                  "The system did not answer in time. Before repeating the request, check whether it was done.")
        return problem(504, "service_timeout", lang, detail=detail, instance=instance, headers={"Retry-After": "5"})
    fields = {name: (m.get(lang) or m.get("fa")) if isinstance(m, dict) else str(m) for name, m in exc.fields.items()}
    headers = {}
    if status == 429 and exc.extra.get("retry_after"):
        headers["Retry-After"] = str(exc.extra["retry_after"])
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="khademyar"'
    extra = {k: v for k, v in exc.extra.items() if k != "retry_after"}
    return problem(status, exc.code, lang, exc.message(lang), fields, instance, headers, extra or None)
