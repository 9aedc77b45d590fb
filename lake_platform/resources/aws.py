"""boto3 clients for the AWS resources: one factory, created on first use (never when definitions load)."""

from __future__ import annotations

from typing import Any, Self

import dagster as dg
from pydantic import PrivateAttr

# Enough connections for the registry's parallel conditional writes (botocore's default is 10).
POOL_CONNECTIONS = 16


def aws_client(service: str, region_name: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 client with the platform's retry policy.

    Standard retry mode retries throttling and transient errors of every call, up to 5 attempts.
    That is safe for each call the platform makes: writes are conditional (registry), named
    (Step Functions executions) or idempotent (S3 puts and deletes of fixed keys).

    Without ``region_name`` the region is ``AWS_REGION`` (what ``lake_env_exports`` sets), then
    boto3's own lookup: botocore itself reads only ``AWS_DEFAULT_REGION`` and the profile.
    """
    import os

    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=region_name or os.environ.get("AWS_REGION") or None,
        endpoint_url=endpoint_url or None,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=POOL_CONNECTIONS),
    )


class AwsResource(dg.ConfigurableResource):
    """What every AWS implementation shares: region, endpoint, and one boto3 client per service.

    Clients are made by :func:`aws_client` (the platform's retry policy) on first use, never
    while definitions load. Without ``endpoint_url`` boto3 honours ``AWS_ENDPOINT_URL`` itself.
    """

    region_name: str | None = None
    endpoint_url: str | None = None
    _clients: dict = PrivateAttr(default_factory=dict)

    def aws(self, service: str) -> Any:
        """This resource's client for ``service``, created on first use."""
        if service not in self._clients:
            self._clients[service] = aws_client(service, self.region_name, self.endpoint_url)
        return self._clients[service]

    def use_clients(self, **clients: Any) -> Self:
        """Use these boto3-compatible clients (keyed by service) instead of creating them.

        For assumed-role sessions and tests. Returns ``self`` so that it chains after the
        constructor; a resource Dagster initializes from config is a new instance with its own.
        """
        self._clients.update(clients)
        return self
