"""Config validation: every mistake names the file, the field and the reason."""

import json
import shutil

import pytest

from lake_glue.config import ConfigError, IngestConfig, PrepareConfig, load_config_dir
from lake_platform.cli import main as lake
from lake_platform_tests.conftest import CONFIG_DIR


@pytest.fixture
def config_copy(tmp_path):
    """A writable copy of the shipped configs and a function to edit one of them."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, target)

    def edit(name, change):
        path = target / f"{name}.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
        return path

    return target, edit


def test_shipped_configs_are_valid_and_typed_by_config_type():
    configs = {c.config_name: c for c in load_config_dir(CONFIG_DIR)}
    assert isinstance(configs["erp"], IngestConfig)
    assert isinstance(configs["sales"], PrepareConfig)
    assert configs["sales"].table("orders").write_mode == "upsert"


@pytest.mark.parametrize(
    "name, change, expected",
    [
        ("erp", lambda d: d["table_config"][0].update(table_name="Customers"), "table_config.0.table_name"),
        ("erp", lambda d: d["table_config"][1]["columns"][0].update(type="integer"), "columns.0.type"),
        (
            "erp",
            lambda d: d["table_config"][1].update(primary_key=["no_such_column"]),
            "primary_key names unknown columns",
        ),
        (
            "erp",
            lambda d: d["table_config"][1]["columns"][0].update(timestamp_mask="yyyy"),
            "timestamp_mask is only allowed",
        ),
        ("erp", lambda d: d["table_config"][1].update(write_mode="upsert"), "the source layer keeps every batch"),
        ("erp", lambda d: d["job_settings"].update(cron="every hour"), "five-field cron"),
        ("erp", lambda d: d["job_settings"].update(worker_type="G.16X"), "job_settings.worker_type"),
        ("erp", lambda d: d.update(unexpected_field=1), "unexpected_field"),
        (
            "sales",
            lambda d: d["table_config"][1].update(primary_key=[], bucket_by="hash", bucket_width=None),
            "needs a primary_key",
        ),
        (
            "sales",
            lambda d: d["table_config"][1]["columns"][0].update(nullable=True),
            'must be declared "nullable": false',
        ),
        ("sales", lambda d: d["table_config"][1].pop("bucket_width"), "needs bucket_width"),
        (
            "sales",
            lambda d: d["table_config"][1].update(primary_key=["order_id", "customer_id"]),
            "single int/bigint primary key",
        ),
        ("sales", lambda d: d["table_config"][2].update(bucket_width=10), "only applies to bucket_by 'range'"),
        ("sales", lambda d: d["table_config"][1].update(partitions=["p_ingest_day"]), "allows partitions ['p_bucket']"),
        ("sales", lambda d: d["table_config"][0].update(source_table_name="invoices"), "has no table 'invoices'"),
        (
            "sales",
            lambda d: d["table_config"][0]["columns"][1].update(name="full_name"),
            "do not exist in erp.customers",
        ),
        ("sales", lambda d: d.update(run_next=["nowhere"]), "run_next: unknown config 'nowhere'"),
        ("sales", lambda d: d["source"].update(config_name="sales"), "is not a spark_ingest config"),
        ("sales", lambda d: d["target"].update(database="erp"), "already used by config"),
    ],
)
def test_invalid_config_error_names_file_and_field(config_copy, name, change, expected):
    directory, edit = config_copy
    edit(name, change)
    with pytest.raises(ConfigError) as err:
        load_config_dir(directory)
    message = str(err.value)
    assert f"{name}.json" in message
    assert expected in message


def test_config_name_must_match_file_name(config_copy):
    directory, edit = config_copy
    edit("erp", lambda d: d.update(config_name="crm"))
    with pytest.raises(ConfigError, match=r"erp.json: field config_name: 'crm' must match the file name"):
        load_config_dir(directory)


def test_broken_json_names_the_file(config_copy):
    directory, _ = config_copy
    (directory / "broken.json").write_text("{ not json")
    with pytest.raises(ConfigError, match=r"broken.json: not valid JSON"):
        load_config_dir(directory)


def test_lake_configs_validate_exits_non_zero_with_the_reason(config_copy, capsys):
    directory, edit = config_copy
    assert lake(["configs", "validate", "--dir", str(directory)]) == 0
    assert "ok  erp" in capsys.readouterr().out
    edit("erp", lambda d: d["table_config"][2].update(format="xml"))
    assert lake(["configs", "validate", "--dir", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "erp.json" in err and "table_config.2.format" in err


def test_a_misspelled_format_option_is_refused_naming_the_nearest_valid_key(config_copy):
    folder, edit = config_copy
    edit("erp", lambda d: d["source"]["options"].update(nulValue="NA"))
    with pytest.raises(
        ConfigError, match=r"(?s)erp.json.*field source.options.*unknown key 'nulValue'; did you mean 'null_values'\?"
    ):
        load_config_dir(folder)


def test_table_options_override_the_configs_and_acceptance_rules_are_validated(config_copy):
    from lake_glue.records import FormatOptions

    folder, edit = config_copy
    edit(
        "erp",
        lambda d: d["table_config"][0].update(
            options={"encoding": "ISO-8859-1", "null_values": ["NA"]}, acceptance={"max_quarantine_rate": 0.05}
        ),
    )
    erp = next(c for c in load_config_dir(folder) if c.config_name == "erp")
    assert erp.table("customers").options.encoding == "latin-1"
    effective = FormatOptions.of(erp, erp.table("customers"))
    assert (effective.encoding, effective.null_values, effective.quote) == ("latin-1", ("NA",), '"')
    edit("erp", lambda d: d["table_config"][0].update(acceptance={"max_quarantine_rate": 5}))
    with pytest.raises(ConfigError, match=r"table_config.0.acceptance.max_quarantine_rate"):
        load_config_dir(folder)


def test_a_column_declares_its_own_null_values_and_a_table_can_reject_duplicate_deliveries(config_copy):
    from lake_glue.records import FormatOptions

    folder, edit = config_copy

    def change(d):
        table = d["table_config"][0]
        table["columns"][4]["null_values"] = ["", "NA", "n/a"]
        table["acceptance"] = {"reject_duplicate_delivery": True}

    edit("erp", change)
    erp = next(c for c in load_config_dir(folder) if c.config_name == "erp")
    assert erp.table("customers").acceptance.reject_duplicate_delivery is True
    customers = erp.table("customers")
    effective = FormatOptions.of(erp, customers)
    assert effective.nulls_of(customers.columns[4].name) == {"", "NA", "n/a"}
    assert effective.nulls_of(customers.columns[1].name) == {""}
    edit("erp", lambda d: d["table_config"][0]["columns"][4].update(null_value=["NA"]))
    with pytest.raises(ConfigError, match=r"unknown key 'null_value'; did you mean 'null_values'\?"):
        load_config_dir(folder)


@pytest.mark.parametrize(
    "mask, problem",
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", None),
        ("dd/MM/yyyy HH:mm", None),
        ("YYYY-MM-dd", "week-based pattern letter 'Y'"),
        ("yyyy-ww", "week-based pattern letter 'w'"),
        ("yyyy-MM-dd nn", "illegal pattern letter 'n'"),
        ("yyyy-MM-ddd", "too many pattern letters: 'ddd'"),
        ("yyyy-MM-dd 'at", "unclosed quote"),
    ],
)
def test_timestamp_masks_are_checked_as_spark_would_without_a_jvm(spark, mask, problem):
    from pyspark.sql import functions as F

    from lake_glue.types import datetime_pattern_problem

    assert (datetime_pattern_problem(mask) or "").startswith(problem or "")
    assert (datetime_pattern_problem(mask) is None) == (problem is None)
    try:
        spark.range(1).select(F.to_timestamp(F.lit("2026-01-01"), mask)).collect()
        spark_accepts = True
    except Exception:  # noqa: BLE001 - any refusal by Spark is what is compared
        spark_accepts = False
    assert spark_accepts == (problem is None)


def test_a_tables_options_override_the_configs_key_by_key_in_what_the_job_reads():
    from lake_glue.config import IngestConfig, parse_config
    from lake_glue.records import FormatOptions

    document = json.loads((CONFIG_DIR / "erp.json").read_text())
    document["source"]["options"] = {"encoding": "latin-1", "quote": "'", "null_values": ["NA"]}
    document["table_config"][0]["options"] = {"multiline": False, "escape": "\\"}
    job = parse_config(document, "erp.json")
    assert isinstance(job, IngestConfig)

    options = FormatOptions.of(job, job.table_config[0])
    assert (options.encoding, options.quote, options.null_values) == ("latin-1", "'", ("NA",))
    assert (options.multiline, options.escape) == (False, "\\")
    untouched = FormatOptions.of(job, job.table_config[1])
    assert (untouched.encoding, untouched.quote, untouched.escape) == ("latin-1", "'", FormatOptions().escape)


def test_an_unknown_landing_format_is_a_config_error_naming_the_file_and_field(config_copy):
    folder, edit = config_copy
    edit("erp", lambda d: d["table_config"][1].update(format="xml"))
    with pytest.raises(
        ConfigError, match=r"(?s)erp.json.* table_config.1.format:.*unknown landing format 'xml'; known formats: csv"
    ):
        load_config_dir(folder)
    edit("erp", lambda d: (d["table_config"][1].pop("format"), d["source"].update(format="avro")))
    with pytest.raises(ConfigError, match=r"(?s)erp.json.*field source.format.*unknown landing format 'avro'"):
        load_config_dir(folder)
