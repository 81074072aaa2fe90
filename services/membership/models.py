"""Tables of the membership service only."""
from sqlalchemy import (
                        JSON,
                        Boolean,
                        CheckConstraint,
                        Column,
                        Date,
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
from services.membership.domain import REASONS

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
    Index("ix_applications_orientation", "orientation_id", "status"),  # a session's attendance count
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


# -- training (آموزش هفتگی): one lesson per Jalali week, and who read it
lessons = Table(
    "lessons", metadata,
    Column("id", String(32), primary_key=True),
    Column("week", Date, nullable=False, unique=True),  # the Saturday its Jalali week starts: one lesson a week
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(500)),
    Column("published_by", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

lesson_reads = Table(
    "lesson_reads", metadata,
    Column("lesson_id", String(32), ForeignKey("lessons.id"), primary_key=True),
    Column("member_id", String(32), ForeignKey("accounts.id"), primary_key=True),  # read once: idempotent
    Column("week", Date, nullable=False),
    Column("read_at", UTCDateTime(), nullable=False),
    Column("on_time", Boolean, nullable=False),  # read during the lesson's own week
    Index("ix_lesson_reads_member_week", "member_id", "week"),
)

# -- what membership learns from the other services' events, for the review rules
member_offers = Table(
    "member_offers", metadata,  # catalog's offers: a member "chose a service" while one is active
    Column("offer_id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("status", String(8), nullable=False),
    Column("submitted_at", UTCDateTime()),
    Column("ended_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("status in ('active','ended')", name="status"),
    Index("ix_member_offers_member", "member_id", "status"),
)

due_reports = Table(
    "due_reports", metadata,  # accepted reservations (reservation) and their reports (reporting)
    Column("reservation_id", String(32), primary_key=True),
    Column("member_id", String(32), nullable=False),
    Column("offer_id", String(32)),
    Column("ends_at", UTCDateTime()),
    Column("status", String(12), nullable=False),
    Column("report_id", String(32)),
    Column("filed_at", UTCDateTime()),
    Column("flagged_at", UTCDateTime()),  # when its lateness became a review reason
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("status in ('due','filed','cancelled')", name="status"),
    Index("ix_due_reports_status_ends", "status", "ends_at"),
    Index("ix_due_reports_member", "member_id"),
)

# -- the review (بازنگری)
office_records = Table(
    "office_records", metadata,  # a breach of the rules, or discontinuity, recorded by the provincial office
    Column("id", String(32), primary_key=True),
    Column("member_id", String(32), ForeignKey("accounts.id"), nullable=False),
    Column("province", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_by", String(32), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind in ('breach','discontinuity')", name="kind"),
    Index("ix_office_records_member", "member_id", "recorded_at"),
)

REVIEW_REASONS = tuple(REASONS)  # the six grounds, in the guide's order

reviews = Table(
    "reviews", metadata,  # a review case of one member: open until the office decides
    Column("id", String(32), primary_key=True),
    Column("member_id", String(32), ForeignKey("accounts.id"), nullable=False),
    Column("province", String(8), nullable=False),
    Column("status", String(8), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("decision", String(12)),
    Column("note", Text),
    Column("decided_by", String(32)),
    CheckConstraint("status in ('open','closed')", name="status"),
    CheckConstraint("decision IS NULL OR decision in ('continue','suspend','deactivate')", name="decision"),
    CheckConstraint("(status = 'open' AND decision IS NULL AND closed_at IS NULL) OR "
                    "(status = 'closed' AND decision IS NOT NULL AND closed_at IS NOT NULL)", name="decided"),
    # one open case per member, held by the database
    Index("uq_reviews_open_member", "member_id", unique=True,
          postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    Index("ix_reviews_province_opened", "province", "opened_at"),
    Index("ix_reviews_member_opened", "member_id", "opened_at"),
)

review_reasons = Table(
    "review_reasons", metadata,  # each reason of a case, with its evidence
    Column("id", String(32), primary_key=True),
    Column("review_id", String(32), ForeignKey("reviews.id"), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("code", String(24), nullable=False),
    Column("evidence_key", String(120), nullable=False),
    Column("evidence", JSON, nullable=False),  # {"fa", "en", "data"}
    Column("source", String(48), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    CheckConstraint("code in (%s)" % ",".join(f"'{c}'" for c in REVIEW_REASONS), name="code"),
    # a redelivered event or a second sweep adds nothing: one row per piece of evidence, in its case and for the
    # member (so a closed case's evidence never opens a new one)
    UniqueConstraint("review_id", "code", "evidence_key", name="uq_review_reasons_case_evidence"),
    UniqueConstraint("member_id", "code", "evidence_key", name="uq_review_reasons_member_evidence"),
    Index("ix_review_reasons_code_review", "code", "review_id"),
)

status_changes = Table(
    "status_changes", metadata,  # suspensions, deactivations and reinstatements: who, when, why
    Column("id", String(32), primary_key=True),
    Column("member_id", String(32), ForeignKey("accounts.id"), nullable=False),
    Column("province", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("previous_status", String(16), nullable=False),
    Column("review_id", String(32), ForeignKey("reviews.id")),
    Column("note", Text),
    Column("changed_by", String(32), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    CheckConstraint("status in ('active','suspended','deactivated')", name="status"),
    Index("ix_status_changes_member", "member_id", "changed_at"),
)
