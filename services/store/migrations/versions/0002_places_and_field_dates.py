"""candidate places (roles without must-haves find candidates by place) and the date each
snapshot field was last stated

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""
from alembic import op
import sqlalchemy as sa

from services.places import indexed_places


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5_000


def upgrade() -> None:
    op.create_table('candidate_places',
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('candidate_id', 'place')
    )
    with op.batch_alter_table('candidate_places', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_places_place_candidate', ['place', 'candidate_id'], unique=False)
    with op.batch_alter_table('profile_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stated_at', sa.JSON(), nullable=True))
    backfill()


def backfill() -> None:
    """Places of the candidates already stored, from the location in their merged view."""
    connection = op.get_bind()
    candidates = sa.table("candidates", sa.column("candidate_id"), sa.column("view", sa.JSON))
    places = sa.table("candidate_places", sa.column("candidate_id"), sa.column("place"))
    rows = []
    for candidate_id, view in connection.execute(sa.select(candidates.c.candidate_id, candidates.c.view)):
        location = ((view or {}).get("profile") or {}).get("location")
        rows.extend({"candidate_id": candidate_id, "place": place} for place in indexed_places(location))
        if len(rows) >= BACKFILL_BATCH:
            connection.execute(places.insert(), rows)
            rows = []
    if rows:
        connection.execute(places.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table('profile_snapshots', schema=None) as batch_op:
        batch_op.drop_column('stated_at')
    with op.batch_alter_table('candidate_places', schema=None) as batch_op:
        batch_op.drop_index('ix_candidate_places_place_candidate')
    op.drop_table('candidate_places')
