"""Catalog's migrations on real databases (SQLite and PostgreSQL): the members projection gains its status.

A deactivation is final and catalog's own rows show it (the offers it withdrew for one carry a fixed reason), so
those members come out `deactivated`; everybody else `active` until membership's next event about them.
"""
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.fixtures import migrate

BEFORE_STATUS = "1257a82c2460"
DEACTIVATED = "انصراف خودکار: عضویت خادمیار غیرفعال شد."
SUSPENDED = "انصراف خودکار: عضویت خادمیار تعلیق شد."


def test_members_get_a_status_and_the_deactivated_are_known(migration_db):
    engine = migration_db
    migrate(engine, "catalog", BEFORE_STATUS)
    at = dt.datetime(2030, 1, 1, 10, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fields (id, name, kind, created_at) VALUES ('f', 'عرصه', 'general', :at)"),
                     {"at": at})
        conn.execute(text("INSERT INTO services (id, field_id, name, description, requires_documents, created_at) "
                          "VALUES ('s', 'f', 'خدمت', 'شرح', false, :at)"), {"at": at})
        for member, reason in (("gone", DEACTIVATED), ("paused", SUSPENDED), ("left", None), ("idle", None)):
            conn.execute(text("INSERT INTO members (member_id, province, county, activated_at) "
                              "VALUES (:m, '9', '0901', :at)"), {"m": member, "at": at})
            if member != "idle":
                conn.execute(text(
                    "INSERT INTO offers (id, member_id, province, county, field_id, service_id, details, phone, "
                    "status, created_at, reason, ended_at) VALUES (:id, :m, '9', '0901', 'f', 's', 'd', "
                    "'09150000000', 'withdrawn', :at, :reason, :at)"), {"id": f"o-{member}", "m": member, "at": at,
                                                                          "reason": reason})
    migrate(engine, "catalog", "head")
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT member_id, status FROM members")).all())
    # a suspension may have been lifted since (catalog did not hear of it): only the deactivation is certain
    assert got == {"gone": "deactivated", "paused": "active", "left": "active", "idle": "active"}
    with engine.begin() as conn:  # a status that overtook its activation: no county, no activation yet
        conn.execute(text("INSERT INTO members (member_id, province, status) VALUES ('early', '9', 'suspended')"))
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text("UPDATE members SET status = 'expelled' WHERE member_id = 'idle'"))
    migrate(engine, "catalog", BEFORE_STATUS, downgrade=True)
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT member_id FROM members")).scalars()) == ["gone", "idle", "left",
                                                                                         "paused"]
