"""The indicators file (``AFTERCARE_INDICATORS_FILE``, deploy/indicators.yaml): the
dimension weights of Q's tree and operator-entered values, checked in full at start-up
(every problem listed, as the SLA policy is)."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from aftercare_reporting.adapters.indicator_entries import Entry
from aftercare_reporting.domain.indicator_tree import DEFAULT_WEIGHTS, ENTERED, weight_problems


class _Loader(yaml.SafeLoader):
    """YAML without its own dates: ``2026-13-01`` reaches validation as text and is
    reported with its place in the file, instead of failing the whole parse."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class IndicatorFileError(Exception):
    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator: Annotated[str, StringConstraints(max_length=64)]
    valid_from: date = Field(alias="from")
    value: Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class IndicatorsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    entries: list[EntryIn] = Field(default_factory=list, max_length=10_000)


def local_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def parse_indicators(text: str, source: str, zone: tzinfo) -> tuple[dict[str, float], list[Entry]]:
    """The weights and entries in ``text``; ``IndicatorFileError`` listing every problem."""
    try:
        document = yaml.load(text, Loader=_Loader) or {}  # a SafeLoader without dates
        parsed = IndicatorsFile.model_validate(document)
    except yaml.YAMLError as error:
        raise IndicatorFileError(source, [f"not valid YAML: {error}"]) from None
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in error.errors()
        ]
        raise IndicatorFileError(source, problems) from None
    problems = [f"{where}: {why}" for where, why in weight_problems(parsed.weights)]
    for number, entry in enumerate(parsed.entries):
        if entry.indicator not in ENTERED:
            problems.append(f"entries.{number}.indicator: {entry.indicator} is not entered by hand")
    if problems:
        raise IndicatorFileError(source, problems)
    entries = [
        Entry(e.indicator, local_start(e.valid_from, zone), e.value, e.note) for e in parsed.entries
    ]
    return parsed.weights, entries


def load_indicators(path: Path | None, zone: tzinfo) -> tuple[dict[str, float], list[Entry]]:
    if path is None or not path.exists():
        return dict(DEFAULT_WEIGHTS), []
    return parse_indicators(path.read_text(encoding="utf-8"), str(path), zone)
