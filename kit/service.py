"""What every service has: RED metrics and a health check answering over RPC."""
from sqlalchemy import text

from kit.events import DeadLetterMonitor
from kit.metrics import Metrics
from kit.rpc import rpc


class ServiceBase:
    """Mixin for a nameko service class; with ``db = Database(...)`` its health checks the database too."""

    metrics = Metrics()
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
