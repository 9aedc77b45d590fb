"""Glue-style ``--key value`` argument parsing for the job entry points."""

from __future__ import annotations


def parse_job_args(argv: list[str], required: list[str], optional: dict[str, str]) -> dict[str, str]:
    """Parse ``--key value`` pairs, ignoring the keys Glue and Dagster Pipes add themselves.

    Glue passes its own arguments (``--JOB_ID``, ``--job-bookmark-option``, ...) and accepts
    ``--key=value`` as well; unknown keys are therefore ignored rather than rejected, but every
    ``required`` key must be present.
    """
    parsed: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--"):
            i += 1
            continue
        key = token[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value = argv[i + 1]
            i += 2
        else:
            value = ""
            i += 1
        parsed[key] = value
    missing = [k for k in required if not parsed.get(k)]
    if missing:
        raise SystemExit(f"missing required job arguments: {', '.join('--' + k for k in missing)}")
    return {**optional, **{k: v for k, v in parsed.items() if k in set(required) | set(optional)}}
