"""What every service has: RED metrics, log lines that carry the request's correlation id, a health check
answering over RPC, and the purge of old recorded answers (kit/db.py ``transactional``)."""
import datetime as dt
import logging

from nameko.timer import timer
from sqlalchemy import delete, text

from kit.db import utcnow
from kit.events import DeadLetterMonitor
from kit.logs import LogContext
from kit.metrics import Metrics
from kit.rpc import rpc

log = logging.getLogger(__name__)


class ServiceBase:
    """Mixin for a nameko service class; with ``db = Database(...)`` its health checks the database too."""

    metrics = Metrics()
    log_context = LogContext()
    dead_letters = DeadLetterMonitor()

    @rpc
    def health(self):
        """Readiness: the service answers, and so does its database."""
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
    def purge_recorded_answers(self):
        """A request is redelivered within minutes of its first run; answers older than a day are not needed."""
        db = getattr(self, "db", None)
        if db is None:
            return
        calls = db.provider.rpc_calls
        hours = float(db.provider.container.config.get("RPC_ANSWERS_KEEP_HOURS", 24))
        gone = db.session.execute(delete(calls).where(calls.c.answered_at < utcnow() - dt.timedelta(hours=hours)))
        db.commit()
        if gone.rowcount:
            log.info("purged %d recorded answers", gone.rowcount)
