"""cancelled reservations: status cancelled with cancelled_at and cancel_reason

Revision ID: d2747ff92095
Revises: dac86497e208
Create Date: 2026-11-21 23:54:31.151319
"""
from alembic import op
import sqlalchemy as sa
import kit.db


revision = 'd2747ff92095'
down_revision = 'dac86497e208'
branch_labels = None
depends_on = None


# Cancellations used to be kept as status 'declined' with one of these two sentences in decline_reason (the only
# texts the service itself ever wrote there); a member's own reason is free text. Those rows become 'cancelled'.
OLD_CANCELLATIONS = {
    "suspended": "لغو شد: عضویت خادمیار در پی بازنگری تعلیق شد.",
    "deactivated": "لغو شد: عضویت خادمیار غیرفعال شد.",
}
STATUS_OLD = "status in ('invited','accepted','declined')"
STATUS_NEW = "status in ('invited','accepted','declined','cancelled')"


def upgrade():
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', kit.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(op.f('ck_reservations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reservations_status'), sa.text(STATUS_NEW))

    reservations = sa.table('reservations', sa.column('status'), sa.column('decline_reason'),
                            sa.column('responded_at'), sa.column('cancelled_at'), sa.column('cancel_reason'))
    for code, sentence in OLD_CANCELLATIONS.items():
        op.execute(reservations.update()
                   .where(reservations.c.status == 'declined', reservations.c.decline_reason == sentence)
                   .values(status='cancelled', cancel_reason=code, cancelled_at=reservations.c.responded_at,
                           responded_at=None, decline_reason=None))

    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_reservations_cancel'),
                                         sa.text("(status = 'cancelled') = (cancel_reason IS NOT NULL)"))


def downgrade():
    reservations = sa.table('reservations', sa.column('status'), sa.column('decline_reason'),
                            sa.column('responded_at'), sa.column('cancelled_at'), sa.column('cancel_reason'))
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reservations_cancel'), type_='check')
    # back to the old way of keeping them: declined, with the sentence (other reasons keep their code)
    for code, sentence in OLD_CANCELLATIONS.items():
        op.execute(reservations.update().where(reservations.c.cancel_reason == code)
                   .values(decline_reason=sentence))
    op.execute(reservations.update().where(reservations.c.status == 'cancelled')
               .values(status='declined', responded_at=reservations.c.cancelled_at,
                       decline_reason=sa.func.coalesce(reservations.c.decline_reason, reservations.c.cancel_reason)))
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reservations_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reservations_status'), sa.text(STATUS_OLD))
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
