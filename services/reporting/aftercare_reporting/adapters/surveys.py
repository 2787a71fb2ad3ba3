"""Survey answers: recorded once per link, as an event in the log (stream
``survey-<ticket>``) and as a row the indicators read, in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.db import insert_if_absent, transaction
from aftercare.eventstore import NewEvent, SqlStreamSession
from aftercare_reporting.adapters.store import refresh_survey
from aftercare_reporting.adapters.tables import survey_answers

ITEMS = ("attitude", "speed", "solving", "overall")
"""Q §七's touchpoints: service attitude, response speed, problem solving, overall."""


class AlreadyAnswered(Exception):
    pass


async def record_answer(
    engine: AsyncEngine, nonce: str, ticket_id: str, scores: dict[str, int], at: datetime
) -> None:
    """The answer, once; ``AlreadyAnswered`` for a link used before."""
    async with transaction(engine) as connection:
        row: dict[str, Any] = {"nonce": nonce, "ticket_id": ticket_id, "answered_at": at, **scores}
        if not await insert_if_absent(connection, survey_answers, row):
            raise AlreadyAnswered(nonce)
        event = NewEvent(type="SurveyAnswered", data={"ticket_id": ticket_id, **scores})
        await SqlStreamSession(connection).append_at_end(f"survey-{ticket_id}", [event], at)
        await refresh_survey(connection, ticket_id, at)
