"""Customer update templates (Jinja2), in the customer's language, editable by operators.

Templates live in ``<language>/<name>.txt.j2``; the first line renders the subject, the
rest the body. A directory set with ``AFTERCARE_NOTIFIER_TEMPLATES`` is searched before
the packaged one, so an operator can change one file without copying the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, TemplateNotFound

from aftercare_notifier.domain.cadence import CHANGE_TEMPLATES

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
TEMPLATE_NAMES = ("progress", *CHANGE_TEMPLATES.values())
PACKAGED = Path(str(files("aftercare_notifier") / "templates"))


class TemplateProblem(ValueError):
    pass


class Templates:
    def __init__(self, zone: tzinfo, directories: Sequence[Path] = ()) -> None:
        self.zone = zone
        self.environment = Environment(
            loader=FileSystemLoader([str(path) for path in (*directories, PACKAGED)]),
            autoescape=False,  # plain-text mail and JSON, not HTML
            keep_trailing_newline=True,
            undefined=ChainableUndefined,
        )
        self.environment.filters["local_time"] = self._local_time

    def _local_time(self, value: object) -> str:
        """An instant as the customer reads it: local date and time, and the zone."""
        instant = value
        if isinstance(value, str):
            try:
                instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
        if not isinstance(instant, datetime):
            return "" if instant is None else str(instant)
        return instant.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") + f" ({self.zone})"

    def check(self, names: Iterable[str] = TEMPLATE_NAMES) -> None:
        """Every template in every language exists and compiles; raise naming the rest."""
        problems = []
        for language in LANGUAGES:
            for name in names:
                try:
                    self.environment.get_template(f"{language}/{name}.txt.j2")
                except TemplateNotFound:
                    problems.append(f"{language}/{name}.txt.j2 is missing")
                except Exception as error:
                    problems.append(f"{language}/{name}.txt.j2: {error}")
        if problems:
            raise TemplateProblem("; ".join(problems))

    def render(self, language: str, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """(subject, body) in ``language``, falling back to Chinese."""
        chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
        text = self.environment.get_template(f"{chosen}/{name}.txt.j2").render(**context)
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")
