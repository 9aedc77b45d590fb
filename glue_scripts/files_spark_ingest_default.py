"""Glue job ``files-spark-ingest-default``: one landed batch -> the source layer.

The entry point Glue runs; the job logic is ``lake_glue.ingest_job`` and its arguments are
``lake_glue.args.IngestArgs``.
"""

import sys

from lake_glue.args import IngestArgs
from lake_glue.entrypoint import run_job
from lake_glue.ingest_job import run_ingest, summary


def main(argv: list[str]) -> dict:
    """Parse the Glue arguments, run the job, report its figures through Pipes."""
    return run_job(argv, "files-spark-ingest-default", IngestArgs, run_ingest, summary)


if __name__ == "__main__":
    main(sys.argv[1:])
