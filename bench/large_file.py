"""Benchmark: one large landed CSV ingested split into byte ranges against read whole, same run.

One generated ``erp.orders`` CSV (the rows of ``bench/ingest_throughput.py``) is ingested by
``run_ingest`` on one warm SparkSession (one uncounted run of each side first), alternately:

- **A, split**: ``source.options.split_bytes`` at ``--split-mb`` (default: a quarter of the
  file), so the survey task streams the file once (size, SHA-256, MD5, cut points) and each
  range is parsed by its own task (``lake_glue.formats.ranges``);
- **B, whole**: ``split_bytes`` above the file's size, and ranges not shared among the cores
  (``ranges.range_bytes`` bypassed): one ``binaryFile`` row, one task, as before ranges.

For each it prints the seconds, the tasks of the job's largest stage (how many cores the parse
can use), the survey's share, and the peak resident memory of the JVM (driver and executor in
local mode) and of the Python workers together, sampled every 50 ms from ``/proc``. The JVM's
heap, once grown, is not given back: the Python workers' peak is the figure that follows the
range size rather than the file size.

Usage::

    .venv/bin/python bench/large_file.py [--mb 1000] [--split-mb 128] [--rounds 1]
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from lake_platform.settings import ensure_java_environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, alternate, bench_parser, ingest_orders, load_average, report  # noqa: E402
from ingest_throughput import _generate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BYTES_PER_ROW = 72  # about, for the generated orders rows


class PeakRss:
    """Peak resident memory of this process's descendants, split into the JVM and Python workers."""

    def __init__(self):
        self.jvm = self.workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            jvm = workers = 0
            for name, rss in _descendants(os.getpid()).values():
                if "java" in name:
                    jvm += rss
                elif "python" in name:
                    workers += rss
            self.jvm, self.workers = max(self.jvm, jvm), max(self.workers, workers)


def _descendants(root: int) -> dict[int, tuple[str, int]]:
    """pid -> (command name, resident bytes) of every process below ``root``."""
    parents, info = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            pages = int(Path(f"/proc/{entry}/statm").read_text().split()[1])
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(rest[1])
        info[int(entry)] = (name, pages * os.sysconf("SC_PAGE_SIZE"))
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = info[pid]
                frontier.append(pid)
    return found


@contextlib.contextmanager
def _ranges_as_set(exactly: bool):
    """With ``exactly``, ranges are ``split_bytes`` as set, not shared among the cores
    (``ranges.range_bytes``): a ``split_bytes`` above the file's size then reads it whole."""
    from lake_glue.formats import ranges

    shared = ranges.range_bytes
    if exactly:
        ranges.range_bytes = lambda opts, batch_bytes, cores: opts.split_bytes
    try:
        yield
    finally:
        ranges.range_bytes = shared


def _tasks(spark, group: str) -> tuple[int, int]:
    """(tasks of the largest stage, stages) of the jobs run under ``group``."""
    tracker = spark.sparkContext.statusTracker()
    stages = [s for j in tracker.getJobIdsForGroup(group) for s in tracker.getJobInfo(j).stageIds]
    infos = [tracker.getStageInfo(s) for s in stages]
    return max((i.numTasks for i in infos if i), default=0), len(stages)


def measure(mb: int, split_mb: float | None, rounds: int) -> list[Figure]:
    """Ingest the file split and whole, alternately; return the time and memory figures."""
    root = Path(tempfile.mkdtemp(prefix="large_file_bench_"))
    ensure_java_environment()
    os.environ["LAKE_LOCAL_BUCKET_ROOT"] = str(root)
    os.environ["LAKE_LOCAL_BUCKETS"] = "lake-raw,lake-source"
    from lake_glue.spark import get_spark

    csv_path = root / "orders.csv"
    rows = mb * 1_000_000 // BYTES_PER_ROW
    _generate(csv_path, rows)
    size = csv_path.stat().st_size
    split_bytes = int(split_mb * 2**20) if split_mb else max(size // 4, 1024)
    spark = get_spark("large_file_bench", {"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    catalog = f"sqlite:///{root / 'catalog.sqlite'}"
    seen: dict[str, list[dict]] = {"split": [], "whole": []}
    runs = iter(range(1, 29))

    def side(name: str, setting: int):
        def run(round_no: int) -> float:
            config = json.loads((REPO / "configs" / "erp.json").read_text())
            config["source"]["options"]["split_bytes"] = setting
            batch = f"202601{next(runs):02d}T000000Z"
            folder = root / "lake-raw" / config["source"]["landing_prefix"] / "orders" / batch
            folder.mkdir(parents=True)
            os.link(csv_path, folder / "orders.csv")
            (folder / "_SUCCESS").write_bytes(b"")
            spark.sparkContext.setJobGroup(batch, name)
            with _ranges_as_set(name == "whole"), PeakRss() as peak:
                started = time.perf_counter()
                figures = ingest_orders(spark, config, batch, catalog)
                seconds = time.perf_counter() - started
            assert figures["source_rows"] == rows, figures
            widest, stages = _tasks(spark, batch)
            seen[name].append({"tasks": widest, "stages": stages, "jvm": peak.jvm, "workers": peak.workers})
            return seconds

        return run

    from lake_glue.formats.base import FormatOptions
    from lake_glue.formats.ranges import survey

    started = time.perf_counter()
    survey(str(csv_path), csv_path.as_uri(), FormatOptions(delimiter=";", split_bytes=split_bytes))
    survey_s = time.perf_counter() - started
    split_side, whole_side = side("split", split_bytes), side("whole", size + 1)
    split_side(0)  # warm-up, not counted: the JVM compiles the parse, cast and write paths once
    whole_side(0)
    seen["split"].clear()
    seen["whole"].clear()
    times = alternate({"split": split_side, "whole": whole_side}, rounds)
    spark.stop()
    split, whole = seen["split"][-1], seen["whole"][-1]
    mib = 2**20
    memory = (
        f"peak RSS split: JVM {split['jvm'] / mib:,.0f} MiB + Python workers {split['workers'] / mib:,.0f} MiB;"
        f" whole: JVM {whole['jvm'] / mib:,.0f} MiB + Python workers {whole['workers'] / mib:,.0f} MiB"
    )
    tasks = f"widest stage: split {split['tasks']} tasks, whole {whole['tasks']}"
    tasks += f"; the survey alone (SHA-256, MD5, cuts; one task) {survey_s:.1f} s = {size / 1e6 / survey_s:,.0f} MB/s"
    print(f"large file {size / 1e6:,.0f} MB, split_bytes {split_bytes / mib:,.1f} MiB; {tasks}; {memory}")
    return [
        Figure(
            f"large file, {size / 1e6:,.0f} MB CSV: split into {split_bytes / mib:,.0f} MiB ranges vs read whole",
            times["split"],
            times["whole"],
            "the same file as one binaryFile row, one task",
            goal=1.0,
            note=f"{tasks}; {memory}",
            why_not="the split path streams the file once more in the survey (size, SHA-256, MD5, cut points) and"
            " the ranges share the same 2 cores: with 2 cores and other load the parse cannot run much wider.",
            details={"split": seen["split"], "whole": seen["whole"], "split_bytes": split_bytes, "bytes": size},
        ),
        Figure(
            f"large file, {size / 1e6:,.0f} MB CSV: peak Python worker RSS, split vs whole",
            [s["workers"] / mib for s in seen["split"]],
            [s["workers"] / mib for s in seen["whole"]],
            "the same file read whole",
            goal=1.0,
            unit="MiB",
            note="the workers' memory follows split_bytes, not the file size; the JVM's is in the figure above",
            why_not="the ranges of one file run two at a time here (2 cores), each holding its range and outputs.",
        ),
    ]


def main() -> None:
    """Print the figures."""
    parser = bench_parser(__doc__)
    parser.add_argument("--mb", type=int, default=1000, help="size of the generated CSV, in MB")
    parser.add_argument("--split-mb", type=float, default=None, help="split_bytes in MiB (default: a quarter)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.mb, args.split_mb, args.rounds)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
