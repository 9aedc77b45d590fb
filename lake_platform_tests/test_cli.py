"""The ``lake`` command, run in-process on an empty embedded lake: what a user types and reads."""

import json
import shutil

import pytest

from lake_platform.cli import main
from lake_platform_tests.conftest import CONFIG_DIR


def test_configs_validate_lists_each_config_and_its_tables(lake_home, capsys):
    assert main(["configs", "validate"]) == 0
    out = capsys.readouterr().out
    assert "ok  erp" in out and "orders, order_lines" in out.replace("customers, ", "")
    assert "ok  sales" in out


def test_configs_validate_names_the_file_and_the_field_of_a_bad_config(tmp_path, capsys):
    folder = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, folder)
    document = json.loads((folder / "erp.json").read_text())
    document["table_config"][0]["write_mode"] = "merge"
    (folder / "erp.json").write_text(json.dumps(document))

    assert main(["configs", "validate", "--dir", str(folder)]) == 1
    err = capsys.readouterr().err
    assert str(folder / "erp.json") in err and "write_mode" in err


def test_configs_push_locally_writes_changed_configs_into_the_config_folder(lake_home, tmp_path, monkeypatch, capsys):
    store = tmp_path / "store"
    shutil.copytree(CONFIG_DIR, store)
    monkeypatch.setenv("LAKE_CONFIG_DIR", str(store))
    edited = tmp_path / "edited"
    shutil.copytree(CONFIG_DIR, edited)
    document = json.loads((edited / "erp.json").read_text())
    document["job_settings"]["cron"] = "45 * * * *"
    (edited / "erp.json").write_text(json.dumps(document))

    assert main(["configs", "push", "--dir", str(edited), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == ["updated   erp (dry run)", "unchanged sales"]
    assert json.loads((store / "erp.json").read_text())["job_settings"]["cron"] != "45 * * * *"

    assert main(["configs", "push", "--dir", str(edited)]) == 0
    assert capsys.readouterr().out.splitlines() == ["updated   erp", "unchanged sales"]
    assert json.loads((store / "erp.json").read_text())["job_settings"]["cron"] == "45 * * * *"


def test_query_on_an_empty_lake_names_the_table_and_what_to_run_first(lake_home, capsys):
    assert main(["query", "select * from sales.orders"]) == 1
    err = capsys.readouterr().err
    assert "sales.orders" in err and "lake process" in err


@pytest.mark.parametrize("sql", ["", "   "])
def test_query_with_blank_sql_asks_for_a_statement(lake_home, capsys, sql):
    assert main(["query", sql]) == 2
    assert "no SQL given" in capsys.readouterr().err


def test_retire_refuses_a_batch_the_registry_does_not_know(lake_home, capsys):
    assert main(["retire", "erp.orders", "20260101T000000Z", "--reason", "bad export"]) == 1
    assert "erp.orders/20260101T000000Z" in capsys.readouterr().err
