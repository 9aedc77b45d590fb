"""The AWS commit path: pyiceberg's Glue catalog and S3 FileIO against a moto server.

Spark cannot reach moto's S3 here (no hadoop-aws jars), so these tests write the batch's
Parquet files with pyarrow, as Spark would have, and exercise everything after that with the
same ``lake_glue.tables`` code the Glue jobs run: table creation in the Glue Data Catalog,
the delete+add commit, the replace of a re-run batch and the conflict of two writers.
What moto cannot show: Athena reading the table (moto returns canned results), Glue running the
job (moto's job runs execute nothing), and Lake Formation permissions.
"""

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake_glue.tables import TableSpec, commit, data_files, load_table, open_catalog, total_records

pytestmark = pytest.mark.aws

SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64()),
        pa.field("order_status", pa.string()),
        pa.field("_batch_id", pa.string()),
        pa.field("p_batch_id", pa.string()),
    ]
)


@pytest.fixture
def glue_lake(aws, monkeypatch):
    """A source bucket on moto, the Glue catalog, and the orders table spec."""
    import boto3

    # The test session's Spark maps s3:// to folders; a Glue job has no such mapping.
    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)

    boto3.client("s3").create_bucket(
        Bucket="lake-source", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    # Terraform creates the databases (aws_glue_catalog_database); the jobs never do.
    boto3.client("glue").create_database(DatabaseInput={"Name": "erp"})
    catalog = open_catalog("glue")
    spec = TableSpec("erp", "orders", "s3://lake-source/erp/orders", partition_columns=["p_batch_id"])
    return catalog, spec


def _write_batch(table, batch_id: str, order_ids: list[int]) -> list[str]:
    """Parquet files of one batch under a fresh data folder, as the ingest job's Spark write leaves them."""
    rows = pa.table(
        {
            "order_id": order_ids,
            "order_status": ["NEW"] * len(order_ids),
            "_batch_id": [batch_id] * len(order_ids),
            "p_batch_id": [batch_id] * len(order_ids),
        },
        schema=SCHEMA,
    )
    path = f"{table.location()}/data/{uuid.uuid4().hex}/part-0.parquet"
    with table.io.new_output(path).create() as stream:
        pq.write_table(rows, stream)
    return [path]


def _ingest(table, batch_id, order_ids):
    from pyiceberg.expressions import EqualTo

    return commit(
        table,
        delete_filter=EqualTo("p_batch_id", batch_id),
        files=_write_batch(table, batch_id, order_ids),
        summary={"lake.batch-id": batch_id},
    )


def test_the_job_creates_an_iceberg_table_in_the_glue_catalog(glue_lake):
    import boto3

    catalog, spec = glue_lake
    load_table(catalog, spec, SCHEMA)
    glue_table = boto3.client("glue").get_table(DatabaseName="erp", Name="orders")["Table"]
    assert glue_table["Parameters"]["table_type"] == "ICEBERG"
    assert glue_table["Parameters"]["metadata_location"].startswith("s3://lake-source/erp/orders/metadata/")


def test_a_batch_commit_on_glue_and_s3_is_visible_and_a_rerun_replaces_it(glue_lake):
    catalog, spec = glue_lake
    table = _ingest(load_table(catalog, spec, SCHEMA), "20260101T000000Z", [1, 2])
    table = _ingest(table, "20260102T000000Z", [3])
    table = _ingest(table, "20260101T000000Z", [1, 2])
    fresh = catalog.load_table(spec.identifier)
    assert total_records(fresh) == 3
    assert sorted(fresh.scan().to_arrow()["order_id"].to_pylist()) == [1, 2, 3]
    assert len(data_files(fresh)) == 2


def test_two_writers_of_one_batch_on_glue_conflict_instead_of_doubling_it(glue_lake):
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    catalog, spec = glue_lake
    load_table(catalog, spec, SCHEMA)
    first, second = catalog.load_table(spec.identifier), catalog.load_table(spec.identifier)
    _ingest(first, "20260101T000000Z", [1, 2])
    with pytest.raises((ValidationException, CommitFailedException), match="competing writer"):
        _ingest(second, "20260101T000000Z", [1, 2])
    assert total_records(catalog.load_table(spec.identifier)) == 2


def test_glue_catalog_columns_carry_the_same_lineage_text_as_the_dagster_ui(glue_lake):
    """Athena users read column comments next to the editor: they hold each column's derivation."""

    import boto3

    from lake_glue.config import load_config_dir, load_config_file
    from lake_glue.layout import source_table_spec
    from lake_glue.lineage import source_column_doc
    from lake_platform.assets.source import source_schema
    from lake_platform_tests.conftest import CONFIG_DIR

    catalog, _ = glue_lake
    erp = load_config_file(CONFIG_DIR / "erp.json")
    orders = erp.table("orders")
    spec = source_table_spec(erp, orders, "lake-source")
    # Every declared and built-in column, as the ingest job's arrow_schema_of gives them.
    fields = [pa.field(name, pa.string(), metadata={b"doc": doc.encode()}) for name, doc in spec.docs.items()]
    load_table(catalog, spec, pa.schema(fields))
    glue_table = boto3.client("glue").get_table(DatabaseName="erp", Name="orders")["Table"]
    columns = glue_table["StorageDescriptor"]["Columns"]
    assert glue_table["Description"] == spec.properties["Description"]
    assert (
        "Source layer: typed rows of the files landed in `landing/erp/orders/<batch_id>/`" in glue_table["Description"]
    )
    comments = {c["Name"]: c.get("Comment") for c in columns}
    ordered_at = next(c for c in orders.columns if c.name == "ordered_at")
    assert comments["ordered_at"] == source_column_doc(erp, orders, ordered_at)
    assert "mask 'dd/MM/yyyy HH:mm:ss'" in comments["ordered_at"]
    assert comments["_source_file"].startswith("lineage:") and comments["p_batch_id"].startswith("partition:")
    models = {c.config_name: c for c in load_config_dir(CONFIG_DIR)}
    ui = {c.name: c.description for c in source_schema(models["erp"], models["erp"].table("orders")).columns}
    assert all(ui[name] == comment for name, comment in comments.items())


def test_an_edited_column_description_reaches_a_table_created_before(glue_lake):
    """Docs are synced on every job's load, so the Glue comments follow the config."""
    import json

    import boto3

    from lake_glue.config import parse_config
    from lake_glue.layout import source_table_spec
    from lake_platform_tests.conftest import CONFIG_DIR

    catalog, _ = glue_lake
    erp = json.loads((CONFIG_DIR / "erp.json").read_text())
    orders = next(t for t in erp["table_config"] if t["table_name"] == "orders")
    old = parse_config(erp, "erp.json")
    old_spec = source_table_spec(old, old.table("orders"), "lake-source")
    schema = pa.schema([pa.field(n, pa.string(), metadata={b"doc": d.encode()}) for n, d in old_spec.docs.items()])
    load_table(catalog, old_spec, schema)
    next(c for c in orders["columns"] if c["name"] == "currency")["description"] = "ISO 4217 code"
    orders["description"] = "Orders as exported."
    new = parse_config(erp, "erp.json")
    new_spec = source_table_spec(new, new.table("orders"), "lake-source")
    load_table(catalog, new_spec, schema)
    glue_table = boto3.client("glue").get_table(DatabaseName="erp", Name="orders")["Table"]
    comments = {c["Name"]: c.get("Comment") for c in glue_table["StorageDescriptor"]["Columns"]}
    assert comments["currency"].startswith("ISO 4217 code. ← raw column `currency`")
    assert glue_table["Description"].startswith("Orders as exported. Source layer")


def test_maintenance_on_the_glue_catalog_never_touches_another_environments_table(glue_lake):
    from datetime import timedelta

    import boto3

    from lake_platform.maintenance import maintain_catalog

    catalog, spec = glue_lake
    ours = TableSpec("lake_platform_dev_erp", "orders", "s3://lake-source/dev/erp/orders", ["p_batch_id"])
    theirs = TableSpec("lake_platform_prod_erp", "orders", "s3://lake-source/prod/erp/orders", ["p_batch_id"])
    for s in (ours, theirs):  # Terraform creates each environment's databases; the jobs never do
        boto3.client("glue").create_database(DatabaseInput={"Name": s.database})
        table = load_table(catalog, s, SCHEMA)
        for i in range(3):
            table = _ingest(table, "20260105T010000Z", [i])  # replaced each time: 3 snapshots, 2 superseded
    before = catalog.load_table(theirs.identifier).metadata_location
    (report,) = maintain_catalog(catalog, [ours.identifier], retain=timedelta(0))
    assert report.table == "lake_platform_dev_erp.orders" and report.snapshots_expired > 0
    assert catalog.load_table(theirs.identifier).metadata_location == before
