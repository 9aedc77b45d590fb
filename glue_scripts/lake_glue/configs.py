"""Loading a config item inside a job, from DynamoDB in AWS or a folder of JSON files locally.

The job trusts the item's shape: ``lake configs validate`` / ``lake configs push`` and the
Dagster code location validate every item with the platform's pydantic models before use.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse


def load_config_item(config_source: str, config_name: str) -> dict:
    """Return the config item ``config_name`` from ``file:///dir`` or ``dynamodb://table``."""
    parsed = urlparse(config_source)
    if parsed.scheme == "file":
        path = Path(parsed.path) / f"{config_name}.json"
        if not path.exists():
            raise FileNotFoundError(f"config {config_name!r} not found: {path} does not exist")
        return json.loads(path.read_text(encoding="utf-8"))
    if parsed.scheme == "dynamodb":
        import boto3

        table = parsed.netloc
        response = boto3.client("dynamodb").get_item(
            TableName=table, Key={"config_name": {"S": config_name}}, ConsistentRead=True
        )
        if "Item" not in response:
            raise KeyError(f"config {config_name!r} not found in DynamoDB table {table!r}")
        return json.loads(response["Item"]["body"]["S"])
    raise ValueError(f"--config_source must be file:///<dir> or dynamodb://<table>, got {config_source!r}")


def find_table(config: dict, table_name: str) -> dict:
    """The ``table_config`` entry named ``table_name``; the error names the config."""
    for table in config["table_config"]:
        if table["table_name"] == table_name:
            return table
    raise KeyError(f"config {config['config_name']!r} has no table {table_name!r}")
