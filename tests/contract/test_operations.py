"""The operators' dashboards and alert rules, checked against the code: every metric they
name is one the services expose (a renamed metric would leave a panel blank and an alert
silent), and each rule says how bad it is and what it means."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
METRIC = re.compile(r"\baftercare_[a-z_]+\b")
MODULES = (
    "aftercare.metrics",
    "aftercare.deadletters",
    "aftercare_notifier.service_layer.sending",
    "aftercare_reporting.service_layer.projection",
    "aftercare_sla.adapters.dispatch",
    "aftercare_sla.adapters.oncall_pages",
    "aftercare_sla.adapters.pager",
    "aftercare_sla.service_layer.alert_keeper",
)
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
    "summary": ("_count", "_sum"),
}


def exposed() -> set[str]:
    """Every series name the services' metrics produce."""
    for module in MODULES:
        importlib.import_module(module)
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def expressions_of_dashboard(document: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in document["panels"] for target in panel["targets"]]


def rules() -> list[dict[str, Any]]:
    text = (ROOT / "deploy" / "prometheus" / "aftercare-rules.yaml").read_text()
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def test_the_dashboard_names_only_metrics_the_services_expose() -> None:
    document = json.loads((ROOT / "deploy" / "grafana" / "aftercare.json").read_text())
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids))
    known = exposed()
    for expr in expressions_of_dashboard(document):
        unknown = set(METRIC.findall(expr)) - known
        assert not unknown, f"{expr}: {unknown}"
    titles = " ".join(panel["title"] for panel in document["panels"]).lower()
    subjects = ("api", "relay", "dead letters", "consumer lag", "breaches", "notifier", "quality")
    for subject in subjects:
        assert subject in titles, subject


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: str(rule["alert"]))
def test_each_alert_rule_names_real_metrics_and_says_what_to_do(rule: dict[str, Any]) -> None:
    names = set(METRIC.findall(rule["expr"]))
    assert names, rule["alert"]
    assert not names - exposed(), names - exposed()
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"]
    assert rule["annotations"]["description"]


def test_the_rules_cover_what_operators_are_paged_for() -> None:
    alerts = {rule["alert"] for rule in rules()}
    assert {
        "AftercareRelayStalled",
        "AftercareConsumerLagGrowing",
        "AftercareDeadLetters",
        "AftercareApiErrors",
        "AftercareNotifierFailures",
    } <= alerts
