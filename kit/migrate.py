"""Alembic, run programmatically: each service has its own ``migrations/`` folder.

``upgrade`` brings a database to head at start-up (under an advisory lock on
PostgreSQL so replicas starting together do not race).  A service's
``migrations/env.py`` is two lines that call ``run_env`` with its metadata.
"""
import os

from alembic import command
from alembic.config import Config
from eventlet.semaphore import Semaphore

from kit import tenancy

# Alembic's `context` and `op` are module-level proxies: one migration run per process at a time, or two
# services starting together in one process (the tests) corrupt each other's. A green semaphore, not a
# threading lock, so a waiting service yields instead of blocking the process.
_ALEMBIC = Semaphore(1)

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "alembic_template")


def alembic_config(script_location, url=None):
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine, script_location, metadata=None):
    """Bring the database to head; on PostgreSQL also secure the tenant tables (kit/tenancy.py).

    Returns whether the service's connections must assume the unprivileged tenant role.
    """
    if script_location is None:  # no migrations: create what the metadata says (tests of the kit)
        metadata.create_all(engine)
        return False
    cfg = alembic_config(script_location)
    with _ALEMBIC, engine.begin() as conn:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        return tenancy.ensure_row_security(conn, metadata) if postgres and metadata is not None else False


def run_env(metadata):
    """Body of every service's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import create_engine

    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(context, connection, metadata)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _configure(context, conn, metadata)


def _configure(context, connection, metadata):
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
