"""Tables of the membership service only."""
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)

from kit.db import UTCDateTime, make_metadata

metadata = make_metadata()

ROLES = ("admin", "province_office", "thematic_center", "neighborhood_center", "supervisor", "shrine_office",
         "desk_officer", "unit_officer", "member")

applications = Table(
    "applications", metadata,
    Column("id", String(32), primary_key=True),
    Column("national_id", String(10), nullable=False, unique=True),  # one application per national ID
    Column("first_name", String(80), nullable=False),
    Column("last_name", String(80), nullable=False),
    Column("father_name", String(80), nullable=False),
    Column("gender", String(6), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("mobile", String(11), nullable=False),
    Column("education", String(16), nullable=False),
    Column("province", String(8), nullable=False),
    Column("county", String(8), nullable=False),
    Column("address", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("contacted_at", UTCDateTime()),
    Column("orientation_id", String(32), ForeignKey("orientations.id")),
    Column("attended_at", UTCDateTime()),
    Column("member_id", String(32), unique=True),
    CheckConstraint("status in ('submitted','invited','attended','activated')", name="status"),
    CheckConstraint("gender in ('male','female')", name="gender"),
    Index("ix_applications_province_status", "province", "status", "submitted_at"),
)

orientations = Table(
    "orientations", metadata,
    Column("id", String(32), primary_key=True),
    Column("province", String(8), nullable=False, index=True),
    Column("county", String(8)),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("place", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("invited", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    # the database itself refuses an invitation past the capacity
    CheckConstraint("invited >= 0 AND invited <= capacity", name="capacity"),
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(32), primary_key=True),
    Column("national_id", String(10), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("role", String(24), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("first_name", String(80), nullable=False),
    Column("last_name", String(80), nullable=False),
    Column("mobile", String(11)),
    Column("province", String(8)),
    Column("county", String(8)),
    Column("field", String(32)),
    Column("center", String(120)),
    Column("unit", String(120)),
    Column("education", String(16)),
    Column("gender", String(6)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime()),
    CheckConstraint("role in (%s)" % ",".join(f"'{r}'" for r in ROLES), name="role"),
    CheckConstraint("status in ('active','suspended','deactivated')", name="status"),
    CheckConstraint("role = 'admin' OR province IS NOT NULL", name="province_scope"),
    Index("ix_accounts_province_role", "province", "role"),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", String(32), primary_key=True),
    Column("key", String(80), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_login_failures_key_at", "key", "at"),
)

meetings = Table(
    "meetings", metadata,
    Column("id", String(32), primary_key=True),
    Column("province", String(8), nullable=False, index=True),
    Column("county", String(8)),
    Column("title", String(200), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("place", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

meeting_attendance = Table(
    "meeting_attendance", metadata,
    Column("meeting_id", String(32), ForeignKey("meetings.id"), primary_key=True),
    Column("member_id", String(32), ForeignKey("accounts.id"), primary_key=True),
    Column("attended_at", UTCDateTime(), nullable=False),
    UniqueConstraint("member_id", "meeting_id", name="uq_meeting_attendance_member"),
)
