"""dead letter replays: which dead letters `radar dlq replay` sent back, when, by whom, and
where each copy landed; the outbox indexed by topic (dead letters are read by topic)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dead_letter_replays',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('replayed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replayed_by', sa.String(length=200), nullable=True),
    sa.Column('sent_topic', sa.String(length=300), nullable=False),
    sa.Column('sent_partition', sa.Integer(), nullable=False),
    sa.Column('sent_offset', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dead_letter_replays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letter_replays_outbox_id'), ['outbox_id'], unique=False)
        batch_op.create_index('ix_dead_letter_replays_sent', ['sent_topic', 'sent_partition', 'sent_offset'],
                              unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_topic', ['topic', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_topic')
    with op.batch_alter_table('dead_letter_replays', schema=None) as batch_op:
        batch_op.drop_index('ix_dead_letter_replays_sent')
        batch_op.drop_index(batch_op.f('ix_dead_letter_replays_outbox_id'))
    op.drop_table('dead_letter_replays')
