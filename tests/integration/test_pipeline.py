"""The kit's pipeline on PostgreSQL (kit/db.py, CoreSession): BEGIN, the province setting and deferred writes wait
and go to the server with the next statement or the COMMIT. What must hold: a deferred write is committed with its
transaction or not at all, its error is raised (at the latest by ``commit``), and a connection goes back to the pool
with no transaction open on the server and the driver's own transactions for its next user."""
import uuid

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, insert, literal_column, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from kit.db import CoreSession, UTCDateTime, make_engine, utcnow
from tests.fixtures import BACKENDS, PG_URL

metadata = MetaData()
things = Table("things", metadata, Column("id", String(32), primary_key=True), Column("n", Integer, nullable=False),
               Column("at", UTCDateTime()), Column("doc", JSON))
marks = Table("marks", metadata, Column("id", String(32), primary_key=True), Column("status", String(16)),
              Column("n", Integer))
ADD = insert(things)


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/pipeline.db"
    else:
        url = str(make_url(PG_URL).set(database=f"kt_pipeline_{uuid.uuid4().hex[:8]}"))
    engine = make_engine(url, pool_size=1)
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    if request.param == "postgres":
        admin = make_engine(PG_URL)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')
        admin.dispose()


def rows(engine):
    with engine.connect() as conn:
        return {r.id: (r.n, r.doc) for r in conn.execute(select(things))}


def test_deferred_writes_are_committed_with_their_transaction(engine):
    s = CoreSession(engine)
    s.execute(ADD, {"id": "a", "n": 1, "at": utcnow(), "doc": {"x": "۱%"}})
    s.defer(ADD, {"id": "b", "n": 2, "at": utcnow(), "doc": {"x": "٪ 100%"}})
    s.defer(ADD, {"id": "c", "n": 3, "at": None, "doc": None})
    assert s.execute(select(things.c.n).where(things.c.id == "a")).scalar() == 1
    s.defer(ADD, {"id": "d", "n": 4, "at": utcnow(), "doc": [1, 2]})  # only the COMMIT carries this one
    s.commit()
    s.close()
    assert rows(engine) == {"a": (1, {"x": "۱%"}), "b": (2, {"x": "٪ 100%"}), "c": (3, None), "d": (4, [1, 2])}


def test_a_deferred_write_that_fails_fails_the_commit_and_leaves_nothing(engine):
    with engine.begin() as conn:
        conn.execute(ADD, {"id": "taken", "n": 0})
    s = CoreSession(engine)
    s.execute(ADD, {"id": "e", "n": 5})
    with pytest.raises(IntegrityError):  # the key is taken: refused when sent (SQLite: at once; PostgreSQL: by COMMIT)
        s.defer(ADD, {"id": "taken", "n": 6})
        s.commit()
    s.close()
    assert rows(engine) == {"taken": (0, None)}
    # the pooled connection holds no transaction (a leftover would keep the next user's work uncommitted)
    s = CoreSession(engine)
    s.execute(ADD, {"id": "f", "n": 7})
    s.commit()
    s.close()
    assert rows(engine) == {"taken": (0, None), "f": (7, None)}


def test_rollback_drops_what_waits_and_what_was_sent(engine):
    s = CoreSession(engine)
    s.execute(ADD, {"id": "g", "n": 8})
    s.defer(ADD, {"id": "h", "n": 9})
    s.rollback()
    s.defer(ADD, {"id": "i", "n": 10})  # a new transaction on the same connection
    s.commit()
    s.close()
    assert rows(engine) == {"i": (10, None)}


def test_a_savepoint_rolled_back_takes_the_writes_deferred_inside_it(engine):
    s = CoreSession(engine)
    s.defer(ADD, {"id": "before", "n": 1})
    try:
        with s.begin_nested():
            s.defer(ADD, {"id": "inside", "n": 2})
            s.execute(ADD, {"id": "before", "n": 3})  # refused: the savepoint goes, with what was deferred in it
    except IntegrityError:
        pass
    s.commit()
    s.close()
    assert rows(engine) == {"before": (1, None)}


def test_the_connection_goes_back_to_the_pool_as_it_came(engine):
    s = CoreSession(engine)
    s.execute(select(things.c.id))
    s.close()  # a read left open: rolled back, not left to the next user
    with engine.connect() as conn:  # the outbox relay and the migrations use the engine directly
        raw = conn.connection.dbapi_connection
        if engine.dialect.name == "postgresql":
            assert raw.autocommit is False
            assert raw.info.transaction_status == 0  # idle: no transaction left behind
        conn.execute(ADD, {"id": "j", "n": 11})
        conn.rollback()
    assert rows(engine) == {}


@pytest.mark.parametrize("engine", ["postgres"], indirect=True) if "postgres" in BACKENDS else pytest.mark.skip
def test_the_province_setting_goes_with_the_first_statement(engine):
    s = CoreSession(engine, tenant="9")
    assert s.execute(text("SELECT current_setting('khademyar.province', true)")).scalar() == "9"
    s.commit()
    assert s.execute(text("SELECT current_setting('khademyar.province', true)")).scalar() == "9"  # every transaction
    s.close()
    with engine.connect() as conn:  # the setting was the transaction's own
        assert conn.execute(text("SELECT current_setting('khademyar.province', true)")).scalar() in (None, "")


def test_a_deferred_statement_must_carry_every_value(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs deferred statements at once, through SQLAlchemy")
    defaulted = Table("defaulted", MetaData(), Column("id", String(32), primary_key=True),
                      Column("n", Integer, default=7))
    s = CoreSession(engine)
    with pytest.raises(ValueError, match="missing"):
        s.defer(insert(defaulted), {"id": "k"})  # the default would be computed by SQLAlchemy's execution
    s.close()


def test_a_prepared_statement_is_planned_once_per_connection_and_answers_as_before(engine):
    with engine.begin() as conn:
        conn.execute(ADD, [{"id": f"p{i}", "n": i} for i in range(5)] + [{"id": "q9", "n": 9}])
    query = (select(things.c.id).where(things.c.n >= bindparam("low"), things.c.id.like(literal_column("'p%'")))
             .order_by(things.c.n).execution_options(prepare="kt_things"))
    s = CoreSession(engine)
    for low, expected in ((3, ["p3", "p4"]), (0, ["p0", "p1", "p2", "p3", "p4"]), (4, ["p4"])):
        assert s.execute(query, {"low": low}).scalars().all() == expected
    s.commit()
    if engine.dialect.name == "postgresql":
        prepared = s.execute(text("SELECT name FROM pg_prepared_statements")).scalars().all()
        assert prepared == ["kt_things"]  # prepared once on this connection, then executed
    s.close()


def test_a_prepare_in_a_batch_that_failed_is_found_out_on_the_next_use(engine):
    with engine.begin() as conn:
        conn.execute(ADD, {"id": "p1", "n": 1})
    query = select(things.c.id).where(things.c.n >= bindparam("low")).execution_options(prepare="kt_unsure")
    s = CoreSession(engine)
    with pytest.raises(IntegrityError):  # the deferred write fails first; the PREPARE behind it never runs
        s.defer(ADD, {"id": "p1", "n": 2})
        s.execute(query, {"low": 0})
    s.rollback()
    assert s.execute(query, {"low": 0}).scalars().all() == ["p1"]
    s.rollback()
    if engine.dialect.name == "postgresql":  # the PREPARE runs, then its EXECUTE fails: prepared all the same
        ratio = select(things.c.n / bindparam("d")).execution_options(prepare="kt_ratio")
        with pytest.raises(DBAPIError, match="division by zero"):
            s.execute(ratio, {"d": 0})
        s.rollback()
        assert s.execute(ratio, {"d": 1}).scalars().all() == [1]  # a second PREPARE would fail: "already exists"
        s.rollback()
    s.close()


def test_a_prepared_insert_from_a_select_keeps_its_values_types(engine):
    stamp = bindparam("at", type_=UTCDateTime())
    add = insert(things).from_select(["id", "n", "at"], select(bindparam("id", type_=String(32)).label("id"),
                                                              bindparam("n", type_=Integer).label("n"),
                                                              stamp.label("at"))).execution_options(prepare="kt_add")
    s = CoreSession(engine)
    now = utcnow()
    for i in range(3):
        assert s.execute(add, {"id": f"s{i}", "n": i, "at": now}).rowcount == 1
    s.commit()
    s.close()
    with engine.connect() as conn:
        assert conn.execute(select(things.c.at).where(things.c.id == "s2")).scalar() == now


def test_flush_sends_what_waits_so_a_refusal_is_raised_there(engine):
    with engine.begin() as conn:
        conn.execute(ADD, {"id": "taken", "n": 0})
    s = CoreSession(engine)
    s.execute(ADD, {"id": "m", "n": 1})
    with pytest.raises(IntegrityError):  # SQLite at once; PostgreSQL at the flush, not later at the commit
        s.defer(ADD, {"id": "taken", "n": 2})
        s.flush()
    s.rollback()
    s.close()
    assert rows(engine) == {"taken": (0, None)}


def test_a_session_whose_connection_broke_goes_on_with_a_fresh_one(engine):
    """A long worker (the review sweep: one transaction per member) keeps its session: a connection that breaks
    in one transaction must not fail all the transactions after it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side end of the connection is PostgreSQL's")
    s = CoreSession(engine)
    s.execute(ADD, {"id": "before", "n": 1})
    s.commit()
    pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
    s.commit()
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()
    with pytest.raises(DBAPIError):
        s.execute(ADD, {"id": "lost", "n": 2})
        s.defer(ADD, {"id": "lost-too", "n": 3})
        s.commit()
    s.rollback()
    for i in range(2):  # the next transactions, in the same session
        s.execute(ADD, {"id": f"after{i}", "n": i})
        s.defer(ADD, {"id": f"deferred{i}", "n": i})
        s.commit()
    assert s.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    s.close()
    assert set(rows(engine)) == {"before", "after0", "after1", "deferred0", "deferred1"}


def test_an_upsert_is_compiled_once_and_does_what_it_says(engine):
    """``upsert`` + ``execute_compiled``: INSERT … ON CONFLICT, which SQLAlchemy compiles on every execution, is
    compiled once by the kit (PostgreSQL) and keeps its meaning: nothing on a conflict, or the listed columns set
    to the proposed row's, only where the condition holds."""
    import kit.db
    from kit.db import upsert
    dialect = engine.dialect.name
    ignore = upsert(dialect, marks)
    assert upsert(dialect, marks) is ignore  # built once
    settle = upsert(dialect, marks, ("id",), ("status", "n"), when=("status", "it's open"))
    s = CoreSession(engine)
    assert s.execute_compiled(ignore, {"id": "u", "status": "it's open", "n": 1}).rowcount == 1
    assert s.execute_compiled(ignore, {"id": "u", "status": "closed", "n": 2}).rowcount == 0
    assert s.execute_compiled(ignore, {"id": "v", "status": "closed", "n": 3}).rowcount == 1
    s.commit()
    assert s.execute_compiled(settle, {"id": "u", "status": "done", "n": 10}).rowcount == 1  # open: settled
    assert s.execute_compiled(settle, {"id": "v", "status": "done", "n": 20}).rowcount == 0  # closed: kept
    assert s.execute_compiled(settle, {"id": "w", "status": "new", "n": 5}).rowcount == 1  # no conflict: inserted
    s.commit()
    s.close()
    with engine.connect() as conn:
        assert {r.id: (r.status, r.n) for r in conn.execute(select(marks))} == {
            "u": ("done", 10), "v": ("closed", 3), "w": ("new", 5)}
    if dialect == "postgresql":  # three executions, one compilation
        assert len([k for k in kit.db._COMPILED if k[0] == id(ignore)]) == 1


def test_a_read_alone_is_a_transaction_by_itself(engine):
    """``read_alone``: no BEGIN and no COMMIT (PostgreSQL), the province setting still applies to it, and inside a
    transaction it is an ordinary read of that transaction."""
    with engine.begin() as conn:
        conn.execute(ADD, {"id": "r", "n": 7})
    postgres = engine.dialect.name == "postgresql"
    scope = text("SELECT n, " + ("current_setting('khademyar.province', true)" if postgres else "'9'")
                 + " AS province FROM things WHERE id = 'r'")
    s = CoreSession(engine, tenant="9" if postgres else None)
    [row] = s.read_alone(scope)
    assert row["n"] == 7 and row["province"] == "9"
    if postgres:
        assert s.raw.info.transaction_status == 0  # IDLE: the server holds no transaction, nothing to commit
        assert s.tx is None
    s.execute(ADD, {"id": "r2", "n": 8})  # a transaction now: read_alone reads inside it
    assert [r["n"] for r in s.read_alone(select(things.c.n).where(things.c.id == "r2"))] == [8]
    s.rollback()
    s.close()
    assert set(rows(engine)) == {"r"}
