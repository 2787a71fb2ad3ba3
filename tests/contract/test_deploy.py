"""What runs only in production, checked here as far as it can be without Docker: the
image definition by hadolint, the Compose file against the Compose Specification's JSON
Schema and against the code (every command a subcommand of ``aftercare``, every
``AFTERCARE_*`` variable a setting, every dependency a service that can report ready)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import validators

from aftercare_system.cli import _parser
from aftercare_system.maintenance import topics_of
from aftercare_system.settings import SystemSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HADOLINT = Path(sys.executable).with_name("hadolint")
# The Compose Specification's schema as check-jsonschema vendors it (no network here).
COMPOSE_SCHEMA = files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"


def subcommands() -> set[str]:
    actions = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def settings_variables() -> set[str]:
    """Every environment variable a setting is read from."""
    names = set()
    for name, field in SystemSettings.model_fields.items():
        names.add(f"AFTERCARE_{name.upper()}")
        alias = field.validation_alias
        for choice in getattr(alias, "choices", []) or []:
            names.add(str(choice))
    return names


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_the_image_definition_passes_hadolint() -> None:
    linted = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_builds_in_stages_runs_unprivileged_and_checks_its_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) >= 2
    assert all("slim" in image for image in stages)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user
    assert user[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["aftercare"]' in text
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    copied = re.findall(r"^COPY (?:--\S+ )*(\S+)", text, re.M)
    for source in copied:
        if not source.startswith("/"):
            assert (ROOT / source).exists(), source


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = validators.validator_for(schema)(schema)
    problems = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert not problems, problems


def test_the_compose_file_matches_the_code() -> None:
    services = compose()["services"]
    known, variables = subcommands(), settings_variables()
    ours = {name: s for name, s in services.items() if s.get("image", "").startswith("aftercare")}
    assert {"migrate", "api", "relay", "sla-watcher", "notifier", "reporting"} <= set(ours)
    for name, service in ours.items():
        assert service["command"][0] in known, name
        for variable in service.get("environment", {}):
            if variable.startswith("AFTERCARE_") and variable != "AFTERCARE_HEALTH_PORT":
                assert variable in variables, f"{name}: {variable} is not a setting"
        assert "DATABASE_URL" in service["environment"]
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], (name, needed)
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_compose_makes_the_topics_the_parts_will_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kafka creates no topic by itself there: the one-shot ``topics`` service must make
    every topic the parts check at start-up, as they will want it."""
    services = compose()["services"]
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name, value in services["api"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = SystemSettings()
    assert settings.kafka_create_topics is False
    script = services["topics"]["command"][0]
    made = dict(re.findall(r"^create (\S+) (\d+)$", script, flags=re.MULTILINE))
    for wanted in topics_of(settings):
        assert wanted.name in made, wanted.name
        if wanted.setting is not None:
            assert int(made[wanted.name]) == wanted.partitions, wanted.name
    for part in ("api", "relay", "sla-watcher", "notifier", "reporting"):
        condition = services[part]["depends_on"]["topics"]["condition"]
        assert condition == "service_completed_successfully", part
