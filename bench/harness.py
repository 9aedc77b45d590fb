"""What every benchmark shares: alternate the sides over rounds, time fresh processes, and
report one figure per measure (ours, the alternative, their ratio, the goal, met or not).

``make bench`` (``bench/run_all.py``) collects the figures of every benchmark into one table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measure: our side against the alternative, and the goal it is held to.

    ``ratio`` is how the goal is expressed (ours / alternative unless ``ratio_of`` says
    otherwise); ``goal`` is the largest (or with ``at_least``, smallest) ratio that meets it.
    """

    measure: str
    ours: list[float]
    alternative: list[float]
    alternative_label: str
    goal: float
    at_least: bool = False
    ratio_of: str = "ours / alternative"
    unit: str = "s"
    note: str = ""
    # When the goal is not met: the measured reason and what meeting it would take.
    why_not: str = ""
    details: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        ours, alt = statistics.median(self.ours), statistics.median(self.alternative)
        if self.ratio_of == "alternative / ours":
            return alt / ours if ours else float("inf")
        # Every other wording ("ours / alternative", "batch #N / batch #1") is ours over theirs.
        return ours / alt if alt else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal if self.at_least else self.ratio <= self.goal

    def goal_text(self) -> str:
        return f"{self.ratio_of} {'>=' if self.at_least else '<='} {self.goal:g}"


def alternate(sides: dict[str, Callable[[int], float]], rounds: int) -> dict[str, list[float]]:
    """Run each side once per round, A then B (then C...), and collect the seconds of each."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for round_no in range(rounds):
        for name, side in sides.items():
            times[name].append(side(round_no))
    return times


def timed_process(argv: list[str], env: dict | None = None) -> float:
    """Seconds for a fresh process to run ``argv`` to completion (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def load_average() -> float:
    """The one-minute load average: a busy machine makes every figure suspect."""
    return os.getloadavg()[0]


def summary(values: list[float]) -> str:
    """``min / median`` of a side."""
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def print_figures(figures: list[Figure], load_start: float, load_end: float) -> None:
    """One row per figure: measure, ours, the alternative, the ratio, the goal and the verdict."""
    header = f"{'measure':<52} {'ours min/med':>14} {'alternative min/med':>20} {'ratio':>8}  {'goal':<28} met"
    print(header)
    print("-" * len(header))
    for f in figures:
        print(
            f"{f.measure:<52} {summary(f.ours):>14} {summary(f.alternative):>20} {f.ratio:>8.2f}"
            f"  {f.goal_text():<28} {'yes' if f.met else 'NO'}"
        )
        print(f"{'':<4}alternative: {f.alternative_label}" + (f"; {f.note}" if f.note else ""))
        if not f.met and f.why_not:
            print(textwrap.fill(f"not met: {f.why_not}", width=126, initial_indent=" " * 4, subsequent_indent=" " * 6))
    print(f"load average: {load_start:.2f} at the start, {load_end:.2f} at the end")


class SilentReporter:
    """A job reporter that keeps the benchmark's output to its figures (jobs print checks otherwise)."""

    extras: dict = {}

    def report_asset_materialization(self, *args, **kwargs) -> None:
        """Dropped."""

    def report_asset_check(self, *args, **kwargs) -> None:
        """Dropped."""

    class _Log:
        def info(self, msg) -> None:
            """Dropped."""

        warning = error = info

    log = _Log()


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A benchmark's argument parser, with ``--json`` for ``bench/run_all.py``."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    return p


def report(figures: list[Figure], load_start: float, as_json: bool) -> None:
    """Print the figures as the table, or as JSON lines for ``bench/run_all.py``."""
    if not as_json:
        print_figures(figures, load_start, load_average())
        return
    for f in figures:
        print("FIGURE " + json.dumps(dataclasses.asdict(f)))
    print("LOAD " + json.dumps([load_start, load_average()]))


def ingest_orders(spark, config: dict, batch_id: str, catalog: str) -> dict:
    """Ingest one landed batch of ``orders`` in-process on ``spark`` (buckets ``lake-raw``/``lake-source``)."""
    from lake_glue import ingest_job
    from lake_glue.args import IngestArgs

    args = IngestArgs(
        config_name=config["config_name"],
        table_name="orders",
        batch_id=batch_id,
        config_source="file://(the config is passed in)",
        catalog=catalog,
        raw_bucket="lake-raw",
        source_bucket="lake-source",
    )
    return ingest_job.run_ingest(spark, args, config, SilentReporter())
