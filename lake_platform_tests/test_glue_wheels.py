"""Issue 21 item 11: the Glue jobs' dependencies are the locked versions of what they import on
Glue 5.0, minus what Glue ships, derived from uv.lock without any download."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lake_platform.glue_wheels import GLUE_PROVIDED, glue_requirements

REPO = Path(__file__).resolve().parents[1]


def _lock() -> dict:
    return tomllib.loads((REPO / "uv.lock").read_text())


def _locked_version(name: str) -> str:
    return next(p["version"] for p in _lock()["package"] if p["name"] == name)


def test_the_glue_requirement_set_pins_every_runtime_import_at_its_locked_version():
    pins = dict(line.split("==") for line in glue_requirements(_lock()))
    for name in ("pyiceberg", "pydantic", "pydantic-core", "dagster-pipes", "pyarrow", "typing-extensions"):
        assert pins[name] == _locked_version(name), name
    # dagster-pipes speaks the same protocol as the Dagster deployment.
    assert pins["dagster-pipes"] == _locked_version("dagster")


def test_the_glue_requirement_set_leaves_out_what_glue_ships_and_what_the_jobs_never_import():
    names = {line.split("==")[0] for line in glue_requirements(_lock())}
    assert not names & GLUE_PROVIDED
    for not_on_glue in ("dagster", "duckdb", "pyspark", "sqlalchemy", "moto"):
        assert not_on_glue not in names


def test_markers_are_evaluated_for_glue_linux_python_3_11_and_extras_are_followed():
    lock = {
        "package": [
            {
                "name": "root",
                "version": "1.0",
                "dependencies": [
                    {"name": "linux-only", "marker": "sys_platform == 'linux'"},
                    {"name": "windows-only", "marker": "sys_platform == 'win32'"},
                    {"name": "old-python", "marker": "python_full_version < '3.10'"},
                ],
                "optional-dependencies": {"x": [{"name": "via-extra"}], "y": [{"name": "unasked"}]},
            },
            {"name": "linux-only", "version": "2.0", "dependencies": [{"name": "boto3"}]},
            {"name": "windows-only", "version": "3.0"},
            {"name": "old-python", "version": "4.0"},
            {"name": "via-extra", "version": "5.0"},
            {"name": "unasked", "version": "6.0"},
            {"name": "boto3", "version": "7.0"},
        ]
    }
    assert glue_requirements(lock, {"root": ("x",)}) == ["linux-only==2.0", "root==1.0", "via-extra==5.0"]


def test_a_package_missing_from_the_lock_is_named():
    with pytest.raises(KeyError, match="'absent'"):
        glue_requirements({"package": []}, {"absent": ()})


def test_the_makefile_builds_the_zip_terraform_uploads():
    makefile = (REPO / "Makefile").read_text()
    target = re.search(r"^glue-wheels:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target and "lake_platform.glue_wheels" in target.group(1) and "dist/glue-wheels.zip" in target.group(1)
