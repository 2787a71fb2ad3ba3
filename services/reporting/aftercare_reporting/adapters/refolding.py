"""A case folded again from the facts recorded by a cut-off, with the verdicts and the
survey answer recorded by then: what a report "as of" a moment sees of a case that
changed since, and what a fact arriving after a gap needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from aftercare_reporting.adapters.case_facts import RecordedFact
from aftercare_reporting.adapters.tables import report_verdicts, survey_answers
from aftercare_reporting.domain.cases import Case, Verdict, fold

SNAPSHOT_BATCH = 2000
"""Tickets per IN (…) list: well below every driver's parameter limit."""


async def _recorded_rows(
    connection: AsyncConnection,
    table: Table,
    tickets: Sequence[str],
    recorded: Any,
    as_of: datetime,
    order: Sequence[Any],
) -> list[Any]:
    """The rows of ``tickets`` recorded by ``as_of``, fetched a slice of tickets at a
    time (the drivers' parameter limits are far below a quarter's cases)."""
    found: list[Any] = []
    for first in range(0, len(tickets), SNAPSHOT_BATCH):
        chosen = tickets[first : first + SNAPSHOT_BATCH]
        query = select(table).where(table.c.ticket_id.in_(chosen), recorded <= as_of)
        found += list(await connection.execute(query.order_by(*order)))
    return found


async def refold(
    connection: AsyncConnection, facts: Mapping[str, Sequence[RecordedFact]], as_of: datetime
) -> list[tuple[Case, Sequence[RecordedFact]]]:
    """Each case folded from the facts given, with its verdicts and survey answer
    recorded by ``as_of``; each with the facts it was folded from."""
    if not facts:
        return []
    chosen = sorted(facts)
    verdicts: dict[str, list[Verdict]] = defaultdict(list)
    order = (report_verdicts.c.ticket_id, report_verdicts.c.rule, report_verdicts.c.cycle)
    for row in await _recorded_rows(
        connection, report_verdicts, chosen, report_verdicts.c.recorded_at, as_of, order
    ):
        verdicts[row.ticket_id].append(Verdict(row.rule, row.title, row.cycle, bool(row.met)))
    surveyed = {  # each case's latest overall score
        row.ticket_id: int(row.overall)
        for row in await _recorded_rows(
            connection,
            survey_answers,
            chosen,
            survey_answers.c.answered_at,
            as_of,
            (survey_answers.c.answered_at,),
        )
    }
    folded = []
    for ticket in chosen:
        case = replace(
            fold(ticket, [r.fact for r in facts[ticket]]),
            survey_overall=surveyed.get(ticket),
            verdicts=tuple(verdicts.get(ticket, ())),
        )
        folded.append((case, facts[ticket]))
    return folded
