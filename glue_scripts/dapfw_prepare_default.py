"""Glue job ``dapfw-prepare-default``: one source batch -> a target table.

The entry point Glue runs; the job logic is ``lake_glue.prepare_job`` and its arguments are
``lake_glue.args.PrepareArgs``.
"""

import sys

from lake_glue.args import PrepareArgs
from lake_glue.entrypoint import run_job
from lake_glue.prepare_job import run_prepare, summary


def main(argv: list[str]) -> dict:
    """Parse the Glue arguments, run the job, report its figures through Pipes."""
    return run_job(argv, "dapfw-prepare-default", PrepareArgs, run_prepare, summary)


if __name__ == "__main__":
    main(sys.argv[1:])
