"""How a job reports back: through Dagster Pipes when Dagster launched it, to stdout otherwise."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager


class StandaloneReporter:
    """Stands in for a Pipes context when the job runs without Dagster (e.g. from the Glue console)."""

    extras: dict = {}

    def report_asset_materialization(self, metadata=None, data_version=None, asset_key=None):
        print(json.dumps({"materialization": metadata, "data_version": data_version}, default=str))

    def report_asset_check(self, check_name, passed, severity="ERROR", metadata=None, asset_key=None):
        print(json.dumps({"check": check_name, "passed": passed, "metadata": metadata}, default=str))

    class _Log:
        def info(self, msg):
            print(msg, file=sys.stderr)

        warning = error = info

    log = _Log()


@contextmanager
def open_reporter(argv: list[str], lake_env: str):
    """Yield a Pipes context (CLI-argument params; S3 context/messages in AWS) or a stand-in."""
    from dagster_pipes import PipesCliArgsParamsLoader, open_dagster_pipes

    loader = PipesCliArgsParamsLoader()
    if not any(a.startswith("--dagster-pipes-context") for a in argv):
        yield StandaloneReporter()
        return
    if lake_env == "aws":
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
