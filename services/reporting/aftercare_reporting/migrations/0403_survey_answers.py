"""Satisfaction survey answers, one per link.

Revision ID: 0403_survey_answers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0403_survey_answers"
down_revision: str | None = "0402_kpi_alarms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("answered_at", UtcDateTime, nullable=False),
        sa.Column("attitude", sa.Integer, nullable=False),
        sa.Column("speed", sa.Integer, nullable=False),
        sa.Column("solving", sa.Integer, nullable=False),
        sa.Column("overall", sa.Integer, nullable=False),
    )
    op.create_index("ix_survey_answers_ticket", "survey_answers", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("survey_answers")
