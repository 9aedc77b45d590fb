"""boto3 clients for the AWS resources, created on first use (never when definitions load)."""

from __future__ import annotations

from typing import Any


def lazy_client(resource: Any, service: str) -> Any:
    """``resource``'s boto3 client for ``service``, cached in its ``_clients`` private attribute.

    The resource supplies ``region_name`` and ``endpoint_url`` (the latter points tests at moto).
    """
    clients = resource._clients
    if service not in clients:
        import boto3

        clients[service] = boto3.client(
            service, region_name=resource.region_name, endpoint_url=resource.endpoint_url or None
        )
    return clients[service]
