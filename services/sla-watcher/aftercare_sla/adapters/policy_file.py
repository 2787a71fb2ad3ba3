"""Loading the SLA policy file: YAML, ``${VAR}`` from the environment, checked in full."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aftercare_sla.domain.policy import Policy, PolicyError
from aftercare_ticket.contract import EVENT_FIELDS, PROGRESS_UPDATE_LEAD, VOCABULARY

_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _expand(node: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _VARIABLE.sub(lambda match: environ.get(match.group(1), ""), node)
    if isinstance(node, list):
        return [_expand(item, environ) for item in node]
    if isinstance(node, dict):
        return {key: _expand(value, environ) for key, value in node.items()}
    return node


def parse_policy(text: str, source: str, environ: Mapping[str, str] | None = None) -> Policy:
    """The policy in ``text``, or a ``PolicyError`` listing every problem found."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError(source, [f"not valid YAML: {error}"]) from error
    except ValueError as error:  # YAML's own dates: 2026-13-01 fails while parsing
        raise PolicyError(source, [f"not a date: {error}"]) from error
    if not isinstance(document, dict):
        raise PolicyError(source, ["expected a mapping with `targets`"])
    for section in ("paging", "oncall"):  # ${VAR}: secrets and chat ids stay out of the file
        if section in document:
            document[section] = _expand(
                document[section], os.environ if environ is None else environ
            )
    try:
        policy = Policy.model_validate(document)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"]
            ).lstrip(".")
            problems.append(f"{location}: {item['msg']}")
        raise PolicyError(source, problems) from error
    problems = policy.problems(
        {name: list(fields) for name, fields in EVENT_FIELDS.items()},
        {name: list(values) for name, values in VOCABULARY.items()},
    )
    problems += progress_problems(policy)
    problems += policy.oncall.problems(set(policy.paging))
    if problems:
        raise PolicyError(source, problems)
    return policy


def progress_problems(policy: Policy) -> list[str]:
    """T-PROGRESS must warn only after the notifier's routine update was due (the ticket
    contract's lead), or every routine update would page on-call."""
    problems = []
    for target in policy.resolved():
        if target.rule != "T-PROGRESS":
            continue
        warned_before = target.budget * (1 - target.warn_at)
        if warned_before >= PROGRESS_UPDATE_LEAD:
            problems.append(
                f"T-PROGRESS ({target.title}): warns {warned_before} before its deadline, "
                f"before the routine update that goes out {PROGRESS_UPDATE_LEAD} before it; "
                "raise warn_at"
            )
    return problems


def load_policy(path: Path, environ: Mapping[str, str] | None = None) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(str(path), [f"cannot read it: {error.strerror}"]) from error
    return parse_policy(text, str(path), environ)
