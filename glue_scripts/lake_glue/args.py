"""The arguments of the two Glue jobs: one frozen, typed class per job, shared by both sides.

Dagster builds an instance and sends :meth:`JobArgs.glue_arguments`; the job's ``main(argv)``
reads it back with :meth:`JobArgs.from_argv`. A field added here therefore reaches both the
launcher and the job, and nothing environment-specific hides behind a flag: each behaviour
that differs between AWS and a laptop is its own explicit argument.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

ObjectListing = Literal["s3", "filesystem"]
LISTINGS: tuple[str, ...] = typing.get_args(ObjectListing)

A = TypeVar("A", bound="JobArgs")


class JobArgsError(SystemExit):
    """The job was started with missing or malformed arguments; the message names each one."""


def parse_glue_argv(argv: list[str]) -> dict[str, str]:
    """``--key value`` and ``--key=value`` pairs as a dict, in the order given.

    Glue passes its own arguments (``--JOB_ID``, ``--job-bookmark-option``, ...) and Dagster
    Pipes adds its bootstrap ones; they are parsed too and left for the caller to ignore.
    """
    parsed: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--"):
            i += 1
            continue
        key = token[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value = argv[i + 1]
            i += 2
        else:
            value = ""
            i += 1
        parsed[key] = value
    return parsed


@dataclass(frozen=True)
class JobArgs:
    """What every lake job needs: which table and batch, where its config and catalog are.

    ``database_prefix`` is the environment's catalog database prefix (``lake_glue.layout.catalog_database``):
    empty locally, ``<project>_<environment>_`` in AWS.
    """

    config_name: str
    table_name: str
    batch_id: str
    config_source: str
    catalog: str
    database_prefix: str = dataclasses.field(default="", kw_only=True)

    @classmethod
    def from_mapping(cls: type[A], values: Mapping[str, str]) -> A:
        """Build from ``key -> text`` values (keys without ``--``); unknown keys are ignored.

        Raises :class:`JobArgsError` naming every missing required argument and every value
        that is not of its field's type.
        """
        problems: list[str] = []
        kwargs: dict[str, str | bool] = {}
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            raw = values.get(f.name)
            if raw is None or (raw == "" and f.default is dataclasses.MISSING):
                if f.default is dataclasses.MISSING:
                    problems.append(f"--{f.name} is required")
                continue
            hint = hints[f.name]
            if hint is bool:
                if raw.lower() not in ("true", "false"):
                    problems.append(f"--{f.name} must be true or false, got {raw!r}")
                    continue
                kwargs[f.name] = raw.lower() == "true"
            elif typing.get_origin(hint) is Literal:
                if raw not in typing.get_args(hint):
                    problems.append(f"--{f.name} must be one of {', '.join(typing.get_args(hint))}, got {raw!r}")
                    continue
                kwargs[f.name] = raw
            else:
                kwargs[f.name] = raw
        if problems:
            raise JobArgsError(f"{cls.__name__}: " + "; ".join(problems))
        return cls(**kwargs)  # type: ignore[arg-type]  # each value was checked against its field above

    @classmethod
    def from_argv(cls: type[A], argv: list[str]) -> A:
        """Parse a Glue job's command line (see :func:`parse_glue_argv`)."""
        return cls.from_mapping(parse_glue_argv(argv))

    def glue_arguments(self) -> dict[str, str]:
        """The ``--key: value`` job arguments Glue (or the local runner) passes to the script."""
        return {
            f"--{name}": ("true" if value else "false") if isinstance(value, bool) else str(value)
            for name, value in dataclasses.asdict(self).items()
        }

    @property
    def label(self) -> str:
        """``batch <config>.<table>/<batch>``, how messages name the batch."""
        return f"batch {self.config_name}.{self.table_name}/{self.batch_id}"


@dataclass(frozen=True)
class IngestArgs(JobArgs):
    """Arguments of ``files-spark-ingest-default``: one landed batch into the source layer.

    ``object_listing`` is how the batch folder is listed to compare it with the sealed file
    list: ``s3`` (S3's own listing, with ETags) or ``filesystem`` (the Hadoop file system
    Spark reads through; sizes only).
    """

    raw_bucket: str
    source_bucket: str
    object_listing: ObjectListing = "filesystem"


@dataclass(frozen=True)
class PrepareArgs(JobArgs):
    """Arguments of ``dapfw-prepare-default``: one source batch into a target table.

    ``rebuild`` rebuilds the whole target table from the source layer in one commit.
    """

    target_bucket: str
    rebuild: bool = False
