"""Q's indicator tree over HTTP: the tree and its weights, the operator's entries (each
recorded as an event with who entered it), and the weighted score of any period."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from aftercare.instants import Instant
from aftercare.problems import Problem
from aftercare_reporting.adapters import indicator_entries
from aftercare_reporting.adapters.indicators_file import EntryIn, local_start
from aftercare_reporting.domain.indicator_tree import (
    DIMENSION_NAMES,
    DIMENSIONS,
    ENTERED,
    TREE,
    WEIGHT_RANGES,
)
from aftercare_reporting.entrypoints.assessments import Boss
from aftercare_reporting.service_layer.projection import Reporting


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[EntryIn] = Field(min_length=1, max_length=100)


def _checked(body: EntriesIn) -> None:
    errors = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(body.entries):
        key = (entry.indicator, entry.valid_from.isoformat())
        if entry.indicator not in ENTERED:
            message = f"{entry.indicator} is not an indicator entered by hand"
            errors.append({"field": f"entries.{number}.indicator", "message": message})
        elif key in seen:
            message = "the same indicator and date twice in one request"
            errors.append({"field": f"entries.{number}.from", "message": message})
        seen.add(key)
    if errors:
        first = errors[0]
        raise Problem(
            422,
            "validation-error",
            "The entries are not valid",
            f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )


def install_indicator_routes(app: FastAPI, reporting: Reporting) -> None:
    _install_entries(app, reporting)
    _install_score(app, reporting)


def _install_entries(app: FastAPI, reporting: Reporting) -> None:
    @app.get("/indicators", tags=["indicators"])
    async def tree(_: Boss) -> dict[str, Any]:
        """Q's tree: the dimensions with their weights and Q's ranges, each indicator
        with its target and whether an operator enters it."""
        return {
            "dimensions": [
                {
                    "dimension": d,
                    "name": DIMENSION_NAMES[d],
                    "weight": reporting.weights[d],
                    "q_range": list(WEIGHT_RANGES[d]),
                }
                for d in DIMENSIONS
            ],
            "indicators": [asdict(i) for i in TREE],
        }

    @app.post("/indicators/entries", status_code=201, tags=["indicators"])
    async def enter(body: EntriesIn, principal: Boss) -> dict[str, Any]:
        """Operator-entered values (service network, staff, training, stock…), each
        holding from its date; a repeated value changes nothing."""
        _checked(body)
        entries = [
            indicator_entries.Entry(
                e.indicator, local_start(e.valid_from, reporting.zone), e.value, e.note
            )
            for e in body.entries
        ]
        now = reporting.clock.now()
        recorded = await indicator_entries.record_entries(
            reporting.engine, entries, principal.key_name, now
        )
        return {"recorded": recorded, "unchanged": len(entries) - recorded}

    @app.get("/indicators/entries", tags=["indicators"])
    async def listing(
        _: Boss,
        indicator: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        return await indicator_entries.entries(reporting.engine, indicator, limit)


def _install_score(app: FastAPI, reporting: Reporting) -> None:
    @app.get("/score", tags=["indicators"])
    async def score(
        _: Boss,
        start: Annotated[Instant, Query(alias="from")],
        end: Annotated[Instant, Query(alias="to")],
        as_of: Annotated[Instant | None, Query()] = None,
    ) -> dict[str, Any]:
        """The tree's weighted score over the period, with each dimension's and each
        indicator's, and what had no value (listed, not counted)."""
        if end <= start:
            raise Problem(422, "validation-error", "The period is empty", field="to")
        result = await reporting.tree_score(start, end, as_of)
        return {
            "from": start,
            "to": end,
            "as_of": as_of or reporting.clock.now(),
            "score": result.score,
            "coverage": result.coverage,
            "dimensions": [
                {
                    "dimension": d.dimension,
                    "weight": d.weight,
                    "within_q_range": d.within_q_range,
                    "score": d.score,
                    "indicators": [
                        {
                            "id": s.indicator.id,
                            "name": s.indicator.name,
                            "target": s.indicator.target,
                            "comparison": s.indicator.comparison,
                            "value": s.value,
                            "score": s.score,
                            "met": s.met,
                            "source": s.source,
                        }
                        for s in d.indicators
                    ],
                }
                for d in result.dimensions
            ],
        }
