"""Published reports and their files.

Revision ID: 0407_report_publications
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0407_report_publications"
down_revision: str | None = "0406_indicator_entries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_publications",
        sa.Column("publication_id", sa.String(32), primary_key=True),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("period_end", UtcDateTime, nullable=False),
        sa.Column("as_of", UtcDateTime, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_report_publications_created", "report_publications", ["created_at"])
    op.create_table(
        "report_documents",
        sa.Column("publication_id", sa.String(32), primary_key=True),
        sa.Column("format", sa.String(8), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_documents")
    op.drop_table("report_publications")
