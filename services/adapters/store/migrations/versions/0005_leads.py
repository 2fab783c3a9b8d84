"""leads and their history, alerts kept, alerts held back, silent pairs, role owners

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leads',
    sa.Column('role_id', sa.String(length=200), nullable=False),
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('until', sa.String(length=10), nullable=True),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('furthest', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_alert_id', sa.String(length=200), nullable=False),
    sa.Column('first_signals', sa.JSON(), nullable=False),
    sa.Column('readiness_at_alert', sa.Float(), nullable=False),
    sa.Column('first_action_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('role_id', 'candidate_id')
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_candidate', ['candidate_id'], unique=False)
        batch_op.create_index('ix_leads_created', ['created_at'], unique=False)
        batch_op.create_index('ix_leads_role_status', ['role_id', 'status', 'created_at', 'candidate_id'], unique=False)
        batch_op.create_index('ix_leads_status_created', ['status', 'created_at', 'role_id', 'candidate_id'],
                              unique=False)
    op.create_table('lead_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('role_id', sa.String(length=200), nullable=False),
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('until', sa.String(length=10), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead_history', schema=None) as batch_op:
        batch_op.create_index('ix_lead_history_pair', ['role_id', 'candidate_id', 'id'], unique=False)
    op.create_table('alerts',
    sa.Column('alert_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('role_id', sa.String(length=200), nullable=False),
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_created', ['created_at'], unique=False)
        batch_op.create_index('ix_alerts_pair', ['role_id', 'candidate_id', 'created_at'], unique=False)
    op.create_table('held_back_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=200), nullable=False),
    sa.Column('role_id', sa.String(length=200), nullable=False),
    sa.Column('candidate_id', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('held_back_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_held_back_role', ['role_id', 'created_at'], unique=False)
    with op.batch_alter_table('match_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('silent', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('role_specs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_role_specs_owner'), ['owner'], unique=False)
    _backfill_owners()


def _backfill_owners() -> None:
    """The owner column, from the specs stored before it (code frozen here, as migrations are)."""
    connection = op.get_bind()
    roles = sa.table("role_specs", sa.column("role_id"), sa.column("spec", sa.JSON), sa.column("owner"))
    for role_id, spec in list(connection.execute(sa.select(roles.c.role_id, roles.c.spec))):
        owner = ((spec or {}).get("owner") or "")[:200] or None
        if owner:
            connection.execute(roles.update().where(roles.c.role_id == role_id).values(owner=owner))


def downgrade() -> None:
    with op.batch_alter_table('role_specs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_specs_owner'))
        batch_op.drop_column('owner')
    with op.batch_alter_table('match_state', schema=None) as batch_op:
        batch_op.drop_column('silent')
    with op.batch_alter_table('held_back_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_held_back_role')
    op.drop_table('held_back_alerts')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_pair')
        batch_op.drop_index('ix_alerts_created')
    op.drop_table('alerts')
    with op.batch_alter_table('lead_history', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_history_pair')
    op.drop_table('lead_history')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_status_created')
        batch_op.drop_index('ix_leads_role_status')
        batch_op.drop_index('ix_leads_created')
        batch_op.drop_index('ix_leads_candidate')
    op.drop_table('leads')
