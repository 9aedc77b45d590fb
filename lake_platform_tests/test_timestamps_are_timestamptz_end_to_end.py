"""Issue 21 item 13: a config column of type ``timestamp`` is an instant: Iceberg ``timestamptz``
(Spark's TimestampType, written in UTC), which Athena v3 shows as ``timestamp(6) with time zone``.
Both query engines return it as the same aware UTC ``datetime``, never as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.aws import convert_value
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
from lake_platform_tests.conftest import ORDERS_HEADER, order_row

UTC_10H = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("athena_type", "text", "expected"),
    [
        ("timestamp(6) with time zone", "2026-01-01 10:00:00.000000 UTC", UTC_10H),
        ("timestamp with time zone", "2026-01-01 10:00:00.000 UTC", UTC_10H),
        ("timestamp(3) with time zone", "2026-01-01 12:00:00.000 +02:00", UTC_10H),
        ("timestamp(6) with time zone", "2026-01-01 11:00:00.000000 Europe/Berlin", UTC_10H),
    ],
)
def test_athena_timestamps_with_a_zone_come_back_as_aware_datetimes(athena_type, text, expected):
    value = convert_value(athena_type, text)
    assert isinstance(value, datetime) and value.tzinfo is not None
    assert value == expected and value.utcoffset() is not None


def test_an_unknown_zone_stays_text_rather_than_failing_the_query():
    assert convert_value("timestamp(6) with time zone", "2026-01-01 10:00:00 Mars/Olympus") == (
        "2026-01-01 10:00:00 Mars/Olympus"
    )


def test_a_timestamp_column_is_timestamptz_in_iceberg_and_an_aware_utc_datetime_locally(lake):
    from pyiceberg.types import TimestamptzType

    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", "20260101T000000Z")
    schema = lake.iceberg("orders", database="erp").schema()
    assert isinstance(schema.find_field("updated_at").field_type, TimestamptzType)
    assert isinstance(schema.find_field("_ingested_at").field_type, TimestamptzType)

    rows = DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)).query("select updated_at from erp.orders").rows
    assert rows == [(UTC_10H,)]
    assert rows[0][0].utcoffset() == timedelta(0)
    # The Athena engine gives the same value for the same cell.
    assert convert_value("timestamp(6) with time zone", "2026-01-01 10:00:00.000000 UTC") == rows[0][0]
