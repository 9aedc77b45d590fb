"""``make bench``: every benchmark in its own process, one table of figures against the goals.

Each benchmark alternates its sides over several rounds in one run and reports min and median;
this prints them together with the load average at the start and the end. ``--large`` runs the
large sizes (minutes to tens of minutes each).

Usage::

    .venv/bin/python bench/run_all.py [--large] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, load_average, print_figures  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def plan(large: bool, home: Path) -> list[tuple[str, list[str], dict]]:
    """(name, arguments, extra environment) of each benchmark, in the order they run."""
    lake = {"LAKE_HOME": str(home / "lake"), "DAGSTER_HOME": str(home / "lake" / "dagster"), "LAKE_ENV": "local"}
    return [
        ("ingest_throughput", ["--rows", "3000000" if large else "300000"], {}),
        ("batch_to_query", ["--mb", "10", "--home", str(home)], {}),
        ("query_startup", [], lake),
        ("definitions_scale", ["--tables", "200", "1000"], {}),
        ("incremental_cost", ["--batches", "100" if large else "30", "--rows", "20000" if large else "2000"], {}),
        ("sensor_catch_up", ["--objects", "100000" if large else "24000"], {}),
        ("ui_run_overhead", ["--runs", "3"], {}),
        # Read whole, a 1 GB file is one 1 GB row in the JVM: the heap must hold it and its copies
        # (6g ran out of heap on 2026-12-06; 12g did not).
        *([("large_file", ["--mb", "1000"], {"LAKE_SPARK_DRIVER_MEMORY": "12g"})] if large else []),
    ]


def measured_ingest_core_seconds_per_gb(figures: list[Figure]) -> float | None:
    """Core-seconds per GB of the lake's ingest in this run (its median over the CSV's size), if measured."""
    for f in figures:
        size = re.search(r"/ ([\d.,]+) MB CSV", f.measure)
        if f.measure.startswith("ingest throughput") and size:
            gb = float(size.group(1).replace(",", "")) / 1000
            return statistics.median(f.ours) * (os.cpu_count() or 1) / gb
    return None


def cost_table(figures: list[Figure]) -> str:
    """``lake cost`` for the shipped configs, with the ingest throughput measured in this run."""
    from lake_glue.config import load_config_dir
    from lake_platform.cost import Throughput, estimate, format_report

    measured = measured_ingest_core_seconds_per_gb(figures)
    throughput = Throughput(**({"ingest_core_seconds_per_gb": measured} if measured else {}))
    source = "measured in this run" if measured else "not measured in this run: the default"
    report = estimate(load_config_dir(REPO / "configs"), batch_gb=0.01, throughput=throughput)
    return f"Cost in AWS (issue 23 item 4), ingest throughput {source}:\n{format_report(report)}"


# Issue 23's goals, each found among the figures by the start of its measure.
GOALS = [
    ("1. a file larger than a task: split, every core, bounded memory", ("large file",)),
    ("2. fidelity: ingest >= 0.7x Spark's own CSV reader", ("fidelity", "vs Spark", "Spark's own CSV reader")),
    ("2. ingest >= 0.33x DuckDB COPY", ("ingest throughput",)),
    ("3. batch landed -> rows from lake query: <= 10 s and <= 20x DuckDB", ("batch landed",)),
    ("4. cost per config, batch and month in AWS", ()),
    ("5. definitions load <= 2x import dagster (1,000 tables, else 200)", ("definitions load",)),
]


def issue_goals(figures: list[Figure], failed: list[str]) -> str:
    """Each issue-23 goal: met, or not with the measured reason, or not measured by this run."""
    lines = ["Issue 23 goals:"]
    for goal, prefixes in GOALS:
        if not prefixes:
            lines.append(f"- {goal}: met (the table above; `lake cost` prints it for any config folder)")
            continue
        found = [f for f in figures if any(p in f.measure for p in prefixes)]
        if not found:
            lines.append(f"- {goal}: not measured by this run" + (f" (failed: {', '.join(failed)})" if failed else ""))
            continue
        for f in found:
            verdict = "met" if f.met else f"NOT met: {f.why_not or 'no reason recorded'}"
            lines.append(f"- {goal} [{f.measure}: {f.ratio:.2f}, goal {f.goal_text()}]: {verdict}")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmarks and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lake_bench_"))
    start, figures, failed = load_average(), [], []
    for name, arguments, extra in plan(args.large, home):
        if args.only and name not in args.only:
            continue
        began = time.monotonic()
        print(f"running {name} {' '.join(arguments)} ...", flush=True)
        env = {**os.environ, **extra}
        proc = subprocess.run(
            [sys.executable, str(BENCH / f"{name}.py"), "--json", *arguments], env=env, capture_output=True, text=True
        )
        found = [
            Figure(**json.loads(line[len("FIGURE ") :]))
            for line in proc.stdout.splitlines()
            if line.startswith("FIGURE ")
        ]
        if proc.returncode != 0 or not found:
            failed.append(name)
            print(f"  {name} failed (exit {proc.returncode}):\n" + "\n".join(proc.stderr.splitlines()[-15:]))
            continue
        figures += found
        print(f"  done in {time.monotonic() - began:.0f} s", flush=True)
    print()
    print(f"lake_platform benchmarks, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
    print_figures(figures, start, load_average())
    print()
    print(cost_table(figures))
    print()
    print(issue_goals(figures, failed))
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
