"""Folded states of tickets at every 50th version, kept so that a process that has never
read a ticket (a restarted or added API process) answers ``?as_of=`` from the nearest one
instead of folding the whole history.

Revision ID: 0104_ticket_snapshots
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, Position, UtcDateTime

revision: str = "0104_ticket_snapshots"
down_revision: str | None = "0103_ticket_region"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_snapshots",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("version", Position, primary_key=True),
        sa.Column("format", sa.String(32), primary_key=True),
        sa.Column("taken_at", UtcDateTime, nullable=False),
        sa.Column("document", JsonDocument, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_snapshots")
