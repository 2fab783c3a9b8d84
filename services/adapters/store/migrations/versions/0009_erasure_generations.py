"""erasure generations: an erased candidate's row stays after re-admission, with how many
times the candidate was erased and when consent re-admitted it (alert ids of a new life
include that count, so none repeats an id of an earlier life)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already there are candidates erased once and not re-admitted (re-admission deleted the row).
    with op.batch_alter_table('erased_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erasures', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('readmitted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Before 0009 a re-admitted candidate had no row.
    erased = sa.table('erased_candidates', sa.column('readmitted_at', sa.DateTime(timezone=True)))
    op.execute(sa.delete(erased).where(erased.c.readmitted_at.is_not(None)))
    with op.batch_alter_table('erased_candidates', schema=None) as batch_op:
        batch_op.drop_column('readmitted_at')
        batch_op.drop_column('erasures')
