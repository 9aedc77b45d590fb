"""The Iceberg catalog is one resource, chosen per environment, that the jobs and the local engine share."""

import dagster as dg
import pytest

from lake_platform.resources import resources_for_env
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.glue_runner.base import GlueJobRunner
from lake_platform.settings import AWS_SETTINGS


def test_the_embedded_lake_catalog_is_a_sqlite_file_under_lake_home_and_the_engine_reads_it(lake_home):
    resources = resources_for_env("local")
    catalog = resources["lake_catalog"]
    assert isinstance(catalog, LakeCatalog)
    assert catalog.uri == f"sqlite:///{lake_home / 'catalog.sqlite'}"
    assert resources["query_engine"].catalog is catalog


def test_aws_uses_the_glue_data_catalog(monkeypatch):
    for name in AWS_SETTINGS:
        monkeypatch.setenv(name, "arn:aws:sns:eu-west-1:123456789012:x" if "ARN" in name else f"x-{name.lower()}")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_dev_")  # Glue names allow [a-z0-9_] only
    assert resources_for_env("aws")["lake_catalog"] == LakeCatalog(uri="glue")


def test_no_runner_carries_a_catalog_of_its_own():
    assert "catalog_uri" not in GlueJobRunner.model_fields
    assert "catalog_uri" not in resources_for_env("local")["glue_runner"].model_fields


def test_the_layer_assets_that_run_glue_jobs_require_the_catalog(lake_home):
    from lake_platform.definitions import build_definitions

    defs = build_definitions()
    for key in (dg.AssetKey(["source", "erp", "orders"]), dg.AssetKey(["target", "sales", "orders"])):
        assert "lake_catalog" in defs.resolve_assets_def(key).required_resource_keys
    assert "lake_catalog" not in defs.resolve_assets_def(dg.AssetKey(["raw", "erp", "orders"])).required_resource_keys


@pytest.mark.parametrize("uri", ["", "sqlite:///", "postgresql://lake", "s3://bucket/warehouse"])
def test_a_catalog_the_jobs_cannot_open_is_refused_naming_the_field(uri):
    with pytest.raises(ValueError, match=r"LakeCatalog.uri .* is not a catalog the jobs can open: use 'glue'"):
        LakeCatalog(uri=uri)


def test_a_sqlite_catalog_opens_the_same_file_each_time(tmp_path):
    catalog = LakeCatalog(uri=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.open().create_namespace("sales")
    assert ("sales",) in catalog.open().list_namespaces()
