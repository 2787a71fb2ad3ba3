"""Revoked status links: a customer's links to a ticket issued before ``revoked_at``
stop working (a forwarded e-mail, a contact who left).

Revision ID: 0102_status_links
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import UtcDateTime

revision: str = "0102_status_links"
down_revision: str | None = "0101_ticket_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_link_revocations",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("revoked_at", UtcDateTime, nullable=False),
        sa.Column("revoked_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_link_revocations")
