"""Config store: ``configs/*.json`` locally, the DynamoDB configs table in AWS.

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.config_store.base import AnyConfig, ConfigStore, PushResult, to_item

__all__ = ["AnyConfig", "ConfigStore", "PushResult", "to_item"]
