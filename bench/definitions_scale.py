"""Benchmark: loading the code location with many tables against ``import dagster`` alone.

A generated config folder holds ``--tables`` ingest tables (in configs of 100, each with a cron)
and one prepare target per table (alternating append, overwrite and upsert). Two sides, each a
fresh process, alternated for several rounds:

- **A, definitions load**: import ``lake_platform.definitions`` with ``LAKE_CONFIG_DIR`` pointing
  at the generated folder, and resolve the repository (what a code server does on load);
- **B, ``import dagster``**: the floor every Dagster code location pays.

Usage::

    .venv/bin/python bench/definitions_scale.py [--tables 1000] [--rounds 3]

Goal: A <= 2x B.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, alternate, bench_parser, load_average, report, timed_process  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PER_CONFIG = 100


def generate_configs(folder: Path, tables: int) -> None:
    """Write ingest configs (100 tables each) and prepare configs with one target per table."""
    erp = json.loads((REPO / "configs" / "erp.json").read_text())
    sales = json.loads((REPO / "configs" / "sales.json").read_text())
    template = next(t for t in erp["table_config"] if t["table_name"] == "orders")
    targets = {t["write_mode"]: t for t in sales["table_config"] if t["source_table_name"] == "orders"}
    upsert = next(t for t in sales["table_config"] if t["write_mode"] == "upsert")
    modes = ["append", "overwrite", "upsert"]
    for n in range(0, tables, PER_CONFIG):
        name = f"src{n // PER_CONFIG:03d}"
        names = [f"t{i:04d}" for i in range(n, min(tables, n + PER_CONFIG))]
        ingest = {
            **erp,
            "config_name": name,
            "run_next": [f"cur{n // PER_CONFIG:03d}"],
            "source": {**erp["source"], "landing_prefix": f"landing/{name}"},
            "target": {**erp["target"], "database": name, "prefix": name},
            "table_config": [{**template, "table_name": t} for t in names],
        }
        prepare_tables = []
        for i, t in enumerate(names):
            mode = modes[i % 3]
            target = {**(targets.get(mode) or upsert), "table_name": t, "source_table_name": t, "write_mode": mode}
            if mode != "upsert":
                for key in ("bucket_by", "bucket_width", "num_buckets"):
                    target.pop(key, None)
                target["partitions"] = []
            prepare_tables.append(target)
        prepare = {
            **sales,
            "config_name": f"cur{n // PER_CONFIG:03d}",
            "source": {"config_name": name, "database": name},
            "target": {
                **sales["target"],
                "database": f"cur{n // PER_CONFIG:03d}",
                "prefix": f"cur{n // PER_CONFIG:03d}",
            },
            "table_config": prepare_tables,
        }
        prepare.pop("run_next", None)
        (folder / f"{name}.json").write_text(json.dumps(ingest))
        (folder / f"cur{n // PER_CONFIG:03d}.json").write_text(json.dumps(prepare))


LOAD = "import lake_platform.definitions as d; d.defs().get_repository_def()"


def measure(tables: int = 1000, rounds: int = 3) -> list[Figure]:
    """Time both sides and return the figure."""
    folder = Path(tempfile.mkdtemp(prefix="defs_bench_"))
    generate_configs(folder, tables)
    env = {**os.environ, "LAKE_CONFIG_DIR": str(folder), "LAKE_HOME": str(folder / "lake")}
    timed_process([sys.executable, "-c", LOAD], env)
    times = alternate(
        {
            "definitions": lambda _: timed_process([sys.executable, "-c", LOAD], env),
            "import dagster": lambda _: timed_process([sys.executable, "-c", "import dagster"], env),
        },
        rounds,
    )
    return [
        Figure(
            f"definitions load, {tables:,} ingest tables + targets",
            times["definitions"],
            times["import dagster"],
            "import dagster alone",
            goal=2.0,
        )
    ]


def main() -> None:
    """Print the figure."""
    parser = bench_parser(__doc__)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.tables, args.rounds)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
