"""``LAKE_SENSOR_INTERVAL_SECONDS`` sets how often the landing and batch status sensors tick."""

from __future__ import annotations

import pytest

from lake_platform.definitions import build_definitions
from lake_platform.settings import SettingsError, sensor_interval_seconds


def _intervals() -> dict[str, int | None]:
    defs = build_definitions()
    names = ("landing_sensor", "batch_status_sensor")
    return {name: defs.resolve_sensor_def(name).minimum_interval_seconds for name in names}


def test_sensors_tick_every_30_seconds_unless_the_setting_says_otherwise(monkeypatch):
    monkeypatch.delenv("LAKE_SENSOR_INTERVAL_SECONDS", raising=False)
    assert set(_intervals().values()) == {30}
    monkeypatch.setenv("LAKE_SENSOR_INTERVAL_SECONDS", "120")
    assert set(_intervals().values()) == {120}


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "soon", "3601"])
def test_a_sensor_interval_that_is_not_whole_seconds_in_range_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("LAKE_SENSOR_INTERVAL_SECONDS", value)
    with pytest.raises(SettingsError, match="LAKE_SENSOR_INTERVAL_SECONDS"):
        sensor_interval_seconds()
