"""The SLA watcher's tables.

Revision ID: 0201_sla_watcher
"""

from collections.abc import Sequence

from alembic import op

from aftercare_sla.adapters.tables import sla_facts, sla_tickets, sla_timers

revision: str = "0201_sla_watcher"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sla",)
depends_on: str | Sequence[str] | None = "0001_events"


def upgrade() -> None:
    bind = op.get_bind()
    for table in (sla_facts, sla_tickets, sla_timers):
        table.create(bind)


def downgrade() -> None:
    for name in ("sla_timers", "sla_tickets", "sla_facts"):
        op.drop_table(name)
