"""member_busy: no two accepted reservations of a member overlap

Revision ID: 9b6893d7a212
Revises: d2747ff92095
Create Date: 2026-11-22 00:05:33.994116
"""
from alembic import op


revision = '9b6893d7a212'
down_revision = 'd2747ff92095'
branch_labels = None
depends_on = None


# ### written by hand: a member never accepts two reservations at overlapping times (member_busy) ###
# Half-open windows [starts_at, ends_at): back to back is no overlap. Only accepted reservations count: an
# invitation holds the offer's time, not the member's.
ACCEPTED = "status = 'accepted'"
SQLITE_RULE = """
CREATE TRIGGER reservations_member_busy_{event} BEFORE {what} ON reservations
WHEN NEW.{accepted}
BEGIN
  SELECT RAISE(ABORT, 'ex_reservations_member_busy: the member accepted another reservation at an overlapping time')
  WHERE EXISTS (SELECT 1 FROM reservations r
                WHERE r.member_id = NEW.member_id AND r.id <> NEW.id AND r.{accepted}
                  AND r.starts_at < NEW.ends_at AND NEW.starts_at < r.ends_at);
END
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # btree_gist lets one GiST index compare member_id with = and the time ranges with &&; a second accept
        # that overlaps waits for the first one's transaction and fails once it commits
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("ALTER TABLE reservations ADD CONSTRAINT ex_reservations_member_busy EXCLUDE USING gist "
                   f"(member_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({ACCEPTED})")
    elif dialect == "sqlite":
        # SQLite has one writer at a time (BEGIN IMMEDIATE): a trigger sees every accepted reservation of the member
        op.execute(SQLITE_RULE.format(event="insert", what="INSERT", accepted=ACCEPTED))
        op.execute(SQLITE_RULE.format(event="update", what="UPDATE OF status, starts_at, ends_at, member_id",
                                      accepted=ACCEPTED))


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE reservations DROP CONSTRAINT IF EXISTS ex_reservations_member_busy")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS reservations_member_busy_insert")
        op.execute("DROP TRIGGER IF EXISTS reservations_member_busy_update")
