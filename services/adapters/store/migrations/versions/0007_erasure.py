"""erasure: erased candidates (salted hashes), the service's own secrets, and whom outbox
rows, deliveries and digest items are about

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_candidates',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_table('radar_secrets',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    for table in ('outbox', 'deliveries', 'digest_items'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('candidate_id', sa.String(length=200), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_candidate_id'), ['candidate_id'], unique=False)
        _backfill(table)


def _backfill(table: str) -> None:
    """Rows written before this revision: whom they are about, read from their payload."""
    keys = ('subscription_id', 'key') if table == 'digest_items' else ('id',)
    rows = sa.table(table, *(sa.column(k) for k in keys), sa.column('payload', sa.JSON),
                    sa.column('candidate_id', sa.String))
    connection = op.get_bind()
    found = [(row, (row.payload or {}).get('candidate_id')) for row in connection.execute(
        sa.select(*(rows.c[k] for k in keys), rows.c.payload).where(rows.c.payload.is_not(None)))]
    for row, candidate_id in found:
        if isinstance(candidate_id, str):
            connection.execute(sa.update(rows).where(*(rows.c[k] == getattr(row, k) for k in keys))
                               .values(candidate_id=candidate_id[:200]))


def downgrade() -> None:
    for table in ('digest_items', 'deliveries', 'outbox'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_candidate_id'))
            batch_op.drop_column('candidate_id')
    op.drop_table('radar_secrets')
    op.drop_table('erased_candidates')
