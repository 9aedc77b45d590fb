"""Headless processing helpers: what `lake process` prints and decides."""


def test_a_failed_runs_error_becomes_one_line_with_the_jobs_exception_and_the_log_path():
    from lake_platform.process import one_line

    error = (
        "step source__erp__orders: Glue job files-spark-ingest-default for erp.orders batch 20260105T020000Z failed"
        " (exit 1; full log: /lake/logs/r1/ingest.log):\n26/01/01 WARN NativeCodeLoader: Unable to load\n"
        'Traceback (most recent call last):\n  File "x.py", line 3, in <module>\n'
        "__main__.IngestError: batch erp.orders/20260105T020000Z: CSV header does not match the declared columns\n"
        "26/01/01 INFO ShutdownHookManager: Shutdown hook called"
    )
    assert one_line(error) == (
        "batch erp.orders/20260105T020000Z: CSV header does not match the declared columns"
        " (log: /lake/logs/r1/ingest.log)"
    )


def _summary_of_customers(tmp_path, target_status: str | None) -> dict:
    import json

    from lake_glue.config import as_config
    from lake_platform.process import summarize
    from lake_platform.resources.catalog import LakeCatalog
    from lake_platform.resources.partition_registry.base import AssetProgress, BatchRecord
    from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
    from lake_platform.resources.query_engine.local import DuckDBQueryEngine
    from lake_platform_tests.conftest import CONFIG_DIR

    configs = [as_config(json.loads(f.read_text()), str(f)) for f in sorted(CONFIG_DIR.glob("*.json"))]
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    registry.register(BatchRecord(table_id="erp.customers", batch_id="20260101T000000Z"))
    done = AssetProgress("MATERIALIZED", "r1", "1")
    for asset in ("raw/erp/customers", "source/erp/customers"):
        registry.record_progress("erp.customers", "20260101T000000Z", asset, done)
    if target_status:
        registry.record_progress(
            "erp.customers", "20260101T000000Z", "target/sales/customers", AssetProgress(target_status, "r1", "1")
        )
    engine = DuckDBQueryEngine(catalog=LakeCatalog(uri=f"sqlite:///{tmp_path / 'catalog.sqlite'}"))
    return {r["table"]: r for r in summarize(registry, engine, configs)}["erp.customers"]["targets"]


def test_the_summary_does_not_count_a_target_no_batch_of_the_table_has_built(tmp_path):
    from lake_platform.process import NOT_BUILT

    assert _summary_of_customers(tmp_path, None) == {"sales.customers": NOT_BUILT}
    assert _summary_of_customers(tmp_path / "failed", "FAILED") == {"sales.customers": NOT_BUILT}


def test_the_summary_counts_a_built_target_and_reports_one_it_cannot_read(tmp_path):
    # Built by a batch but absent from this (empty) catalog: the engine is asked and says why.
    [(name, count)] = _summary_of_customers(tmp_path, "MATERIALIZED").items()
    assert name == "sales.customers" and count.startswith("unavailable (")
