"""Issue 21 item 8: a denied marker check (S3 answers 403 on a missing key when the role's
ListBucket is prefix-conditioned) never fails the landing tick, and a pending batch still expires
on its own clock whatever its check does; one abandoned upload never blocks the sensor."""

from __future__ import annotations

import boto3
import dagster as dg
import pytest
from botocore.exceptions import ClientError

from lake_platform.resources.object_store.aws import S3ObjectStore
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.landing import PENDING_EXPIRY_SECONDS, LandedTable, scan_landing
from lake_platform.sensors.landing_cursor import LandingCursor

REGION = "eu-west-1"
ABANDONED = "20260105T020000Z"
GOOD = "20260106T020000Z"
TABLES = [LandedTable("erp.orders", "landing/erp", "orders")]


class DeniedOnMissingKeys(S3ObjectStore):
    """S3 as a role with prefix-conditioned ListBucket sees it: HeadObject on a missing key is 403.

    moto does not evaluate identity policies, so the 403 is injected at the boto3 boundary,
    exactly as botocore raises it.
    """

    @property
    def client(self):
        real = super().client

        class Client:
            def __getattr__(self, name):
                return getattr(real, name)

            def head_object(self, **kwargs):
                try:
                    return real.head_object(**kwargs)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "404":
                        raise
                    error = {"Error": {"Code": "403", "Message": "Forbidden"}}
                    raise ClientError(error, "HeadObject") from None

        return Client()


@pytest.fixture
def store(aws) -> S3ObjectStore:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=aws)
    s3.create_bucket(Bucket="raw", CreateBucketConfiguration={"LocationConstraint": REGION})
    return DeniedOnMissingKeys(
        region_name=REGION, endpoint_url=aws, raw_bucket="raw", source_bucket="src", target_bucket="tgt"
    )


def land(store: S3ObjectStore, batch_id: str, marker: bool) -> None:
    prefix = f"landing/erp/orders/{batch_id}/"
    store.put_bytes("raw", prefix + "part-0.csv", b"x")
    if marker:
        store.put_bytes("raw", prefix + "_SUCCESS", b"")


@pytest.mark.aws
def test_a_403_on_head_object_names_the_unconditioned_list_bucket_grant(store):
    with pytest.raises(PermissionError, match=r"s3://raw/landing/x/_SUCCESS.*s3:ListBucket.*without an s3:prefix"):
        store.exists("raw", "landing/x/_SUCCESS")


@pytest.mark.aws
def test_a_denied_marker_check_keeps_the_batch_pending_and_the_tick_goes_on(store, tmp_path):
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    land(store, ABANDONED, marker=False)
    first = scan_landing(store, registry, TABLES, LandingCursor(), now=1000.0)
    assert sorted(first.cursor.tables["erp.orders"].pending) == [ABANDONED]

    land(store, GOOD, marker=True)
    second = scan_landing(store, registry, TABLES, first.cursor, now=1060.0)
    assert second.complete == {"erp.orders": [GOOD]}
    assert sorted(second.cursor.tables["erp.orders"].pending) == [ABANDONED]
    assert any(f"erp.orders/{ABANDONED}: could not check s3://raw/" in w and "403" in w for w in second.warnings)

    # The abandoned upload expires on its own clock although every check of it is denied.
    late = scan_landing(store, registry, TABLES, second.cursor, now=1000.0 + PENDING_EXPIRY_SECONDS + 1)
    assert sorted(late.cursor.tables["erp.orders"].pending) == []
    assert any(f"erp.orders/{ABANDONED}: no _SUCCESS after" in w for w in late.warnings)
    assert not any("could not check" in w for w in late.warnings), "an expired batch is not checked again"


@pytest.mark.aws
def test_the_raw_asset_on_a_denied_marker_fails_naming_the_grant_not_an_incomplete_batch(store, tmp_path):
    from lake_glue.config import load_config_dir
    from lake_platform.assets import build_table_assets
    from lake_platform_tests.conftest import CONFIG_DIR

    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    table = next(t for t in build_table_assets(load_config_dir(CONFIG_DIR), "local") if t.table_id == "erp.orders")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(table.partitions_def.name, [ABANDONED])
    result = dg.materialize(
        [table.raw],
        partition_key=ABANDONED,
        instance=instance,
        resources={"object_store": store, "partition_registry": registry},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    text = str(failure.message) + str(getattr(failure.cause, "message", ""))
    assert "s3:ListBucket" in text and "landing/erp/orders/" in text
