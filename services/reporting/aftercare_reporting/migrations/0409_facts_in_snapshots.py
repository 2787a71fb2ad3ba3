"""Each case's facts move into its snapshot row (one write per case per batch instead
of one per event); a case that had facts and no snapshot gets one of an older document
version, so it is folded again from them when first read or touched.

Revision ID: 0409_facts_in_snapshots
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from aftercare.sqltypes import JsonDocument, UtcDateTime

revision: str = "0409_facts_in_snapshots"
down_revision: str | None = "0408_report_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = sa.table(
    "report_facts",
    sa.column("ticket_id", sa.String),
    sa.column("sequence", sa.Integer),
    sa.column("type", sa.String),
    sa.column("at", UtcDateTime),
    sa.column("recorded_at", UtcDateTime),
    sa.column("data", JsonDocument),
)
SNAPSHOTS = sa.table(
    "report_snapshots",
    sa.column("ticket_id", sa.String),
    sa.column("requested_at", UtcDateTime),
    sa.column("updated_at", UtcDateTime),
    sa.column("last_sequence", sa.Integer),
    sa.column("folded", sa.Integer),
    sa.column("document", JsonDocument),
    sa.column("facts", sa.Text),
)
CASES = sa.table(
    "report_cases", sa.column("ticket_id", sa.String), sa.column("requested_at", UtcDateTime)
)
OLDER_DOCUMENT = {"v": 0, "f": []}
"""Not the current snapshot version: read as "fold this case again from its facts"."""


def _facts_by_ticket(bind: sa.Connection) -> dict[str, list[list[Any]]]:
    facts: dict[str, list[list[Any]]] = defaultdict(list)
    query = sa.select(FACTS).order_by(FACTS.c.ticket_id, FACTS.c.sequence)
    for row in bind.execute(query):
        facts[row.ticket_id].append([row.sequence, row.type, row.at, row.recorded_at, row.data])
    return facts


def upgrade() -> None:
    with op.batch_alter_table("report_snapshots") as batch:
        batch.add_column(sa.Column("facts", sa.Text, nullable=False, server_default="[]"))
    bind = op.get_bind()
    facts = _facts_by_ticket(bind)
    held = {row.ticket_id for row in bind.execute(sa.select(SNAPSHOTS.c.ticket_id))}
    raised = {row.ticket_id: row.requested_at for row in bind.execute(sa.select(CASES))}
    now = datetime.now(UTC)
    for ticket, entries in facts.items():
        text = orjson.dumps(entries).decode()
        if ticket in held:
            bind.execute(
                SNAPSHOTS.update().where(SNAPSHOTS.c.ticket_id == ticket).values(facts=text)
            )
            continue
        bind.execute(
            SNAPSHOTS.insert().values(
                ticket_id=ticket,
                requested_at=raised.get(ticket),
                updated_at=now,
                last_sequence=entries[-1][0],
                folded=-1,
                document=OLDER_DOCUMENT,
                facts=text,
            )
        )
    op.drop_table("report_facts")


def downgrade() -> None:
    op.create_table(
        "report_facts",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("sequence", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
    )
    bind = op.get_bind()
    query = sa.select(SNAPSHOTS.c.ticket_id, SNAPSHOTS.c.facts)
    for row in bind.execute(query):
        entries = orjson.loads(row.facts or "[]")
        if entries:
            bind.execute(
                FACTS.insert(),
                [
                    {
                        "ticket_id": row.ticket_id,
                        "sequence": sequence,
                        "type": kind,
                        "at": datetime.fromisoformat(at),
                        "recorded_at": datetime.fromisoformat(recorded),
                        "data": data,
                    }
                    for sequence, kind, at, recorded, data in entries
                ],
            )
    with op.batch_alter_table("report_snapshots") as batch:
        batch.drop_column("facts")
