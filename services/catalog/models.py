"""Tables of the catalog service only."""
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from kit.db import UTCDateTime, make_metadata

metadata = make_metadata()

fields = Table(
    "fields", metadata,  # عرصه
    Column("id", String(32), primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind in ('general','specialized','staff')", name="kind"),
)

services = Table(
    "services", metadata,  # خدمت
    Column("id", String(32), primary_key=True),
    Column("field_id", String(32), ForeignKey("fields.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("requires_documents", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("field_id", "name", name="uq_services_field_name"),
)

# projection of membership's MemberActivated (who is a member, and where) and of its MemberSuspended /
# MemberDeactivated / MemberReinstated (may the member offer). Those travel in different queues: a status that
# overtakes the activation makes a row with no county and no activated_at yet (not a known member until then), and
# status_at (the status event's occurred_at) keeps an older status from overwriting a newer one.
members = Table(
    "members", metadata,
    Column("member_id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("county", String(8)),
    Column("education", String(16)),
    Column("gender", String(6)),
    Column("activated_at", UTCDateTime()),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("status_at", UTCDateTime()),
    CheckConstraint("status in ('active','suspended','deactivated')", name="status"),
)

# the provincial office lets one of its staff members choose the staff field (عرصه ستادی)
staff_grants = Table(
    "staff_grants", metadata,
    Column("member_id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("granted_by", String(32), nullable=False),
    Column("granted_at", UTCDateTime(), nullable=False),
)

readiness = Table(
    "readiness", metadata,  # اعلام آمادگی: one row per member
    Column("member_id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("field_id", String(32), ForeignKey("fields.id"), nullable=False),
    Column("declared_at", UTCDateTime(), nullable=False),
    Column("field_since", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime(), nullable=False),
    # offers pending review or approved: the database itself refuses a third one
    Column("active_offers", Integer, nullable=False, default=0),
    CheckConstraint("active_offers >= 0 AND active_offers <= 2", name="offer_limit"),
)

offers = Table(
    "offers", metadata,
    Column("id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("field_id", String(32), ForeignKey("fields.id"), nullable=False),
    Column("service_id", String(32), ForeignKey("services.id"), nullable=False),
    Column("details", Text, nullable=False),
    Column("availability", Text),
    Column("phone", String(11), nullable=False),
    Column("status", String(16), nullable=False),
    # the service while the offer is active, NULL once it ended: one active offer per service and member
    Column("active_service", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("reviewed_at", UTCDateTime()),
    Column("reviewed_by", String(32)),
    Column("reason", Text),
    Column("ended_at", UTCDateTime()),
    CheckConstraint("status in ('pending_review','approved','rejected','withdrawn','completed')", name="status"),
    CheckConstraint("(status in ('pending_review','approved')) = (active_service IS NOT NULL)", name="active"),
    UniqueConstraint("member_id", "active_service", name="uq_offers_member_active_service"),
    Index("ix_offers_scope", "province", "county", "field_id", "status", "created_at"),
    Index("ix_offers_member", "member_id", "created_at"),
)

offer_documents = Table(
    "offer_documents", metadata,
    Column("id", String(32), primary_key=True),
    Column("offer_id", String(32), ForeignKey("offers.id"), nullable=False, index=True),
    Column("province", String(8), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", String(300), nullable=False),
    Column("filename", String(200)),
    Column("uploaded_by", String(32), nullable=False),
    Column("uploaded_at", UTCDateTime(), nullable=False),
    CheckConstraint("size > 0 AND size <= 5242880", name="size"),
)
