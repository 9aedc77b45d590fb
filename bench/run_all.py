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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, load_average, print_figures  # noqa: E402

BENCH = Path(__file__).resolve().parent


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
    ]


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
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
