"""``job_settings.execution_class`` reaches the Glue job Terraform builds for the config's etl_job.

The per-job expression in ``terraform/glue_jobs.tf`` is evaluated with the suite's small HCL
evaluator against config dicts as Terraform's ``jsondecode`` would give them (a config that
leaves the field out has no such attribute).
"""

from __future__ import annotations

import re

import pytest

from lake_platform_tests.iac.test_iac_terraform import TF, HclCondition, HclError, load_dir, locals_of, resources

pytestmark = pytest.mark.iac


def _job_execution_class() -> HclCondition:
    glue_jobs = locals_of(load_dir(TF))["glue_jobs"]
    match = re.search(r"execution_class = (\(.*\))\}\}\}$", glue_jobs)
    assert match, glue_jobs
    # The evaluator has no values(): the test passes the configs as a list already.
    return HclCondition(match.group(1).replace("values(local.configs)", "configs"))


def _config(etl_job: str, execution_class: str | None) -> dict:
    settings = {"worker_type": "G.1X", "number_of_workers": 2}
    if execution_class is not None:
        settings["execution_class"] = execution_class
    return {"etl_job": etl_job, "job_settings": settings}


@pytest.mark.parametrize(
    "classes,default,expected",
    [
        ([None], "STANDARD", "STANDARD"),
        ([None], "FLEX", "FLEX"),
        (["FLEX"], "STANDARD", "FLEX"),
        (["STANDARD"], "FLEX", "STANDARD"),
        (["FLEX", None], "STANDARD", "FLEX"),
        (["FLEX", "STANDARD"], "FLEX", "STANDARD"),
    ],
)
def test_a_job_runs_the_execution_class_its_configs_ask_for_else_the_deployment_default(classes, default, expected):
    configs = [_config("files-spark-ingest-default", c) for c in classes]
    # A config of another job never changes this one.
    configs.append(_config("dapfw-prepare-default", "STANDARD" if expected == "FLEX" else "FLEX"))
    env = {"configs": configs, "job": "files-spark-ingest-default", "var": {"glue_execution_class": default}}

    assert _job_execution_class().run(env) == expected


def test_the_evaluator_refuses_a_missing_attribute_that_try_does_not_guard():
    with pytest.raises(HclError):
        HclCondition("c.job_settings.execution_class").run({"c": _config("j", None)})


def test_the_glue_job_takes_its_execution_class_and_checks_flex_workers_per_job():
    job = resources(load_dir(TF))[("aws_glue_job", "this")]

    assert job["execution_class"] == "${each.value.execution_class}"
    (flex,) = [p for p in job["lifecycle"][0]["precondition"] if "FLEX" in p["condition"]]
    check = HclCondition(flex["condition"])
    for execution_class, worker_type, ok in [
        ("FLEX", "G.1X", True),
        ("FLEX", "G.4X", False),
        ("STANDARD", "G.8X", True),
    ]:
        each = {"value": {"execution_class": execution_class, "worker_type": worker_type}}
        assert check.run({"each": each}) is ok, (execution_class, worker_type)
