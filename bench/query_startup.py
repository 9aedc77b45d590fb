"""Benchmark: a small `lake query` against a bare DuckDB process over the same files.

Four sides, each a fresh process, alternated for several rounds:

- **`lake query`** as installed: every commit remembers its version's data files
  (``lake_glue.snapshot_files``), so it answers from them without loading the catalog;
- **`lake query` on the full path**: the remembered lists are removed first (as for a version
  nobody remembered), so it loads the catalog with pyiceberg and the resources;
- **the same without compiled bytecode**: Python is pointed at an empty bytecode cache
  (``-X pycache_prefix``), which is what every process paid before the Makefile compiled
  bytecode, because ``PYTHONDONTWRITEBYTECODE`` is set on these machines;
- **bare DuckDB**: ``read_parquet`` over the data files of the table's current snapshot,
  listed once beforehand (so it does no catalog work at all).

Needs a built lake: ``make run``'s, or the one ``bench/batch_to_query.py`` builds (``make bench``
runs it first and points ``LAKE_HOME`` there). Usage::

    .venv/bin/python bench/query_startup.py [--rounds 3] [--table sales.customers]

Goal: lake query <= 3x bare DuckDB.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from lake_platform.settings import catalog_uri

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, alternate, bench_parser, load_average, report, timed_process  # noqa: E402


def _files(table_name: str) -> list[str]:
    from lake_glue.tables import data_files, open_catalog

    database, name = table_name.split(".")
    table = open_catalog(catalog_uri("local")).load_table((database, name))
    return [f.removeprefix("file://") for f in data_files(table)]


def measure(rounds: int = 3, table: str = "sales.customers") -> list[Figure]:
    """Alternate the sides; return lake query (as installed, full path) vs bare DuckDB, and bytecode's effect."""
    sql = f"select count(*) from {table}"
    files = _files(table)
    bin_dir = Path(sys.executable).parent
    empty_cache = tempfile.mkdtemp(prefix="no_pyc_")
    env = dict(os.environ)
    cache = Path(catalog_uri("local").removeprefix("sqlite:///")).parent / "query-cache"

    def full_path(_: int) -> float:
        # A version nobody remembered (commit killed just after landing, cache cleared).
        shutil.rmtree(cache, ignore_errors=True)
        return timed_process([str(bin_dir / "lake"), "query", sql], env)

    sides = {
        "lake query": [str(bin_dir / "lake"), "query", sql],
        "no bytecode": [sys.executable, "-X", f"pycache_prefix={empty_cache}", "-m", "lake_platform.cli", "query", sql],
        "duckdb": [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.sql({f'select count(*) from read_parquet({files!r})'!r}).fetchall())",
        ],
    }
    timed_process(sides["lake query"], env)
    runs = {name: (lambda _, argv=argv: timed_process(argv, env)) for name, argv in sides.items()}

    def no_bytecode(_: int) -> float:
        shutil.rmtree(cache, ignore_errors=True)
        return timed_process(sides["no bytecode"], env)

    times = alternate({**runs, "full path": full_path, "no bytecode": no_bytecode}, rounds)
    return [
        Figure(
            f"lake query: {sql}",
            times["lake query"],
            times["duckdb"],
            "bare DuckDB process over the same files",
            goal=3.0,
            note="answers from the file lists the commits remembered: no catalog load, no Dagster import",
        ),
        Figure(
            "lake query, full path (no remembered file list)",
            times["full path"],
            times["duckdb"],
            "bare DuckDB process over the same files",
            goal=3.0,
            note="loads the catalog with pyiceberg and the resources (imports dagster)",
            why_not="this path runs only for a table version whose file list nobody remembered (a commit killed"
            " between landing and remembering, or a cleared cache; the next query remembers it). It imports"
            " pyiceberg and the resources (Dagster) and loads the catalog. Meeting it would take reading Iceberg"
            " manifests without pyiceberg (an Avro reader) and resources without Dagster.",
        ),
        Figure(
            "lake query, full path, without compiled bytecode",
            times["no bytecode"],
            times["full path"],
            "the same with the bytecode make install compiles",
            goal=1.0,
            at_least=True,
            note="why make install compiles bytecode (PYTHONDONTWRITEBYTECODE is set here)",
        ),
    ]


def main() -> None:
    """Print the figures."""
    parser = bench_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--table", default="sales.customers")
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.rounds, args.table)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
