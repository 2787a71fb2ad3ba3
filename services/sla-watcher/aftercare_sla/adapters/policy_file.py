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
from aftercare_ticket.domain import vocabulary
from aftercare_ticket.domain.events import EVENT_TYPES

_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")

EVENT_FIELDS: dict[str, list[str]] = {
    name: list(model.model_fields) for name, model in EVENT_TYPES.items()
}
"""The ticket events a target may name, with their fields (the published contract)."""

VOCABULARY: dict[str, list[str]] = {
    "kind": [item.value for item in vocabulary.Kind],
    "channel": [item.value for item in vocabulary.Channel],
    "priority": [item.value for item in vocabulary.Priority],
    "complaint_grade": [item.value for item in vocabulary.ComplaintGrade],
    "complexity": [item.value for item in vocabulary.Complexity],
}


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
    if not isinstance(document, dict):
        raise PolicyError(source, ["expected a mapping with `targets`"])
    if "paging" in document:
        document["paging"] = _expand(document["paging"], os.environ if environ is None else environ)
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
    problems = policy.problems(EVENT_FIELDS, VOCABULARY)
    if problems:
        raise PolicyError(source, problems)
    return policy


def load_policy(path: Path, environ: Mapping[str, str] | None = None) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(str(path), [f"cannot read it: {error.strerror}"]) from error
    return parse_policy(text, str(path), environ)
