"""What every service has: RED metrics, log lines that carry the request's correlation id, a health check
answering over RPC, and the purge of old recorded answers (kit/db.py ``transactional``) and of events the outbox
relay published long ago."""
import datetime as dt
import logging

from nameko.timer import timer
from sqlalchemy import delete, text

from kit.db import utcnow
from kit.events import DeadLetterMonitor
from kit.logs import LogContext
from kit.metrics import Metrics
from kit.rpc import rpc
from kit.runtime import Runtime

log = logging.getLogger(__name__)


class NotReady(Exception):
    """The service answers but has not finished starting."""


class ServiceBase:
    """Mixin for a nameko service class; with ``db = Database(...)`` its health checks the database too."""

    metrics = Metrics()
    log_context = LogContext()
    dead_letters = DeadLetterMonitor()
    runtime = Runtime()

    @rpc(expected_exceptions=NotReady)
    def health(self):
        """Readiness: the service answers, its start-up step (``bootstrap``, if it has one) is done, and its
        database answers."""
        if not getattr(getattr(self, "bootstrap", None), "done", True):
            raise NotReady(f"{self.name} is still starting")
        db = getattr(self, "db", None)
        if db is None:
            return {"service": self.name, "ok": True}
        db.session.execute(text("SELECT 1"))
        db.rollback()
        return {"service": self.name, "database": db.dialect, "ok": True}

    @rpc
    def ping(self):
        """The null path of the benchmark: one RPC, no database."""
        return {"service": self.name}

    @timer(interval=3600)
    def purge_old_records(self):
        """Hourly: recorded answers older than ``RPC_ANSWERS_KEEP_HOURS`` (a request is redelivered within minutes
        of its first run) and outbox rows published more than ``OUTBOX_KEEP_HOURS`` ago (the relay is done with
        them; the bus and its consumers have them)."""
        db = getattr(self, "db", None)
        if db is None:
            return
        config = db.provider.container.config
        calls, outbox = db.provider.rpc_calls, db.provider.outbox
        now = utcnow()
        answers = db.session.execute(delete(calls).where(
            calls.c.answered_at < now - dt.timedelta(hours=float(config.get("RPC_ANSWERS_KEEP_HOURS", 24)))))
        events = db.session.execute(delete(outbox).where(
            outbox.c.published_at < now - dt.timedelta(hours=float(config.get("OUTBOX_KEEP_HOURS", 168)))))
        db.commit()
        if answers.rowcount or events.rowcount:
            log.info("purged %d recorded answers and %d published events", answers.rowcount, events.rowcount)
