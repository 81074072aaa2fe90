"""Tables of the desk service only."""
from sqlalchemy import (
                        JSON,
                        BigInteger,
                        CheckConstraint,
                        Column,
                        Date,
                        ForeignKey,
                        ForeignKeyConstraint,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
                        text,
)

from kit.db import UTCDateTime, make_metadata
from services.desk.domain import STATUSES

metadata = make_metadata()

# A procedure (فرآیند) is its identity and current version; every version is kept, since a ticket keeps the
# version it was opened under.
procedures = Table(
    "procedures", metadata,
    Column("id", String(32), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("version >= 1", name="version"),
    Index("ix_procedures_province_created", "province", "created_at"),
)

procedure_versions = Table(
    "procedure_versions", metadata,
    Column("procedure_id", String(32), ForeignKey("procedures.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("unit", String(120), nullable=False),
    Column("conditions", Text, nullable=False),
    Column("required_documents", JSON, nullable=False),
    Column("steps", JSON, nullable=False),
    Column("standard_days", Integer, nullable=False),
    Column("fee", BigInteger, nullable=False, default=0),  # rials; normally none
    Column("reviewed_on", Date, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(32), nullable=False),
    CheckConstraint("standard_days >= 0", name="standard_days"),
    CheckConstraint("fee >= 0", name="fee"),
    Index("ix_procedure_versions_unit", "unit"),
)

# Official holidays, loaded by the admin per Jalali year (Fridays are the weekend and are not listed).
holidays = Table(
    "holidays", metadata,
    Column("day", Date, primary_key=True),
    Column("jalali_year", Integer, nullable=False, index=True),
)

tickets = Table(
    "tickets", metadata,
    Column("id", String(32), primary_key=True),
    Column("tracking_code", String(11), nullable=False, unique=True),
    Column("province", String(8), nullable=False),
    Column("procedure_id", String(32), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("unit", String(120), nullable=False),  # the procedure's unit, then the unit it was referred to
    Column("visitor_name", String(160), nullable=False),
    Column("visitor_national_id", String(10), nullable=False),
    Column("visitor_mobile", String(11), nullable=False),
    Column("documents_received", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("due_date", Date, nullable=False),  # the date promised to the visitor
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("referred_at", UTCDateTime()),
    Column("referred_by", String(32)),
    Column("resolution", Text),  # the desk's note when resolved on the spot
    Column("outcome", Text),  # the unit's result
    Column("result_by", String(32)),
    Column("done_at", UTCDateTime()),  # resolved at the desk, or the unit's result ready
    Column("delivered_at", UTCDateTime()),
    Column("delivered_by", String(32)),
    Column("awaiting_since", UTCDateTime()),  # the clock stopped: waiting for the visitor
    Column("awaiting_reason", Text),
    Column("resume_status", String(20)),
    Column("waited_days", Integer, nullable=False, default=0),  # working days the clock stood still
    Column("rating", Integer),
    Column("rating_comment", Text),
    Column("rated_at", UTCDateTime()),
    ForeignKeyConstraint(["procedure_id", "procedure_version"],
                         ["procedure_versions.procedure_id", "procedure_versions.version"],
                         name="fk_tickets_procedure_version"),
    CheckConstraint("status in (%s)" % ",".join(f"'{s}'" for s in STATUSES), name="status"),
    CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    CheckConstraint("waited_days >= 0", name="waited_days"),
    # every index is used: lists, the scorecard and the late list (province ...); a procedure's public summary
    # (its done tickets only, so a new ticket, not done yet, costs this index nothing)
    Index("ix_tickets_province_created", "province", "created_at"),
    Index("ix_tickets_province_status_due", "province", "status", "due_date"),
    Index("ix_tickets_procedure_done", "procedure_id", "done_at", sqlite_where=text("done_at IS NOT NULL"),
          postgresql_where=text("done_at IS NOT NULL")),
)

# Lookups of the public tracking page that missed (unknown code or wrong mobile), per client and per code, kept
# in the database so the limit holds across replicas.
tracking_misses = Table(
    "tracking_misses", metadata,
    Column("id", String(32), primary_key=True),
    Column("key", String(80), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_tracking_misses_key_at", "key", "at"),
)

# Members' own tickets: suggestions and innovations (پیشنهادات و ابتکارات) and integrity reports, seen only by
# the member's provincial office.
MEMBER_TICKET_KINDS = ("suggestion", "integrity_report")

member_tickets = Table(
    "member_tickets", metadata,
    Column("id", String(32), primary_key=True),
    Column("tracking_code", String(11), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("province", String(8), nullable=False),
    Column("member_id", String(32), nullable=False),
    Column("title", String(200)),
    Column("body", Text, nullable=False),
    Column("accused", String(200)),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String(32)),
    Column("response", Text),
    CheckConstraint("kind in ('suggestion','integrity_report')", name="kind"),
    CheckConstraint("status in ('open','closed')", name="status"),
    Index("ix_member_tickets_province_kind", "province", "kind", "created_at"),
    Index("ix_member_tickets_member", "member_id", "created_at"),
)
