"""The partition registry in DynamoDB."""

from __future__ import annotations

import json

from lake_platform.resources.aws import POOL_CONNECTIONS, AwsResource
from lake_platform.resources.partition_registry.base import (
    COUNT_FIELDS,
    PROGRESS_PREFIX,
    AssetProgress,
    BatchRecord,
    PartitionRegistry,
    unknown_batch,
    utc_now,
)


class DynamoPartitionRegistry(PartitionRegistry, AwsResource):
    """The registry as the DynamoDB partitions table (``table_id`` hash, ``batch_id`` range)."""

    table_name: str

    @property
    def client(self):
        """The lazily created boto3 DynamoDB client."""
        return self.aws("dynamodb")

    @staticmethod
    def _record(item: dict) -> BatchRecord:
        def num(name):
            return int(item[name]["N"]) if name in item else None

        return BatchRecord(
            table_id=item["table_id"]["S"],
            batch_id=item["batch_id"]["S"],
            status=item["status"]["S"],
            files=json.loads(item.get("files", {}).get("S", "[]")),
            sealed=BatchRecord.sealed_from_json(item.get("sealed", {}).get("S")),
            checksums=json.loads(item.get("checksums", {}).get("S", "{}")),
            error=item.get("error", {}).get("S"),
            registered_at=item["registered_at"]["S"],
            updated_at=item["updated_at"]["S"],
            registered_by=item.get("registered_by", {}).get("S", ""),
            progress={
                name[len(PROGRESS_PREFIX) :]: AssetProgress.from_json(value["M"]["progress"]["S"])
                for name, value in item.items()
                if name.startswith(PROGRESS_PREFIX)
            },
            **{k: num(k) for k in COUNT_FIELDS},
        )

    def register(self, record):
        from botocore.exceptions import ClientError

        now = utc_now()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "table_id": {"S": record.table_id},
                    "batch_id": {"S": record.batch_id},
                    "status": {"S": "LANDED"},
                    "files": {"S": json.dumps(record.files)},
                    "sealed": {"S": record.sealed_json()},
                    "registered_at": {"S": now},
                    "updated_at": {"S": now},
                    "registered_by": {"S": record.registered_by},
                },
                ConditionExpression="attribute_not_exists(batch_id)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def register_many(self, records):
        """Conditional puts issued by a few threads (DynamoDB has no conditional batch write)."""
        from concurrent.futures import ThreadPoolExecutor

        if len(records) <= 1:
            return [self.register(r) for r in records]
        _ = self.client  # created once, before the threads share it
        with ThreadPoolExecutor(max_workers=min(POOL_CONNECTIONS, len(records))) as pool:
            return list(pool.map(self.register, records))

    def get(self, table_id, batch_id):
        item = self.client.get_item(
            TableName=self.table_name,
            Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
            ConsistentRead=True,
        ).get("Item")
        return self._record(item) if item else None

    def list_batches(self, table_id):
        records: list[BatchRecord] = []
        kwargs: dict = {
            "TableName": self.table_name,
            "KeyConditionExpression": "table_id = :t",
            "ExpressionAttributeValues": {":t": {"S": table_id}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            records.extend(self._record(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _update(self, table_id, batch_id, **kwargs) -> bool:
        """A conditional UpdateItem; False when its condition does not hold."""
        from botocore.exceptions import ClientError

        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
                **kwargs,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def retire(self, table_id, batch_id, reason):
        applied = self._update(
            table_id,
            batch_id,
            UpdateExpression="SET #s = :s, #e = :e, updated_at = :u",
            ConditionExpression="attribute_exists(batch_id) AND #s <> :s",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={":s": {"S": "RETIRED"}, ":e": {"S": reason[:4000]}, ":u": {"S": utc_now()}},
        )
        if not applied and self.get(table_id, batch_id) is None:
            raise unknown_batch(table_id, batch_id)

    def record_progress(self, table_id, batch_id, asset, progress):
        counts = self._check(progress)
        # One map attribute per asset: {at, progress}; the condition compares the stored ``at``.
        names = {"#p": PROGRESS_PREFIX + asset, "#at": "at"}
        values = {
            ":p": {"M": {"at": {"S": progress.at}, "progress": {"S": progress.to_json()}}},
            ":at": {"S": progress.at},
            ":u": {"S": utc_now()},
        }
        sets = ["#p = :p", "updated_at = :u"]
        for key, value in counts.items():
            sets.append(f"{key} = :{key}")
            values[f":{key}"] = {"N": str(value)}
        applied = self._update(
            table_id,
            batch_id,
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(batch_id) AND (attribute_not_exists(#p) OR #p.#at < :at)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if not applied and self.get(table_id, batch_id) is None:
            raise unknown_batch(table_id, batch_id)
        return applied

    def record_checksums(self, table_id, batch_id, checksums):
        if not self._update(
            table_id,
            batch_id,
            UpdateExpression="SET checksums = :c, updated_at = :u",
            ConditionExpression="attribute_exists(batch_id)",
            ExpressionAttributeValues={":c": {"S": json.dumps(checksums, sort_keys=True)}, ":u": {"S": utc_now()}},
        ):
            raise unknown_batch(table_id, batch_id)

    def delete(self, table_id, batch_id):
        self.client.delete_item(
            TableName=self.table_name, Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}}
        )
