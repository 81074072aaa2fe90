"""The membership service alone, in a nameko container (entrypoint_hook), on a real SQLite file and the broker."""
import datetime as dt

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select, update

from kit.errors import Conflict, Invalid, NotFound
from services.membership.models import applications
from services.membership.service import MembershipService
from tests.fixtures import next_national_id

OFFICE = {"id": "office", "role": "province_office", "province": "9"}
TEHRAN = {"id": "office23", "role": "province_office", "province": "23"}


@pytest.fixture
def membership(container_factory, amqp_uri, tmp_path):
    container = container_factory(MembershipService, {
        "AMQP_URI": amqp_uri, "DATABASE_URL": f"sqlite:///{tmp_path}/{{service}}.db", "OUTBOX_RELAY": False,
        "serializer": "json"})
    container.start()
    return container


def db_of(container):
    return next(d for d in container.dependencies if d.attr_name == "db")


def application(**over):
    body = {"national_id": next_national_id(), "first_name": "علی", "last_name": "محمدی", "father_name": "رضا",
            "gender": "male", "birth_date": "1990-01-02", "mobile": "۰۹۱۵۱۱۱۲۲۳۳", "education": "diploma",
            "province": "9", "county": "916", "address": "مشهد، میدان شهدا"}
    body.update(over)
    return body


def test_apply_writes_the_application_and_its_event_in_one_transaction(membership):
    with entrypoint_hook(membership, "apply") as apply:
        created = apply(application())
    db = db_of(membership)
    with db.engine.connect() as conn:
        row = conn.execute(select(applications).where(applications.c.id == created["id"])).mappings().one()
        event = conn.execute(select(db.outbox)).mappings().one()
    assert row["mobile"] == "09151112233" and row["status"] == "submitted"
    assert event["event_type"] == "ApplicationSubmitted" and event["payload"]["application_id"] == created["id"]
    assert event["province"] == "9" and event["published_at"] is None  # the relay is off in this test


def test_a_refused_application_leaves_nothing_behind(membership):
    body = application()
    with entrypoint_hook(membership, "apply") as apply:
        apply(body)
        with pytest.raises(Conflict):
            apply(dict(body, first_name="دیگری"))
        with pytest.raises(Invalid) as bad:
            apply(application(county="1"))
    assert "county" in bad.value.fields
    db = db_of(membership)
    with db.engine.connect() as conn:
        assert len(conn.execute(select(applications)).all()) == 1
        assert len(conn.execute(select(db.outbox)).all()) == 1


def test_activation_window_closes_two_months_after_attendance(membership):
    with entrypoint_hook(membership, "apply") as apply:
        app_id = apply(application())["id"]
    with entrypoint_hook(membership, "create_orientation") as create:
        oid = create(OFFICE, {"starts_at": "2099-01-01T08:00:00Z", "place": "سالن", "capacity": 2})["id"]
    with entrypoint_hook(membership, "invite") as invite:
        invite(OFFICE, app_id, {"orientation_id": oid})
    with entrypoint_hook(membership, "record_orientation_attendance") as attend:
        attend(OFFICE, oid, {"application_ids": [app_id]})
    with db_of(membership).engine.begin() as conn:
        conn.execute(update(applications).where(applications.c.id == app_id).values(
            attended_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=61)))
    with entrypoint_hook(membership, "activate") as activate:
        with pytest.raises(NotFound):
            activate(TEHRAN, app_id)
        with pytest.raises(Conflict) as late:
            activate(OFFICE, app_id)
    assert late.value.code == "activation_window_passed"


def test_not_ready_until_the_first_admin_exists(container_factory, amqp_uri, tmp_path, monkeypatch):
    """nameko starts the RPC consumers beside the bootstrap: until the admin is created, health refuses, so that
    nobody is told the system is ready and then refused the admin's login."""
    import eventlet
    from eventlet.event import Event

    from kit.service import NotReady
    from services.membership import bootstrap as bootstrap_module

    release, hashing = Event(), Event()
    real_hash = bootstrap_module.passwords.hash_password

    def slow_hash(password):
        hashing.send(True)
        release.wait()
        return real_hash(password)

    monkeypatch.setattr(bootstrap_module.passwords, "hash_password", slow_hash)
    container = container_factory(MembershipService, {
        "AMQP_URI": amqp_uri, "DATABASE_URL": f"sqlite:///{tmp_path}/{{service}}.db", "OUTBOX_RELAY": False,
        "serializer": "json", "KHADEMYAR_ADMIN_NATIONAL_ID": "0000000019", "KHADEMYAR_ADMIN_PASSWORD": "long-password-1"})
    starting = eventlet.spawn(container.start)
    hashing.wait()
    with entrypoint_hook(container, "health") as health, pytest.raises(NotReady):
        health()
    release.send(True)
    starting.wait()
    with entrypoint_hook(container, "health") as health:
        assert health()["ok"] is True
    with entrypoint_hook(container, "login") as login:
        assert login({"national_id": "0000000019", "password": "long-password-1"})["role"] == "admin"
