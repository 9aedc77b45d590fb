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
import subprocess
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
PHASES = """
import json, time
t0 = time.perf_counter()
import lake_platform.definitions as d
from lake_glue.config import load_config_dir
from lake_platform.settings import config_dir
t1 = time.perf_counter()
load_config_dir(config_dir())
t2 = time.perf_counter()
defs = d.defs()
t3 = time.perf_counter()
defs.get_repository_def()
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "configs": t2 - t1, "build": t3 - t2, "repository": t4 - t3}))
"""


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
    phases = json.loads(
        subprocess.run([sys.executable, "-c", PHASES], env=env, check=True, capture_output=True, text=True).stdout
    )
    assets = 3 * tables
    return [
        Figure(
            f"definitions load, {tables:,} ingest tables + targets",
            times["definitions"],
            times["import dagster"],
            "import dagster alone",
            goal=2.0,
            why_not=f"one load measured by phase: imports {phases['import']:.1f} s, building the {assets:,} asset"
            f" definitions {phases['build']:.1f} s ({phases['build'] / assets * 1000:.1f} ms each; the configs"
            f" themselves parse in {phases['configs']:.2f} s, so nearly all of it is Dagster's @asset and op"
            f" construction), the repository {phases['repository']:.1f} s. Meeting it would take one multi_asset"
            " per config and layer instead of one @asset per table, which needs one partitions definition shared"
            " by a config's tables (batch partitions are per table today, so that changes every partition key).",
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
