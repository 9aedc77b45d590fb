"""Issue 21 item 15: ``lake demo`` writes the raw bucket, which no platform role may do in AWS;
in ``LAKE_ENV=aws`` it refuses up front, naming why and what to do instead, without AWS calls."""

from __future__ import annotations

import pytest

from lake_platform import cli


def test_lake_demo_refuses_in_aws_before_touching_anything(monkeypatch):
    monkeypatch.setenv("LAKE_ENV", "aws")

    def no_definitions():
        raise AssertionError("demo loaded definitions in aws mode")

    monkeypatch.setattr(cli, "_load_defs", no_definitions)
    with pytest.raises(SystemExit, match=r"lake demo .*LAKE_ENV=local.*no platform role may write raw"):
        cli.main(["demo"])
