"""Run every section, print the table, write ``bench/results.json``.

``BENCH_SECONDS`` (30) is the length of each timed run, ``BENCH_SCALE`` (1.0) scales the
data sizes (100,000 open tickets, 1,000,000 events to replay and as many for the reporting
projection, 1,000-event ticket), ``BENCH_CLIENTS`` (32) the concurrent clients,
``BENCH_WORKERS`` (2) the API processes, ``BENCH_REPORTING_MEMBERS`` (2) the reporting
service's members in its consumer group, ``BENCH_SLA_BUDGET``
(15) the seconds before the SLA probes' deadlines, ``BENCH_PG_DSN`` the PostgreSQL
server (a database is created for the run and dropped after), ``BENCH_RESULTS`` where the
JSON goes (``bench/results.json``).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.commands import database_limit, walk_tickets
from bench.console import console_pages
from bench.env import Environment, Options
from bench.peers.run import peers
from bench.replay import replay
from bench.reporting import reporting
from bench.scaling import scaling, scaling_rows
from bench.sla import sla_detection
from bench.time_travel import time_travel

RESULTS = Path(os.environ.get("BENCH_RESULTS", Path(__file__).with_name("results.json")))


def line(label: str, value: Any, unit: str = "", target: str = "") -> str:
    shown = "-" if value is None else value
    return f"  {label:<44} {shown!s:>12} {unit:<10} {target}"


def at_most(value: Any, bound: float) -> str:
    """The target ``≤ bound`` with whether ``value`` met it."""
    met = isinstance(value, int | float) and value <= bound
    return f"≤ {bound:g}  {'met' if met else 'NOT MET'}"


def at_least(value: Any, bound: float) -> str:
    met = isinstance(value, int | float) and value >= bound
    return f"≥ {bound:g}  {'met' if met else 'NOT MET'}"


def report(results: dict[str, Any]) -> str:
    c, s, r, t = results["commands"], results["sla"], results["replay"], results["time_travel"]
    g, p = results["reporting"], results["console"]
    rows = [
        f"Aftercare benchmark  ({results['machine']})",
        f"  seconds={results['options']['seconds']} scale={results['options']['scale']} "
        f"clients={results['options']['clients']} api workers={results['options']['workers']}",
        "",
        "1. Commands over HTTP (raise → acknowledge → diagnose → resolve → revisit)",
        line("commands/s", c["commands_per_s"]),
        line(
            "latency p50 / p95 / p99",
            f"{c['p50_ms']} / {c['p95_ms']} / {c['p99_ms']}",
            "ms",
            "p99 " + at_most(c["p99_ms"], 50),
        ),
        line("errors", c["errors"], "", "must be 0: " + ("met" if c["errors"] == 0 else "NOT MET")),
        line(
            "server CPU per command",
            c["server_cpu_ms_per_command"],
            "ms",
            at_most(c["server_cpu_ms_per_command"], 1.0),
        ),
        line(
            "CPU server / client / postgres",
            f"{c['server_cpu_percent']} / {c['client_cpu_percent']} / {c['postgres_cpu_percent']}",
            "% core",
        ),
        "2. The limit: direct asyncpg appends (version check + event + outbox row)",
        line("appends/s", results["limit"]["limit_appends_per_s"]),
        line(
            "ratio service / limit",
            results["ratio"],
            "",
            at_least(results["ratio"], 0.5) + " (stretch 0.7)",
        ),
        "3. Publish lag (commit → broker ack) during 1",
        line(
            "p50 / p99",
            f"{c['publish_lag_p50_ms']} / {c['publish_lag_p99_ms']}",
            "ms",
            "p99 " + at_most(c["publish_lag_p99_ms"], 100),
        ),
        f"4. SLA detection with {s['open_tickets']} open tickets",
        line(
            "deadline → SlaBreached on the topic p50 / p99",
            f"{s['detect_p50_ms']} / {s['detect_p99_ms']}",
            "ms",
            "p99 " + at_most(s["detect_p99_ms"], 500),
        ),
        line("watcher peak RSS", s["watcher_rss_mb"], "MB", at_most(s["watcher_rss_mb"], 150)),
        line("restarted watcher catches up", s["catch_up_s"], "s"),
        f"5. Replay: rebuild the read model from {r['events']} events",
        line("events/s", r["events_per_s"], "", at_least(r["events_per_s"], 25000)),
        line("peak RSS", r["peak_rss_mb"], "MB"),
        f"6. Time travel on a ticket with {t['events']} events",
        line(
            "GET ?as_of= p50 / p99",
            f"{t['p50_ms']} / {t['p99_ms']}",
            "ms",
            "p99 " + at_most(t["p99_ms"], 10),
        ),
        line(
            "first read by a new process",
            t["first_read_ms"],
            "ms",
            at_most(t["first_read_ms"], 10),
        ),
        line("first read ever (no snapshot anywhere)", t["first_read_ever_ms"], "ms"),
        f"7. Reporting: the projection from an empty read model over {g['events']} events",
        line(
            f"catch-up events/s, {g['members']} members (first fact to last)",
            g["events_per_s"],
            "",
            at_least(g["events_per_s"], 25000),
        ),
        line("  start and group join", g["start_s"], "s"),
        line("  events/s including the start", g["events_per_s_with_start"], ""),
        line(
            f"a quarter's KPIs ({g['quarter_cases']} cases), first",
            g["quarter_kpis_first_ms"],
            "ms",
        ),
        line(
            "  asked again p50 / p99",
            f"{g['quarter_kpis_p50_ms']} / {g['quarter_kpis_p99_ms']}",
            "ms",
            "p99 " + at_most(g["quarter_kpis_p99_ms"], 1000),
        ),
        line(
            "quarterly report (HTML + PDF + XLSX + CSV)",
            g["report_s"],
            "s",
            at_most(g["report_s"], 30),
        ),
        f"8. Console pages, server time, with {p['open_tickets']} open tickets",
        *(
            line(
                f"{name} p50 / p99",
                f"{p[key]['p50_ms']} / {p[key]['p99_ms']}",
                "ms",
                "p99 " + at_most(p[key]["p99_ms"], 200),
            )
            for name, key in (
                ("queue in deadline order", "queue"),
                ("queue filtered (ids ordered by the watcher)", "queue_filtered"),
                ("ticket page", "ticket_page"),
                ("customer status page", "status_page"),
            )
        ),
        *peer_rows(results),
        *scaling_rows(results["scaling"]),
    ]
    return "\n".join(rows)


def peer_rows(results: dict[str, Any]) -> list[str]:
    """Section 9: each peer's figures and Aftercare's ratio to it, against the targets."""
    aftercare = results["commands"]["commands_per_s"]
    rows = [f"9. Peers: the same walk, {results['options']['clients']} clients, same PostgreSQL"]
    targets = {
        "eventsourcing": ("eventsourcing 9.5, threads", 3.0),
        "crud": ("CRUD over HTTP", 1.0),
    }
    for key, (name, target) in targets.items():
        peer = results["peers"][key]
        if peer.get("commands_per_s") is None:
            rows.append(line(f"{name}: not measured", peer.get("error", "")[-60:]))
            continue
        rows += [
            line(f"{name}: commands/s", peer["commands_per_s"]),
            line("  latency p50 / p99", f"{peer['p50_ms']} / {peer['p99_ms']}", "ms"),
            line("  CPU per command", peer["cpu_ms_per_command"], "ms"),
            line(
                "  Aftercare / peer, commands/s",
                round(aftercare / peer["commands_per_s"], 2),
                "",
                at_least(aftercare / peer["commands_per_s"], target),
            ),
        ]
    return rows


async def run(options: Options) -> dict[str, Any]:
    environment = Environment(options)
    await environment.start()
    try:
        started = time.monotonic()
        commands = await walk_tickets(environment)
        limit = await database_limit(environment)
        with tempfile.TemporaryDirectory() as folder:
            sla = await sla_detection(environment, Path(folder))
        replayed = await replay(environment)
        travelled = await time_travel(environment)
        reported = await reporting(environment)
        pages = await console_pages(environment)
        peered = await peers(environment)
        with tempfile.TemporaryDirectory() as folder:
            scaled = await scaling(environment, Path(folder), sla)
    finally:
        await environment.close()
    ratio = (
        commands["commands_per_s"] / limit["limit_appends_per_s"]
        if limit["limit_appends_per_s"]
        else None
    )
    return {
        "machine": (
            f"{platform.machine()}, {psutil.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "options": {
            "seconds": options.seconds,
            "scale": options.scale,
            "clients": options.clients,
            "workers": options.workers,
        },
        "commands": commands,
        "limit": limit,
        "sla": sla,
        "replay": replayed,
        "time_travel": travelled,
        "reporting": reported,
        "console": pages,
        "peers": peered,
        "scaling": scaled,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "run_seconds": round(time.monotonic() - started, 1),
        # The flat figures the issue names:
        "commands_per_s": commands["commands_per_s"],
        "limit_appends_per_s": limit["limit_appends_per_s"],
        "p50_ms": commands["p50_ms"],
        "p99_ms": commands["p99_ms"],
        "errors": commands["errors"],
        "publish_lag_p99_ms": commands["publish_lag_p99_ms"],
        "sla_detect_p99_ms": sla["detect_p99_ms"],
        "watcher_rss_mb": sla["watcher_rss_mb"],
        "replay_events_per_s": replayed["events_per_s"],
        "as_of_p99_ms": travelled["p99_ms"],
        "reporting_events_per_s": reported["events_per_s"],
        "quarter_kpis_p99_ms": reported["quarter_kpis_p99_ms"],
        "quarterly_report_s": reported["report_s"],
        "console_queue_p99_ms": pages["queue"]["p99_ms"],
        "console_ticket_p99_ms": pages["ticket_page"]["p99_ms"],
        "server_cpu_ms_per_command": commands["server_cpu_ms_per_command"],
        "eventsourcing_peer_commands_per_s": peered["eventsourcing"]["commands_per_s"],
        "crud_peer_commands_per_s": peered["crud"]["commands_per_s"],
        "ratio_to_eventsourcing": _ratio(commands, peered["eventsourcing"]),
        "ratio_to_crud": _ratio(commands, peered["crud"]),
        "as_of_first_read_ms": travelled["first_read_ms"],
        **{
            f"commands_per_s_{row['api_processes']}_api_processes": row["commands_per_s"]
            for row in scaled["api"]
        },
        **{
            f"sla_detect_p99_ms_{row['open_timers']}_open_timers": row["detect_p99_ms"]
            for row in scaled["sla"]
        },
    }


def _ratio(commands: dict[str, Any], peer: dict[str, Any]) -> float | None:
    if not peer.get("commands_per_s"):
        return None
    return round(float(commands["commands_per_s"]) / float(peer["commands_per_s"]), 2)


def main() -> int:
    results = asyncio.run(run(Options()))
    print(report(results), flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS}")
    return 0 if results["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
