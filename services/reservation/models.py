"""Tables of the reservation service only.

Invariants the database enforces (see docs/services/reservation.md):
- a cancelled reservation has its reason, and only a cancelled one: CHECK constraints;
- a member never holds two accepted reservations at overlapping times (member_busy): on PostgreSQL an exclusion
  constraint over tstzrange(starts_at, ends_at) of the member's accepted reservations (btree_gist), on SQLite
  triggers; both created in the migration (not expressible in portable metadata).
"""
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text

from kit.db import UTCDateTime, make_metadata

metadata = make_metadata()

# projection of catalog's offer events: the offers a centre may reserve; its row is also the offer's lock.
# Read by its key (and by member when membership stops a member); catalog lists the offers.
offers = Table(
    "offers", metadata,
    Column("offer_id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("province", String(8)),
    Column("county", String(8)),
    Column("field_id", String(32)),
    Column("field_name", String(120)),
    Column("service_id", String(32)),
    Column("service_name", String(200)),
    Column("details", Text),
    Column("availability", Text),
    Column("phone", String(11)),
    Column("approved_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("status in ('approved','withdrawn','completed')", name="status"),
)

beneficiaries = Table(
    "beneficiaries", metadata,  # نیازمندان: sensitive, kept per neighbourhood centre
    Column("id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("center", String(120), nullable=False),
    Column("full_name", String(120), nullable=False),
    Column("needs", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("phone", String(11), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_beneficiaries_centre", "province", "county", "center", "created_at"),
)

reservations = Table(
    "reservations", metadata,
    Column("id", String(32), primary_key=True),
    Column("offer_id", String(32), ForeignKey("offers.offer_id"), nullable=False),
    Column("beneficiary_id", String(32), ForeignKey("beneficiaries.id"), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("center", String(120), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("place", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("responded_at", UTCDateTime()),
    Column("decline_reason", Text),   # the member's own words when declining
    Column("cancelled_at", UTCDateTime()),
    Column("cancel_reason", String(32)),  # why it was cancelled: a code of domain.CANCEL_REASONS
    CheckConstraint("status in ('invited','accepted','declined','cancelled')", name="status"),
    CheckConstraint("(status = 'cancelled') = (cancel_reason IS NOT NULL)", name="cancel"),
    CheckConstraint("ends_at > starts_at", name="window"),
    Index("ix_reservations_offer_time", "offer_id", "status", "starts_at"),
    Index("ix_reservations_member", "member_id", "starts_at"),
    Index("ix_reservations_centre", "province", "county", "center", "created_at"),
)
