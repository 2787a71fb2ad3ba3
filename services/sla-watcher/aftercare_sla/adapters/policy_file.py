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
from aftercare_ticket.contract import EVENT_FIELDS, VOCABULARY

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
    problems = policy.problems(
        {name: list(fields) for name, fields in EVENT_FIELDS.items()},
        {name: list(values) for name, values in VOCABULARY.items()},
    )
    if problems:
        raise PolicyError(source, problems)
    return policy


def load_policy(path: Path, environ: Mapping[str, str] | None = None) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(str(path), [f"cannot read it: {error.strerror}"]) from error
    return parse_policy(text, str(path), environ)
