"""The ``lake`` command: what users do outside the Dagster UI.

- ``lake demo``: generate the sample ERP exports, process them, print the summary and a query;
- ``lake process``: one pass: detect landed batches, register them, run everything pending;
- ``lake query "SQL"``: query tables as ``<database>.<table>`` (DuckDB locally, Athena in AWS);
- ``lake doctor`` / ``lake redrive`` / ``lake retire``: find, re-run and retire stuck or bad batches;
- ``lake maintain``: compact, expire snapshots and remove orphan files of every Iceberg table;
- ``lake rebuild <database.table>`` / ``lake rebuild --from-raw``: rebuild from the layer below;
- ``lake configs validate`` / ``lake configs push``: check configs, write them to the config store;
- ``lake configs suggest <config.table>``: the config patch declaring columns ``on_new_columns: add`` added;
- ``lake configs plan [FILE]``: what a changed config would do to the last landed batches, writing nothing;
- ``lake lineage <database.table>[.<column>]``: where a table's or column's data comes from, down to
  the landing folder and raw column, and what reads it;
- ``lake cost``: Glue DPU-seconds and dollars per batch and per month of the configs, and the levers;
- ``lake docs``: an HTML page of every table (columns, lineage, row counts, freshness) for analysts.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

EXAMPLE_QUERY = """SELECT o.currency, count(*) AS orders, sum(o.order_total) AS revenue,
       sum(l.lines) AS order_lines
FROM sales.orders o
JOIN (SELECT order_id, count(*) AS lines FROM sales.order_lines GROUP BY order_id) l USING (order_id)
WHERE o.order_status <> 'CANCELLED'
GROUP BY o.currency ORDER BY revenue DESC"""


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(str(c)) for i, c in enumerate(columns)]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))


@contextmanager
def _resources(defs):
    """Initialized resources (``dg.EnvVar`` values resolved), usable outside a run."""
    import dagster as dg

    with dg.build_resources(dict(defs.resources)) as resources:
        yield resources


def _load_defs():
    from lake_platform.definitions import build_definitions

    return build_definitions()


def cmd_process(args) -> int:
    """Run one processing pass and print the summary (in AWS mode: list what production has pending)."""
    from lake_platform.process import format_summary, one_line, process, summarize
    from lake_platform.settings import lake_env

    if lake_env() == "aws":
        return _pending_in_production()
    defs = _load_defs()
    with _resources(defs) as res:
        report = process(defs, res.partition_registry)
        rows = summarize(res.partition_registry, res.query_engine, res.config_store.list_configs())
    print(f"landing sensor: {report.ticks} tick(s), {sum(len(v) for v in report.registered.values())} new batch(es)")
    print(f"runs: {len(report.runs)} executed, {len(report.failed)} failed\n")
    print(format_summary(rows))
    for failure in report.failed:
        print(
            f"FAILED {failure.table_id}/{failure.batch_id} (run {failure.run_id}): {one_line(failure.error)}",
            file=sys.stderr,
        )
    for reason in report.gave_up:
        print(f"GAVE UP {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def _pending_in_production() -> int:
    """``lake process`` with ``LAKE_ENV=aws``: the batches production has not finished; nothing is run.

    The landing sensor is not ticked either: its cursor belongs to the production daemon.
    """
    from lake_platform.process import plan_runs, requested_batch
    from lake_platform.production import operator_instance, refuse_in_process_run

    defs = _load_defs()
    with _resources(defs) as res:
        instance = operator_instance(defs, res.partition_registry)
        runs, gave_up = plan_runs(defs, res.partition_registry, instance, [])
    print(f"production: {len(runs)} registered batch(es) with no successful run and none in flight")
    for request in runs:
        print(f"  pending {request.tags['lake/table']}/{requested_batch(request)} ({request.job_name})")
    for reason in gave_up:
        print(f"GAVE UP {reason}", file=sys.stderr)
    refuse_in_process_run("lake process")
    return 1


def cmd_demo(args) -> int:
    """Generate the sample, process it, check the counts against the generator, run a query."""
    from lake_platform.process import format_summary, one_line, process, summarize
    from lake_platform.production import refuse_in_process_run
    from lake_platform.sample_data import generate

    # Before the sample is written: in AWS mode it would land in production's raw bucket.
    refuse_in_process_run("lake demo")
    defs = _load_defs()
    with _resources(defs) as res:
        store = res.object_store
        erp = res.config_store.get_config("erp")
        print(f"writing sample ERP exports to {store.uri(store.raw_bucket, erp.source.landing_prefix)}/ ...")
        expected = generate(store, erp.source.landing_prefix)
        report = process(defs, res.partition_registry)
        rows = summarize(res.partition_registry, res.query_engine, res.config_store.list_configs())
        print()
        print(format_summary(rows))
        problems = _compare(rows, expected)
        print()
        if report.failed:
            problems += [f"run failed: {f.table_id}/{f.batch_id}: {one_line(f.error)}" for f in report.failed]
        if problems:
            print("MISMATCH against the generated data:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(
            "checks: landed = source + quarantined for every batch; target rows match the generator"
            " (orders = distinct order ids after upsert)"
        )
        print(f"in-flight batches left alone (no _SUCCESS yet): {expected.incomplete_batches}")
        print(f"\nexample analyst query:\n{EXAMPLE_QUERY}\n")
        result = res.query_engine.query(EXAMPLE_QUERY)
        _print_table(result.columns, result.rows)
    print(
        "\nnext steps:\n"
        "  make dev                                   Dagster UI at http://127.0.0.1:3000"
        " (assets, checks, column lineage)\n"
        "  .venv/bin/lake lineage sales.order_lines.line_amount   where a column comes from, down to the raw files\n"
        '  .venv/bin/lake query "SELECT * FROM sales.orders LIMIT 5"\n'
    )
    return 0


def _compare(rows: list[dict], expected) -> list[str]:
    problems = []
    registry_rows = {r["table"].split(".", 1)[1]: r for r in rows}
    for table, batches in expected.landed_rows.items():
        row = registry_rows.get(table)
        if row is None:
            problems.append(f"{table}: not in the summary")
            continue
        landed = sum(batches.values())
        bad = sum(expected.bad_rows[table].values())
        if row["batches"] != len(expected.complete_batches[table]):
            problems.append(
                f"{table}: {row['batches']} batches registered, expected {len(expected.complete_batches[table])}"
            )
        if row["landed"] != landed or row["quarantined"] != bad or row["source"] != landed - bad:
            problems.append(
                f"{table}: landed/source/quarantined {row['landed']}/{row['source']}/{row['quarantined']},"
                f" expected {landed}/{landed - bad}/{bad}"
            )
        for name, count in row["targets"].items():
            if count != expected.target_rows[table]:
                problems.append(f"{name}: {count} rows, expected {expected.target_rows[table]}")
    return problems


def _print_result(columns: list[str], rows: list[tuple], fmt: str) -> None:
    """Rows as an aligned table, CSV or JSON lines."""
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        import json

        for row in rows:
            print(json.dumps(dict(zip(columns, row)), default=str))
    else:
        _print_table(columns, rows)


def _tables_and_stats(res):
    """The lineage graph of the configs, and each table's row count and last commit from the catalog."""
    from lake_platform.docs_page import table_stats
    from lake_platform.lineage import lineage_graph

    graph = lineage_graph(res.config_store.list_configs())
    return graph, table_stats(res.lake_catalog.open(), graph)


def _show_tables(res) -> tuple[list[str], list[tuple]]:
    """Every lake table with its layer, row count and last commit (``show tables``)."""
    graph, stats = _tables_and_stats(res)
    rows = [
        (
            name,
            table.layer,
            stats[name].rows if stats[name].rows is not None else stats[name].problem,
            stats[name].committed_at or "-",
            len([c for c in table.columns if not c.builtin]),
        )
        for name, table in sorted(graph.items())
    ]
    return ["table", "layer", "rows", "last commit", "columns"], rows


@contextmanager
def _light_resources():
    """The resources, without the Dagster definitions, as cheaply as the environment allows.

    Locally every setting is a plain value, so the resources are used as they are; in AWS their
    ``dg.EnvVar`` settings are resolved by ``build_resources`` (which starts an ephemeral
    Dagster instance, about a second).
    """
    from types import SimpleNamespace

    import dagster as dg

    from lake_platform.resources import resources_for_env
    from lake_platform.settings import lake_env

    resources = resources_for_env()
    if lake_env() == "local":
        yield SimpleNamespace(**resources)
        return
    with dg.build_resources(resources) as res:
        yield res


def _is_show_tables(sql: str) -> bool:
    """``show tables`` (any case, with or without a semicolon): the lake's own listing, not SQL."""
    return sql.strip().rstrip(";").strip().lower() == "show tables"


def _run_statement(res, sql: str, as_of: str | None, fmt: str) -> int:
    from lake_platform.resources.query_engine.base import QueryError

    if _is_show_tables(sql):
        _print_result(*_show_tables(res), fmt)
        return 0
    try:
        result = res.query_engine.query(sql, as_of=as_of)
    except QueryError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    _print_result(result.columns, result.rows, fmt)
    return 0


def cmd_query(args) -> int:
    """Run SQL and print the rows; with no SQL, an interactive shell (one statement per line).

    Only the resources are built, not the Dagster definitions: a query needs no asset graph.
    """
    if args.sql is not None and not args.sql.strip():
        print(
            'lake query: no SQL given; pass a statement, e.g. lake query "select * from sales.orders limit 5"',
            file=sys.stderr,
        )
        return 2
    if args.sql is not None and args.as_of is None and not _is_show_tables(args.sql):
        from lake_platform.query_cache import cached_query
        from lake_platform.settings import catalog_uri, lake_env

        # Every commit remembers its version's files: answer from them, with no catalog load or Dagster import.
        cached = cached_query(catalog_uri(), args.sql) if lake_env() == "local" else None
        if cached is not None:
            _print_result(*cached, args.format)
            return 0
    with _light_resources() as res:
        if args.sql is not None:
            return _run_statement(res, args.sql, args.as_of, args.format)
        print("lake query: one SQL statement per line; `show tables` lists the lake; Ctrl-D or \\q quits.")
        status = 0
        while True:
            try:
                line = input("lake> ")
            except EOFError:
                print()
                return status
            if line.strip() in ("\\q", "quit", "exit"):
                return status
            if line.strip():
                status = _run_statement(res, line, args.as_of, args.format)


def cmd_maintain(args) -> int:
    """Compact, expire and clean every Iceberg table; print what was done per table."""
    from lake_platform.maintenance import maintain_lake, orphan_window

    try:
        orphan_window(args.orphan_hours, "--orphan-hours")
    except ValueError as exc:
        print(f"lake maintain: {exc}", file=sys.stderr)
        return 2
    reports = maintain_lake(args.retain_days, args.orphan_hours, args.compact_min_files, "--orphan-hours")
    for r in reports:
        print(
            f"{r.table:<22} compacted {r.files_compacted} files in {r.partitions_compacted} partitions,"
            f" expired {r.snapshots_expired} snapshots, removed {len(r.orphans_removed)} orphan files"
        )
        for reason in r.skipped:
            print(f"  skipped: {reason}")
    return 0


def cmd_doctor(args) -> int:
    """List batches and landed files that need a person; exit 1 if there are any."""
    from lake_platform.assets import build_table_assets
    from lake_platform.operations import doctor
    from lake_platform.process import sync_batch_status
    from lake_platform.production import operator_instance
    from lake_platform.settings import lake_env

    defs = _load_defs()
    with _resources(defs) as res:
        instance = operator_instance(defs, res.partition_registry)
        if lake_env() == "local":
            # No daemon locally: mirror the latest runs first, as the batch status sensor would have.
            sync_batch_status(instance, defs)
        tables = build_table_assets(res.config_store.list_configs(), lake_env())
        findings = doctor(tables, res.object_store, res.partition_registry, instance)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s)" if findings else "nothing waiting, failed, stuck or retired")
    return 1 if findings else 0


def cmd_reseal(args) -> int:
    """Copy a sealed batch's stragglers into a new batch, which is then processed like any other."""
    from lake_platform.assets import build_table_assets
    from lake_platform.layout import landing_table_prefix
    from lake_platform.operations import reseal_stragglers
    from lake_platform.settings import lake_env

    defs = _load_defs()
    with _resources(defs) as res:
        tables = {t.table_id: t for t in build_table_assets(res.config_store.list_configs(), lake_env())}
        entry = tables.get(args.table)
        if entry is None:
            print(f"lake reseal: unknown table {args.table!r}; tables: {', '.join(sorted(tables))}", file=sys.stderr)
            return 1
        root = landing_table_prefix(entry.config.source.landing_prefix, entry.table.table_name)
        try:
            new_id = reseal_stragglers(res.object_store, res.partition_registry, args.table, root, args.batch)
        except KeyError as exc:
            print(f"lake reseal: {exc.args[0]}", file=sys.stderr)
            return 1
    if new_id is None:
        print(f"{args.table}/{args.batch}: no stragglers; nothing to reseal")
        return 0
    print(f"{args.table}/{args.batch}: stragglers resealed as batch {new_id}; `lake process` ingests it")
    return 0


def cmd_retire(args) -> int:
    """Retire a bad batch for good, with its reason: its rows leave the source table and every target."""
    from lake_glue.config import PrepareConfig, TableConfig
    from lake_glue.configs import load_config_item, load_ingest_config
    from lake_glue.retire import retire_batch
    from lake_platform.operations import retire
    from lake_platform.production import operator_instance
    from lake_platform.run_history import run_history

    defs = _load_defs()
    job = next((j for j in defs.jobs or [] if (j.tags or {}).get("lake/table") == args.table), None)
    with _resources(defs) as res:
        instance = operator_instance(defs, res.partition_registry)
        if job is not None and args.batch in run_history(instance, job.name).in_flight:
            print(
                f"lake retire: batch {args.table}/{args.batch} has a run queued or in flight; it would commit the"
                " batch again. Wait for it or terminate it in the UI (Runs), then retire.",
                file=sys.stderr,
            )
            return 1
        try:
            retire(res.partition_registry, args.table, args.batch, args.reason)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        source_name, table_name = args.table.split(".", 1)
        config_source = res.config_store.job_config_source()
        prepares = [
            load_config_item(config_source, c.config_name)
            for c in res.config_store.list_configs()
            if c.config_name != source_name
        ]

        def rebuild(config: PrepareConfig, table: TableConfig) -> None:
            if _rebuild_target(res, config.etl_job, config.config_name, table.table_name) != 0:
                raise SystemExit(
                    f"lake retire: rebuilding {config.target.database}.{table.table_name} without batch"
                    f" {args.batch} failed; the batch is retired, run `lake retire` again to finish"
                )

        done = retire_batch(
            res.lake_catalog.open(),
            load_ingest_config(config_source, source_name),
            table_name,
            prepares,
            args.batch,
            args.reason,
            rebuild,
            res.glue_runner.database_prefix,
        )
    print(f"retired {args.table}/{args.batch}: {args.reason}")
    for entry in done:
        print(f"  {entry.table}: {entry.action}")
    return 0


def cmd_redrive(args) -> int:
    """Re-run failed (or the named) batches of a table through Dagster."""
    from lake_platform.operations import redrive, redrive_plan
    from lake_platform.process import one_line, sync_batch_status
    from lake_platform.production import operator_instance, refuse_in_process_run
    from lake_platform.run_history import run_failure_reason
    from lake_platform.settings import lake_env

    defs = _load_defs()
    local = lake_env() == "local"
    with _resources(defs) as res:
        instance = operator_instance(defs, res.partition_registry)
        if not local:
            try:
                job, batch_ids = redrive_plan(defs, res.partition_registry, args.table, args.batches)
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 1
            for batch_id in batch_ids:
                print(f"  would re-run {job.name} for batch {batch_id}")
            refuse_in_process_run("lake redrive")
        if local:
            sync_batch_status(instance, defs)
        try:
            results = redrive(defs, res.partition_registry, instance, args.table, args.batches)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        if local:
            sync_batch_status(instance, defs)
    failed = [r for r in results if not r.success]
    for r in failed:
        print(f"FAILED run {r.run_id}: {one_line(run_failure_reason(instance, r.run_id))}", file=sys.stderr)
    print(f"{len(results)} run(s), {len(failed)} failed")
    return 1 if failed else 0


def _target_table(configs, name: str):
    from lake_glue.config import PrepareConfig

    for config in configs:
        if isinstance(config, PrepareConfig) and config.target.database == name.split(".", 1)[0]:
            for table in config.table_config:
                if f"{config.target.database}.{table.table_name}" == name:
                    return config, table
    known = sorted(
        f"{c.target.database}.{t.table_name}" for c in configs if isinstance(c, PrepareConfig) for t in c.table_config
    )
    raise SystemExit(f"lake rebuild: {name!r} is not a target table; target tables: {', '.join(known)}")


def cmd_rebuild(args) -> int:
    """Rebuild target tables from the source layer (one commit each), or the whole lake from raw."""
    defs = _load_defs()
    with _resources(defs) as res:
        if args.from_raw:
            return _rebuild_from_raw(defs, res)
        if not args.table:
            raise SystemExit("lake rebuild: name a target table (e.g. sales.orders) or pass --from-raw")
        config, table = _target_table(res.config_store.list_configs(), args.table)
        _finish_retires(res, config.source.config_name, table.source_table_name)
        print(f"rebuilding {args.table} from the source layer in one commit ...")
        return _rebuild_target(res, config.etl_job, config.config_name, table.table_name)


def _finish_retires(res, source_config_name: str, table_name: str) -> None:
    """Remove every retired batch still in the source table, so a rebuild never reads one back.

    ``lake retire`` removes them itself; a retire cut short, or one made before retiring removed
    data, left rows behind. Already-removed batches are skipped (the table remembers them).
    """
    from lake_glue.configs import load_ingest_config
    from lake_glue.layout import source_table_spec
    from lake_glue.retire import delete_batch
    from lake_platform.operations import RETIRED

    retired = [
        r for r in res.partition_registry.list_batches(f"{source_config_name}.{table_name}") if r.status == RETIRED
    ]
    if not retired:
        return
    source_config = load_ingest_config(res.config_store.job_config_source(), source_config_name)
    spec = source_table_spec(source_config, source_config.table(table_name), "unused", res.glue_runner.database_prefix)
    catalog = res.lake_catalog.open()
    for record in retired:
        if delete_batch(catalog, spec, "p_batch_id", record.batch_id, record.error or "retired") == "deleted":
            print(f"removed retired batch {record.batch_id} from {spec.label} first")


def _rebuild_target(res, etl_job: str, config_name: str, table_name: str) -> int:
    """Run the prepare job's rebuild of one target table; its exit code."""
    from lake_glue.args import PrepareArgs
    from lake_platform.resources.glue_runner.local import LocalGlueJobRunner

    runner = res.glue_runner
    if not isinstance(runner, LocalGlueJobRunner):
        print(
            f"LAKE_ENV=aws: start the Glue job {etl_job} with --config_name {config_name}"
            f" --table_name {table_name} --batch_id rebuild --rebuild true (and the job's usual arguments)",
            file=sys.stderr,
        )
        return 1
    arguments = PrepareArgs(
        config_name=config_name,
        table_name=table_name,
        batch_id="rebuild",
        config_source=res.config_store.job_config_source(),
        catalog=res.lake_catalog.uri,
        database_prefix=runner.database_prefix,
        target_bucket=res.object_store.target_bucket,
        rebuild=True,
    )
    return runner.run_standalone(etl_job, arguments.glue_arguments())


def _rebuild_from_raw(defs, res) -> int:
    """Drop the source and target layers and their catalog, then process every registered batch again.

    The raw layer is the lake's system of record, so this also turns a lake written by an
    earlier layout (plain Parquet folders) into Iceberg tables.
    """
    import shutil

    from lake_platform.instance import get_instance
    from lake_platform.operations import writers_in_flight
    from lake_platform.process import format_summary, process, summarize
    from lake_platform.settings import catalog_uri, lake_env

    if lake_env() != "local":
        raise SystemExit("lake rebuild --from-raw rebuilds the embedded lake only (LAKE_ENV=local)")
    blockers = writers_in_flight(get_instance())
    if blockers:
        print(
            "lake rebuild --from-raw: refused, it would remove the buckets and the catalog under"
            " these writers; stop them first:\n  " + "\n  ".join(blockers),
            file=sys.stderr,
        )
        return 1
    store = res.object_store
    for bucket in (store.source_bucket, store.target_bucket):
        shutil.rmtree(Path(store.root) / bucket, ignore_errors=True)
    Path(catalog_uri().removeprefix("sqlite:///")).unlink(missing_ok=True)
    registry = res.partition_registry
    # Dagster remembers these batches as done; the data behind that is gone, so run them all again.
    report = process(defs, registry, redo=True)
    print(format_summary(summarize(registry, res.query_engine, res.config_store.list_configs())))
    return 1 if report.failed else 0


# The config fields Terraform reads from the raw JSON files (terraform/main.tf, glue_jobs.tf).
# Terraform knows none of the pydantic defaults, so these must be written out in every file.
TERRAFORM_READS = (
    "config_name",
    "config_type",
    "etl_job",
    "job_settings.worker_type",
    "job_settings.number_of_workers",
    "job_settings.timeout_minutes",
    "target.database",
    "target.prefix",
)
# Optional fields Terraform reads with try(..., null), so a config may leave them out.
TERRAFORM_OPTIONAL_READS = ("job_settings.execution_class",)


def terraform_fields_missing(directory: Path) -> list[str]:
    """``<file>: field <path>`` for every field Terraform reads that a config file leaves to a default."""
    import json

    missing = []
    for path in sorted(directory.glob("*.json")):
        raw = json.loads(path.read_text())
        for field in TERRAFORM_READS:
            node = raw
            for part in field.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                missing.append(
                    f"{path}: field {field}: write it out; Terraform reads this file itself and does not"
                    " know the default (terraform plan would fail)"
                )
    return missing


def cmd_configs_validate(args) -> int:
    """Validate every config file in a folder, and that Terraform can read each one."""
    from lake_glue.config import ConfigError, load_config_dir
    from lake_platform.settings import config_dir

    directory = Path(args.dir) if args.dir else config_dir()
    try:
        configs = load_config_dir(directory)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    missing = terraform_fields_missing(directory)
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 1
    for c in configs:
        print(
            f"ok  {c.config_name:<12} {c.config_type:<13} {c.etl_job:<28}"
            f" tables: {', '.join(t.table_name for t in c.table_config)}"
        )
    return 0


def cmd_lineage(args) -> int:
    """Print the upstream chain and the downstream readers of a table or a column."""
    from lake_glue.config import load_config_dir
    from lake_platform.lineage import describe, lineage_graph
    from lake_platform.settings import config_dir

    graph = lineage_graph(load_config_dir(Path(args.dir) if args.dir else config_dir()))
    try:
        lines = describe(graph, args.name)
    except KeyError as exc:
        print(f"lake lineage: {exc.args[0]}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def cmd_docs(args) -> int:
    """Write the tables page (columns, lineage, row counts, freshness) and print where it is."""
    from datetime import datetime, timezone

    from lake_platform.docs_page import render
    from lake_platform.settings import lake_home

    with _light_resources() as res:
        graph, stats = _tables_and_stats(res)
    out = Path(args.out) if args.out else lake_home() / "docs" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(graph, stats, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")), encoding="utf-8")
    print(f"wrote {out} ({len(graph)} tables); open file://{out.resolve()}")
    return 0


def cmd_configs_push(args) -> int:
    """Validate the config files and write changed ones to the environment's config store.

    In AWS that is the DynamoDB configs table; locally, the config folder the lake reads.
    """
    from lake_glue.config import ConfigError, load_config_dir
    from lake_platform.settings import SettingsError, config_dir

    try:
        configs = load_config_dir(Path(args.dir) if args.dir else config_dir())
        defs = _load_defs()
    except (ConfigError, SettingsError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    with _resources(defs) as res:
        result = res.config_store.push(configs, dry_run=args.dry_run)
    for name, change in sorted(result.changes.items()):
        print(f"{change:<9} {name}" + (" (dry run)" if args.dry_run and change != "unchanged" else ""))
    return 0


def cmd_cost(args) -> int:
    """Print what the configs cost in Glue and Athena, per batch and per month, and how to lower it."""
    from lake_glue.config import load_config_dir
    from lake_platform.cost import Throughput, estimate, format_report
    from lake_platform.settings import config_dir

    configs = load_config_dir(Path(args.dir) if args.dir else config_dir())
    throughput = Throughput(**{k: v for k, v in vars(args).items() if k in Throughput.model_fields and v is not None})
    report = estimate(
        configs,
        batch_gb=args.batch_mb / 1000,
        throughput=throughput,
        default_execution_class=args.execution_class,
        batches_per_day=args.batches_per_day,
    )
    print(format_report(report))
    return 0


def cmd_configs_suggest(args) -> int:
    """Print the JSON Patch (RFC 6902) that declares the columns ``on_new_columns: add`` added to a table."""
    import json

    from lake_glue.evolution import suggest_patch
    from lake_glue.layout import catalog_database
    from lake_glue.tables import find_table

    with _light_resources() as res:
        config, index = _ingest_table(res.config_store.list_configs(), args.table)
        if config is None:
            return 1
        table = config.table_config[index]
        database = catalog_database(config.target.database, res.glue_runner.database_prefix)
        iceberg = find_table(res.lake_catalog.open(), database, table.table_name)
    if iceberg is None:
        print(f"lake configs suggest: {database}.{table.table_name} has not been created yet", file=sys.stderr)
        return 1
    patch = suggest_patch(index, table.column_names, iceberg.schema())
    print(json.dumps(patch, indent=2))
    if not patch:
        print(f"{args.table}: every column of {database}.{table.table_name} is declared", file=sys.stderr)
    return 0


def _ingest_table(configs, name: str):
    """(the ingest config, the table's index in table_config) of ``<config>.<table>``; prints why not."""
    from lake_glue.config import IngestConfig

    config_name, _, table_name = name.partition(".")
    config = next((c for c in configs if c.config_name == config_name and isinstance(c, IngestConfig)), None)
    names = [t.table_name for t in config.table_config] if config is not None else []
    if table_name not in names:
        print(f"lake configs: {name!r} is not an ingest table <config>.<table>, e.g. erp.orders", file=sys.stderr)
        return None, -1
    return config, names.index(table_name)


def cmd_configs_plan(args) -> int:
    """Check changed configs against each changed table's last landed batches; writes nothing."""
    from lake_glue.config import IngestConfig, load_config_file
    from lake_glue.spark import get_spark
    from lake_platform.config_plan import plan_config
    from lake_platform.settings import config_dir

    # The batches are read through the object store and the registry (S3 and DynamoDB in AWS);
    # only the casting runs on a Spark session of this machine, over rows held in memory.
    files = [Path(args.file)] if args.file else sorted(config_dir().glob("*.json"))
    configs = [c for c in (load_config_file(f) for f in files) if isinstance(c, IngestConfig)]
    with _light_resources() as res:
        deployed = {c.config_name: c for c in res.config_store.list_configs()}
        spark = get_spark("lake-configs-plan")
        for config in configs:
            plans = plan_config(
                spark, config, deployed.get(config.config_name), res.partition_registry, res.object_store, args.batches
            )
            for plan in plans:
                print("\n".join(plan.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lake`` command."""
    parser = argparse.ArgumentParser(prog="lake", description="lake_platform command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="generate sample exports and process them end to end").set_defaults(func=cmd_demo)
    sub.add_parser("process", help="register landed batches and run everything pending").set_defaults(func=cmd_process)
    q = sub.add_parser("query", help="run SQL against <database>.<table>; no SQL starts a shell")
    q.add_argument("sql", nargs="?", help="one statement; `show tables` lists the lake's tables")
    q.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    q.add_argument("--as-of", help="read the tables as of a snapshot id or an ISO-8601 UTC timestamp")
    q.set_defaults(func=cmd_query)
    m = sub.add_parser("maintain", help="compact small files, expire old snapshots, remove orphan files")
    m.add_argument("--retain-days", type=float, default=7.0, help="keep time travel for this many days")
    m.add_argument(
        "--orphan-hours",
        type=float,
        default=72.0,
        help="only remove unreferenced files older than this (more than the longest job timeout, 48 h)",
    )
    m.add_argument("--compact-min-files", type=int, default=16, help="compact partitions with more files than this")
    m.set_defaults(func=cmd_maintain)
    d = sub.add_parser("doctor", help="list batches waiting for a marker, failed, stuck or retired, and stray files")
    d.set_defaults(func=cmd_doctor)
    rt = sub.add_parser(
        "retire", help="retire a bad batch for good, with a reason: its rows leave the source table and every target"
    )
    rt.add_argument("table", help="ingest table, e.g. erp.orders")
    rt.add_argument("batch", help="batch id")
    rt.add_argument("--reason", required=True, help="why; kept in the registry and shown by lake doctor")
    rt.set_defaults(func=cmd_retire)
    rs = sub.add_parser("reseal", help="ingest files that landed in a batch after it was sealed, as a new batch")
    rs.add_argument("table", help="ingest table, e.g. erp.orders")
    rs.add_argument("batch", help="the sealed batch the files landed in")
    rs.set_defaults(func=cmd_reseal)
    rd = sub.add_parser("redrive", help="re-run failed (or the named) batches of a table through Dagster")
    rd.add_argument("table", help="ingest table, e.g. erp.orders")
    rd.add_argument("batches", nargs="*", help="batch ids (default: the table's failed batches)")
    rd.set_defaults(func=cmd_redrive)
    r = sub.add_parser("rebuild", help="rebuild a target table from the source layer, or everything from raw")
    r.add_argument("table", nargs="?", help="a target table, e.g. sales.orders")
    r.add_argument(
        "--from-raw", action="store_true", help="drop the source and target layers and re-process every batch"
    )
    r.set_defaults(func=cmd_rebuild)
    li = sub.add_parser("lineage", help="where a table or column comes from, and what reads it")
    li.add_argument(
        "name", help="<database>.<table> or <database>.<table>.<column>, e.g. sales.order_lines.line_amount"
    )
    li.add_argument("--dir", help="config folder (default: LAKE_CONFIG_DIR or configs/)")
    li.set_defaults(func=cmd_lineage)
    dc = sub.add_parser("docs", help="write an HTML page of every table: columns, lineage, row counts, freshness")
    dc.add_argument("--out", help="where to write it (default: $LAKE_HOME/docs/index.html)")
    dc.set_defaults(func=cmd_docs)
    co = sub.add_parser("cost", help="Glue DPU-seconds and dollars per batch and per month, and what lowers them")
    co.add_argument("--dir", help="config folder (default: LAKE_CONFIG_DIR or configs/)")
    co.add_argument("--batch-mb", type=float, default=10.0, help="size of each table's batch in MB (default 10)")
    co.add_argument(
        "--execution-class",
        choices=["STANDARD", "FLEX"],
        default="STANDARD",
        help="for configs that do not set job_settings.execution_class (the deployment's glue_execution_class)",
    )
    co.add_argument("--batches-per-day", type=float, help="instead of each ingest config's cron")
    co.add_argument("--ingest-core-seconds-per-gb", type=float, help="measured ingest throughput (bench/)")
    co.add_argument("--prepare-core-seconds-per-gb", type=float, help="measured prepare throughput (bench/)")
    co.set_defaults(func=cmd_cost)
    configs = sub.add_parser("configs", help="validate or push config items").add_subparsers(
        dest="action", required=True
    )
    v = configs.add_parser("validate", help="validate configs/*.json")
    v.add_argument("--dir", help="config folder (default: LAKE_CONFIG_DIR or configs/)")
    v.set_defaults(func=cmd_configs_validate)
    p = configs.add_parser("push", help="write changed configs to the config store (DynamoDB in AWS)")
    p.add_argument("--dir", help="config folder (default: LAKE_CONFIG_DIR or configs/)")
    p.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    p.set_defaults(func=cmd_configs_push)
    sg = configs.add_parser(
        "suggest", help="print the JSON Patch that declares the columns on_new_columns: add added to a table"
    )
    sg.add_argument("table", help="ingest table, e.g. erp.orders")
    sg.set_defaults(func=cmd_configs_suggest)
    pl = configs.add_parser(
        "plan", help="check a changed config against the last landed batches of each changed table; writes nothing"
    )
    pl.add_argument("file", nargs="?", help="a config file (default: every config in the config folder)")
    pl.add_argument("--batches", type=int, default=5, help="how many of each table's last batches to read")
    pl.set_defaults(func=cmd_configs_plan)
    return parser


# The errors whose message tells the user what to do: printed without a traceback.
_USER_ERRORS = (
    ("lake_glue.config", "ConfigError"),
    ("lake_platform.settings", "SettingsError"),
    ("lake_platform.production", "ProductionInstanceError"),
)


def _is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of :data:`_USER_ERRORS`. Only modules already imported are asked:
    an error class never imported cannot have been raised, and importing them up front would
    cost every command Dagster's and pydantic's import (``lake query``'s shortcut uses neither)."""
    return any(
        isinstance(exc, getattr(sys.modules[module], name)) for module, name in _USER_ERRORS if module in sys.modules
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lake`` command."""
    import warnings

    # Dagster's preview/supersession notices are for library authors, not for `lake` users.
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=UserWarning, message=".*get_sensor_def.*")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
