"""The SLA watcher's verdicts, as the reports read them.

Revision ID: 0404_report_verdicts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0404_report_verdicts"
down_revision: str | None = "0403_survey_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_verdicts",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("cycle", sa.Integer, primary_key=True),
        sa.Column("met", sa.Boolean, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_verdicts")
