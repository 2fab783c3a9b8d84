"""columns sized from the wire bounds; outbox claims (lease, attempts, failures) and keys of
any length; worker heartbeats

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('candidate_skills', schema=None) as batch_op:
        batch_op.alter_column('origin', existing_type=sa.String(length=40), type_=sa.String(length=72),
                              existing_nullable=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column('topic', existing_type=sa.String(length=100), type_=sa.String(length=300),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_reason', sa.String(length=500), nullable=True))
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_batch_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retrying_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('worker_id')
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('failed_reason')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.alter_column('topic', existing_type=sa.String(length=300), type_=sa.String(length=100),
                              existing_nullable=False)
        batch_op.alter_column('key', existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table('candidate_skills', schema=None) as batch_op:
        batch_op.alter_column('origin', existing_type=sa.String(length=72), type_=sa.String(length=40),
                              existing_nullable=False)
