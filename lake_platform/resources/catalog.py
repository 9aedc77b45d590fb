"""The lake's Iceberg catalog as a resource: where the jobs commit and the local engine reads.

One resource names the catalog for everyone who needs it (the Glue jobs' ``--catalog``
argument, the DuckDB query engine, ``lake`` commands that read table metadata), instead of
each carrying its own copy of the URI. :func:`lake_platform.resources.resources_for_env`
chooses it per environment: ``glue`` (the Glue Data Catalog) in AWS, a SQLite file under
``LAKE_HOME`` locally.
"""

from __future__ import annotations

import dagster as dg
from pydantic import field_validator

SQLITE_PREFIX = "sqlite:///"


class LakeCatalog(dg.ConfigurableResource):
    """The Iceberg catalog of one environment: ``glue`` or ``sqlite:///<file>``."""

    uri: str

    @field_validator("uri")
    @classmethod
    def _known_kind(cls, uri: str) -> str:
        if uri != "glue" and not (uri.startswith(SQLITE_PREFIX) and len(uri) > len(SQLITE_PREFIX)):
            raise ValueError(
                f"LakeCatalog.uri {uri!r} is not a catalog the jobs can open: use 'glue' (AWS) or"
                f" '{SQLITE_PREFIX}<path to a SQLite file>' (the embedded lake)"
            )
        return uri

    def open(self):
        """The pyiceberg catalog (opened anew on each call; it holds no connection between calls)."""
        from lake_glue.tables import open_catalog

        return open_catalog(self.uri)
