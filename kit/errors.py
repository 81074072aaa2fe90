"""Errors a service raises and the gateway turns into RFC 9457 problems.

They travel over nameko RPC as instances (``deserialize_to_instance``), so the
gateway maps them by ``isinstance`` in one table (gateway/errors.py) and a
moved module never turns into a 500.  Each carries a stable ``code``, a Persian
and an English message, and optional per-field errors ``{field: {"fa", "en"}}``.

The Persian messages, the top one and each field's, are written with Persian digits here, once for every
service (``kit.persian.persian_numbers``: ``1405/12/29`` -> ``۱۴۰۵/۱۲/۲۹``; ids and codes with Latin letters
stay as they are); the code, the field names and the English messages are left alone.
"""
from nameko.exceptions import deserialize_to_instance

from kit.persian import persian_numbers


class ServiceError(Exception):
    """Base of every expected error; never raised itself."""

    def __init__(self, code, fa, en=None, fields=None, extra=None):
        # idempotent: an error rebuilt from the RPC wire passes its (already Persian) messages through again
        fields = {name: dict(m, fa=persian_numbers(m["fa"])) if isinstance(m, dict) and isinstance(m.get("fa"), str)
                  else m for name, m in (fields or {}).items()}
        super().__init__(code, persian_numbers(fa), en or fa, fields, extra or {})

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
