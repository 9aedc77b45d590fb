"""Maintenance touches the configs' tables only, and never reads an oversized partition into memory."""

from datetime import timedelta

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from lake_platform.maintenance import config_tables, maintain_catalog

ROWS = pa.table({"id": pa.array([1, 2], pa.int64())})


@pytest.fixture
def catalog(tmp_path):
    catalog = SqlCatalog("lake", uri=f"sqlite:///{tmp_path / 'c.sqlite'}", warehouse=f"file://{tmp_path}")
    for namespace in ("erp", "other_team"):
        catalog.create_namespace(namespace)
        table = catalog.create_table((namespace, "orders"), schema=ROWS.schema)
        for _ in range(3):
            table.append(ROWS)
    return catalog


class NoListing:
    """A catalog that refuses to be listed, as the account's Glue catalog must never be."""

    def __init__(self, catalog):
        self._catalog = catalog

    def load_table(self, identifier):
        return self._catalog.load_table(identifier)

    def list_namespaces(self, *a, **k):
        raise AssertionError("maintenance listed the catalog's databases")

    def list_tables(self, *a, **k):
        raise AssertionError("maintenance listed a database's tables")


def _files(table) -> set[str]:
    return {task.file.file_path for task in table.scan().plan_files()}


def test_maintenance_compacts_the_declared_table_and_never_touches_a_foreign_one(catalog):
    foreign = catalog.load_table(("other_team", "orders"))
    before = (foreign.metadata_location, _files(foreign), len(foreign.snapshots()))
    reports = maintain_catalog(
        NoListing(catalog), [("erp", "orders"), ("erp", "not_created_yet")], retain=timedelta(0), compact_min_files=2
    )
    assert [(r.table, r.files_compacted) for r in reports] == [("erp.orders", 3)]
    foreign = catalog.load_table(("other_team", "orders"))
    assert (foreign.metadata_location, _files(foreign), len(foreign.snapshots())) == before
    assert catalog.load_table(("erp", "orders")).scan().to_arrow().num_rows == 6


def test_the_declared_tables_are_the_configs_in_the_environments_databases():
    from lake_platform.resources.config_store.local import LocalConfigStore
    from lake_platform.settings import config_dir

    configs = LocalConfigStore(config_dir=str(config_dir())).list_configs()
    declared = config_tables(configs, "lake_platform_dev_")
    expected = {(f"lake_platform_dev_{c.target.database}", t.table_name) for c in configs for t in c.table_config}
    assert set(declared) == expected and len(declared) == len(expected)


def test_a_partition_larger_than_the_compaction_limit_is_skipped_naming_the_setting(catalog):
    (report,) = maintain_catalog(catalog, [("erp", "orders")], compact_min_files=2, compact_max_bytes=100)
    assert report.files_compacted == 0
    assert "exceed compact_max_mb" in report.skipped[0] and "erp.orders" in report.skipped[0]
    assert len(_files(catalog.load_table(("erp", "orders")))) == 3
