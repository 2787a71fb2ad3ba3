"""Section 10: figures to size a deployment by, on this machine.

Commands/s with 1, 2 and 4 API processes (the same walk and clients as section 1, each
run half as long), and the SLA watcher's detection delay with 10,000, 100,000 and
1,000,000 open timers in its tables (100,000 is section 4's run; the other two are
measured here with a fifth of its probes and no restart).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bench.commands import walk_tickets
from bench.env import Environment
from bench.sla import detection

API_PROCESSES = (1, 2, 4)
OPEN_TIMERS = (10_000, 1_000_000)


async def scaling(
    environment: Environment, folder: Path, section_4: dict[str, Any]
) -> dict[str, Any]:
    options = environment.options
    api = []
    for processes in API_PROCESSES:
        run = dataclasses.replace(options, workers=processes, seconds=options.seconds / 2)
        walked = await walk_tickets(environment, run)
        api.append(
            {
                "api_processes": processes,
                "commands_per_s": walked["commands_per_s"],
                "p99_ms": walked["p99_ms"],
                "server_cpu_ms_per_command": walked["server_cpu_ms_per_command"],
                "errors": walked["errors"],
                "error_samples": walked["error_samples"],
            }
        )
    probes = options.scaled(200, least=10)
    sla = [_timers_row(section_4)]
    for timers in OPEN_TIMERS:
        measured = await detection(
            environment, folder, options.scaled(timers, least=50), probes, restart=False
        )
        sla.append(_timers_row(measured))
    sla.sort(key=lambda row: int(row["open_timers"]))
    return {"api": api, "sla": sla}


def _timers_row(measured: dict[str, Any]) -> dict[str, Any]:
    return {
        "open_timers": measured["open_tickets"],
        "seed_s": measured["seed_s"],
        "probes": measured["probes"],
        "breaches_seen": measured["breaches_seen"],
        "detect_p50_ms": measured["detect_p50_ms"],
        "detect_p99_ms": measured["detect_p99_ms"],
        "watcher_rss_mb": measured["watcher_rss_mb"],
    }


def scaling_rows(scaled: dict[str, Any]) -> list[str]:
    rows = [
        "10. Scaling (to size a deployment by)",
        "  API processes   commands/s   p99 ms   CPU ms/command   errors",
    ]
    rows += [
        f"  {r['api_processes']:>13}   {r['commands_per_s']:>10}   {r['p99_ms']:>6}   "
        f"{r['server_cpu_ms_per_command']:>14}   {r['errors']:>6}"
        for r in scaled["api"]
    ]
    rows.append("  open timers   deadline → breach p50 / p99 ms   watcher RSS MB")
    for r in scaled["sla"]:
        delay = f"{r['detect_p50_ms']} / {r['detect_p99_ms']}"
        rows.append(f"  {r['open_timers']:>11}   {delay:>30}   {r['watcher_rss_mb']:>14}")
    return rows
