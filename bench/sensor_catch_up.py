"""Benchmark: the landing sensor's cold start over a full landing zone against one full listing.

S3 is a moto server on loopback, seeded with ``--objects`` landed keys (batches of three data
files and a ``_SUCCESS`` marker, spread over the three ``erp`` tables). Two sides, alternated:

- **A, sensor cold start**: sensor ticks (``catch_up`` with the sensor's defaults: 2,000 keys
  per pass, 20 s of passes per tick) from an empty cursor and a fresh SQLite registry, until
  every complete batch is registered. The figure is the sum of the ticks' durations (between
  ticks the daemon waits 30 s, which is reported as the number of ticks);
- **B, one full listing**: ``dagster_aws.s3.sensor.get_objects`` over the landing prefix, what
  the dagster-aws S3 sensor example does on every tick.

Also printed: the steady tick (10 new batches on top of the full zone) against the same listing.

Usage::

    .venv/bin/python bench/sensor_catch_up.py [--objects 100000] [--rounds 3]

Goal: A <= 3x B, with every pass within the per-pass key bound.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, alternate, bench_parser, load_average, report  # noqa: E402

REGION = "eu-west-1"
BUCKETS = {"raw_bucket": "bench-raw", "source_bucket": "bench-source", "target_bucket": "bench-target"}
TABLES = ("customers", "orders", "order_lines")
MAX_KEYS, CATCH_UP_SECONDS = 2000, 20.0


def _moto() -> str:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ[key] = value
    return f"http://127.0.0.1:{port}"


def _batch_ids(n: int, start_hour: int = 0) -> list[str]:
    from datetime import datetime, timedelta, timezone

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    return [f"{start + timedelta(hours=start_hour + i):%Y%m%dT%H%M%SZ}" for i in range(n)]


def _keys(batch_ids: list[str]) -> list[str]:
    return [
        f"landing/erp/{t}/{b}/{name}"
        for t in TABLES
        for b in batch_ids
        for name in ("part-0000.csv", "part-0001.csv", "part-0002.csv", "_SUCCESS")
    ]


def _seed(bucket: str, keys: list[str]) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    for key in keys:
        backend.put_object(bucket, key, b"x")


def measure(objects: int = 100_000, rounds: int = 3) -> list[Figure]:
    """Seed the zone, alternate both sides, and return the cold-start and steady-tick figures."""
    import boto3
    from dagster_aws.s3.sensor import get_objects

    from lake_platform.resources.object_store.aws import S3ObjectStore
    from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
    from lake_platform.sensors.landing import LandedTable, catch_up
    from lake_platform.sensors.landing_cursor import LandingCursor

    endpoint = _moto()
    client = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    for bucket in BUCKETS.values():
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    per_table = objects // (4 * len(TABLES))
    ids = _batch_ids(per_table)
    _seed(BUCKETS["raw_bucket"], _keys(ids))
    store = S3ObjectStore(region_name=REGION, endpoint_url=endpoint, **BUCKETS)
    tables = [LandedTable(f"erp.{t}", "landing/erp", t) for t in TABLES]
    work = Path(tempfile.mkdtemp(prefix="sensor_bench_"))
    ticks_of: list[int] = []
    cursors: list[LandingCursor] = []

    def cold_start(round_no: int) -> float:
        registry = SqlitePartitionRegistry(path=str(work / f"registry-{round_no}.sqlite"))
        cursor, spent, ticks, registered = LandingCursor(), 0.0, 0, 0
        while True:
            started = time.perf_counter()
            scan = catch_up(store, registry, tables, cursor, MAX_KEYS, CATCH_UP_SECONDS)
            spent += time.perf_counter() - started
            ticks += 1
            cursor = scan.cursor
            registered += sum(len(v) for v in scan.complete.values())
            if not scan.behind and not any(scan.complete.values()):
                break
        assert registered == per_table * len(TABLES), (registered, per_table * len(TABLES))
        ticks_of.append(ticks)
        cursors.append(cursor)
        return spent

    def full_listing(_: int) -> float:
        started = time.perf_counter()
        found = get_objects(BUCKETS["raw_bucket"], "landing/erp/", client=client)
        assert len(found) >= len(ids) * 4 * len(TABLES)
        return time.perf_counter() - started

    times = alternate({"cold start": cold_start, "full listing": full_listing}, rounds)
    figures = [
        Figure(
            f"landing sensor cold start, {objects:,} objects",
            times["cold start"],
            times["full listing"],
            "one full listing (dagster_aws get_objects)",
            goal=3.0,
            note=f"{per_table * len(TABLES):,} batches registered in {max(ticks_of)} ticks"
            f" of <= {CATCH_UP_SECONDS:.0f} s ({MAX_KEYS} keys per pass)",
        )
    ]

    new = _batch_ids(10, start_hour=per_table + 24)
    _seed(BUCKETS["raw_bucket"], _keys(new))
    registry = SqlitePartitionRegistry(path=str(work / "registry-0.sqlite"))

    def steady(_: int) -> float:
        started = time.perf_counter()
        scan = catch_up(store, registry, tables, cursors[-1], MAX_KEYS, CATCH_UP_SECONDS)
        assert not scan.behind
        return time.perf_counter() - started

    times = alternate({"steady": steady, "full listing": full_listing}, rounds)
    figures.append(
        Figure(
            f"landing sensor steady tick, {objects:,} objects + 10 batches",
            times["steady"],
            times["full listing"],
            "one full listing (dagster_aws get_objects)",
            goal=0.05,
            note="a steady tick lists only what is new",
        )
    )
    return figures


def main() -> None:
    """Print the figures."""
    parser = bench_parser(__doc__)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.objects, args.rounds)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
