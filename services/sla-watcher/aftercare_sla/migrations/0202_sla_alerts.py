"""On-call alerts: one row per alert, its next step on an index.

Revision ID: 0202_sla_alerts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0202_sla_alerts"
down_revision: str | None = "0201_sla_watcher"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_alerts",
        sa.Column("alert_id", sa.String(200), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("paging_group", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("triggered_at", UtcDateTime, nullable=False),
        sa.Column("next_due", UtcDateTime),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_sla_alerts_next_due", "sla_alerts", ["next_due"])
    op.create_index("ix_sla_alerts_open", "sla_alerts", ["state", "paging_group"])


def downgrade() -> None:
    op.drop_table("sla_alerts")
