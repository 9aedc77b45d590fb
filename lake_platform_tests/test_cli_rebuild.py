"""`lake rebuild`: every writer of a table goes through one door."""

import dagster as dg
import pytest
from dagster._core.remote_origin import RemoteInstigatorOrigin, RemoteJobOrigin
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, InstigatorType
from dagster._core.test_utils import create_run_for_test

from lake_platform.cli import main
from lake_platform.instance import get_instance
from lake_platform.settings import catalog_uri


def _repository_origin():
    from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteRepositoryOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = ManagedGrpcPythonEnvCodeLocationOrigin(LoadableTargetOrigin(python_file="x.py"), location_name="lake")
    return RemoteRepositoryOrigin(location, "__repository__")


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTED])
def test_rebuild_from_raw_refuses_while_a_run_is_queued_or_in_flight_and_keeps_the_catalog(lake_home, capsys, status):
    catalog = lake_home / catalog_uri().removeprefix(f"sqlite:///{lake_home}/")
    catalog.parent.mkdir(parents=True, exist_ok=True)
    catalog.write_bytes(b"the lake's catalog")
    instance = get_instance()
    run = create_run_for_test(
        instance,
        job_name="process_erp__orders",
        status=status,
        remote_job_origin=RemoteJobOrigin(_repository_origin(), "process_erp__orders"),
        tags={"dagster/partition": "20260105T020000Z", "lake/batch": "20260105T020000Z"},
    )
    assert main(["rebuild", "--from-raw"]) == 1
    err = capsys.readouterr().err
    assert f"run {run.run_id} of process_erp__orders (batch 20260105T020000Z) is {status.value}" in err
    assert "stop them first" in err
    assert catalog.read_bytes() == b"the lake's catalog"


def test_rebuild_from_raw_refuses_while_a_sensor_is_turned_on(lake_home, capsys):
    instance = get_instance()
    origin = RemoteInstigatorOrigin(_repository_origin(), "landing_sensor")
    instance.add_instigator_state(InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING))
    assert main(["rebuild", "--from-raw"]) == 1
    assert "sensor landing_sensor is turned on: turn it off in the UI (Automation)" in capsys.readouterr().err
