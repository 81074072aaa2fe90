"""Tables of the shrine service only.

Invariants the database enforces (see docs/services/shrine.md):
- a shift never holds more places than its capacity: CHECK (booked <= capacity) refuses any update of
  ``shifts.booked`` beyond it (a direct booking on PostgreSQL counts on it at its COMMIT; the other paths also
  update only where a place is left);
- a member books a shift once: a unique index on (shift, member) among bookings that hold a place;
- a member never holds two overlapping shifts: on PostgreSQL an exclusion constraint over
  tstzrange(starts_at, ends_at) (btree_gist), on SQLite triggers; both created in the migration;
- one answer per Idempotency-Key: unique (member, idempotency_key) on attempts.
"""
from sqlalchemy import (
                        JSON,
                        Boolean,
                        CheckConstraint,
                        Column,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
                        text,
)

from kit.db import UTCDateTime, make_metadata

metadata = make_metadata()

HOLDING_SQL = "status IN ('booked','offered')"

# The projection of membership and reporting events: who may book, and the facts behind it.
members = Table(
    "members", metadata,
    Column("id", String(32), primary_key=True),
    Column("province", String(8)),
    Column("county", String(8)),
    Column("gender", String(6)),
    Column("education", String(16)),
    Column("status", String(16), nullable=False, default="active"),
    Column("activated_at", UTCDateTime()),
    Column("approved_reports", Integer, nullable=False, default=0),
    Column("first_report_id", String(32)),
    Column("first_report_at", UTCDateTime()),
    Column("eligible", Boolean, nullable=False, default=False),
    Column("eligible_since", UTCDateTime()),
    Column("absences", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("status in ('active','suspended','deactivated')", name="status"),
    CheckConstraint("absences >= 0 AND approved_reports >= 0", name="counts"),
)

shifts = Table(
    "shifts", metadata,
    Column("id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("post", String(120), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False, default=0),  # places held: the counter the storm updates
    Column("gender", String(6)),
    Column("opens_at", UTCDateTime()),
    Column("fair_until", UTCDateTime()),   # end of the fair-opening window (None: no window)
    Column("drawn_at", UTCDateTime()),     # when the window's draw ran
    Column("cancel_cutoff_hours", Integer, nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("booked >= 0 AND booked <= capacity", name="capacity"),
    CheckConstraint("capacity > 0", name="positive_capacity"),
    CheckConstraint("ends_at > starts_at", name="window"),
    CheckConstraint("gender IS NULL OR gender in ('male','female')", name="gender"),
    Index("ix_shifts_starts_at", "starts_at", "id"),
    Index("ix_shifts_draw_due", "fair_until", sqlite_where=text("drawn_at IS NULL"),
          postgresql_where=text("drawn_at IS NULL")),
)

bookings = Table(
    "bookings", metadata,
    Column("id", String(32), primary_key=True),
    Column("shift_id", String(32), ForeignKey("shifts.id"), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("province", String(8)),
    # the shift's window, copied so the database can forbid a member's overlapping bookings
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("attempt_id", String(32)),
    Column("confirm_by", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("confirmed_at", UTCDateTime()),
    Column("cancelled_at", UTCDateTime()),
    Column("cancel_reason", String(24)),
    Column("present", Boolean),
    Column("attendance_at", UTCDateTime()),
    Column("reminded_at", UTCDateTime()),
    CheckConstraint("status in ('booked','offered','cancelled','expired')", name="status"),
    CheckConstraint("source in ('direct','draw','waitlist')", name="source"),
    CheckConstraint("status <> 'offered' OR confirm_by IS NOT NULL", name="offer_deadline"),
    CheckConstraint("ends_at > starts_at", name="window"),
    Index("uq_bookings_shift_member_holding", "shift_id", "member_id", unique=True,
          sqlite_where=text(HOLDING_SQL), postgresql_where=text(HOLDING_SQL)),
    Index("ix_bookings_member_starts", "member_id", "starts_at"),
    Index("ix_bookings_shift_status", "shift_id", "status"),
    # offers awaiting confirmation only (the expiry timer's query): a booked place costs this index nothing
    Index("ix_bookings_offered_confirm_by", "confirm_by", sqlite_where=text("status = 'offered'"),
          postgresql_where=text("status = 'offered'")),
    Index("ix_bookings_status_starts", "status", "starts_at"),
)

# Every booking attempt that reached the shift's places: its answer (for Idempotency-Key retries and the
# fair-opening draw) and the per-member rate limit's window.
attempts = Table(
    "attempts", metadata,
    Column("id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("shift_id", String(32), ForeignKey("shifts.id"), nullable=False),
    Column("idempotency_key", String(64)),
    Column("status", String(16), nullable=False),
    Column("outcome", String(32)),
    Column("message_fa", Text),
    Column("message_en", Text),
    Column("booking_id", String(32)),
    Column("draw_id", String(32)),
    Column("draw_position", Integer),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime()),
    CheckConstraint("status in ('pending','granted','refused')", name="status"),
    UniqueConstraint("member_id", "idempotency_key", name="uq_attempts_member_key"),
    # also the draw's index: a shift's pending attempts
    Index("uq_attempts_pending", "shift_id", "member_id", unique=True,
          sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    Index("ix_attempts_member_created", "member_id", "created_at"),  # the rate limit's window
)

waitlist = Table(
    "waitlist", metadata,
    Column("id", String(32), primary_key=True),
    Column("shift_id", String(32), ForeignKey("shifts.id"), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("province", String(8)),
    Column("status", String(16), nullable=False),
    Column("booking_id", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime()),
    CheckConstraint("status in ('waiting','offered','accepted','expired','left','cancelled')", name="status"),
    Index("uq_waitlist_shift_member_waiting", "shift_id", "member_id", unique=True,
          sqlite_where=text("status = 'waiting'"), postgresql_where=text("status = 'waiting'")),
    Index("ix_waitlist_shift_status_created", "shift_id", "status", "created_at"),
    Index("ix_waitlist_member", "member_id"),
)

draws = Table(
    "draws", metadata,
    Column("id", String(32), primary_key=True),
    Column("shift_id", String(32), ForeignKey("shifts.id"), nullable=False, unique=True),
    Column("seed", String(64), nullable=False),
    Column("algorithm", String(32), nullable=False),
    Column("entrants", JSON, nullable=False),  # attempt ids, sorted: the draw's input
    Column("ordering", JSON, nullable=False),  # attempt ids in the order places were granted
    Column("granted", Integer, nullable=False),
    Column("drawn_at", UTCDateTime(), nullable=False),
)
