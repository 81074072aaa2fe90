"""members.status: catalog knows who may offer from membership's events

Revision ID: 12203c6c86b3
Revises: 1257a82c2460
Create Date: 2026-11-22 00:09:54.525798
"""
from alembic import op
import sqlalchemy as sa
import kit.db


revision = '12203c6c86b3'
down_revision = '1257a82c2460'
branch_labels = None
depends_on = None


# Deactivation is final, and catalog's own rows show it: the running offers it withdrew for a deactivation carry
# this reason. (A suspension cannot be told from the past alone: it may have been lifted since, which catalog did not
# hear. Those members show as active until membership's next event about them.)
DEACTIVATED_REASON = "انصراف خودکار: عضویت خادمیار غیرفعال شد."


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('status_at', kit.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column('county', existing_type=sa.String(length=8), nullable=True)
        batch_op.alter_column('activated_at', existing_type=kit.db.UTCDateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(op.f('ck_members_status'),
                                         sa.text("status in ('active','suspended','deactivated')"))
    members = sa.table('members', sa.column('member_id'), sa.column('status'))
    offers = sa.table('offers', sa.column('member_id'), sa.column('status'), sa.column('reason'))
    op.execute(members.update().where(members.c.member_id.in_(
        sa.select(offers.c.member_id).where(offers.c.status == 'withdrawn', offers.c.reason == DEACTIVATED_REASON)))
        .values(status='deactivated'))


def downgrade():
    members = sa.table('members', sa.column('activated_at'))
    op.execute(members.delete().where(members.c.activated_at.is_(None)))  # statuses that never met an activation
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_status'), type_='check')
        batch_op.alter_column('activated_at', existing_type=kit.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column('county', existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_column('status_at')
        batch_op.drop_column('status')
