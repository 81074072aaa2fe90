"""Errors a service raises and the gateway turns into RFC 9457 problems.

They travel over nameko RPC as instances (``deserialize_to_instance``), so the
gateway maps them by ``isinstance`` in one table (gateway/errors.py) and a
moved module never turns into a 500.  Each carries a stable ``code``, a Persian
and an English message, and optional per-field errors ``{field: {"fa", "en"}}``.
"""
from nameko.exceptions import deserialize_to_instance


class ServiceError(Exception):
    """Base of every expected error; never raised itself."""

    def __init__(self, code, fa, en=None, fields=None, extra=None):
        super().__init__(code, fa, en or fa, fields or {}, extra or {})

    code = property(lambda self: self.args[0])
    fa = property(lambda self: self.args[1])
    en = property(lambda self: self.args[2])
    fields = property(lambda self: self.args[3])
    extra = property(lambda self: self.args[4])

    def message(self, lang="fa"):
        return self.en if lang == "en" else self.fa

    def __str__(self):
        return f"{self.code}: {self.en}"


@deserialize_to_instance
class Invalid(ServiceError):
    """Input that breaks a rule of shape or content (422)."""


@deserialize_to_instance
class NotFound(ServiceError):
    """Missing, or belonging to another province (404: nothing leaks)."""


@deserialize_to_instance
class Conflict(ServiceError):
    """The request clashes with the current state (409)."""


@deserialize_to_instance
class Forbidden(ServiceError):
    """The caller's role may not do this (403)."""


@deserialize_to_instance
class Unauthorized(ServiceError):
    """Bad credentials (401)."""


@deserialize_to_instance
class TooManyRequests(ServiceError):
    """A rate limit was hit (429)."""


EXPECTED = (Invalid, NotFound, Conflict, Forbidden, Unauthorized, TooManyRequests)


def not_found(what_fa="مورد", what_en="record"):
    return NotFound("not_found", f"{what_fa} پیدا نشد.", f"The {what_en} was not found.")
