"""The landing sensor sets a new table's pool limits before it requests the table's first runs."""

import dagster as dg

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.batches import run_requests_for, table_pools
from lake_platform.instance import render_instance_yaml
from lake_platform_tests.conftest import CONFIG_DIR


def test_the_first_two_batches_of_a_new_table_find_its_pools_already_limited_to_one(tmp_path):
    tables = build_table_assets(load_config_dir(CONFIG_DIR), env="local")
    by_id = {t.table_id: t for t in tables}
    (tmp_path / "dagster.yaml").write_text(render_instance_yaml("local"))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.event_log_storage.get_concurrency_keys() == set()
        requests, _ = run_requests_for(instance, by_id, {"erp.customers": ["20260401T000000Z", "20260402T000000Z"]})
        assert len(requests) == 2
        pools = table_pools(by_id["erp.customers"])
        assert "lake_table.erp.customers" in pools
        for pool in pools:
            assert instance.event_log_storage.get_concurrency_info(pool).slot_count == 1, pool
