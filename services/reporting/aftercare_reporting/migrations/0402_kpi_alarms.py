"""Which indicators are in an alarm episode (one alarm per episode, one recovery).

Revision ID: 0402_kpi_alarms
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0402_kpi_alarms"
down_revision: str | None = "0401_reporting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_alarms",
        sa.Column("kpi", sa.String(64), primary_key=True),
        sa.Column("alarming", sa.Boolean, nullable=False),
        sa.Column("since", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kpi_alarms")
