"""Structured logs: one JSON object a line, with the service and the correlation id when known."""
import json
import logging
import os
import time


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
        for key in ("service", "correlation_id", "method", "route", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
