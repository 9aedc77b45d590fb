"""A deterministic sample of on-premise ERP exports, written into the landing zone.

Three tables over several daily batches, as an ERP's export job would upload them:
- ``customers``: a full CSV snapshot every day (new customers, changed e-mails);
- ``orders``: ``;``-separated CSV with ``dd/MM/yyyy HH:mm:ss`` timestamps, carrying new orders
  and changes to earlier ones (so upsert matters), split over several files;
- ``order_lines``: JSON lines for the new orders.

A few records in each table are broken on purpose (unparsable values, a malformed line), and
one batch is still being uploaded (no ``_SUCCESS``). The generator also returns what a correct
pipeline must produce, so that ``lake demo`` and the tests can compare against it.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lake_platform.layout import SUCCESS_MARKER, batch_prefix
from lake_platform.resources.object_store.base import ObjectStore

SEED = 20260105
FIRST_BATCH = datetime(2026, 1, 5, 2, 0, 0)
COUNTRIES = ["ZA", "NL", "DE", "GB", "US", "KE", "NG", None]
STATUSES = ["NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
SKUS = [f"SKU-{n:04d}" for n in range(1, 61)]


@dataclass
class Expected:
    """What a correct pipeline produces from the generated sample."""

    landed_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    bad_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    complete_batches: dict[str, list[str]] = field(default_factory=dict)
    incomplete_batches: dict[str, list[str]] = field(default_factory=dict)
    target_rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, batch_id: str, landed: int, bad: int) -> None:
        """Record one complete batch of ``table``."""
        self.landed_rows.setdefault(table, {})[batch_id] = landed
        self.bad_rows.setdefault(table, {})[batch_id] = bad
        self.complete_batches.setdefault(table, []).append(batch_id)


def batch_ids(count: int) -> list[str]:
    """``count`` daily batch ids starting at the sample's first day."""
    return [(FIRST_BATCH + timedelta(days=i)).strftime("%Y%m%dT%H%M%SZ") for i in range(count)]


def _csv_text(rows: list[list], delimiter: str, header: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _dmy(ts: datetime) -> str:
    return ts.strftime("%d/%m/%Y %H:%M:%S")


def generate(store: ObjectStore, landing_prefix: str = "landing/erp", batches: int = 3) -> Expected:
    """Write the sample into ``store``'s raw bucket and return the expected outcome."""
    rng = random.Random(SEED)
    ids = batch_ids(batches + 1)
    complete_ids, in_flight = ids[:batches], ids[batches]
    expected = Expected()

    def put(table: str, batch_id: str, name: str, text: str) -> None:
        key = batch_prefix(landing_prefix, table, batch_id) + name
        store.put_bytes(store.raw_bucket, key, text.encode("utf-8"))

    def seal(table: str, batch_id: str) -> None:
        put(table, batch_id, SUCCESS_MARKER, "")

    customers: dict[int, list] = {}
    orders: dict[int, dict] = {}
    valid_order_ids: set[int] = set()
    valid_line_count = 0
    next_customer, next_order = 1, 1
    last_snapshot_valid = 0

    for n, batch_id in enumerate(complete_ids):
        day = FIRST_BATCH + timedelta(days=n)
        for _ in range(40 if n == 0 else 6):
            cid = next_customer
            next_customer += 1
            name = rng.choice(["Dlamini", "van Wyk", "Okafor", "Smith, Jr.", "Müller", "O'Neil"])
            customers[cid] = [
                cid,
                f"{name} {cid}",
                f"customer{cid}@example.com",
                rng.choice(COUNTRIES) or "",
                f"{rng.randint(0, 500000) / 100:.2f}",
                (day - timedelta(days=rng.randint(1, 900))).strftime("%Y-%m-%d %H:%M:%S"),
            ]
        for cid in rng.sample(sorted(customers), 3):
            customers[cid][2] = f"new.address{n}.{cid}@example.com"
        rows = [list(r) for r in customers.values()]
        bad = 0
        if n == 1:
            rows.append(["C-0099", "Broken Id Ltd", "", "ZA", "10.00", "2025-03-01 10:00:00"])
            rows.append([9999, "Bad Date Pty", "", "NL", "1.00", "01/03/2025"])
            bad = 2
        last_snapshot_valid = len(rows) - bad
        header = ["customer_id", "customer_name", "email", "country_code", "credit_limit", "created_at"]
        put("customers", batch_id, "customers.csv", _csv_text(rows, ",", header))
        seal("customers", batch_id)
        expected.add("customers", batch_id, len(rows), bad)

        order_rows: list[list] = []
        new_ids = []
        for _ in range(120 if n == 0 else 70):
            oid = next_order
            next_order += 1
            ordered = day - timedelta(hours=rng.randint(1, 20), minutes=rng.randint(0, 59))
            orders[oid] = {
                "customer_id": rng.randint(1, next_customer - 1),
                "status": "NEW",
                "total": f"{rng.randint(500, 900000) / 100:.2f}",
                "currency": rng.choice(["ZAR", "EUR", "USD"]),
                "ordered_at": ordered,
                "updated_at": ordered,
            }
            new_ids.append(oid)
        changed = rng.sample(sorted(set(orders) - set(new_ids)), min(30, len(set(orders) - set(new_ids))))
        for oid in new_ids + changed:
            if oid in changed:
                orders[oid]["status"] = rng.choice(STATUSES[1:])
                orders[oid]["updated_at"] = day - timedelta(minutes=rng.randint(1, 59))
            o = orders[oid]
            order_rows.append(
                [
                    oid,
                    o["customer_id"],
                    o["status"],
                    o["total"],
                    o["currency"],
                    _dmy(o["ordered_at"]),
                    _dmy(o["updated_at"]),
                ]
            )
            valid_order_ids.add(oid)
        bad = 0
        if n == 0:
            order_rows.append([900001, 1, "NEW", "10.00", "ZAR", "2026-01-04 10:00:00", _dmy(day)])
            bad += 1
        if n == 2:
            order_rows.append([900002, 1, "NEW", "12.345", "ZAR", _dmy(day), _dmy(day)])
            order_rows.append([900003, 1, "NEW"])
            bad += 2
            # The same order twice in one export: the later update must win.
            dup = changed[0]
            o = orders[dup]
            order_rows.append(
                [
                    dup,
                    o["customer_id"],
                    "DISPUTED",
                    o["total"],
                    o["currency"],
                    _dmy(o["ordered_at"]),
                    _dmy(o["updated_at"] - timedelta(hours=1)),
                ]
            )
        header = ["order_id", "customer_id", "order_status", "order_total", "currency", "ordered_at", "updated_at"]
        half = len(order_rows) // 2
        put("orders", batch_id, "orders_part1.csv", _csv_text(order_rows[:half], ";", header))
        put("orders", batch_id, "orders_part2.csv", _csv_text(order_rows[half:], ";", header))
        seal("orders", batch_id)
        expected.add("orders", batch_id, len(order_rows), bad)

        lines: list[str] = []
        for oid in new_ids:
            for line_number in range(1, rng.randint(1, 4) + 1):
                shipped = day + timedelta(days=rng.randint(0, 3)) if rng.random() < 0.6 else None
                lines.append(
                    json.dumps(
                        {
                            "order_id": oid,
                            "line_number": line_number,
                            "sku": rng.choice(SKUS),
                            "quantity": rng.randint(1, 12),
                            "unit_price": round(rng.randint(100, 250000) / 100, 2),
                            "shipped_on": shipped.strftime("%Y%m%d") if shipped else None,
                        }
                    )
                )
        valid_line_count += len(lines)
        bad = 0
        if n == 1:
            # A field the config does not declare: the record is loaded, the field is flagged.
            first = json.loads(lines[0])
            first["gift_wrap"] = True
            lines[0] = json.dumps(first)
            lines.append('{"order_id": 5, "line_number": 9, "sku": "SKU-0001", "quantity": "two", "unit_price": 1.5}')
            lines.append('{"order_id": 5, "line_number": 10, "sku": ')
            bad = 2
        put("order_lines", batch_id, "order_lines.jsonl", "\n".join(lines) + "\n")
        seal("order_lines", batch_id)
        expected.add("order_lines", batch_id, len(lines), bad)

    # An upload still in progress: data without its marker must be left alone.
    put("orders", in_flight, "orders_part1.csv", _csv_text([], ";", ["order_id"]))
    expected.incomplete_batches["orders"] = [in_flight]
    expected.target_rows = {
        "customers": last_snapshot_valid,
        "orders": len(valid_order_ids),
        "order_lines": valid_line_count,
    }
    return expected
