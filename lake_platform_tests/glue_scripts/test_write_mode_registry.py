"""Write modes are found by the registry alone: a config naming an unknown one is refused by file
and field, and a mode registered from one place reaches validation, layout, checks and lineage."""

import json
from pathlib import Path

import dagster as dg
import pytest

from lake_glue.config import ConfigError, TableConfig, load_config_dir, load_config_file
from lake_glue.layout import key_contract, target_table_spec
from lake_glue.write_modes import WRITE_MODES, register, write_mode_of
from lake_glue.write_modes.append import Append
from lake_platform.assets.checks import build_primary_key_check
from lake_platform.lineage import lineage_graph
from lake_platform_tests.conftest import CONFIG_DIR


def _configs_with(tmp_path: Path, **order_lines: object) -> Path:
    """The shipped configs in ``tmp_path``, with the sales ``order_lines`` table changed by ``order_lines``."""
    for path in CONFIG_DIR.glob("*.json"):
        document = json.loads(path.read_text())
        if document["config_name"] == "sales":
            next(t for t in document["table_config"] if t["table_name"] == "order_lines").update(order_lines)
        (tmp_path / path.name).write_text(json.dumps(document))
    return tmp_path


def test_an_unknown_write_mode_is_a_config_error_naming_the_file_the_field_and_the_known_modes(tmp_path):
    folder = _configs_with(tmp_path, write_mode="scd3")
    with pytest.raises(ConfigError) as refused:
        load_config_file(folder / "sales.json")
    message = str(refused.value)
    assert str(folder / "sales.json") in message
    assert "field table_config.2.write_mode" in message
    assert "unknown write_mode 'scd3'" in message and "append, overwrite" in message


class Mirror(Append):
    """A mode defined in a test only: an append table whose key is unique among mirrored rows."""

    name = "mirror"
    builtins = (("_mirrored_at", "timestamp", "lineage: when the row was mirrored"),)
    pk_scope = "the mirrored rows"
    pk_rows = "_mirrored_at IS NOT NULL"
    lineage = "a mirror of the source table"

    def validate(self, table: TableConfig, where: str) -> None:
        super().validate(table, where)
        if not table.order_by:
            raise ValueError(f"{where}: write_mode 'mirror' needs order_by")


@pytest.fixture
def mirror():
    register(Mirror)
    yield write_mode_of("mirror")
    WRITE_MODES.pop("mirror")


def test_a_registered_mode_is_validated_by_its_own_rules(tmp_path, mirror):
    with pytest.raises(ConfigError, match="table 'order_lines': write_mode 'mirror' needs order_by"):
        load_config_dir(_configs_with(tmp_path, write_mode="mirror"))
    configs = load_config_dir(_configs_with(tmp_path, write_mode="mirror", order_by=["line_number"]))
    assert next(c for c in configs if c.config_name == "sales").table("order_lines").mode is mirror


def test_a_registered_mode_reaches_layout_checks_and_lineage_with_no_other_edit(tmp_path, mirror):
    configs = {
        c.config_name: c
        for c in load_config_dir(_configs_with(tmp_path, write_mode="mirror", order_by=["line_number"]))
    }
    erp, sales = configs["erp"], configs["sales"]
    lines = sales.table("order_lines")

    spec = target_table_spec(sales, lines, "lake-target", erp)
    assert spec.partition_columns == ["p_ingest_day"]
    assert spec.properties["lake.write-mode"] == "mirror"
    assert key_contract(lines).startswith("write_mode=mirror, primary_key=(order_id bigint, line_number int)")
    assert spec.docs["_mirrored_at"] == "lineage: when the row was mirrored"
    assert "(write mode mirror: a mirror of the source table)" in spec.properties["Description"]

    check = build_primary_key_check(sales, lines, dg.StaticPartitionsDefinition(["20260101T000000Z"]))
    assert next(iter(check.check_specs)).description.endswith("in the mirrored rows.")

    node = lineage_graph(list(configs.values()), prefix="")["sales.order_lines"]
    assert "a mirror of the source table" in node.description
    assert any(c.name == "_mirrored_at" and c.builtin for c in node.columns)
