"""``make bench`` works end to end and reports every figure (its speed is not judged
here: figures come from the benchmark, never from timed assertions in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "commands_per_s",
    "limit_appends_per_s",
    "ratio",
    "p50_ms",
    "p99_ms",
    "errors",
    "publish_lag_p99_ms",
    "sla_detect_p99_ms",
    "watcher_rss_mb",
    "replay_events_per_s",
    "as_of_p99_ms",
    "reporting_events_per_s",
    "quarter_kpis_p99_ms",
    "quarterly_report_s",
    "console_queue_p99_ms",
    "console_ticket_p99_ms",
    "server_cpu_ms_per_command",
    "eventsourcing_peer_commands_per_s",
    "crud_peer_commands_per_s",
    "ratio_to_eventsourcing",
    "ratio_to_crud",
    "as_of_first_read_ms",
    "commands_per_s_1_api_processes",
    "commands_per_s_2_api_processes",
    "commands_per_s_4_api_processes",
}


def test_a_small_benchmark_run_reports_every_section(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env={
            **os.environ,
            "BENCH_SECONDS": "2",
            "BENCH_SCALE": "0.005",
            "BENCH_CLIENTS": "4",
            "BENCH_SLA_BUDGET": "3",
            "BENCH_RESULTS": str(results),
        },
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for heading in (
        "1. Commands over HTTP",
        "2. The limit",
        "3. Publish lag",
        "4. SLA detection",
        "5. Replay",
        "6. Time travel",
        "7. Reporting",
        "8. Console pages",
        "9. Peers",
        "10. Scaling",
        "API processes   commands/s",
        "open timers   deadline → breach",
        "eventsourcing 9.5, threads: commands/s",
        "CRUD over HTTP: commands/s",
        "Aftercare / peer, commands/s",
        "ratio service / limit",
    ):
        assert heading in run.stdout
    figures = json.loads(results.read_text())
    assert set(figures) >= FIGURES
    assert figures["errors"] == 0
    for name in FIGURES - {"errors"}:
        assert isinstance(figures[name], int | float), (name, figures[name])
        assert figures[name] > 0, (name, figures[name])
    assert figures["commands"]["commands"] > 0
    assert figures["peers"]["crud"]["errors"] == 0
    assert figures["sla"]["breaches_seen"] == figures["sla"]["probes"]
    assert figures["sla"]["caught_up_breaches"] > 0
    scaled = figures["scaling"]
    assert [row["api_processes"] for row in scaled["api"]] == [1, 2, 4]
    assert all(row["commands_per_s"] > 0 for row in scaled["api"])
    assert all(isinstance(row["errors"], int) for row in scaled["api"])
    timers = [row["open_timers"] for row in scaled["sla"]]
    assert len(timers) == 3
    assert timers == sorted(timers)
    assert all(row["breaches_seen"] == row["probes"] for row in scaled["sla"])
    targeted = [row for row in run.stdout.splitlines() if " ≤ " in row or " ≥ " in row]
    assert len(targeted) >= 18, targeted
    assert all(" met" in row or " NOT MET" in row for row in targeted), targeted
