"""Stragglers: a file that lands in a batch after the batch was sealed is found and reported (a
`lake doctor` finding, a failed check on the batch, an alert), and `lake reseal` ingests it as a
new batch while the original batch stays as it was sealed."""

import dagster as dg
import pytest

import lake_platform.operations as stragglers
from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.batches import STRAGGLER_CHECK
from lake_platform.cli import main
from lake_platform.layout import SUCCESS_MARKER
from lake_platform.operations import doctor, reseal_stragglers
from lake_platform_tests.conftest import CONFIG_DIR, embedded_lake
from lake_platform_tests.sensors.test_landing_sensor import BATCH, clock, env  # noqa: F401  (fixtures)

ROOT = "landing/erp/orders/"
RAW = dg.AssetKey(["raw", "erp", "orders"])


def _sealed_batch_with_a_straggler(env, name="zz-late.csv"):  # noqa: F811
    env.land("orders", BATCH)
    cursor = env.tick().cursor
    env.store.put_bytes("raw", f"{ROOT}{BATCH}/{name}", b"late rows")
    return cursor


def _straggler_findings(env):  # noqa: F811
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    return [f for f in doctor(tables, env.store, env.registry, env.instance) if f.kind == "straggler"]


def _check_evaluations(instance):
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(RAW, STRAGGLER_CHECK), limit=10
    )
    return [r.event.dagster_event.event_specific_data for r in records if r.event and r.event.dagster_event]


def test_a_file_landing_in_a_sealed_batch_is_a_doctor_finding_naming_the_batch_and_file(env):  # noqa: F811
    _sealed_batch_with_a_straggler(env)
    findings = _straggler_findings(env)
    assert [(f.table_id, f.subject) for f in findings] == [("erp.orders", BATCH)]
    assert "zz-late.csv" in findings[0].detail and f"lake reseal erp.orders {BATCH}" in findings[0].detail
    assert [o.key for o in env.registry.get("erp.orders", BATCH).sealed] == [f"{ROOT}{BATCH}/part-0.csv"]


def test_the_next_tick_alerts_once_and_fails_the_batchs_check(env):  # noqa: F811
    cursor = _sealed_batch_with_a_straggler(env)
    result = env.tick(cursor)
    assert result.run_requests == []
    alerts = env.alerts.read()
    assert len(alerts) == 1 and f"erp.orders/{BATCH}" in alerts[0]["subject"]
    assert "zz-late.csv" in alerts[0]["message"]
    evaluations = _check_evaluations(env.instance)
    assert [(e.passed, e.partition) for e in evaluations] == [(False, BATCH)]
    env.tick(result.cursor)
    assert len(env.alerts.read()) == 1, "reported once"


def test_a_straggler_sorting_below_the_cursor_is_found_by_the_look_back(env, clock):  # noqa: F811
    cursor = _sealed_batch_with_a_straggler(env, name="a-late.csv")
    cursor = env.tick(cursor).cursor
    from lake_platform.sensors.landing import LOOK_BACK_INTERVAL_SECONDS

    clock(LOOK_BACK_INTERVAL_SECONDS + 1)
    env.tick(cursor)
    assert [a["message"] for a in env.alerts.read() if "a-late.csv" in a["message"]]


def test_reseal_registers_the_stragglers_as_a_new_batch_and_leaves_the_original_untouched(env):  # noqa: F811
    cursor = _sealed_batch_with_a_straggler(env)
    before = env.registry.get("erp.orders", BATCH)
    new_id = reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH)
    assert new_id is not None and new_id > BATCH
    record = env.registry.get("erp.orders", new_id)
    assert [o.key for o in record.sealed] == [f"{ROOT}{new_id}/zz-late.csv"]
    assert record.registered_by == f"lake reseal of {BATCH}"
    assert env.store.get_bytes("raw", f"{ROOT}{new_id}/zz-late.csv") == b"late rows"
    assert env.store.exists("raw", f"{ROOT}{new_id}/{SUCCESS_MARKER}")
    after = env.registry.get("erp.orders", BATCH)
    assert (after.sealed, after.files, after.status) == (before.sealed, before.files, before.status)
    assert _straggler_findings(env) == []
    assert reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH) is None, "nothing twice"
    assert [r.partition_key for r in env.tick(cursor).run_requests] == [new_id]
    assert env.alerts.read() == [], "a resealed straggler is not reported"


def test_a_reseal_killed_after_registering_is_finished_by_the_next_reseal_not_copied_twice(env, monkeypatch):  # noqa: F811
    _sealed_batch_with_a_straggler(env)
    finish = stragglers._complete_reseal

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(stragglers, "_complete_reseal", killed)
    with pytest.raises(KeyboardInterrupt):
        reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH)
    monkeypatch.setattr(stragglers, "_complete_reseal", finish)
    new_id = reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH)
    assert [r.batch_id for r in env.registry.list_batches("erp.orders")] == [BATCH, new_id]
    assert env.store.exists("raw", f"{ROOT}{new_id}/{SUCCESS_MARKER}")
    assert reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH) is None


def test_lake_reseal_names_the_new_batch_and_refuses_an_unknown_one(tmp_path, capsys):
    with embedded_lake(tmp_path / "lake") as (defs, res):
        store, registry = res.object_store, res.partition_registry
        store.put_bytes(store.raw_bucket, f"{ROOT}{BATCH}/a.csv", b"x")
        store.put_bytes(store.raw_bucket, f"{ROOT}{BATCH}/{SUCCESS_MARKER}", b"")
        from lake_platform.batches import seal_batch

        seal_batch(store, registry, "erp.orders", f"{ROOT}{BATCH}/", BATCH, "test")
        store.put_bytes(store.raw_bucket, f"{ROOT}{BATCH}/b.csv", b"y")
        assert main(["reseal", "erp.orders", BATCH]) == 0
        out = capsys.readouterr().out
        new_id = out.split("resealed as batch ")[1].split(";")[0]
        assert [o.key for o in registry.get("erp.orders", new_id).sealed] == [f"{ROOT}{new_id}/b.csv"]
        assert main(["reseal", "erp.orders", "20200101T000000Z"]) == 1
        assert "erp.orders/20200101T000000Z is not registered" in capsys.readouterr().err


def _run_straggler_check(env, batch_id):  # noqa: F811
    """Run the raw asset's declared ``no_stragglers`` check alone for one batch, as the UI would."""
    entry = next(t for t in build_table_assets(load_config_dir(CONFIG_DIR), "local") if t.table_id == "erp.orders")
    (check,) = [c for c in entry.checks if dg.AssetCheckKey(RAW, STRAGGLER_CHECK) in c.check_keys]
    defs = dg.Definitions(
        assets=[dg.AssetSpec(RAW, partitions_def=entry.partitions_def)],
        asset_checks=[check],
        jobs=[dg.define_asset_job("check_alone", selection=dg.AssetSelection.checks(check))],
        resources={"object_store": env.store, "partition_registry": env.registry},
    )
    result = defs.resolve_job_def("check_alone").execute_in_process(
        instance=env.instance, tags={"dagster/partition": batch_id}
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_the_declared_check_fails_for_a_batch_with_stragglers_and_passes_after_reseal(env):  # noqa: F811
    _sealed_batch_with_a_straggler(env)
    failed = _run_straggler_check(env, BATCH)
    assert not failed.passed and failed.metadata["stragglers"].value == 1
    assert "zz-late.csv" in (failed.description or "")
    reseal_stragglers(env.store, env.registry, "erp.orders", ROOT, BATCH)
    assert _run_straggler_check(env, BATCH).passed
