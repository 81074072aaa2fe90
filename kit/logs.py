"""Structured logs: one JSON object a line, with the service and the correlation id of the request being served.

The correlation id is chosen by the gateway per HTTP request (or taken from the caller's ``X-Request-ID``), travels
in the context of every RPC (nameko passes context data as message headers) and is stored with every outbox event
and published as its header, so a line logged by an event handler three services away carries the id of the HTTP
request that started it. ``LogContext`` puts the id of the current worker into a green-thread-local that
``JsonFormatter`` reads.
"""
import json
import logging
import os
import time

from eventlet.corolocal import local
from nameko.extensions import DependencyProvider

_current = local()


def current_correlation_id():
    return getattr(_current, "correlation_id", None)


class LogContext(DependencyProvider):
    """Makes the worker's correlation id (and entrypoint) part of every line it logs."""

    def worker_setup(self, worker_ctx):
        _current.correlation_id = (worker_ctx.data or {}).get("correlation_id")
        _current.entrypoint = worker_ctx.entrypoint.method_name

    def worker_teardown(self, worker_ctx):
        _current.correlation_id = None
        _current.entrypoint = None


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        service = os.environ.get("KHADEMYAR_SERVICE")  # set by the launcher and the container entrypoint
        if service:
            entry["service"] = service
        correlation_id = current_correlation_id()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        entrypoint = getattr(_current, "entrypoint", None)
        if entrypoint:
            entry["entrypoint"] = entrypoint
        for key in ("service", "correlation_id", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
