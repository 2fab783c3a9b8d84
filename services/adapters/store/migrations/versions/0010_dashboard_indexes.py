"""indexes the overview reads by: a lead's window with whether someone acted on it (the
funnel's time to first action), an alert's day with its type (alerts per day)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_leads_created_acted', 'leads', ['created_at', 'first_action_at'])
    op.drop_index('ix_leads_created', table_name='leads')
    op.create_index('ix_alerts_created_type', 'alerts', ['created_at', 'type'])
    op.drop_index('ix_alerts_created', table_name='alerts')


def downgrade() -> None:
    op.create_index('ix_alerts_created', 'alerts', ['created_at'])
    op.drop_index('ix_alerts_created_type', table_name='alerts')
    op.create_index('ix_leads_created', 'leads', ['created_at'])
    op.drop_index('ix_leads_created_acted', table_name='leads')
