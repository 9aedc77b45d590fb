"""Benchmark: a small `lake query` against a bare DuckDB process over the same files.

Three sides, each a fresh process, alternated A, B, C for several rounds:

- **A, `lake query`** as installed (bytecode compiled by `make install`);
- **B, `lake query` without compiled bytecode**: Python is pointed at an empty bytecode cache
  (``-X pycache_prefix``), which is what every process paid before the Makefile compiled
  bytecode, because ``PYTHONDONTWRITEBYTECODE`` is set on these machines;
- **C, bare DuckDB**: ``read_parquet`` over the data files of the table's current snapshot,
  listed once beforehand (so C does no catalog work at all).

Needs a built lake (``make run``). Usage::

    .venv/bin/python bench/query_startup.py [--rounds 3] [--table sales.orders]

Prints min and median seconds per side, the ratios, and the goal (A <= 3x C).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _files(table_name: str) -> list[str]:
    from lake_glue.tables import data_files, open_catalog
    from lake_platform.settings import catalog_uri

    database, name = table_name.split(".")
    table = open_catalog(catalog_uri("local")).load_table((database, name))
    return [f.removeprefix("file://") for f in data_files(table)]


def _timed(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    """Alternate the three sides and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--table", default="sales.orders")
    args = parser.parse_args()

    sql = f"select count(*) from {args.table}"
    files = _files(args.table)
    bin_dir = Path(sys.executable).parent
    empty_cache = tempfile.mkdtemp(prefix="no_pyc_")
    env = dict(os.environ)
    sides = {
        "A lake query": [str(bin_dir / "lake"), "query", sql],
        "B lake query, no bytecode": [sys.executable, "-X", f"pycache_prefix={empty_cache}", "-m",
                                      "lake_platform.cli", "query", sql],
        "C bare DuckDB": [sys.executable, "-c",
                          f"import duckdb; print(duckdb.sql({f'select count(*) from read_parquet({files!r})'!r}).fetchall())"],
    }
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {k: [] for k in sides}
    _timed(sides["A lake query"], env)
    for _ in range(args.rounds):
        for name, argv in sides.items():
            times[name].append(_timed(argv, env))
    print(f"{sql}  ({args.rounds} rounds, alternated; load average {load:.2f} -> {os.getloadavg()[0]:.2f})")
    print(f"{'side':<28} {'min s':>7} {'median s':>9}")
    for name, values in times.items():
        print(f"{name:<28} {min(values):>7.2f} {statistics.median(values):>9.2f}")
    a, b, c = (statistics.median(times[k]) for k in sides)
    print(f"A / C = {a / c:.1f}x (goal <= 3x); B / A = {b / a:.1f}x (what compiling bytecode at install saves)")


if __name__ == "__main__":
    main()
