"""The database of one service: engine, a session per worker, the outbox and its relay.

A nameko service declares ``db = Database(metadata, migrations_dir)``.  Start-up
creates the service's own database if missing and brings it to the Alembic head.
Service methods that write are wrapped in ``@transactional`` so the commit
happens *before* nameko sends the reply: a caller never hears "done" about a
transaction that later failed.

Events are written to the ``outbox`` table in the same transaction as the state
change (``self.db.publish(...)``) and relayed to RabbitMQ after commit by a
managed thread of this provider, so a broker outage delays events but loses none.
"""
import datetime as dt
import functools
import logging
import os
import re
import time
import uuid
import weakref

import eventlet
from eventlet.event import Event as GreenEvent
from kombu.utils import json as kombu_json
from nameko.events import get_event_exchange
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from kit import metrics, tenancy
from kit.amqp import BatchPublisher
from kit.config import service_database_url
from kit.errors import EXPECTED
from kit.migrate import upgrade

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An integer key that autoincrements on SQLite too (BIGINT alone does not there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def one_of(column, values):
    """``column IN (…)`` for a fixed set of values, rendered once with the statement. (A plain list becomes an
    "expanding" parameter, which SQLAlchemy renders again, with regular expressions, on every execution: a tenth of
    a busy process's CPU on the story path.)"""
    return column.in_([literal(v, type_=column.type) for v in values])


@functools.lru_cache(maxsize=None)
def upsert(dialect, table, key=None, update=(), when=None):
    """``INSERT INTO table … ON CONFLICT``, built once per arguments: ``DO NOTHING`` (on any conflict, or on the
    ``key`` columns'), or with ``update`` column names ``DO UPDATE SET`` each to the proposed row's value, only
    where ``when=(column name, constant)`` holds. The row's values are given at execution:
    ``session.execute_compiled(upsert(dialect, t, …), row)``. (SQLAlchemy does not cache a dialect's INSERT …
    ON CONFLICT: executed as a statement it is compiled again every time, a tenth of an event consumer's CPU.)"""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(key) if key else None)
    where = None
    if when is not None:  # a constant in the SQL text: no parameter to give at execution
        column, value = when
        where = table.c[column] == literal_column("'" + str(value).replace("'", "''") + "'")
    return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in update},
                                      where=where)


def new_id():
    """Opaque identifiers: 32 hex characters."""
    return uuid.uuid4().hex


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which stores them naive) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = as_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return as_utc(value)


def as_utc(value):
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def make_metadata():
    metadata = MetaData(naming_convention=NAMING)
    Table(
        "outbox", metadata,
        Column("seq", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(32), nullable=False, unique=True),
        Column("event_type", String(64), nullable=False),
        Column("version", Integer, nullable=False),
        Column("province", String(8)),
        Column("occurred_at", UTCDateTime(), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("correlation_id", String(64)),
        Column("published_at", UTCDateTime(), index=True),
    )
    Table(
        "inbox", metadata,  # events already handled, for idempotent consumers
        Column("event_id", String(32), primary_key=True),
        Column("consumer", String(120), primary_key=True),
        Column("handled_at", UTCDateTime(), nullable=False),
    )
    Table(
        "rpc_calls", metadata,  # answered requests, so that a redelivered request returns its first answer
        Column("call_id", String(64), primary_key=True),
        Column("method", String(120), nullable=False),
        Column("result", Text, nullable=False),
        Column("answered_at", UTCDateTime(), nullable=False, index=True),
    )
    return metadata


def configured_pool_size(config):
    """``DB_POOL_SIZE`` (10): a service's workers at once (kit/container.py); its pool holds twice as many
    connections on PostgreSQL (``make_engine``), one on SQLite."""
    return int(config.get("DB_POOL_SIZE", 10))


def make_engine(url, pool_size=10):
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(u.database)), exist_ok=True)
        # One connection per process: SQLite has one writer, and a green thread
        # waiting on the pool yields, where a busy-wait inside sqlite3 would
        # block every green thread of the process.
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=120,
                               connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    green_psycopg()
    ensure_database(u)
    # No pre-ping (it costs a round trip per transaction): a connection found dead invalidates the pool
    # and ``@transactional`` runs the method once more on a fresh one.
    # 2 x DB_POOL_SIZE kept open, no overflow: the same connection budget as pool + overflow, without closing and
    # reopening the overflow connections in every burst
    engine = create_engine(u, pool_size=2 * pool_size, max_overflow=0, pool_timeout=30, pool_recycle=1800)
    event.listen(engine, "do_execute", _send_with_pending)
    event.listen(engine, "do_executemany", _send_pending_first)
    return engine


# -- the pipeline (PostgreSQL): statements whose results nobody reads wait, and go to the server in one message
#    with the next statement that is read, or with the COMMIT (see ``CoreSession``)
_PYFORMAT = re.compile(r"%\((\w+)\)s")
PENDING = "_khademyar_pending"  # an attribute of the SQLAlchemy Connection a CoreSession holds
IDLE = 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE: the server holds no transaction of this connection


def _send_with_pending(cursor, statement, parameters, context):
    """SQLAlchemy's cursor execution, with the waiting statements in front of it: one round trip for all.

    A statement with the execution option ``prepare=<name>`` runs as a prepared statement of its connection
    (``PREPARE`` the first time, then ``EXECUTE``): PostgreSQL plans it once per connection instead of every time,
    which matters for a hot query of several joins whose planning costs more than its execution."""
    pending = getattr(context.root_connection, PENDING, None)
    name = context.execution_options.get("prepare")
    if not pending and name is None:
        return False  # SQLAlchemy executes it as usual
    if name is None:
        this = [cursor.mogrify(statement, parameters)]
    else:
        this = _prepared(cursor, context, name, statement, parameters)
    sql = b";".join((pending or []) + this)
    if pending:
        pending.clear()  # sent, whatever the answer
    try:
        cursor.execute(sql)  # the results are those of the last statement
    except BaseException:
        if len(this) > 1:  # a PREPARE was in the batch: it ran or not, depending on where the batch failed
            context.root_connection.connection.info.setdefault(PREPARED, {})[name] = UNSURE
        raise
    if len(this) > 1:
        context.root_connection.connection.info.setdefault(PREPARED, {})[name] = statement
    return True


PREPARED = "khademyar.prepared"  # per DBAPI connection (the pool's record, cleared when it reconnects)
UNSURE = object()
_POSITIONAL = {}


def _prepared(cursor, context, name, statement, parameters):
    """[PREPARE …,] EXECUTE … of a statement, as bytes of SQL for this connection.

    The parameters' types are SQLAlchemy's (where a value has no type, PostgreSQL infers it): a value in a select
    list, as in ``INSERT … SELECT %(a)s …``, would otherwise be taken for text."""
    known = context.root_connection.connection.info.setdefault(PREPARED, {})
    if known.get(name) is UNSURE:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", (name,))
        known[name] = statement if cursor.fetchone() else None  # the one statement prepared under this name
    shape = _POSITIONAL.get(statement)
    if shape is None:
        order = []

        def number(match):
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        text_ = _PYFORMAT.sub(number, statement).replace("%%", "%")
        types = []
        for key in order:
            bind = context.compiled.binds.get(key)
            try:
                types.append(bind.type.compile(dialect=context.dialect) if bind is not None else "unknown")
            except Exception:  # no type (NullType): inferred
                types.append("unknown")
        if types:
            text_ = f"({', '.join(types)}) AS {text_}"
        else:
            text_ = f"AS {text_}"
        shape = _POSITIONAL[statement] = (text_, tuple(order))
    text_, order = shape
    run = cursor.mogrify(f"EXECUTE {name}(" + ", ".join(["%s"] * len(order)) + ")",
                         [parameters[k] for k in order]) if order else f"EXECUTE {name}".encode()
    if known.get(name) == statement:
        return [run]
    prepare = [f"PREPARE {name} {text_}".encode()]
    if known.get(name) is not None:  # another statement under this name (a new version of the code): replace it
        prepare.insert(0, f"DEALLOCATE {name}".encode())
    return prepare + [run]


def _send_pending_first(cursor, statement, parameters, context):
    pending = getattr(context.root_connection, PENDING, None)
    if pending:
        sql = b";".join(pending)
        pending.clear()
        cursor.execute(sql)
    return False  # then SQLAlchemy runs the executemany itself


def green_psycopg():
    """Let psycopg2 wait on sockets through eventlet, so a query yields instead of blocking the process."""
    import eventlet.patcher
    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()


def ensure_database(u):
    """Create a PostgreSQL database if it does not exist yet (each service owns one)."""
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=None)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar()
            if not exists:
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{u.database}"')
                except Exception:  # another process created it first
                    log.info("database %s created concurrently", u.database)
    finally:
        admin.dispose()


def is_postgres(engine):
    return engine.dialect.name == "postgresql"


class Database(DependencyProvider):
    """Session per worker, migrations at start-up, and the outbox relay."""

    def __init__(self, metadata, migrations=None):
        self.metadata = metadata
        self.migrations = migrations
        self.outbox = metadata.tables["outbox"]
        self.inbox = metadata.tables["inbox"]
        self.outbox_insert = insert(self.outbox)
        self.rpc_calls = metadata.tables["rpc_calls"]
        self.answer_insert = insert(self.rpc_calls)
        self.inbox_insert = insert(self.inbox)

    # -- lifecycle
    def setup(self):
        config = self.container.config
        self.service = self.container.service_name
        self.url = service_database_url(config.get("DATABASE_URL"), self.service)
        self.engine = make_engine(self.url, configured_pool_size(config))
        # on PostgreSQL, tenant tables carry row-level security (kit/tenancy.py)
        self.row_security = is_postgres(self.engine) and bool(config.get("DB_ROW_SECURITY", True))
        assume_role = False
        if config.get("DB_MIGRATE", True):
            assume_role = upgrade(self.engine, self.migrations, self.metadata)
        elif self.row_security:  # a migration Job secured the tables; we may still connect as a superuser
            assume_role = tenancy.must_assume_role(self.engine)
        if assume_role and self.row_security:
            tenancy.assume_tenant_role(self.engine)
        self.relay_interval = float(config.get("OUTBOX_RELAY_INTERVAL", 1.0))
        self.relay_enabled = bool(config.get("OUTBOX_RELAY", True))
        # batches go at most this often: the first event after a quiet spell goes at once, and under load the
        # events of this many seconds share one batch (one transaction, one write, one wait for confirmations)
        self.relay_coalesce = float(config.get("OUTBOX_RELAY_COALESCE", 0.2))
        self.lag_every = 1.0  # seconds between two readings of the outbox lag (a query of its own)
        self._lag_read_at = 0.0
        self._wake = GreenEvent()
        self._running = False
        self.sessions = {}

    def start(self):
        self._running = True
        if self.relay_enabled:
            self.container.spawn_managed_thread(self._relay_loop, identifier=f"{self.service}.outbox-relay")

    def stop(self):
        self._running = False
        self.wake()

    def kill(self):
        self._running = False

    def get_dependency(self, worker_ctx):
        worker = DatabaseWorker(self, worker_ctx)
        self.sessions[worker_ctx] = worker
        return worker

    def worker_teardown(self, worker_ctx):
        worker = self.sessions.pop(worker_ctx, None)
        if worker is not None:
            worker.close()

    def wake(self):
        if not self._wake.ready():
            self._wake.send(True)

    # -- the relay
    def _relay_loop(self):
        publisher = BatchPublisher(self.container.config["AMQP_URI"],
                                   get_event_exchange(self.service, self.container.config))
        backoff = self.relay_interval
        last = 0.0
        try:
            while self._running:
                with eventlet.Timeout(self.relay_interval, False):
                    self._wake.wait()
                self._wake = GreenEvent()
                if not self._running:
                    break
                eventlet.sleep(max(0.0, last + self.relay_coalesce - time.monotonic()))
                last = time.monotonic()
                try:
                    while self.relay_once(publisher) and self._running:
                        pass
                    backoff = self.relay_interval
                except Exception as exc:  # broker or database away: keep the rows, try again
                    log.warning("outbox relay of %s failed: %s", self.service, exc)
                    eventlet.sleep(backoff)
                    backoff = min(backoff * 2, 10)
        finally:
            publisher.close()

    def relay_once(self, publisher, batch=200):
        """Publish one batch of unpublished events; True when a full batch went (more may wait).

        The rows are marked published only once the broker has confirmed every event of the batch (``publisher``:
        a kit.amqp.BatchPublisher); a failure leaves them all to the next attempt."""
        ob = self.outbox
        with self.engine.begin() as conn:
            query = select(ob).where(ob.c.published_at.is_(None)).order_by(ob.c.seq).limit(batch)
            if is_postgres(self.engine):
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).mappings().all()
            publisher.publish([{"body": envelope(row), "routing_key": row["event_type"], "message_id": row["event_id"],
                                "headers": {"nameko.correlation_id": row["correlation_id"] or ""}} for row in rows])
            if rows:
                conn.execute(update(ob).where(ob.c.seq.in_([r["seq"] for r in rows])).values(published_at=utcnow()))
            if time.monotonic() - self._lag_read_at >= self.lag_every or not rows:
                self._lag_read_at = time.monotonic()
                # the index on published_at finds the unpublished rows; ORDER BY seq LIMIT 1 walked the primary key
                # through every published row instead (9 ms with 6,000 rows, growing with the outbox)
                pending = conn.execute(select(func.min(ob.c.occurred_at)).where(ob.c.published_at.is_(None))).scalar()
                metrics.OUTBOX_LAG.labels(self.service).set(
                    0 if pending is None else max(0.0, (utcnow() - as_utc(pending)).total_seconds()))
        metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows) == batch

    def pending_events(self):
        with self.engine.connect() as conn:
            return conn.execute(select(text("count(*)")).select_from(self.outbox)
                                .where(self.outbox.c.published_at.is_(None))).scalar()


def envelope(row):
    return {
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "version": row["version"],
        "occurred_at": as_utc(row["occurred_at"]).isoformat(),
        "province": row["province"],
        "correlation_id": row["correlation_id"],
        "payload": row["payload"],
    }


class CoreSession:
    """A connection with one transaction, shaped like the part of an ORM Session the services use.

    SQLAlchemy Core on a Connection costs a third less CPU per statement than the same statement
    through an ORM Session, and the services use Core only. ``execute`` runs a statement at once; ``flush`` sends
    what was deferred; ``begin_nested`` is a SAVEPOINT.

    On PostgreSQL the session keeps a pipeline: ``BEGIN``, the province setting of row-level security, the
    statements given to ``defer`` (writes whose results nobody reads: the outbox, the recorded answer) are not sent
    on their own but in front of the next statement that is read, or with the ``COMMIT`` (psycopg2 sends several
    statements, parameters bound on the client, as one message, and returns the last one's result). A transaction of
    one read, two writes and an event is then three round trips instead of six. The driver runs in autocommit
    mode meanwhile, so that ``BEGIN`` and ``COMMIT`` are ours to send; ``close`` rolls back whatever the server
    still holds before the connection goes back to the pool. An error of a deferred statement is raised by the
    statement it went with (or by ``commit``): defer only what cannot fail, or what its caller checks at commit.
    """

    def __init__(self, engine, tenant=None):
        self.engine = engine
        self.tenant = tenant  # PostgreSQL: every transaction confined to this province (kit/tenancy.py)
        self.conn = None
        self.tx = None
        self.pipelined = is_postgres(engine)
        self.pending = None  # what waits to be sent (bytes of SQL), PostgreSQL only
        self.prologue = None
        self.raw = None
        self.cursor = None  # for mogrify: binds parameters on the client, sends nothing

    def _begin(self):
        conn = self._connect()
        if self.tx is None:
            self.tx = conn.begin()  # SQLAlchemy's bookkeeping; on PostgreSQL BEGIN waits in the pipeline
            if self.pipelined:
                self.pending.append(b"BEGIN")
                self._confine()
                self.prologue = list(self.pending)  # as long as only this waits, nothing was sent or asked
        return conn

    def _connect(self):
        if self.conn is not None and self.tx is None and self.conn.invalidated:
            self._drop()  # it broke in an earlier transaction: this one takes a fresh connection
        if self.conn is None:
            conn = self.engine.connect()
            if self.pipelined:
                try:
                    raw = conn.connection.dbapi_connection
                    raw.autocommit = True
                except Exception:  # a broken connection: not lent again
                    conn.invalidate()
                    conn.close()
                    raise
                self.raw, self.pending = raw, []
                setattr(conn, PENDING, self.pending)
            self.conn = conn
        return self.conn

    def execute(self, statement, parameters=None):
        conn = self._begin()
        if self.pending and isinstance(parameters, list):  # executemany: the pipeline goes first, on its own
            conn.exec_driver_sql("SELECT 1")
        return conn.execute(statement) if parameters is None else conn.execute(statement, parameters)

    def read_alone(self, statement, parameters=None):
        """A read that is a transaction by itself, when no transaction is open (PostgreSQL: sent without BEGIN,
        with the province setting in the same message, and ended by the server; no COMMIT round trip). Its rows
        are returned as a list of mappings. Inside a transaction (and on SQLite) it is an ordinary read."""
        if not self.pipelined or self.tx is not None:
            return self.execute(statement, parameters).mappings().all()
        conn = self._connect()
        self._confine()  # local to the implicit transaction of the one message both go in
        try:
            result = conn.execute(statement) if parameters is None else conn.execute(statement, parameters)
            return result.mappings().all()
        finally:
            self.pending.clear()
            conn.rollback()  # SQLAlchemy's own bookkeeping: the driver, in autocommit, sends nothing

    def execute_compiled(self, statement, parameters):
        """Execute a statement that SQLAlchemy would compile on every execution (``upsert``), compiled once by the
        kit per statement and parameter keys (PostgreSQL); its result gives ``rowcount``, no rows."""
        if not self.pipelined:
            return self.execute(statement, parameters)
        conn = self._begin()
        return conn.exec_driver_sql(*_compiled(statement, parameters, self.engine.dialect))

    def defer(self, statement, parameters):
        """Run a write whose result nobody reads with the next statement sent (PostgreSQL), or at once (SQLite)."""
        if not self.pipelined:
            self.execute(statement, parameters)
            return
        self._begin()
        self.pending.append(self._mogrify(*_compiled(statement, parameters, self.engine.dialect)))

    def _confine(self):
        """The province setting of row-level security, waiting to go with what follows (a tenant is only given on
        PostgreSQL)."""
        if self.tenant:
            self.pending.append(self._mogrify(tenancy.CONFINE, {"k": tenancy.SETTING, "v": self.tenant}))

    def _mogrify(self, sql, parameters):
        if self.cursor is None:
            self.cursor = self.raw.cursor()
        return self.cursor.mogrify(sql, parameters)

    def begin_nested(self):
        return self._begin().begin_nested()

    def flush(self):
        """Send what waits (PostgreSQL), so that a refusal of a deferred write is raised here; SQLite has run it."""
        if self.pipelined and self.pending and self.pending != self.prologue:
            self.conn.exec_driver_sql("SELECT 1")

    def commit(self):
        if self.tx is not None:
            tx, self.tx = self.tx, None
            if self.pipelined:
                if self.pending == self.prologue:
                    self.pending.clear()  # nothing was sent and nothing waits: nothing to commit
                else:
                    try:
                        self.conn.exec_driver_sql("COMMIT")  # with whatever waits in front of it
                    except BaseException:
                        self.tx = tx  # rolled back by the caller (and by the server)
                        raise
            tx.commit()

    def rollback(self):
        if self.tx is not None:
            tx, self.tx = self.tx, None
            if self.pipelined:
                self.pending.clear()
                try:
                    self._end_server_transaction()
                except Exception:  # the connection broke: so did its transaction; the pool must not lend it again
                    log.warning("rollback failed; the connection is dropped", exc_info=True)
                    self.conn.invalidate()
            tx.rollback()

    def _end_server_transaction(self):
        if self.raw is not None:
            _end_server_transaction(self.raw)

    def close(self):
        try:
            self.rollback()
        finally:
            if self.conn is not None:
                conn, self.conn = self.conn, None
                if self.pipelined:
                    self._release(conn)
                conn.close()

    def _drop(self):
        """Let go of a connection that broke (the pool opens a new one in its place)."""
        conn, self.conn = self.conn, None
        if self.pipelined:
            setattr(conn, PENDING, None)
            self.raw, self.pending, self.cursor = None, None, None
        conn.close()

    def _release(self, conn):
        """Leave the connection as the pool lent it: no transaction on the server, the driver's own transactions."""
        setattr(conn, PENDING, None)
        raw, self.raw, self.pending, self.cursor = self.raw, None, None, None
        try:
            _end_server_transaction(raw)  # rollback() was not reached, or failed
            raw.autocommit = False
        except Exception:  # the connection is broken: the pool must not lend it again
            conn.invalidate()


def _end_server_transaction(raw):
    """ROLLBACK when the server holds a transaction (begun, or failed); nothing to send when it does not."""
    if raw.info.transaction_status != IDLE:
        cur = raw.cursor()
        cur.execute("ROLLBACK")
        cur.close()


_COMPILED = {}


def _compiled(statement, parameters, dialect):
    """(SQL with pyformat placeholders, the bound values, processed) of a statement run with these parameters'
    keys, for ``defer`` and ``execute_compiled``: compiled once per statement and key set (no RETURNING: the caller
    reads no rows)."""
    keys = tuple(sorted(parameters))
    cached = _COMPILED.get((id(statement), keys))
    if cached is None or cached[0] is not statement:
        compiled = statement.inline().compile(dialect=dialect, column_keys=list(keys)) \
            if hasattr(statement, "inline") else statement.compile(dialect=dialect, column_keys=list(keys))
        missing = set(compiled.binds) - set(keys)
        if missing:  # a column default the execution would compute: not done here, so say so
            raise ValueError(f"a statement the kit compiles needs every value; missing: {sorted(missing)}")
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        cached = _COMPILED[(id(statement), keys)] = (statement, compiled, {k: p for k, p in processors.items() if p})
    _, compiled, processors = cached
    values = compiled.construct_params(parameters)
    for name, process in processors.items():
        if name in values:
            values[name] = process(values[name])
    return compiled.string, values


_SCHEMAS = {}


def _schema_of(event):
    """One schema instance per event class (marshmallow schemas are safe to reuse for dump and validate)."""
    schema = _SCHEMAS.get(event)
    if schema is None:
        schema = _SCHEMAS[event] = event.schema()
    return schema


class DatabaseWorker:
    """What a service method sees as ``self.db``."""

    def __init__(self, provider, worker_ctx):
        self.provider = provider
        # weakly: the worker's context holds the service instance, which holds this (a cycle per worker otherwise,
        # left to the garbage collector: kit/runtime.py)
        self._worker_ctx = weakref.ref(worker_ctx)
        self._session = None
        self._published = False
        self.answer_recorded = False

    @property
    def worker_ctx(self):
        return self._worker_ctx()

    @property
    def session(self):
        if self._session is None:
            tenant = getattr(self.worker_ctx, "tenant", None) if self.provider.row_security else None
            self._session = CoreSession(self.provider.engine, tenant)
        return self._session

    @property
    def call_id(self):
        """The AMQP correlation id of the RPC request this worker answers (the same on a redelivery)."""
        return getattr(self.worker_ctx, "rpc_call_id", None)

    def record_answer(self, method, result):
        """Keep the answer to this request in the current transaction (see ``transactional``)."""
        self.session.defer(self.provider.answer_insert, {
            "call_id": self.call_id, "method": method[:120], "result": kombu_json.dumps(result),
            "answered_at": utcnow()})

    def recorded_answer(self):
        """(True, answer) when this request was answered before, else (False, None); the caller has rolled back."""
        rc = self.provider.rpc_calls
        try:
            stored = self.session.execute(select(rc.c.result).where(rc.c.call_id == self.call_id)).scalar()
        finally:
            self.rollback()
        return (False, None) if stored is None else (True, kombu_json.loads(stored))

    @property
    def dialect(self):
        return self.provider.engine.dialect.name

    def publish(self, event, payload, province=None):
        """Record an event in the outbox, in the current transaction.

        ``event`` is an event schema class from a service's ``events.py``; the
        payload is validated against it.
        """
        schema = _schema_of(event)
        body = schema.dump(payload)
        errors = schema.validate(body)
        if errors:
            raise ValueError(f"{event.name} payload does not match its schema: {errors}")
        event_id = new_id()
        # sent with the next statement or the commit (PostgreSQL); the payload was validated above
        self.session.defer(self.provider.outbox_insert, {
            "event_id": event_id, "event_type": event.name, "version": event.version, "province": province,
            "occurred_at": utcnow(), "payload": body,
            "correlation_id": (self.worker_ctx.data or {}).get("correlation_id")})
        self._published = True
        return event_id

    def claim(self, event_id, consumer):
        """Mark an event handled by ``consumer``, in the transaction of the handler's work.

        The inbox row is deferred (PostgreSQL): it goes to the server with the handler's first statement. A
        redelivery makes that transaction fail on the inbox's key, and ``handled`` then tells it from an error."""
        self.session.defer(self.provider.inbox_insert, {"event_id": event_id, "consumer": consumer,
                                                        "handled_at": utcnow()})

    def handled(self, event_id, consumer):
        """Whether ``consumer`` has handled this event (a committed claim); ends the current transaction."""
        inbox = self.provider.inbox
        try:
            return self.session.execute(select(inbox.c.event_id).where(
                inbox.c.event_id == event_id, inbox.c.consumer == consumer)).first() is not None
        finally:
            self.rollback()

    def commit(self):
        if self._session is not None:
            self._session.commit()
        if self._published:
            self._published = False
            self.provider.wake()

    def rollback(self):
        if self._session is not None:
            try:
                self._session.rollback()
            except DBAPIError:  # the connection is gone; so is the transaction
                self._session.conn.invalidate() if self._session.conn is not None else None
        self._published = False

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


RETRYABLE = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialization failure


def retry_deadlocks(method):
    """Run the transaction again when PostgreSQL ended it in a deadlock or a serialization failure (rare: two
    transactions waiting for each other, e.g. on an exclusion constraint's check); up to four times. Put it under
    ``@transactional``, so that a retry runs in the same recorded call."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for attempt_no in range(4):
            try:
                return method(self, *args, **kwargs)
            except DBAPIError as exc:
                self.db.rollback()
                code = getattr(getattr(exc, "orig", None), "pgcode", None)
                if code not in RETRYABLE or attempt_no == 3:
                    raise
                log.warning("%s retried after database error %s", method.__name__, code)

    return wrapper


def transactional(method=None, *, replay=True):
    """Run a service method in one transaction, committed before the reply is sent.

    When the database connection turns out to be dead (the server restarted), nothing was committed:
    the method runs once more on a fresh connection.

    RPC is at-least-once: a request whose acknowledgement was lost (the broker cut the connection after the commit,
    the process was killed) is delivered again. So the answer to every RPC request is recorded, with the request's
    call id, in the method's own transaction (``rpc_calls``); a redelivered request that then fails, on that record or
    on any unique key of the first run, is answered with the first answer instead, and its own work is rolled back.
    ``replay=False`` for methods that are safe to run twice and whose answers should not be kept (login, tracking).
    """
    if method is None:
        return functools.partial(transactional, replay=replay)
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        db = self.db
        # one answer per request: a second transactional method run by the same worker is not recorded again
        record = replay and db.call_id is not None and not db.answer_recorded
        for attempt in (1, 2):
            try:
                result = method(self, *args, **kwargs)
                if record:
                    db.record_answer(name, result)
                db.commit()
                db.answer_recorded = db.answer_recorded or record
                db.close()  # the connection goes back to the pool now, not after the reply is sent
                return result
            except DBAPIError as exc:
                db.rollback()
                db.close()
                if record and not exc.connection_invalidated:
                    answered, answer = db.recorded_answer()
                    if answered:
                        log.info("request %s to %s was answered before; the same answer again", db.call_id, name)
                        return answer
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("database connection lost; running %s again", method.__name__)
            except EXPECTED as exc:
                db.rollback()
                if record:
                    answered, answer = db.recorded_answer()
                    if answered:
                        log.info("request %s to %s was answered before (%s now); the same answer again",
                                 db.call_id, name, type(exc).__name__)
                        return answer
                raise
            except BaseException:
                db.rollback()
                raise

    return wrapper
