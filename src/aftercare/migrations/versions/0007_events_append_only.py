"""The event log is append-only, in the database itself (P-RETENTION: complaint records
and quality incidents are kept for good, and nothing recorded is rewritten).

PostgreSQL refuses any UPDATE or DELETE of an event row; SQLite (a single machine's
development store) refuses UPDATE. Removing history then takes a deliberate act of a
database administrator outside the application (dropping the trigger, TRUNCATE).

Revision ID: 0007_events_append_only
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_events_append_only"
down_revision: str | None = "0006_relay_dead_letters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "P-RETENTION: the event log is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE ON events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS events_append_only"
        + (" ON events" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
