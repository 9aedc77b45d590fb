"""The common shape of a job's ``main(argv)``: arguments, session, config, reporting."""

from __future__ import annotations

from collections.abc import Callable

from lake_glue.args import A
from lake_glue.configs import load_config_item
from lake_glue.report import open_reporter
from lake_glue.spark import get_spark, release_spark, set_log_level


def pipes_metadata(figures: dict) -> dict:
    """Figures as Pipes metadata: a dict value must be wrapped, or Pipes reads it as a typed value."""
    return {k: {"raw_value": v, "type": "json"} if isinstance(v, dict) else v for k, v in figures.items()}


def run_job(
    argv: list[str],
    job_name: str,
    args_class: type[A],
    body: Callable[..., dict],
    summary: Callable[[dict], str],
) -> dict:
    """Parse Glue arguments into ``args_class``, start Spark, load the config item, run ``body`` and report.

    ``body(spark, args, config, pipes=...)`` returns the figures that become the asset materialization's
    metadata; ``summary(figures)`` is the one log line a person reads first.
    """
    args = args_class.from_argv(argv)
    spark = get_spark(f"{job_name}:{args.config_name}.{args.table_name}")
    try:
        config = load_config_item(args.config_source, args.config_name)
        set_log_level(spark, config)
        with open_reporter(argv) as reporter:
            figures = body(spark, args, config, pipes=reporter)
            reporter.log.info(summary(figures))
            reporter.report_asset_materialization(metadata=pipes_metadata(figures), data_version=args.batch_id)
    finally:
        release_spark(spark)
    return figures
