"""Config items: the pydantic models that every config file and DynamoDB item must satisfy.

The shape follows the DynamoDB-driven framework the platform grew out of (``config_name``,
``config_type``, ``etl_job``, ``job_settings``, ``source``, ``target``, ``table_config[]``,
``run_next[]``), so that its users recognise it. Identifiers become S3 prefixes, Glue table
names and SQL identifiers, hence the strict pattern.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from lake_glue.formats.registry import format_names
from lake_glue.records import COMPRESSIONS, ENCODING_ALIASES, Encoding, FormatOptions
from lake_glue.types import (
    BUILTIN_COLUMNS,
    IDENTIFIER_PATTERN,
    SUPPORTED_TYPE_PATTERN,
    datetime_pattern_problem,
    is_temporal,
)
from lake_glue.write_modes import WriteMode, write_mode_of

# The longest a job may run (Glue's own limit is 48 h); the orphan-file window stays above it.
MAX_JOB_TIMEOUT_MINUTES = 2880
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
ColumnType = Annotated[str, Field(pattern=SUPPORTED_TYPE_PATTERN)]
# Glue runs FLEX jobs only on these worker types (terraform/glue_jobs.tf checks the same).
FLEX_WORKER_TYPES = ("G.1X", "G.2X")
CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")


def _known_format(name: str) -> str:
    """A landing format the registry knows (``lake_glue.formats``), else the error lists them."""
    if name not in format_names():
        raise ValueError(f"unknown landing format {name!r}; known formats: {', '.join(format_names())}")
    return name


LandingFormatName = Annotated[str, AfterValidator(_known_format)]


class ConfigError(ValueError):
    """A config file or item is invalid; the message names the file, the field and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        """Refuse unknown keys by name, suggesting the nearest valid one (a typo is not ignored)."""
        if isinstance(data, dict):
            valid = sorted(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    near = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
                    hint = f"did you mean {near[0]!r}? " if near else ""
                    raise ValueError(f"unknown key {key!r}; {hint}valid keys: {', '.join(valid)}")
        return data


_DEFAULTS = FormatOptions()


def _single_ascii(value: str, name: str) -> str:
    if len(value) != 1 or not value.isascii():
        raise ValueError(f"{name} must be one ASCII character, got {value!r}")
    return value


class FormatOptionsModel(_Strict):
    """How landed files are read. Set on ``source.options`` for a config, and per table."""

    encoding: Encoding = _DEFAULTS.encoding
    quote: str = _DEFAULTS.quote
    escape: str = _DEFAULTS.escape
    multiline: bool = _DEFAULTS.multiline
    compression: Literal[COMPRESSIONS] = _DEFAULTS.compression  # type: ignore[valid-type]
    null_values: list[str] = Field(default_factory=lambda: list(_DEFAULTS.null_values))
    max_record_lines: int = Field(
        default=_DEFAULTS.max_record_lines,
        ge=1,
        description="most line ends a quoted CSV field may span; beyond it the quote is taken as unclosed",
    )
    split_bytes: int = Field(
        default=_DEFAULTS.split_bytes,
        ge=1024,
        description="the largest byte range of an uncompressed CSV or JSONL file, one task each (a batch smaller than"
        " a range per core is shared among the cores in ranges of at least 32 MiB)",
    )

    @model_validator(mode="before")
    @classmethod
    def _encoding_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("encoding"), str):
            data = {**data, "encoding": ENCODING_ALIASES.get(data["encoding"].lower(), data["encoding"])}
        return data

    @model_validator(mode="after")
    def _characters(self) -> "FormatOptionsModel":
        _single_ascii(self.quote, "quote")
        _single_ascii(self.escape, "escape")
        return self


class Acceptance(_Strict):
    """When a landed batch is refused as a whole (nothing is committed and the reason is named)."""

    allow_empty: bool = Field(default=False, description="accept files with no records (empty or header-only)")
    min_rows: int = Field(default=0, ge=0, description="fewest valid rows a batch may have")
    max_quarantine_rate: float | None = Field(
        default=None, ge=0, le=1, description="largest share of a batch's records that may be quarantined"
    )
    reject_duplicate_delivery: bool = Field(
        default=True,
        description="refuse a batch holding a file byte-identical to one of another live batch; false only"
        " warns and commits both copies",
    )


class JobSettings(_Strict):
    """How a Glue job runs for this config, and when it is scheduled."""

    cron: str | None = None
    worker_type: Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "Z.2X"] = "G.1X"
    number_of_workers: int = Field(default=2, ge=2, le=299)
    timeout_minutes: int = Field(default=30, ge=1, le=MAX_JOB_TIMEOUT_MINUTES)
    logging_lvl: Literal["DEBUG", "INFO", "WARN", "ERROR"] = "INFO"
    num_rows_per_file: int = Field(default=500_000, ge=1_000)
    max_attempts: int = Field(default=3, ge=1, le=20, description="runs a batch gets before catch-up stops retrying it")
    retry_backoff_minutes: int = Field(default=15, ge=0, description="wait after a failed run, doubled per failure")
    execution_class: Literal["STANDARD", "FLEX"] | None = Field(
        default=None,
        description="Glue execution class of this config's job; FLEX (spare capacity, cheaper, slower to start)"
        " needs G.1X or G.2X workers; unset: the deployment's glue_execution_class",
    )

    @model_validator(mode="after")
    def _cron_has_five_fields(self) -> "JobSettings":
        if self.cron is not None:
            parts = self.cron.split()
            if len(parts) != 5 or not all(CRON_FIELD.match(p) for p in parts):
                raise ValueError(f"cron {self.cron!r} must be a five-field cron expression")
        if self.execution_class == "FLEX" and self.worker_type not in FLEX_WORKER_TYPES:
            raise ValueError(
                f"execution_class 'FLEX' runs only on {' or '.join(FLEX_WORKER_TYPES)} workers, not"
                f" worker_type {self.worker_type!r}"
            )
        return self


class Column(_Strict):
    """One declared column. Types are never inferred from the data."""

    name: Identifier
    type: ColumnType
    nullable: bool = True
    timestamp_mask: str | None = None
    null_values: list[str] | None = Field(
        default=None, description="ingest CSV only: texts read as null in this column, overriding the table's"
    )
    description: str | None = None
    expression: str | None = Field(default=None, description="prepare only: a Spark SQL expression over source columns")
    source_column: Identifier | None = Field(
        default=None, description="prepare only: the source column this one is renamed from"
    )
    source_columns: list[Identifier] | None = Field(
        default=None, description="prepare only: the source columns an expression reads"
    )

    @model_validator(mode="after")
    def _mask_only_on_temporal(self) -> "Column":
        if self.timestamp_mask is not None and not is_temporal(self.type):
            raise ValueError(
                f"column {self.name!r}: timestamp_mask is only allowed on date/timestamp columns," f" not {self.type!r}"
            )
        problem = datetime_pattern_problem(self.timestamp_mask) if self.timestamp_mask else None
        if problem:
            raise ValueError(f"column {self.name!r}: timestamp_mask {self.timestamp_mask!r}: {problem}")
        if self.expression is not None and not self.source_columns:
            raise ValueError(f"column {self.name!r}: an expression needs source_columns, for column lineage")
        if self.name in BUILTIN_COLUMNS:
            raise ValueError(f"column {self.name!r} is reserved for lineage/partition columns")
        return self

    @property
    def lineage_sources(self) -> list[str]:
        """Source column names this column is computed from (prepare tables)."""
        if self.source_columns:
            return list(self.source_columns)
        return [self.source_column or self.name]


class TableConfig(_Strict):
    """A table of a config: its columns, file format and how it is written."""

    table_name: Identifier
    description: str | None = None
    columns: list[Column] = Field(min_length=1)
    format: LandingFormatName | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    primary_key: list[Identifier] = Field(default_factory=list)
    order_by: list[Identifier] = Field(default_factory=list)
    write_mode: str = Field(
        default="append", description="a mode of lake_glue/write_modes/ (append, overwrite, upsert, scd2)"
    )
    partitions: list[Identifier] = Field(default_factory=list)
    num_buckets: int = Field(default=16, ge=1, le=1024)
    bucket_by: Literal["hash", "range"] = "hash"
    bucket_width: int | None = Field(default=None, ge=1)
    source_table_name: Identifier | None = None
    options: FormatOptionsModel | None = Field(default=None, description="ingest only: overrides source.options")
    acceptance: Acceptance | None = Field(default=None, description="ingest only: batch acceptance rules")
    on_new_columns: Literal["fail", "rescue", "add"] = Field(
        default="fail",
        description="ingest only: what undeclared fields and extra CSV columns do (docs/schema_evolution.md)",
    )

    @field_validator("write_mode")
    @classmethod
    def _registered_mode(cls, value: str) -> str:
        write_mode_of(value)  # an unknown mode raises, listing the known ones
        return value

    @field_serializer("options")
    def _only_the_keys_set(self, options: FormatOptionsModel | None) -> dict | None:
        # A table's options override source.options key by key: a dump that filled in every
        # default would silently reset the config-level encoding, quote or null values.
        return None if options is None else options.model_dump(mode="json", exclude_unset=True)

    @model_validator(mode="after")
    def _keys_are_columns(self) -> "TableConfig":
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"table {self.table_name!r}: duplicate columns {dupes}")
        for field in ("primary_key", "order_by"):
            missing = [c for c in getattr(self, field) if c not in names]
            if missing:
                raise ValueError(f"table {self.table_name!r}: {field} names unknown columns {missing}")
        nullable_keys = [c.name for c in self.columns if c.name in self.primary_key and c.nullable]
        if nullable_keys:
            raise ValueError(
                f"table {self.table_name!r}: primary_key columns {nullable_keys} must be declared"
                ' "nullable": false (a null key cannot be matched or deduplicated)'
            )
        return self

    @property
    def column_names(self) -> list[str]:
        """Declared column names, in order."""
        return [c.name for c in self.columns]

    @property
    def mode(self) -> WriteMode:
        """The table's write mode (``lake_glue.write_modes``)."""
        return write_mode_of(self.write_mode)


class IngestSource(_Strict):
    """Where an ingest config's files land, and their default format."""

    landing_prefix: str = Field(pattern=r"^[a-z0-9_\-/]+$")
    format: LandingFormatName = "csv"
    options: FormatOptionsModel = Field(default_factory=FormatOptionsModel)


class PrepareSource(_Strict):
    """The ingest config whose source-layer tables a prepare config reads."""

    config_name: Identifier
    database: Identifier | None = None


class Target(_Strict):
    """Where a config writes: Glue database, S3 prefix and the KMS key for the data."""

    database: Identifier
    prefix: str = Field(pattern=r"^[a-z0-9_\-/]+$")
    kms_key: str | None = None


class _ConfigBase(_Strict):
    config_name: Identifier
    etl_job: str = Field(pattern=r"^[a-z][a-z0-9\-]{0,254}$")
    description: str | None = None
    job_settings: JobSettings = Field(default_factory=JobSettings)
    target: Target
    table_config: list[TableConfig] = Field(min_length=1)
    run_next: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_tables(self) -> "_ConfigBase":
        names = [t.table_name for t in self.table_config]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate table_name {dupes}")
        return self

    def table(self, table_name: str) -> TableConfig:
        """The table called ``table_name``; raises ``KeyError`` naming the config if absent."""
        for t in self.table_config:
            if t.table_name == table_name:
                return t
        raise KeyError(f"config {self.config_name!r} has no table {table_name!r}")


class IngestConfig(_ConfigBase):
    """A ``spark_ingest`` config: landed files -> typed source-layer Parquet."""

    config_type: Literal["spark_ingest"]
    source: IngestSource

    @model_validator(mode="after")
    def _ingest_rules(self) -> "IngestConfig":
        for t in self.table_config:
            where = f"table {t.table_name!r}"
            if t.source_table_name is not None:
                raise ValueError(f"{where}: source_table_name is only for prepare configs")
            if t.write_mode != "append":
                raise ValueError(
                    f"{where}: the source layer keeps every batch, so write_mode must be"
                    f" 'append' (got {t.write_mode!r}); set the mode on the prepare table"
                )
            bad = [p for p in t.partitions if p not in ("p_ingest_day", "p_batch_id")]
            if bad:
                raise ValueError(f"{where}: source partitions may only be p_ingest_day and p_batch_id, got {bad}")
            for c in t.columns:
                if c.expression or c.source_column or c.source_columns:
                    raise ValueError(f"{where}, column {c.name!r}: expression/source_column are prepare-only")
        return self


class PrepareConfig(_ConfigBase):
    """A ``prepare`` config: source-layer tables -> curated target tables."""

    config_type: Literal["prepare"]
    source: PrepareSource

    @model_validator(mode="after")
    def _prepare_rules(self) -> "PrepareConfig":
        for t in self.table_config:
            where = f"table {t.table_name!r}"
            if t.source_table_name is None:
                raise ValueError(f"{where}: prepare tables need source_table_name")
            if t.options is not None or t.acceptance is not None:
                raise ValueError(f"{where}: options and acceptance apply to ingest tables only")
            if t.on_new_columns != "fail":
                raise ValueError(f"{where}: on_new_columns applies to ingest tables only")
            t.mode.validate(t, where)
        return self


LakeConfig = Annotated[IngestConfig | PrepareConfig, Field(discriminator="config_type")]


class _Envelope(BaseModel):
    item: LakeConfig


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"][1:] if p not in ("spark_ingest", "prepare"))
        lines.append(f"  field {loc or '<root>'}: {err['msg']}")
    return "\n".join(lines)


def parse_config(data: dict, origin: str) -> IngestConfig | PrepareConfig:
    """Validate one config item. ``origin`` (a file path or table key) is named in errors."""
    try:
        return _Envelope.model_validate({"item": data}).item
    except ValidationError as exc:
        raise ConfigError(f"{origin}: invalid config\n{_format_errors(exc)}") from None


def load_config_file(path: Path) -> IngestConfig | PrepareConfig:
    """Read and validate one JSON config file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a JSON object")
    config = parse_config(data, str(path))
    if path.stem != config.config_name:
        raise ConfigError(
            f"{path}: field config_name: {config.config_name!r} must match the file name" f" {path.stem!r}"
        )
    return config


def check_references(configs: list[IngestConfig | PrepareConfig], origin: str) -> None:
    """Cross-config rules: names unique, prepare sources and run_next point at real configs."""
    by_name: dict[str, IngestConfig | PrepareConfig] = {}
    for c in configs:
        if c.config_name in by_name:
            raise ConfigError(f"{origin}: config_name {c.config_name!r} is defined twice")
        by_name[c.config_name] = c
    databases: dict[str, str] = {}
    for c in configs:
        other = databases.setdefault(c.target.database, c.config_name)
        if other != c.config_name:
            raise ConfigError(
                f"{origin}/{c.config_name}.json: field target.database: {c.target.database!r}"
                f" is already used by config {other!r}"
            )
        for nxt in c.run_next:
            if nxt not in by_name:
                raise ConfigError(f"{origin}/{c.config_name}.json: field run_next: unknown config {nxt!r}")
        if isinstance(c, PrepareConfig):
            src = by_name.get(c.source.config_name)
            where = f"{origin}/{c.config_name}.json"
            if not isinstance(src, IngestConfig):
                raise ConfigError(
                    f"{where}: field source.config_name: {c.source.config_name!r} is not a" " spark_ingest config"
                )
            for t in c.table_config:
                try:
                    src_table = src.table(t.source_table_name or "")
                except KeyError:
                    raise ConfigError(
                        f"{where}: table {t.table_name!r} field source_table_name:"
                        f" {src.config_name!r} has no table {t.source_table_name!r}"
                    ) from None
                src_cols = set(src_table.column_names)
                for col in t.columns:
                    if col.expression is None:
                        missing = [s for s in col.lineage_sources if s not in src_cols]
                    else:
                        missing = [s for s in col.source_columns or [] if s not in src_cols]
                    if missing:
                        raise ConfigError(
                            f"{where}: table {t.table_name!r} column {col.name!r}: source"
                            f" columns {missing} do not exist in {src.config_name}.{src_table.table_name}"
                        )


def load_config_dir(directory: Path) -> list[IngestConfig | PrepareConfig]:
    """Read, validate and cross-check every ``*.json`` config in ``directory``."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: config directory does not exist")
    configs = [load_config_file(p) for p in sorted(directory.glob("*.json"))]
    if not configs:
        raise ConfigError(f"{directory}: no *.json config files found")
    check_references(configs, str(directory))
    return configs


def targets_of(
    config: "IngestConfig", table: "TableConfig", configs: list
) -> list[tuple["PrepareConfig", "TableConfig"]]:
    """The (prepare config, target table) pairs prepared from one ingest table, in config order."""
    return [
        (prepare, target)
        for prepare in configs
        if isinstance(prepare, PrepareConfig) and prepare.source.config_name == config.config_name
        for target in prepare.table_config
        if target.source_table_name == table.table_name
    ]


def as_config(item: IngestConfig | PrepareConfig | dict, origin: str) -> IngestConfig | PrepareConfig:
    """A config item as a job takes it: the validated model (a plain item is validated here, once)."""
    if isinstance(item, (IngestConfig, PrepareConfig)):
        return item
    return parse_config(item, origin)
