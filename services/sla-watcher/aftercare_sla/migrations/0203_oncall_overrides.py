"""On-call overrides entered over the API.

Revision ID: 0203_oncall_overrides
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0203_oncall_overrides"
down_revision: str | None = "0202_sla_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_oncall_overrides",
        sa.Column("override_id", sa.String(32), primary_key=True),
        sa.Column("schedule", sa.String(64), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index(
        "ix_sla_oncall_overrides_schedule", "sla_oncall_overrides", ["schedule", "ends_at"]
    )


def downgrade() -> None:
    op.drop_table("sla_oncall_overrides")
