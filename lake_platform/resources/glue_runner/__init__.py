"""Glue job runner: how a generic Glue job is launched for one (config, table, batch).

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.glue_runner.base import (
    GlueJobError,
    GlueJobRunner,
    attach_reported_checks,
    script_for,
)

__all__ = ["GlueJobError", "GlueJobRunner", "attach_reported_checks", "script_for"]
