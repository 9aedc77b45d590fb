"""Benchmark: loading the code location with many tables against ``import dagster`` alone.

A generated config folder holds ``--tables`` ingest tables (in configs of 100, each with a cron)
and one prepare target per table (alternating append, overwrite and upsert). Two sides, each a
fresh process, alternated for several rounds:

- **A, definitions load**: import ``lake_platform.definitions`` with ``LAKE_CONFIG_DIR`` pointing
  at the generated folder, and resolve the repository (what a code server does on load);
- **B, ``import dagster``**: the floor every Dagster code location pays.

Usage::

    .venv/bin/python bench/definitions_scale.py [--tables 200 1000] [--rounds 3]

Goal: A <= 2x B. One figure per size, with the CPU of one load split by part (raw, source and
target assets, checks, per-table jobs and schedules, the repository's resolution).
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
# One load, timed by part (CPU seconds, so that a busy machine moves the split less): each
# builder the factory and the definitions call is wrapped with a timer.
PHASES = """
import json, time
from collections import defaultdict
t0 = time.process_time()
import dagster as dg
t1 = time.process_time()
import lake_platform.assets.factory as factory
import lake_platform.definitions as d
t2 = time.process_time()
spent = defaultdict(float)

def timed(module, name, part):
    inner = getattr(module, name)
    def run(*args, **kwargs):
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[part] += time.process_time() - started
    setattr(module, name, run)

for name, part in [("build_raw", "raw assets"), ("build_source", "source assets"), ("build_target", "target assets"),
                   ("build_straggler_check", "checks"), ("build_primary_key_check", "checks")]:
    timed(factory, name, part)
timed(dg, "define_asset_job", "per-table jobs")
for name, part in [("load_config_dir", "configs"), ("build_schedules", "per-table schedules")]:
    timed(d, name, part)
defs = d.defs()
t3 = time.process_time()
defs.get_repository_def()
t4 = time.process_time()
print(json.dumps({"import dagster": t1 - t0, "import lake_platform": t2 - t1, "build": t3 - t2, **spent,
                  "repository (jobs resolved, resources bound, asset graph)": t4 - t3}))
"""


def _phases(env: dict) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PHASES], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _breakdown(phases: dict[str, float]) -> str:
    total = phases["build"] + phases["repository (jobs resolved, resources bound, asset graph)"]
    parts = [k for k in phases if k not in ("import dagster", "import lake_platform", "build")]
    return ", ".join(f"{k} {phases[k]:.2f} s ({phases[k] / total:.0%})" for k in parts)


def measure_one(tables: int, rounds: int) -> Figure:
    """Time both sides for one deployment size and return its figure."""
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
    phases = _phases(env)
    load = phases["build"] + phases["repository (jobs resolved, resources bound, asset graph)"]
    cpu = phases["import dagster"] + phases["import lake_platform"] + load
    ops = 5 * tables  # raw, source, target, and a check on each of raw and (keyed) target
    return Figure(
        f"definitions load, {tables:,} ingest tables + targets",
        times["definitions"],
        times["import dagster"],
        "import dagster alone",
        goal=2.0,
        note=f"CPU of one load {cpu:.1f} s vs import dagster {phases['import dagster']:.1f} s; by part:"
        f" {_breakdown(phases)}",
        details=phases,
        why_not=f"building and resolving the definitions takes {load:.1f} CPU s for {ops:,} ops"
        f" ({load / ops * 1000:.1f} ms each; raw, source and target assets and two checks per table), on top of"
        " import dagster. Each op is"
        " Dagster's @asset/@asset_check construction (signature inspection, resource and type resolution); the"
        " configs, partitions, per-table jobs and schedules are a few percent. Meeting 2x would take one"
        " multi_asset per config and layer instead of one @asset per table, which needs one partitions definition"
        " shared by a config's tables (batch partitions are per table today, so that changes every partition key).",
    )


def measure(tables: list[int] | int = 1000, rounds: int = 3) -> list[Figure]:
    """One figure per deployment size (1,000 tables is the issue's goal; 200 the fallback it names)."""
    return [measure_one(n, rounds) for n in ([tables] if isinstance(tables, int) else tables)]


def main() -> None:
    """Print the figure."""
    parser = bench_parser(__doc__)
    parser.add_argument("--tables", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.tables, args.rounds)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
