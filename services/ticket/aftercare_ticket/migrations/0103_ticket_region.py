"""The ticket list knows each ticket's region (for the console's queue and the list's
filter), filled in for the tickets already raised from their ``RequestRaised`` events.

Revision ID: 0103_ticket_region
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103_ticket_region"
down_revision: str | None = "0102_status_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": (
        "UPDATE ticket_views SET region = e.data->>'region' FROM events e "
        "WHERE e.stream_id = ticket_views.id AND e.type = 'RequestRaised'"
    ),
    "sqlite": (
        "UPDATE ticket_views SET region = (SELECT json_extract(e.data, '$.region') "
        "FROM events e WHERE e.stream_id = ticket_views.id AND e.type = 'RequestRaised')"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("ticket_views") as table:
        table.add_column(sa.Column("region", sa.String(200)))
    op.create_index("ix_ticket_views_region", "ticket_views", ["region", "created_at"])
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_index("ix_ticket_views_region", "ticket_views")
    with op.batch_alter_table("ticket_views") as table:
        table.drop_column("region")
