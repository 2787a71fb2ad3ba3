"""``docs/rules.md`` is the project's own catalogue: every rule ID the code, the policy or a
test cites is in it, and its index of where each rule is served is current.

``python -m tests.contract.test_rule_catalogue`` rewrites the index."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "rules.md"
CITED_IN = ["src", "services", "deploy", "tests"]
SUFFIXES = {".py", ".yaml", ".j2"}
ID = re.compile(r"\b(?:[KF]-\d+|[TBMP]-[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\b(?!-\*)")
"""K-1, F-9, T-PHONE, B-TIME-ORDER…; not a family (``B-WARRANTY-*``) nor a ticket (T-42)."""
INDEX = re.compile(r"(<!-- served-by:start -->\n)(.*?)(<!-- served-by:end -->)", re.S)


def catalogued() -> list[str]:
    text = CATALOGUE.read_text(encoding="utf-8").split("<!-- served-by:start -->")[0]
    return [match.group(1) for match in re.finditer(r"^\| ([KFTBMP]-[A-Z0-9-]+) \|", text, re.M)]


def citations() -> dict[str, set[str]]:
    """Rule ID → the files that cite it (relative paths)."""
    found: dict[str, set[str]] = defaultdict(set)
    for folder in CITED_IN:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file() or "__pycache__" in path.parts:
                continue
            if path == Path(__file__).resolve():
                continue
            for rule in set(ID.findall(path.read_text(encoding="utf-8", errors="replace"))):
                found[rule].add(str(path.relative_to(ROOT)))
    return found


def index(rules: list[str], cited: dict[str, set[str]]) -> str:
    lines = ["| ID | code and policy | tests |", "|---|---|---|"]
    for rule in rules:
        files = sorted(cited.get(rule, set()))
        code = [f"`{f}`" for f in files if not f.startswith("tests/")]
        tests = [f"`{f}`" for f in files if f.startswith("tests/")]
        lines.append(f"| {rule} | {', '.join(code) or '—'} | {', '.join(tests) or '—'} |")
    return "\n".join(lines) + "\n"


def test_every_cited_rule_is_in_the_catalogue() -> None:
    known = set(catalogued())
    unknown = {rule: files for rule, files in citations().items() if rule not in known}
    assert not unknown, f"cited but not catalogued: {unknown}"


def test_the_catalogue_names_each_rule_once() -> None:
    rules = catalogued()
    assert len(rules) == len(set(rules))
    assert len(rules) >= 70


def test_the_index_of_where_rules_are_served_is_current() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    match = INDEX.search(text)
    assert match, "docs/rules.md lost its served-by markers"
    expected = index(catalogued(), citations())
    assert match.group(2) == expected, "run: python -m tests.contract.test_rule_catalogue"


if __name__ == "__main__":
    text = CATALOGUE.read_text(encoding="utf-8")
    fresh = index(catalogued(), citations())
    CATALOGUE.write_text(INDEX.sub(lambda m: m.group(1) + fresh + m.group(3), text))
    sys.exit(0)
