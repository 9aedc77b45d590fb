"""How a job reports back: through Dagster Pipes when Dagster launched it, to stdout otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StandaloneReporter:
    """Stands in for a Pipes context when the job runs without Dagster (e.g. from the Glue console)."""

    extras: dict = {}

    def report_asset_materialization(
        self, metadata: Any = None, data_version: Any = None, asset_key: Any = None
    ) -> None:
        print(json.dumps({"materialization": metadata, "data_version": data_version}, default=str))

    def report_asset_check(
        self, check_name: Any, passed: Any, severity: str = "ERROR", metadata: Any = None, asset_key: Any = None
    ) -> None:
        print(json.dumps({"check": check_name, "passed": passed, "metadata": metadata}, default=str))

    class _Log:
        def info(self, msg: Any) -> None:
            print(msg, file=sys.stderr)

        warning = error = info

    log = _Log()


@contextmanager
def open_reporter(argv: list[str]) -> Iterator[Any]:
    """Yield a Pipes context, or a stand-in when no Dagster launched the job.

    The transport is the one the launcher chose, read from the Pipes parameters themselves:
    parameters that name a bucket (the Step Functions runner) mean an S3 context and S3
    messages; a path (the local runner) means files.
    """
    from dagster_pipes import PipesCliArgsParamsLoader, open_dagster_pipes

    loader = PipesCliArgsParamsLoader()
    if not any(a.startswith("--dagster-pipes-context") for a in argv):
        yield StandaloneReporter()
        return
    if "bucket" in loader.load_context_params():
        import boto3
        from dagster_pipes import PipesS3ContextLoader, PipesS3MessageWriter

        s3 = boto3.client("s3")
        with open_dagster_pipes(
            params_loader=loader,
            context_loader=PipesS3ContextLoader(client=s3),
            message_writer=PipesS3MessageWriter(client=s3, interval=5),
        ) as pipes:
            yield pipes
    else:
        with open_dagster_pipes(params_loader=loader) as pipes:
            yield pipes
