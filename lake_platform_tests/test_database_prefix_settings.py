"""Dagster names tables as the catalog does: the environment's database prefix in AWS, none locally."""

from lake_glue.config import IngestConfig
from lake_platform.lineage import lineage_graph
from lake_platform.resources import resources_for_env
from lake_platform.settings import AWS_SETTINGS, glue_database_prefix


def test_the_database_prefix_is_an_aws_setting_and_ignored_locally(monkeypatch):
    assert "LAKE_GLUE_DATABASE_PREFIX" in AWS_SETTINGS
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_dev_")
    assert glue_database_prefix("aws") == "lake_platform_dev_"
    assert glue_database_prefix("local") == ""


def test_the_aws_glue_runner_passes_the_prefix_setting_to_the_jobs(monkeypatch):
    for name in AWS_SETTINGS:
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_dev_")
    runner = resources_for_env("aws")["glue_runner"]
    assert runner.database_prefix.get_value() == "lake_platform_dev_"  # type: ignore[attr-defined]


def test_lineage_names_the_prefixed_catalog_tables_in_aws(monkeypatch):
    from lake_platform.resources.config_store.local import LocalConfigStore
    from lake_platform.settings import config_dir

    configs = LocalConfigStore(config_dir=str(config_dir())).list_configs()
    ingest = next(c for c in configs if isinstance(c, IngestConfig))
    local_name = f"{ingest.target.database}.{ingest.table_config[0].table_name}"
    assert local_name in lineage_graph(configs)
    monkeypatch.setenv("LAKE_ENV", "aws")
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_dev_")
    graph = lineage_graph(configs)
    assert f"lake_platform_dev_{local_name}" in graph and local_name not in graph


def test_athena_queries_name_the_configs_databases_and_run_on_the_environments():
    from lake_platform.resources.query_engine.aws import with_database_prefix

    p = "lake_platform_dev_"
    assert with_database_prefix("select * from sales.orders o join erp.items i on o.id = i.id", p) == (
        "select * from lake_platform_dev_sales.orders o join lake_platform_dev_erp.items i on o.id = i.id"
    )
    assert with_database_prefix('SELECT count(*) FROM "sales"."orders"', p) == (
        'SELECT count(*) FROM "lake_platform_dev_sales"."orders"'
    )
    unchanged = [
        "select * from lake_platform_dev_sales.orders",
        "select 'from sales.orders' as s from t",
        "select o.id from orders o",
    ]
    assert [with_database_prefix(sql, p) for sql in unchanged] == unchanged
    assert with_database_prefix("select * from sales.orders", "") == "select * from sales.orders"
