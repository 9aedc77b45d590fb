"""Config store: ``configs/*.json`` locally, the DynamoDB configs table in AWS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lake_platform.config import (
    ConfigError,
    IngestConfig,
    PrepareConfig,
    check_references,
    load_config_dir,
    parse_config,
)
from lake_platform.resources.aws import lazy_client

AnyConfig = IngestConfig | PrepareConfig


def to_item(config: AnyConfig) -> dict:
    """The DynamoDB item for a config: key attributes plus the whole document as ``body``."""
    body = config.model_dump(mode="json", exclude_none=False)
    return {
        "config_name": {"S": config.config_name},
        "config_type": {"S": config.config_type},
        "etl_job": {"S": config.etl_job},
        "body": {"S": json.dumps(body, sort_keys=True, separators=(",", ":"))},
    }


@dataclass(frozen=True)
class PushResult:
    """What ``push`` did to each config: ``created``, ``updated`` or ``unchanged``."""

    changes: dict[str, str]


def _same_config(body: str, config: AnyConfig) -> bool:
    try:
        return parse_config(json.loads(body), config.config_name) == config
    except (ConfigError, json.JSONDecodeError):
        return False


class ConfigStore(dg.ConfigurableResource):
    """Where jobs read config items from."""

    def list_configs(self) -> list[AnyConfig]:
        """Every config item, validated."""
        raise NotImplementedError

    def get_config(self, config_name: str) -> AnyConfig:
        """One config item; ``KeyError`` naming it if absent."""
        for config in self.list_configs():
            if config.config_name == config_name:
                return config
        raise KeyError(f"config {config_name!r} not found in {self.job_config_source()}")

    def job_config_source(self) -> str:
        """The ``--config_source`` argument that tells a Glue job where to read configs."""
        raise NotImplementedError


class LocalConfigStore(ConfigStore):
    """Reads the JSON config files of a folder."""

    config_dir: str

    def list_configs(self):
        return load_config_dir(Path(self.config_dir))

    def job_config_source(self):
        return f"file://{Path(self.config_dir).resolve()}"


class DynamoConfigStore(ConfigStore):
    """Reads and writes config items in the DynamoDB configs table."""

    table_name: str
    region_name: str
    endpoint_url: str | None = None
    _clients: dict = PrivateAttr(default_factory=dict)

    @property
    def client(self):
        """The lazily created boto3 DynamoDB client."""
        return lazy_client(self, "dynamodb")

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

    def push(self, configs: list[AnyConfig], dry_run: bool = False) -> PushResult:
        """Write validated configs; items whose body is unchanged are not rewritten."""
        current = {i["config_name"]["S"]: i.get("body", {}).get("S") for i in self._items()}
        changes = {}
        for config in configs:
            item = to_item(config)
            before = current.get(config.config_name)
            # Compare meaning, not text: Terraform writes the same items with its own JSON
            # formatting, and the two writers must not fight over whitespace.
            if before is not None and _same_config(before, config):
                changes[config.config_name] = "unchanged"
                continue
            changes[config.config_name] = "created" if before is None else "updated"
            if not dry_run:
                self.client.put_item(TableName=self.table_name, Item=item)
        return PushResult(changes)
