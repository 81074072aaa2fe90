"""The second wall on PostgreSQL: row-level security keyed on the province (kit/tenancy.py).

The services scope every query by the actor's province themselves; these tests prove that the database refuses
another province's rows even to a query that forgot to, and that no tenant table was left without the policy.
"""
import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import ProgrammingError

from kit import tenancy
from kit.db import new_id
from services.membership.models import orientations
from tests.fixtures import SERVICE_NAMES, STARTED, Flows


@pytest.fixture
def pg_system(system):
    if system.backend != "postgres":
        pytest.skip("row-level security is PostgreSQL's")
    return system


def tenant_tables_in_database(engine):
    """Every table of the database with a province column, found from the catalog, not from our metadata."""
    with engine.connect() as conn:
        return sorted(conn.execute(text(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'province'")).scalars())


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_tenant_table_has_row_level_security(pg_system, service):
    if service not in STARTED:
        pytest.skip(f"{service} not started")
    url = pg_system.database(service).engine.url
    engine = create_engine(url)  # as the login user: it sees the catalog whatever the service's role is
    try:
        tables = [t for t in tenant_tables_in_database(engine) if t not in tenancy.PLUMBING]
        assert tables, f"{service} has no tenant table?"
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = :policy) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = ANY(:tables)"),
                {"policy": tenancy.POLICY, "tables": tables}).all()
    finally:
        engine.dispose()
    lacking = [name for name, enabled, forced, policy in rows if not (enabled and forced and policy)]
    assert not lacking, f"tenant tables of {service} without row-level security: {lacking}"
    assert len(rows) == len(tables)


def test_a_confined_transaction_sees_and_writes_only_its_province(pg_system):
    flows = Flows(pg_system.api)
    marker = f"سالن {uuid.uuid4().hex[:8]}"
    starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat()
    for province in ("9", "23"):
        office, _ = flows.staff("province_office", province=province)
        r = pg_system.api.post("/orientations", {"starts_at": starts, "place": marker, "capacity": 5}, token=office)
        assert r.status == 201, r
    engine = pg_system.database("membership").engine  # the service's own engine: its connections' role
    query = select(orientations.c.province).where(orientations.c.place == marker)
    with engine.begin() as conn:
        assert sorted(conn.execute(query).scalars()) == ["23", "9"]  # nationwide work sees both
    with engine.begin() as conn:
        tenancy.confine(conn, "9")
        assert conn.execute(query).scalars().all() == ["9"]  # no WHERE province, and still only its own
    row = {"id": new_id(), "province": "23", "starts_at": dt.datetime.now(dt.timezone.utc), "place": marker,
           "capacity": 1, "invited": 0, "created_at": dt.datetime.now(dt.timezone.utc)}
    with pytest.raises(ProgrammingError, match="row-level security"):
        with engine.begin() as conn:
            tenancy.confine(conn, "9")
            conn.execute(insert(orientations).values(**row))


def test_a_staff_request_runs_confined_to_its_province(pg_system, monkeypatch):
    """The worker of a province-scoped actor sets the scope: seen from inside the service's transaction."""
    from services.membership.service import MembershipService
    seen = {}
    original = MembershipService.create_orientation

    def spy(self, actor, data):
        seen["scope"] = self.db.session.execute(text("SELECT current_setting('khademyar.province', true)")).scalar()
        return original(self, actor, data)

    monkeypatch.setattr(MembershipService, "create_orientation", spy)
    flows = Flows(pg_system.api)
    office, _ = flows.staff("province_office", province="23")
    starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat()
    r = pg_system.api.post("/orientations", {"starts_at": starts, "place": "دفتر", "capacity": 5}, token=office)
    assert r.status == 201, r
    assert seen["scope"] == "23"
