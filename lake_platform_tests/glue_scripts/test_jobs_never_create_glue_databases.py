"""Issue 21 item 10: the first batch of a table never calls CreateDatabase in AWS (the Glue job
role lacks it; Terraform creates the databases). A missing database is a clear error naming the
database and the Terraform resource, and no other database is listed on the way."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lake_glue.tables import MissingDatabase, TableSpec, load_table, open_catalog

SCHEMA = pa.schema([pa.field("order_id", pa.int64()), pa.field("p_batch_id", pa.string())])


@pytest.fixture
def glue(aws, monkeypatch):
    import boto3

    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)
    region = {"LocationConstraint": "eu-west-1"}
    boto3.client("s3").create_bucket(Bucket="lake-source", CreateBucketConfiguration=region)
    return boto3.client("glue"), open_catalog("glue")


@pytest.mark.aws
def test_a_missing_glue_database_is_an_error_naming_it_and_its_terraform_resource(glue):
    client, catalog = glue
    spec = TableSpec("erp", "orders", "s3://lake-source/erp/orders", partition_columns=["p_batch_id"])
    with pytest.raises(MissingDatabase, match=r"'erp' does not exist.*aws_glue_catalog_database\.this\[\"erp\"\]"):
        load_table(catalog, spec, SCHEMA)
    assert client.get_databases()["DatabaseList"] == [], "the job created no database"


@pytest.mark.aws
def test_the_first_batch_creates_its_table_in_the_terraform_database_without_create_database(glue, monkeypatch):
    client, catalog = glue
    client.create_database(DatabaseInput={"Name": "erp"})
    calls: list[str] = []
    real = catalog.glue.create_database
    monkeypatch.setattr(catalog.glue, "create_database", lambda **kw: calls.append("CreateDatabase") or real(**kw))
    spec = TableSpec("erp", "orders", "s3://lake-source/erp/orders", partition_columns=["p_batch_id"])
    load_table(catalog, spec, SCHEMA)
    assert calls == []
    assert client.get_table(DatabaseName="erp", Name="orders")["Table"]["Name"] == "orders"


def test_the_embedded_lake_still_creates_its_namespace(tmp_path, monkeypatch):
    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    spec = TableSpec("erp", "orders", f"file://{tmp_path}/src/erp/orders", partition_columns=["p_batch_id"])
    load_table(catalog, spec, SCHEMA)
    assert catalog.namespace_exists("erp")
