"""Event-driven landing on moto: S3 events on SQS register each batch once, poison goes to the DLQ."""

import json

import boto3
import pytest

from lake_platform.batches import LandedTable
from lake_platform.resources import LandingQueue
from lake_platform.resources.object_store.aws import S3ObjectStore
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.landing_queue import consume_landing_events

pytestmark = pytest.mark.aws

A, B = "20260105T020000Z", "20260106T020000Z"
TABLES = [LandedTable("erp.orders", "landing/erp", "orders"), LandedTable("erp.customers", "landing/erp", "customers")]


@pytest.fixture
def queue_lake(aws, tmp_path):
    """Raw bucket, a landing queue with a dead-letter queue (2 receives), a registry."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket="raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    dlq = sqs.create_queue(QueueName="landing-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="landing",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    store = S3ObjectStore(
        region_name="eu-west-1", endpoint_url=aws, raw_bucket="raw", source_bucket="s", target_bucket="t"
    )
    queue = LandingQueue(queue_url=url, region_name="eu-west-1", endpoint_url=aws)
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))

    class Lake:
        def land(self, key, event=True):
            """Put an object and, as EventBridge would, send its Object Created event."""
            s3.put_object(Bucket="raw", Key=key, Body=b"x")
            if event:
                self.event(key)

        def event(self, key, bucket="raw"):
            body = {
                "detail-type": "Object Created",
                "source": "aws.s3",
                "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}},
            }
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

        def consume(self, **kwargs):
            return consume_landing_events(queue, store, registry, TABLES, visibility_timeout=0, **kwargs)

        def depth(self, queue_url):
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    lake = Lake()
    lake.registry, lake.url, lake.dlq = registry, url, dlq
    return lake


def test_a_marker_event_registers_its_batch_with_every_file_and_the_events_are_deleted(queue_lake):
    queue_lake.land(f"landing/erp/orders/{A}/a.csv")
    queue_lake.land(f"landing/erp/orders/{A}/b.csv")
    queue_lake.land(f"landing/erp/orders/{A}/_SUCCESS")
    result = queue_lake.consume()
    assert result.complete == {"erp.orders": [A]}
    assert queue_lake.registry.get("erp.orders", A).files == [
        f"landing/erp/orders/{A}/a.csv",
        f"landing/erp/orders/{A}/b.csv",
    ]
    assert queue_lake.registry.get("erp.orders", A).registered_by == "landing_queue_sensor"
    assert (result.deleted, result.poison, queue_lake.depth(queue_lake.url)) == (3, 0, 0)


def test_duplicate_and_out_of_order_events_register_each_batch_once(queue_lake):
    queue_lake.land(f"landing/erp/orders/{B}/a.csv", event=False)
    queue_lake.land(f"landing/erp/orders/{B}/_SUCCESS")  # the marker's event arrives first
    queue_lake.event(f"landing/erp/orders/{B}/a.csv")
    queue_lake.event(f"landing/erp/orders/{B}/_SUCCESS")  # delivered twice
    queue_lake.land(f"landing/erp/orders/{A}/a.csv")
    queue_lake.land(f"landing/erp/orders/{A}/_SUCCESS")  # an older batch, later
    first = queue_lake.consume()
    assert {tid: sorted(b) for tid, b in first.complete.items()} == {"erp.orders": [A, B]}
    assert [r.batch_id for r in queue_lake.registry.list_batches("erp.orders")] == [A, B]
    assert queue_lake.registry.get("erp.orders", B).files == [f"landing/erp/orders/{B}/a.csv"]
    queue_lake.event(f"landing/erp/orders/{B}/_SUCCESS")  # a late duplicate: same run key, nothing new
    again = queue_lake.consume()
    assert again.complete == {"erp.orders": [B]} and len(queue_lake.registry.list_batches("erp.orders")) == 2


def test_a_poison_message_is_left_until_it_reaches_the_dead_letter_queue(queue_lake):
    boto3.client("sqs").send_message(QueueUrl=queue_lake.url, MessageBody="not json")
    queue_lake.event("landing/erp/orders/not-a-batch/a.csv")
    queue_lake.event("landing/erp/invoices/20260105T020000Z/_SUCCESS")  # no such table: nothing to do
    first = queue_lake.consume()
    assert first.poison == 1 and first.deleted == 2
    assert any("not-a-batch: folder name is not a batch id" in w for w in first.warnings)
    # Each pass leaves the poison message; after maxReceiveCount receives SQS moves it aside.
    for _ in range(3):
        queue_lake.consume()
    assert queue_lake.depth(queue_lake.url) == 0 and queue_lake.depth(queue_lake.dlq) == 1
    assert queue_lake.registry.list_batches("erp.orders") == []


def test_consumption_is_bounded_per_tick(queue_lake):
    for i in range(25):
        queue_lake.event(f"landing/erp/customers/{A}/part-{i}.csv")
    assert queue_lake.consume(max_messages=10).deleted == 10
    assert queue_lake.depth(queue_lake.url) == 15
