"""Config items in the DynamoDB configs table."""

from __future__ import annotations

import json

from lake_glue.config import (
    ConfigError,
    check_references,
    parse_config,
)
from lake_platform.resources.aws import AwsResource
from lake_platform.resources.config_store.base import ConfigStore, to_item


class DynamoConfigStore(ConfigStore, AwsResource):
    """Reads and writes config items in the DynamoDB configs table."""

    table_name: str

    @property
    def client(self):
        """The lazily created boto3 DynamoDB client."""
        return self.aws("dynamodb")

    def _items(self) -> list[dict]:
        items, kwargs = [], {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_configs(self):
        configs = []
        for item in self._items():
            origin = f"dynamodb://{self.table_name}/{item['config_name']['S']}"
            try:
                body = json.loads(item["body"]["S"])
            except (KeyError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{origin}: attribute body is missing or not JSON ({exc})") from None
            configs.append(parse_config(body, origin))
        check_references(configs, f"dynamodb://{self.table_name}")
        return sorted(configs, key=lambda c: c.config_name)

    def job_config_source(self):
        return f"dynamodb://{self.table_name}"

    def _stored_bodies(self):
        return {i["config_name"]["S"]: i.get("body", {}).get("S") or "" for i in self._items()}

    def _write(self, config):
        self.client.put_item(TableName=self.table_name, Item=to_item(config))
