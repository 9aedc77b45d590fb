"""The partition registry in DynamoDB.

An item holds at most 400 KB. A batch's file list, sealed list and checksums grow with its
file count (a couple of thousand files passed the limit), so when they are larger than
``INLINE_BYTES`` they are stored as chunk items under their own hash key,
``<table_id>#<batch_id>#<token>``, range keys ``00000``, ``00001`` ..., and the batch item
keeps only the reference and the chunk count. ``list_batches`` queries the table id, so it
never sees chunk items. The table has no secondary index: every read is by table id.
A fresh token per write means a registration that loses the conditional race, or a checksum
write replaced later, never overwrites the chunks the batch item points at.
"""

from __future__ import annotations

import json
import uuid

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

# Above this many characters, file lists and checksums go to chunk items (the item limit is 400 KB).
INLINE_BYTES = 64_000
CHUNK_BYTES = 300_000


class DynamoPartitionRegistry(PartitionRegistry, AwsResource):
    """The registry as the DynamoDB partitions table (``table_id`` hash, ``batch_id`` range)."""

    table_name: str

    @property
    def client(self):
        """The lazily created boto3 DynamoDB client."""
        return self.aws("dynamodb")

    def _record(self, item: dict) -> BatchRecord:
        def num(name):
            return int(item[name]["N"]) if name in item else None

        lists = json.loads(self._read_chunks(item["lists_ref"]["S"])) if "lists_ref" in item else {}
        checksums = (
            self._read_chunks(item["checksums_ref"]["S"])
            if "checksums_ref" in item
            else item.get("checksums", {}).get("S", "{}")
        )
        return BatchRecord(
            table_id=item["table_id"]["S"],
            batch_id=item["batch_id"]["S"],
            status=item["status"]["S"],
            files=lists["files"] if lists else json.loads(item.get("files", {}).get("S", "[]")),
            sealed=BatchRecord.sealed_from_json(lists["sealed"] if lists else item.get("sealed", {}).get("S")),
            checksums=json.loads(checksums),
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

    def _write_chunks(self, table_id: str, batch_id: str, text: str) -> str:
        """Store ``text`` as chunk items under a fresh hash key; return that key."""
        ref = f"{table_id}#{batch_id}#{uuid.uuid4().hex}"
        for i in range(0, max(1, len(text)), CHUNK_BYTES):
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "table_id": {"S": ref},
                    "batch_id": {"S": f"{i // CHUNK_BYTES:05d}"},
                    "data": {"S": text[i : i + CHUNK_BYTES]},
                },
            )
        return ref

    def _chunk_keys(self, ref: str) -> list[dict]:
        return [{"table_id": {"S": ref}, "batch_id": i["batch_id"]} for i in self._query(ref)]

    def _query(self, hash_key: str) -> list[dict]:
        items: list[dict] = []
        kwargs: dict = {
            "TableName": self.table_name,
            "KeyConditionExpression": "table_id = :t",
            "ExpressionAttributeValues": {":t": {"S": hash_key}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _read_chunks(self, ref: str) -> str:
        # Range keys are zero-padded, so the query returns the chunks in order.
        return "".join(i["data"]["S"] for i in self._query(ref))

    def _delete_chunks(self, ref: str) -> None:
        for key in self._chunk_keys(ref):
            self.client.delete_item(TableName=self.table_name, Key=key)

    def register(self, record):
        from botocore.exceptions import ClientError

        now = utc_now()
        files, sealed = json.dumps(record.files), record.sealed_json()
        item = {
            "table_id": {"S": record.table_id},
            "batch_id": {"S": record.batch_id},
            "status": {"S": "LANDED"},
            "registered_at": {"S": now},
            "updated_at": {"S": now},
            "registered_by": {"S": record.registered_by},
        }
        ref = None
        if len(files) + len(sealed) <= INLINE_BYTES:
            item |= {"files": {"S": files}, "sealed": {"S": sealed}}
        else:
            lists = json.dumps({"files": record.files, "sealed": sealed})
            ref = self._write_chunks(record.table_id, record.batch_id, lists)
            item["lists_ref"] = {"S": ref}
        try:
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(batch_id)"
            )
        except ClientError as exc:
            if ref is not None:
                self._delete_chunks(ref)
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
        return [self._record(i) for i in self._query(table_id)]

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
        text = json.dumps(checksums, sort_keys=True)
        if len(text) <= INLINE_BYTES:
            applied = self._update(
                table_id,
                batch_id,
                UpdateExpression="SET checksums = :c, updated_at = :u REMOVE checksums_ref",
                ConditionExpression="attribute_exists(batch_id)",
                ExpressionAttributeValues={":c": {"S": text}, ":u": {"S": utc_now()}},
            )
            if not applied:
                raise unknown_batch(table_id, batch_id)
            return
        from botocore.exceptions import ClientError

        if self.get(table_id, batch_id) is None:
            raise unknown_batch(table_id, batch_id)
        ref = self._write_chunks(table_id, batch_id, text)
        try:
            old = self.client.update_item(
                TableName=self.table_name,
                Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
                UpdateExpression="SET checksums_ref = :r, updated_at = :u REMOVE checksums",
                ConditionExpression="attribute_exists(batch_id)",
                ExpressionAttributeValues={":r": {"S": ref}, ":u": {"S": utc_now()}},
                ReturnValues="UPDATED_OLD",
            ).get("Attributes", {})
        except ClientError as exc:
            self._delete_chunks(ref)
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise unknown_batch(table_id, batch_id) from None
            raise
        if "checksums_ref" in old and old["checksums_ref"]["S"] != ref:
            self._delete_chunks(old["checksums_ref"]["S"])

    def delete(self, table_id, batch_id):
        old = self.client.delete_item(
            TableName=self.table_name,
            Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
            ReturnValues="ALL_OLD",
        ).get("Attributes", {})
        for name in ("lists_ref", "checksums_ref"):
            if name in old:
                self._delete_chunks(old[name]["S"])
