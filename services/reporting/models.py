"""Tables of the reporting service only."""
from sqlalchemy import Boolean, CheckConstraint, Column, Date, Float, ForeignKey, Index, String, Table, Text

from kit.db import UTCDateTime, make_metadata

metadata = make_metadata()

# projection of reservation's ReservationAccepted: the services members may report (read by its key only)
reservations = Table(
    "reservations", metadata,
    Column("reservation_id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("offer_id", String(32), nullable=False),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("center", String(120), nullable=False),
    Column("service_name", String(200)),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("accepted_at", UTCDateTime(), nullable=False),
)

# reservation's ReservationCancelled of accepted reservations: a cancelled reservation is never reported. Its own
# table, so a cancellation that overtakes its acceptance (they travel in different queues) is kept all the same;
# a trigger of the migration refuses a report of a reservation found here.
cancellations = Table(
    "cancellations", metadata,
    Column("reservation_id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("cancelled_at", UTCDateTime(), nullable=False),
)

reports = Table(
    "reports", metadata,  # گزارش خدمت
    Column("id", String(32), primary_key=True),
    Column("reservation_id", String(32), ForeignKey("reservations.reservation_id"), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("offer_id", String(32), nullable=False),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("center", String(120), nullable=False),
    Column("performed_on", Date, nullable=False),
    Column("hours", Float, nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),
    # the reservation while its report is submitted or approved, NULL once rejected: one live report per service
    Column("open_reservation", String(32), unique=True),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("reviewed_at", UTCDateTime()),
    Column("reviewed_by", String(32)),
    Column("reason", Text),
    Column("first_for_member", Boolean),
    CheckConstraint("status in ('submitted','approved','rejected')", name="status"),
    CheckConstraint("hours > 0 AND hours <= 24", name="hours"),
    CheckConstraint("(status = 'rejected') = (open_reservation IS NULL)", name="open"),
    Index("ix_reports_centre", "province", "county", "center", "status", "submitted_at"),
    Index("ix_reports_member", "member_id", "submitted_at"),
)

# the first approved report of each member (its primary key decides "first" under concurrency)
first_reports = Table(
    "first_reports", metadata,
    Column("member_id", String(32), primary_key=True),
    Column("report_id", String(32), nullable=False),
    Column("approved_at", UTCDateTime(), nullable=False),
)
