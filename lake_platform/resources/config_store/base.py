"""The config store interface: validated config items by name."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass

import dagster as dg

from lake_glue.config import (
    ConfigError,
    IngestConfig,
    PrepareConfig,
    parse_config,
)

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

    @abstractmethod
    def list_configs(self) -> list[AnyConfig]:
        """Every config item, validated."""

    def get_config(self, config_name: str) -> AnyConfig:
        """One config item; ``KeyError`` naming it if absent."""
        for config in self.list_configs():
            if config.config_name == config_name:
                return config
        raise KeyError(f"config {config_name!r} not found in {self.job_config_source()}")

    @abstractmethod
    def job_config_source(self) -> str:
        """The ``--config_source`` argument that tells a Glue job where to read configs."""

    def push(self, configs: list[AnyConfig], dry_run: bool = False) -> PushResult:
        """Write validated configs; an item whose stored body means the same is not rewritten.

        Meaning, not text, is compared: Terraform writes the same items with its own JSON
        formatting, and the two writers must not fight over whitespace.
        """
        current = self._stored_bodies()
        changes = {}
        for config in configs:
            before = current.get(config.config_name)
            if before is not None and _same_config(before, config):
                changes[config.config_name] = "unchanged"
                continue
            changes[config.config_name] = "created" if before is None else "updated"
            if not dry_run:
                self._write(config)
        return PushResult(changes)

    @abstractmethod
    def _stored_bodies(self) -> dict[str, str]:
        """The stored document text of every item, by config name."""

    @abstractmethod
    def _write(self, config: AnyConfig) -> None:
        """Store one validated config, replacing the item of the same name."""
