"""The page limit's record: messages sent per target, alert events held back.

Revision ID: 0204_page_limit
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0204_page_limit"
down_revision: str | None = "0203_oncall_overrides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_pages_sent",
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_sla_pages_sent_target", "sla_pages_sent", ["target", "sent_at"])
    op.create_table(
        "sla_pages_held",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("alert_id", sa.String(200), nullable=False),
        sa.Column("held_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sla_pages_held")
    op.drop_table("sla_pages_sent")
