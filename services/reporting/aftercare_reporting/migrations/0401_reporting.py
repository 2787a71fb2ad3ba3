"""The reporting projection's tables.

Revision ID: 0401_reporting
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, UtcDateTime

revision: str = "0401_reporting"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("reporting",)
depends_on: str | Sequence[str] | None = "0003_processed_events"


def upgrade() -> None:
    op.create_table(
        "report_cases",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_report_cases_requested_at", "report_cases", ["requested_at"])
    op.create_table(
        "report_facts",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_facts")
    op.drop_table("report_cases")
