"""boto3 clients for the AWS resources: one factory, created on first use (never when definitions load)."""

from __future__ import annotations

from typing import Any

# Enough connections for the registry's parallel conditional writes (botocore's default is 10).
POOL_CONNECTIONS = 16


def aws_client(service: str, region_name: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 client with the platform's retry policy.

    Standard retry mode retries throttling and transient errors of every call, up to 5 attempts.
    That is safe for each call the platform makes: writes are conditional (registry), named
    (Step Functions executions) or idempotent (S3 puts and deletes of fixed keys).
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=region_name or None,
        endpoint_url=endpoint_url or None,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=POOL_CONNECTIONS),
    )


def lazy_client(resource: Any, service: str) -> Any:
    """``resource``'s boto3 client for ``service``, cached in its ``_clients`` private attribute.

    The resource supplies ``region_name`` and ``endpoint_url`` (the latter points tests at moto).
    """
    clients = resource._clients
    if service not in clients:
        clients[service] = aws_client(service, resource.region_name, resource.endpoint_url)
    return clients[service]
