"""The SLA policy file: the default covers every clock; a bad file is refused with reasons."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aftercare_sla.adapters.policy_file import load_policy, parse_policy
from aftercare_sla.domain.policy import PolicyError

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "deploy" / "sla-policy.yaml"
CATALOGUE = ROOT / "docs" / "rules.md"

# docs/rules.md §3, every clock of the standards.
T_RULES = {
    "T-PHONE",
    "T-EMAIL",
    "T-ONLINE",
    "T-URGENT",
    "T-PROGRESS",
    "T-WARRANTY-CONTACT",
    "T-ONSITE",
    "T-ONSITE-PUNCTUAL",
    "T-REPAIR-NOTIFY",
    "T-RETURN-REVIEW",
    "T-RETURN-REFUND",
    "T-EXCHANGE-SHIP",
    "T-REFUND",
    "T-COMPLAINT-CONTACT",
    "T-COMPLAINT-GENERAL",
    "T-COMPLAINT-COMPLEX",
    "T-COMPLAINT-REVISIT",
    "T-RESOLVE-GENERAL",
    "T-SPARES",
}


def test_the_default_policy_encodes_every_clock_of_the_catalogue() -> None:
    policy = load_policy(DEFAULT, environ={})
    assert {target.rule for target in policy.targets} == T_RULES
    catalogue = CATALOGUE.read_text().split("<!-- served-by:start -->")[0]
    listed = set(re.findall(r"^\| (T-[A-Z-]+) \|", catalogue, re.M))
    assert listed == T_RULES


def test_the_policy_version_is_the_same_in_every_process() -> None:
    """Set order follows per-process string hashing; the version must not."""
    script = (
        "from pathlib import Path; from aftercare_sla.adapters.policy_file import load_policy;"
        f"print(load_policy(Path({str(DEFAULT)!r}), environ={{}}).version)"
    )
    versions = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in (1, 2, 3)
    }
    assert versions == {load_policy(DEFAULT, environ={}).version}


def test_the_policy_version_is_a_content_hash() -> None:
    text = DEFAULT.read_text()
    first, again = parse_policy(text, "a", {}), parse_policy(text, "b", {"X": "y"})
    assert first.version == again.version
    changed = parse_policy(text.replace("budget: 3m", "budget: 4m"), "c", {})
    assert changed.version != first.version


MINIMAL = """
targets:
  - rule: T-PHONE
    title: Phone request answered
    when: {channel: [phone]}
    start: RequestRaised
    stop: Acknowledged
    budget: 3m
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("stop: Acknowledged", "stop: Acknowledgd"),
            "targets[0] (T-PHONE): unknown event 'Acknowledgd'",
        ),
        (("budget: 3m", "budget: -3m"), "targets[0].budget: Value error, budget '-3m' is negative"),
        (("budget: 3m", "budget: 0m"), "budget must be positive"),
        (
            ("budget: 3m", "budget: 3m\n    clock: office_hours"),
            "targets[0].clock: Input should be '24x7' or 'working_days'",
        ),
        (
            ("budget: 3m", "budget: 3h\n    clock: working_days"),
            "a working_days budget is a whole number of days",
        ),
        (("[phone]", "[fax]"), "targets[0] (T-PHONE): unknown channel ['fax']"),
        (
            ("stop: Acknowledged", "stop: Acknowledged.plann"),
            "event Acknowledged has no field 'plann'",
        ),
        (("budget: 3m", "budget: soon"), "is not a duration"),
        (("rule: T-PHONE", "rule: phone"), "targets[0].rule: String should match pattern"),
    ],
)
def test_an_invalid_entry_is_refused_naming_entry_and_reason(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy(MINIMAL.replace(*change), "policy.yaml", {})
    assert any(message in problem for problem in refused.value.problems), refused.value.problems
    assert str(refused.value).startswith("policy.yaml: ")


def test_overlapping_entries_of_one_rule_are_ambiguous() -> None:
    overlapping = (
        MINIMAL
        + """
  - rule: T-PHONE
    title: Phone request answered (urgent)
    when: {urgent: true}
    start: RequestRaised
    stop: Acknowledged
    budget: 1m
"""
    )
    with pytest.raises(PolicyError, match=r"targets\[0\] and targets\[1\] \(T-PHONE\) both apply"):
        parse_policy(overlapping, "policy.yaml", {})
    disjoint = overlapping.replace("when: {urgent: true}", "when: {channel: [email]}")
    assert len(parse_policy(disjoint, "policy.yaml", {}).targets) == 2


def test_unreadable_or_malformed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read it"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("targets: [", "p.yaml", {})
    with pytest.raises(PolicyError, match="not a date"):
        parse_policy("version: 2026-13-01\ntargets: []\n", "p.yaml", {})
    with pytest.raises(PolicyError, match="unknown group 'nobody'"):
        parse_policy(MINIMAL + "    page: [nobody]\npaging:\n  oncall: []\n", "p.yaml", {})


def test_paging_reads_secrets_from_the_environment() -> None:
    policy = load_policy(DEFAULT, environ={"AFTERCARE_ONCALL_WEBHOOK_URL": "http://hook"})
    webhook = policy.paging["oncall"][0]
    assert webhook == {"type": "webhook", "url": "http://hook", "secret": ""}


ONCALL = """
paging:
  oncall: []
oncall:
  people:
    li: {name: Li Lei, dingtalk: "${LI_DINGTALK}"}
  schedules:
    engineers:
      layers:
        - {every: weekly, start: 2026-03-02, time_zone: Asia/Shanghai, participants: [li, wu]}
        - {every: fortnightly, start: 2026-03-02, participants: [li]}
  escalation:
    oncall:
      levels:
        - notify: [{schedule: engineers}]
          wait: 10s
    sales:
      levels: [{notify: [{person: boss}]}]
"""


def test_every_problem_of_the_oncall_section_is_listed_at_start_up() -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy(MINIMAL + ONCALL, "p.yaml", {})
    problems = refused.value.problems
    assert any("oncall.schedules.engineers.layers[1].every" in p for p in problems)
    assert any("oncall.escalation.oncall.levels[0]" in p and "1m and 1d" in p for p in problems)
    fixed = ONCALL.replace("fortnightly", "daily").replace("10s", "10m")
    with pytest.raises(PolicyError) as refused:
        parse_policy(MINIMAL + fixed, "p.yaml", {"LI_DINGTALK": "li-001"})
    assert refused.value.problems == [
        "oncall.schedules.engineers: unknown person 'wu'",
        "oncall.escalation.sales: no paging group 'sales' (known: ['oncall'])",
        "oncall.escalation.sales.levels[0]: unknown person 'boss'",
    ]
    valid = fixed.replace("participants: [li, wu]", "participants: [li]").replace(
        "    sales:\n      levels: [{notify: [{person: boss}]}]\n", ""
    )
    policy = parse_policy(MINIMAL + valid, "p.yaml", {"LI_DINGTALK": "li-001"})
    assert policy.oncall.people["li"].dingtalk == "li-001"  # read from the environment
    assert policy.version == parse_policy(MINIMAL, "p.yaml", {}).version  # rotas move no clock


def test_the_readme_oncall_example_is_a_valid_policy() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(oncall:\n.*?)```", readme, re.DOTALL)
    assert found, "README lost its on-call example"
    text = MINIMAL + "paging:\n  oncall: []\n" + found.group(1)
    policy = parse_policy(text, "README.md", {"LI_DINGTALK_ID": "li-ding"})
    engineers = policy.oncall.schedules["engineers"]
    assert policy.oncall.people["li"].dingtalk == "li-ding"
    assert [len(level.notify) for level in policy.oncall.escalation["oncall"].levels] == [1, 2]
    assert engineers.layers[0].every == "weekly"
    assert engineers.overrides[0].person == "zhao"
