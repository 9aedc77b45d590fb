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
