"""``docs/flows.md`` is the flow table itself, written out: each kind's path (one walk
per kind, as the tests walk it) and the commands each state allows for that kind.
Regenerate with ``python -m tests.contract.test_flow_doc``."""

from __future__ import annotations

from pathlib import Path

from aftercare_ticket.domain.machine import paths
from aftercare_ticket.domain.vocabulary import Kind, State
from aftercare_ticket.examples import WALKS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "flows.md"

INTRO = """# Flows: each kind of case on its own path

Generated from the ticket's transition table (`services/ticket/aftercare_ticket/domain/machine.py`),
the one place that says which command a case of each kind accepts in each state; a test
keeps this page equal to it (`python -m tests.contract.test_flow_doc` rewrites it).
Commands are the API's `POST /tickets/{id}/<command>`.

States: `raised → acknowledged → (diagnosed) → resolved → closed`, with
`waiting_on_customer` and `waiting_on_parts` (each returns to the state it left),
`withdrawn` and `declined`. A support, repair or emergency case is diagnosed before it is
resolved (F-3, F-5); a return, exchange, refund, complaint, spare-part order or training
request is resolved from its handling, without a diagnosis it does not have.
"""


def _dashed(names: list[str]) -> str:
    return ", ".join(f"`{name.replace('_', '-')}`" for name in names) or "—"


def render() -> str:
    table = paths()
    lines = [INTRO, "## Paths, as walked end to end", ""]
    lines += ["| case | path |", "|---|---|"]
    for walk, (_, steps) in WALKS.items():
        lines.append(f"| {walk} | raise → " + " → ".join(s.replace("_", "-") for s in steps) + " |")
    for kind in Kind:
        lines += ["", f"## {kind.value}", "", "| state | allowed commands |", "|---|---|"]
        for state in State:
            if state is State.NEW:
                continue
            lines.append(f"| `{state.value}` | {_dashed(table[kind][state])} |")
    return "\n".join(lines) + "\n"


def test_the_flow_page_is_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run: python -m tests.contract.test_flow_doc"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
