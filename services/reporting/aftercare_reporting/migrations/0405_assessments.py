"""The self-assessments (GB/T 27922, S §6), latest version of each for listing.

Revision ID: 0405_assessments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0405_assessments"
down_revision: str | None = "0404_report_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("assessed_on", sa.String(10), nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("entered_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assessments")
