"""``job_settings.execution_class``: STANDARD or FLEX, FLEX only on the workers Glue runs it on."""

import json
import shutil

import pytest

from lake_glue.config import ConfigError, load_config_dir
from lake_platform_tests.conftest import CONFIG_DIR


@pytest.fixture
def configs(tmp_path):
    """A writable copy of the shipped configs and a function that sets erp's job_settings."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, target)

    def set_erp(**settings):
        path = target / "erp.json"
        data = json.loads(path.read_text())
        data["job_settings"].update(settings)
        path.write_text(json.dumps(data))

    return target, set_erp


def _erp(directory):
    return next(c for c in load_config_dir(directory) if c.config_name == "erp")


def test_execution_class_is_unset_by_default_so_the_deployment_default_applies():
    assert all(c.job_settings.execution_class is None for c in load_config_dir(CONFIG_DIR))


@pytest.mark.parametrize("execution_class", ["STANDARD", "FLEX"])
def test_a_config_may_ask_for_standard_or_flex(configs, execution_class):
    directory, set_erp = configs
    set_erp(execution_class=execution_class, worker_type="G.2X")
    assert _erp(directory).job_settings.execution_class == execution_class


@pytest.mark.parametrize(
    "settings,expected",
    [
        ({"execution_class": "FLEX", "worker_type": "G.4X"}, "execution_class 'FLEX' runs only on G.1X or G.2X"),
        ({"execution_class": "flex"}, "job_settings.execution_class"),
        ({"execution_class": "SPOT"}, "job_settings.execution_class"),
    ],
)
def test_a_bad_execution_class_names_the_file_and_the_field(configs, settings, expected):
    directory, set_erp = configs
    set_erp(**settings)
    with pytest.raises(ConfigError) as err:
        load_config_dir(directory)
    message = str(err.value)
    assert "erp.json" in message and "job_settings" in message and expected in message, message
