"""The first admin, created at start-up from configuration when no admin exists."""
import logging

from nameko.extensions import DependencyProvider
from sqlalchemy import insert, select

from kit.db import new_id, utcnow
from kit.persian import normalize_national_id
from services.membership import passwords
from services.membership.models import accounts

log = logging.getLogger(__name__)


class AdminBootstrap(DependencyProvider):
    """Creates the first admin when the service starts. nameko starts the RPC consumers beside it, so until it has
    finished the service reports itself not ready (``health``, kit/service.py): a login that came in between
    would be refused for an admin about to exist (the bench's first login was, on a slow machine)."""

    done = False

    def setup(self):
        self.done = False

    def get_dependency(self, worker_ctx):
        return self

    def start(self):
        self._create()
        self.done = True

    def _create(self):
        config = self.container.config
        national_id = config.get("KHADEMYAR_ADMIN_NATIONAL_ID")
        password = config.get("KHADEMYAR_ADMIN_PASSWORD")
        if not national_id or not password:
            return
        db = next(d for d in self.container.dependencies if d.attr_name == "db")
        with db.engine.begin() as conn:
            if conn.execute(select(accounts.c.id).where(accounts.c.role == "admin").limit(1)).first():
                return
            conn.execute(insert(accounts).values(
                id=new_id(), national_id=normalize_national_id(str(national_id)),
                password_hash=passwords.hash_password(str(password)), must_change_password=False, role="admin",
                status="active", first_name="مدیر", last_name="سامانه", created_at=utcnow()))
        log.info("created the first admin account")
