"""The orphan-file window outlasts every job: a running job's uncommitted files are never orphans."""

import pytest

from lake_glue.config import MAX_JOB_TIMEOUT_MINUTES, JobSettings
from lake_platform.cli import main
from lake_platform.jobs import MaintenanceConfig
from lake_platform.maintenance import ORPHAN_WINDOW_FLOOR_HOURS, maintain_lake


def test_the_longest_allowed_job_timeout_is_below_the_orphan_window_floor():
    assert JobSettings(timeout_minutes=MAX_JOB_TIMEOUT_MINUTES).timeout_minutes / 60 < ORPHAN_WINDOW_FLOOR_HOURS


@pytest.mark.parametrize("hours", [0, 24, MAX_JOB_TIMEOUT_MINUTES / 60])
def test_a_maintenance_run_with_an_orphan_window_a_job_can_outlast_is_refused_naming_the_setting(hours):
    with pytest.raises(ValueError, match="orphan_age_hours=.* is too short"):
        MaintenanceConfig(orphan_age_hours=hours)
    with pytest.raises(ValueError, match="orphan_age_hours=.* is too short"):
        maintain_lake(7, hours, 16)


def test_lake_maintain_refuses_a_short_orphan_window_naming_the_option(capsys):
    assert main(["maintain", "--orphan-hours", "0"]) == 2
    assert "--orphan-hours=0 is too short" in capsys.readouterr().err


def test_the_default_orphan_windows_satisfy_the_floor():
    assert MaintenanceConfig().orphan_age_hours > ORPHAN_WINDOW_FLOOR_HOURS
    from lake_platform.cli import build_parser

    assert build_parser().parse_args(["maintain"]).orphan_hours > ORPHAN_WINDOW_FLOOR_HOURS
