"""Row-level security on PostgreSQL: the province as a second wall behind the services' own scoping.

Every table of a service with a ``province`` column is a *tenant table* (the outbox and the inbox are the kit's
plumbing, not tenant data). On PostgreSQL each one gets, at start-up and idempotently:

    ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY province_wall ON t USING (<scope unset> OR province = <scope>) WITH CHECK (same);

where the scope is the transaction setting ``khademyar.province``. A worker that acts for a province-scoped staff
role (kit/rpc.py ``tenant_of``) sets it at the start of each of its transactions, so even a query that forgot its
``WHERE province = …`` cannot read or write another province's rows. Work that is nationwide by nature (the admin,
events, timers, members booking the shrine's shifts) leaves it unset and sees every row.

``FORCE`` makes the policy bind the tables' owner too (the production database user owns the tables). A superuser
bypasses row security whatever the table says, so when the service connects as one (this machine's CI does), its
connections ``SET ROLE khademyar_tenant``: a role without superuser rights that holds the table privileges only.
Migrations run before that, as the login user.
"""
import logging

from sqlalchemy import event, text

log = logging.getLogger(__name__)

SETTING = "khademyar.province"
POLICY = "province_wall"
ROLE = "khademyar_tenant"
PLUMBING = frozenset({"outbox", "inbox", "rpc_calls", "alembic_version"})

_SCOPE = f"nullif(current_setting('{SETTING}', true), '')"
_RULE = f"{_SCOPE} IS NULL OR province = {_SCOPE}"


def tenant_tables(metadata):
    return sorted(t.name for t in metadata.tables.values() if "province" in t.c and t.name not in PLUMBING)


def ensure_row_security(conn, metadata):
    """Enable the policy on every tenant table that lacks it; returns whether connections must SET ROLE.

    Only what is missing is changed, so a replica starting while others serve takes no table lock.
    """
    secured = {row[0] for row in conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_policies p ON p.tablename = c.relname AND p.schemaname = 'public' "
        "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.policyname = :policy"), {"policy": POLICY})}
    for name in tenant_tables(metadata):
        if name in secured:
            continue
        conn.exec_driver_sql(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY')
        conn.exec_driver_sql(f'ALTER TABLE "{name}" FORCE ROW LEVEL SECURITY')
        conn.exec_driver_sql(f'DROP POLICY IF EXISTS {POLICY} ON "{name}"')
        conn.exec_driver_sql(f'CREATE POLICY {POLICY} ON "{name}" USING ({_RULE}) WITH CHECK ({_RULE})')
        log.info("row-level security on %s", name)
    privileged = conn.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar()
    if not privileged:
        return False
    # CREATE ROLE is cluster-wide: services starting together race on it, and one of them wins
    conn.exec_driver_sql(
        f"DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN; "
        f"EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
    lacking = conn.execute(text(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND ((c.relkind = 'r' AND NOT has_table_privilege(:role, c.oid, 'DELETE')) "
        "OR (c.relkind = 'S' AND NOT has_sequence_privilege(:role, c.oid, 'USAGE')))"),
        {"role": ROLE}).scalar()
    if lacking:
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
        conn.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    return True


def must_assume_role(engine):
    """Whether this engine's user bypasses row security (a superuser) and the tenant role is there to assume."""
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) "
            "AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role)"), {"role": ROLE}).scalar())


def assume_tenant_role(engine):
    """From now on every new connection of ``engine`` acts as the unprivileged role (row security applies)."""

    @event.listens_for(engine, "connect")
    def _set_role(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(f"SET ROLE {ROLE}")
        cur.close()
        dbapi_conn.commit()

    engine.dispose()  # connections opened before (the migrations') go


CONFINE = "SELECT set_config(%(k)s, %(v)s, true)"


def confine(conn, province):
    """Confine the current transaction of ``conn`` to one province."""
    conn.exec_driver_sql(CONFINE, {"k": SETTING, "v": province})
