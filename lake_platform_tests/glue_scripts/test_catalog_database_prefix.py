"""A config's database becomes the environment's catalog database at one boundary: the table specs."""

import pytest

from lake_glue.args import IngestArgs, PrepareArgs
from lake_glue.layout import catalog_database, source_table_spec, target_table_spec


def _configs():
    from lake_glue.config import IngestConfig
    from lake_platform.resources.config_store.local import LocalConfigStore
    from lake_platform.settings import config_dir

    configs = LocalConfigStore(config_dir=str(config_dir())).list_configs()
    ingest = next(c for c in configs if isinstance(c, IngestConfig))
    prepare = next(c for c in configs if not isinstance(c, IngestConfig))
    return ingest, prepare


INGEST, PREPARE = _configs()


def test_table_specs_name_the_prefixed_catalog_database_and_keep_the_location():
    source = source_table_spec(INGEST, INGEST.table_config[0], "src", "lake_platform_dev_")
    target = target_table_spec(PREPARE, PREPARE.table_config[0], "tgt", database_prefix="lake_platform_dev_")
    assert source.identifier == ("lake_platform_dev_" + INGEST.target.database, INGEST.table_config[0].table_name)
    assert target.label == f"lake_platform_dev_{PREPARE.target.database}.{PREPARE.table_config[0].table_name}"
    assert source.location == source_table_spec(INGEST, INGEST.table_config[0], "src").location


def test_without_a_prefix_the_catalog_database_is_the_configs():
    spec = source_table_spec(INGEST, INGEST.table_config[0], "src")
    assert spec.identifier == (INGEST.target.database, INGEST.table_config[0].table_name)


@pytest.mark.parametrize("prefix", ["lake-platform-dev-", "Dev_", "dev."])
def test_a_prefix_glue_cannot_name_is_refused_naming_the_setting(prefix):
    with pytest.raises(ValueError, match="LAKE_GLUE_DATABASE_PREFIX"):
        catalog_database("erp", prefix)


def test_the_jobs_read_the_prefix_from_their_arguments_as_dagster_sends_it():
    args = PrepareArgs(
        config_name="c", table_name="t", batch_id="b", config_source="s", catalog="glue",
        target_bucket="tgt", database_prefix="lake_platform_prod_",
    )  # fmt: skip
    assert args.glue_arguments()["--database_prefix"] == "lake_platform_prod_"
    assert PrepareArgs.from_mapping({k[2:]: v for k, v in args.glue_arguments().items()}) == args
    parsed = IngestArgs.from_argv(
        "--config_name c --table_name t --batch_id b --config_source s --catalog glue"
        " --raw_bucket r --source_bucket s".split()
    )
    assert parsed.database_prefix == ""
