"""What the configs cost in AWS: Glue DPU-seconds and dollars per batch and per month, and Athena.

The model, per config (``lake cost`` prints it, ``bench/run_all.py`` prints it with the
throughput measured in the same run):

- **Cadence.** An ingest config's batches arrive at its ``job_settings.cron`` (one batch per
  table per firing). A prepare config runs when a batch of a source table it reads arrives, so
  it follows its source config's cadence; its own cron is only the catch-up safety net.
- **Runs.** Each batch starts one Glue run per ingest table and one per target that reads the
  table (the landing sensor runs raw -> source -> targets in one Dagster run, one Glue run per
  step).
- **Seconds of a run.** Glue start-up, the job's fixed work (process, Spark context, commit) and
  the data: ``batch GB x core-seconds per GB / executor cores``. Executor cores are the workers'
  vCPUs less the driver's worker. Glue bills per second with a one-minute minimum, times the
  workers' DPUs.
- **Athena.** The blocking ``primary_key_unique`` check reads each keyed target once per batch,
  and the nightly maintenance job reads it once a day; each query bills at least 10 MB. A query
  is counted at the batch's size (a key check reads the key columns only, but an upsert table's
  whole history), so a large upsert table scans more than this says.

The throughput defaults are measured (``bench/ingest_throughput.py``, ``bench/batch_to_query.py``),
the prices are list prices as we know them (not looked up at run time).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from lake_glue.config import FLEX_WORKER_TYPES, IngestConfig, PrepareConfig

# DPUs and vCPUs of one worker of each type (Glue's worker-type table).
WORKER_DPU = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
WORKER_VCPU = {"G.025X": 2, "G.1X": 4, "G.2X": 8, "G.4X": 16, "G.8X": 32, "Z.2X": 8}
MB = 1_000_000
TB = 1_000_000_000_000


class Prices(BaseModel):
    """List prices in USD (us-east-1 as we know them; check your region's price list)."""

    standard_dpu_hour: float = 0.44
    flex_dpu_hour: float = 0.29
    athena_per_tb: float = 5.0
    athena_minimum_bytes: int = 10 * MB
    glue_minimum_seconds: int = 60


class Throughput(BaseModel):
    """How long a Glue run takes: fixed seconds plus core-seconds per GB of the batch.

    Defaults: the ingest job's 300,000-row / 21 MB CSV in 3.36 s on 2 cores (issue 23's
    measurement on b0db7c1: 320 core-s/GB); the prepare job's 10 MB batch in about 3.8 s on the
    warm local JVM, all counted as per-GB work (760 core-s/GB, an upper bound). The fixed part is
    what a fresh Glue process adds (Python and Spark start, catalog commit): about the local
    cold job minus its data work.
    """

    ingest_core_seconds_per_gb: float = Field(default=320.0, gt=0)
    prepare_core_seconds_per_gb: float = Field(default=760.0, gt=0)
    fixed_seconds: float = Field(default=15.0, ge=0, description="per run: job process, Spark context, commit")
    startup_seconds: float = Field(default=10.0, ge=0, description="Glue 5.0 provisioning, billed")


class RunCost(BaseModel):
    """One Glue run of one table in one batch."""

    config_name: str
    table_name: str
    kind: str  # ingest | prepare
    seconds: float = Field(description="start-up + fixed + data seconds")
    billed_seconds: float = Field(description="seconds, at least Glue's minimum")
    dpu: float
    execution_class: str

    @property
    def dpu_seconds(self) -> float:
        """Billed DPU-seconds of the run."""
        return self.billed_seconds * self.dpu


class ConfigCost(BaseModel):
    """One config: its runs per batch, how many batches a month, and what that costs."""

    config_name: str
    execution_class: str
    worker_type: str
    number_of_workers: int
    batches_per_day: float
    runs: list[RunCost]
    athena_queries_per_batch: int
    athena_queries_per_day: int
    athena_bytes_per_query: int

    def dpu_seconds_per_batch(self) -> float:
        """Billed DPU-seconds of one batch (every run of it)."""
        return sum(r.dpu_seconds for r in self.runs)

    def glue_dollars_per_batch(self, prices: Prices) -> float:
        """Glue dollars of one batch."""
        rate = prices.flex_dpu_hour if self.execution_class == "FLEX" else prices.standard_dpu_hour
        return self.dpu_seconds_per_batch() / 3600 * rate

    def athena_dollars_per_day(self, prices: Prices) -> float:
        """Athena dollars a day for the checks of this config's tables."""
        queries = self.athena_queries_per_batch * self.batches_per_day + self.athena_queries_per_day
        return queries * self.athena_bytes_per_query / TB * prices.athena_per_tb


class CostReport(BaseModel):
    """Every config's cost, the totals and the levers a user can pull."""

    configs: list[ConfigCost]
    prices: Prices
    throughput: Throughput
    batch_gb: float
    days_per_month: int = 30

    def dpu_hours_per_day(self) -> float:
        """Billed DPU-hours a day, all configs."""
        return sum(c.dpu_seconds_per_batch() * c.batches_per_day for c in self.configs) / 3600

    def glue_dollars_per_month(self) -> float:
        """Glue dollars a month, all configs."""
        return (
            sum(c.glue_dollars_per_batch(self.prices) * c.batches_per_day for c in self.configs) * self.days_per_month
        )

    def athena_dollars_per_month(self) -> float:
        """Athena dollars a month for the checks, all configs."""
        return sum(c.athena_dollars_per_day(self.prices) for c in self.configs) * self.days_per_month

    def dollars_per_month(self) -> float:
        """Glue and Athena, a month."""
        return self.glue_dollars_per_month() + self.athena_dollars_per_month()

    def with_execution_class(self, execution_class: str) -> CostReport:
        """The same configs on ``execution_class`` wherever their workers allow it (FLEX: G.1X/G.2X)."""
        configs = []
        for c in self.configs:
            allowed = execution_class == "STANDARD" or c.worker_type in FLEX_WORKER_TYPES
            chosen = execution_class if allowed else c.execution_class
            runs = [r.model_copy(update={"execution_class": chosen}) for r in c.runs]
            configs.append(c.model_copy(update={"execution_class": chosen, "runs": runs}))
        return self.model_copy(update={"configs": configs})


def cron_firings_per_day(cron: str, days: int = 28) -> float:
    """Average firings a day of a five-field cron over ``days`` days from 2026-02-01 (a Sunday).

    Numbers, ``*``, ranges, steps and lists are understood; day names and ``L``/``W``/``#`` are not.
    Day-of-month and day-of-week restrict together as cron's OR when both are restricted.
    """
    minute, hour, dom, month, dow = (_field(p, lo, hi) for p, (lo, hi) in zip(cron.split(), CRON_RANGES))
    dom_any, dow_any = cron.split()[2] in ("*", "?"), cron.split()[4] in ("*", "?")
    start = datetime(2026, 2, 1)
    count = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        in_dom, in_dow = day.day in dom, (day.isoweekday() % 7) in dow
        runs = (in_dom and in_dow) if dom_any or dow_any else (in_dom or in_dow)
        if runs and day.month in month:
            count += len(minute) * len(hour)
    return count / days


CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _field(text: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            first, last = lo, hi
        elif "-" in span:
            first, last = (int(v) for v in span.split("-"))
        else:
            first = int(span)
            last = hi if step else first
        values.update(range(first, last + 1, int(step) if step else 1))
    return {0 if (v == 7 and hi == 7) else v for v in values}


def run_seconds(kind: str, batch_gb: float, worker_type: str, workers: int, throughput: Throughput) -> float:
    """Seconds of one Glue run: start-up, fixed work, and the batch over the executors' cores."""
    per_gb = throughput.ingest_core_seconds_per_gb if kind == "ingest" else throughput.prepare_core_seconds_per_gb
    # One worker hosts the driver; the others run the executors (at least one worker's cores).
    cores = WORKER_VCPU[worker_type] * max(1, workers - 1)
    return throughput.startup_seconds + throughput.fixed_seconds + batch_gb * per_gb / cores


def estimate(
    configs: Iterable[IngestConfig | PrepareConfig],
    *,
    batch_gb: float = 0.01,
    throughput: Throughput | None = None,
    prices: Prices | None = None,
    default_execution_class: str = "STANDARD",
    batches_per_day: float | None = None,
) -> CostReport:
    """The cost of ``configs`` when each table receives a ``batch_gb`` batch at its config's cadence.

    ``batches_per_day`` overrides every cron; an ingest config with no cron and no override
    counts one batch a day.
    """
    throughput, prices = throughput or Throughput(), prices or Prices()
    configs = list(configs)
    ingest = {c.config_name: c for c in configs if isinstance(c, IngestConfig)}
    cadence = {
        name: batches_per_day
        if batches_per_day is not None
        else (cron_firings_per_day(c.job_settings.cron) if c.job_settings.cron else 1.0)
        for name, c in ingest.items()
    }
    out = []
    for config in configs:
        if isinstance(config, IngestConfig):
            per_day = cadence[config.config_name]
        else:
            per_day = cadence.get(config.source.config_name, 1.0)
        out.append(_config_cost(config, per_day, batch_gb, throughput, prices, default_execution_class))
    return CostReport(configs=out, prices=prices, throughput=throughput, batch_gb=batch_gb)


def _config_cost(
    config: IngestConfig | PrepareConfig,
    per_day: float,
    batch_gb: float,
    throughput: Throughput,
    prices: Prices,
    default_execution_class: str,
) -> ConfigCost:
    """One config's runs per batch (one per ingest table, or one per target) and checks."""
    settings = config.job_settings
    execution_class = settings.execution_class or default_execution_class
    if execution_class == "FLEX" and settings.worker_type not in FLEX_WORKER_TYPES:
        execution_class = "STANDARD"
    kind = "ingest" if isinstance(config, IngestConfig) else "prepare"
    seconds = run_seconds(kind, batch_gb, settings.worker_type, settings.number_of_workers, throughput)
    runs = [
        RunCost(
            config_name=config.config_name,
            table_name=t.table_name,
            kind=kind,
            seconds=seconds,
            billed_seconds=max(seconds, prices.glue_minimum_seconds),
            dpu=WORKER_DPU[settings.worker_type] * settings.number_of_workers,
            execution_class=execution_class,
        )
        for t in config.table_config
    ]
    # Only targets carry the primary_key_unique check (per batch, and nightly in maintenance).
    keyed = 0 if kind == "ingest" else sum(1 for t in config.table_config if t.primary_key)
    return ConfigCost(
        config_name=config.config_name,
        execution_class=execution_class,
        worker_type=settings.worker_type,
        number_of_workers=settings.number_of_workers,
        batches_per_day=per_day,
        runs=runs,
        athena_queries_per_batch=keyed,
        athena_queries_per_day=keyed,
        athena_bytes_per_query=max(prices.athena_minimum_bytes, math.ceil(batch_gb * 1e9)),
    )


def levers(report: CostReport) -> list[str]:
    """What a user can set to lower the bill, each with what it saves on this report."""
    total = report.dollars_per_month()
    found = []
    flex = report.with_execution_class("FLEX")
    if flex.dollars_per_month() < total - 0.005:
        found.append(
            f'FLEX execution (job_settings.execution_class "FLEX", or glue_execution_class for every job):'
            f" ${total:,.2f} -> ${flex.dollars_per_month():,.2f} a month; runs start later (spare capacity)"
        )
    minimum = [r for c in report.configs for r in c.runs if r.seconds < r.billed_seconds]
    if minimum:
        found.append(
            f"{len(minimum)} of {sum(len(c.runs) for c in report.configs)} runs per batch are billed Glue's"
            f" {report.prices.glue_minimum_seconds}-second minimum: fewer, larger batches (a sparser cron, or"
            " landing several exports as one batch) cost less per GB than many small ones"
        )
    for c in report.configs:
        if c.number_of_workers > 2 and all(r.seconds < r.billed_seconds for r in c.runs):
            found.append(
                f"{c.config_name}: every run is at the minimum, so {c.number_of_workers} workers bill"
                f" {c.number_of_workers / 2:.1f}x what 2 would (job_settings.number_of_workers)"
            )
        prepare_runs = [r for r in c.runs if r.kind == "prepare"]
        if len(prepare_runs) > 1:
            overhead = report.throughput.startup_seconds + report.throughput.fixed_seconds
            one = overhead + sum(r.seconds - overhead for r in prepare_runs)
            saved = sum(r.billed_seconds for r in prepare_runs) - max(one, report.prices.glue_minimum_seconds)
            if saved > 0:
                rate = report.prices.flex_dpu_hour if c.execution_class == "FLEX" else report.prices.standard_dpu_hour
                dollars = saved * prepare_runs[0].dpu / 3600 * rate * c.batches_per_day * report.days_per_month
                found.append(
                    f"{c.config_name}: its {len(prepare_runs)} targets run as {len(prepare_runs)} Glue runs per"
                    f" batch; one prepare run for all of them would save about ${dollars:,.2f} a month (not"
                    " built: a run per target keeps a failed target from holding back the others)"
                )
    found.append(
        "Auto scaling (glue_auto_scaling, on by default) releases idle executors in long runs; it cannot"
        " go below the one-minute minimum"
    )
    return found


def format_report(report: CostReport) -> str:
    """The report as a table per config, the totals and the levers."""
    p = report.prices
    lines = [
        f"Glue and Athena cost of {len(report.configs)} configs, a {report.batch_gb * 1000:g} MB batch per table,"
        f" {report.days_per_month}-day month; ${p.standard_dpu_hour}/DPU-h STANDARD, ${p.flex_dpu_hour} FLEX,"
        f" ${p.athena_per_tb}/TB Athena ({p.athena_minimum_bytes // MB} MB minimum per query)",
        "",
        f"{'config':<16} {'class':<9} {'workers':<9} {'batches/day':>11} {'runs/batch':>10}"
        f" {'DPU-s/batch':>11} {'$/batch':>9} {'DPU-h/day':>9} {'$/month':>9}",
    ]
    for c in report.configs:
        glue = c.glue_dollars_per_batch(p)
        month = (glue * c.batches_per_day + c.athena_dollars_per_day(p)) * report.days_per_month
        lines.append(
            f"{c.config_name:<16} {c.execution_class:<9} {f'{c.number_of_workers} x {c.worker_type}':<9}"
            f" {c.batches_per_day:>11g} {len(c.runs):>10} {c.dpu_seconds_per_batch():>11,.0f} {glue:>9.4f}"
            f" {c.dpu_seconds_per_batch() * c.batches_per_day / 3600:>9.2f} {month:>9,.2f}"
        )
    t = report.throughput
    lines += [
        "",
        f"total: {report.dpu_hours_per_day():.2f} DPU-hours a day; ${report.glue_dollars_per_month():,.2f} Glue"
        f" + ${report.athena_dollars_per_month():,.2f} Athena = ${report.dollars_per_month():,.2f} a month",
        f"run seconds = {t.startup_seconds:g} s start-up + {t.fixed_seconds:g} s fixed + batch GB x"
        f" ({t.ingest_core_seconds_per_gb:.0f} ingest | {t.prepare_core_seconds_per_gb:.0f} prepare) core-s/GB"
        f" / executor cores; billed at least {p.glue_minimum_seconds} s",
        "",
        "What lowers it:",
        *(f"- {lever}" for lever in levers(report)),
    ]
    return "\n".join(lines)
