"""Reservation's migrations on real databases (SQLite and PostgreSQL): old rows keep their meaning.

Before the `cancelled` status, a cancellation was kept as `declined` with one of two fixed sentences in
decline_reason; the migration turns exactly those into `cancelled` and leaves the members' own declines alone.
"""
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.fixtures import migrate

BEFORE_CANCELLED = "dac86497e208"  # the head before reservations had a status of their own for cancellations
SUSPENDED = "لغو شد: عضویت خادمیار در پی بازنگری تعلیق شد."
DEACTIVATED = "لغو شد: عضویت خادمیار غیرفعال شد."


def test_old_cancellations_become_cancelled_and_member_declines_stay(migration_db):
    engine = migration_db
    migrate(engine, "reservation", BEFORE_CANCELLED)
    at = dt.datetime(2030, 1, 1, 10, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO offers (offer_id, status, member_id, updated_at) "
                          "VALUES ('o', 'approved', 'm', :at)"), {"at": at})
        conn.execute(text("INSERT INTO beneficiaries (id, province, county, center, full_name, needs, address, phone, "
                          "created_by, created_at) VALUES ('b', '9', '0901', 'c', 'n', 'x', 'a', '09150000000', "
                          "'u', :at)"), {"at": at})
        rows = [("r0", "declined", SUSPENDED), ("r1", "declined", DEACTIVATED), ("r2", "declined", "در سفرم"),
                ("r3", "declined", None), ("r4", "accepted", None), ("r5", "invited", None)]
        for i, (rid, status, reason) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO reservations (id, offer_id, beneficiary_id, member_id, province, county, center, "
                "starts_at, ends_at, place, status, created_by, created_at, responded_at, decline_reason) VALUES "
                "(:id, 'o', 'b', 'm', '9', '0901', 'c', :s, :e, 'p', :status, 'u', :at, :responded, :reason)"),
                {"id": rid, "s": at + dt.timedelta(hours=3 * i), "e": at + dt.timedelta(hours=3 * i + 1),
                 "status": status, "at": at, "responded": None if status == "invited" else at, "reason": reason})
    migrate(engine, "reservation", "head")
    with engine.connect() as conn:
        got = {r.id: (r.status, r.cancel_reason, r.decline_reason, r.cancelled_at is not None,
                      r.responded_at is not None)
               for r in conn.execute(text("SELECT * FROM reservations"))}
    assert got == {
        "r0": ("cancelled", "suspended", None, True, False),
        "r1": ("cancelled", "deactivated", None, True, False),
        "r2": ("declined", None, "در سفرم", False, True),
        "r3": ("declined", None, None, False, True),
        "r4": ("accepted", None, None, False, True),
        "r5": ("invited", None, None, False, False),
    }
    # the CHECKs: a cancelled reservation has its reason, and nothing else has one
    for sql in ("UPDATE reservations SET status = 'cancelled' WHERE id = 'r5'",
                "UPDATE reservations SET cancel_reason = 'suspended' WHERE id = 'r4'",
                "UPDATE reservations SET status = 'lost' WHERE id = 'r4'"):
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(text(sql))
    # and back: the old way of keeping them
    migrate(engine, "reservation", BEFORE_CANCELLED, downgrade=True)
    with engine.connect() as conn:
        back = {r.id: (r.status, r.decline_reason) for r in conn.execute(text("SELECT * FROM reservations"))}
    assert back["r0"] == ("declined", SUSPENDED) and back["r1"] == ("declined", DEACTIVATED)
    assert back["r2"] == ("declined", "در سفرم") and back["r5"] == ("invited", None)
