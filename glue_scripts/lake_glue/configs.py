"""Loading a config item inside a job, from DynamoDB in AWS or a folder of JSON files locally.

Every item is validated with the platform's pydantic models (``lake_glue.config``) as it is
loaded, and comes back as that model (``IngestConfig`` or ``PrepareConfig``), every default filled in.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from lake_glue.config import ConfigError, IngestConfig, PrepareConfig, parse_config


def load_config_item(config_source: str, config_name: str) -> IngestConfig | PrepareConfig:
    """Return the config item ``config_name`` from ``file:///dir`` or ``dynamodb://table``."""
    parsed = urlparse(config_source)
    if parsed.scheme == "file":
        path = Path(parsed.path) / f"{config_name}.json"
        if not path.exists():
            raise FileNotFoundError(f"config {config_name!r} not found: {path} does not exist")
        return parse_config(json.loads(path.read_text(encoding="utf-8")), str(path))
    if parsed.scheme == "dynamodb":
        import boto3

        table = parsed.netloc
        response = boto3.client("dynamodb").get_item(
            TableName=table, Key={"config_name": {"S": config_name}}, ConsistentRead=True
        )
        if "Item" not in response:
            raise KeyError(f"config {config_name!r} not found in DynamoDB table {table!r}")
        return parse_config(json.loads(response["Item"]["body"]["S"]), f"dynamodb://{table}/{config_name}")
    raise ValueError(f"--config_source must be file:///<dir> or dynamodb://<table>, got {config_source!r}")


def load_ingest_config(config_source: str, config_name: str) -> IngestConfig:
    """The ``spark_ingest`` config item ``config_name``; any other type is a config error naming it."""
    config = load_config_item(config_source, config_name)
    if not isinstance(config, IngestConfig):
        raise ConfigError(f"config {config_name!r} is a {config.config_type} config, not spark_ingest")
    return config
