"""``lake cost``: Glue DPU-seconds and dollars per batch and per month, checked against hand sums.

Every expectation below is worked out by hand from the model in ``lake_platform/cost.py``
(start-up 10 s + fixed 15 s + GB x core-s/GB / executor cores, billed at least 60 s, times the
workers' DPUs) with the default prices ($0.44 STANDARD, $0.29 FLEX per DPU-hour, $5 per TB
Athena, 10 MB minimum per query) and a 30-day month.
"""

import json

import pytest

from lake_glue.config import parse_config
from lake_platform.cli import main as lake
from lake_platform.cost import Throughput, cron_firings_per_day, estimate
from lake_platform_tests.conftest import CONFIG_DIR

ERP = json.loads((CONFIG_DIR / "erp.json").read_text())
SALES = json.loads((CONFIG_DIR / "sales.json").read_text())


def ingest(tables: int = 1, cron: str = "0 * * * *", **settings):
    """The shipped erp config with its first ``tables`` tables and these job settings."""
    data = dict(ERP, table_config=ERP["table_config"][:tables])
    data["job_settings"] = dict(ERP["job_settings"], cron=cron, **settings)
    return parse_config(data, "erp.json")


def prepare(**settings):
    """The shipped sales config (3 keyed targets of erp) with these job settings."""
    return parse_config(dict(SALES, job_settings=dict(SALES["job_settings"], **settings)), "sales.json")


@pytest.mark.parametrize(
    "cron,per_day",
    [("15 * * * *", 24), ("*/15 * * * *", 96), ("0 */6 * * *", 4), ("0 2 * * 1-5", 20 / 28), ("0 0 1,15 * *", 2 / 28)],
)
def test_cron_cadence_counts_firings_per_day(cron, per_day):
    assert cron_firings_per_day(cron) == pytest.approx(per_day)


def test_a_small_hourly_batch_is_billed_the_one_minute_minimum():
    # 10 + 15 + 0.01 GB x 320 / 4 cores = 25.8 s, billed 60 s on 2 DPU = 120 DPU-s a batch;
    # 24 batches = 2,880 DPU-s = 0.8 DPU-h a day; x $0.44 x 30 days = $10.56 a month.
    report = estimate([ingest()], batch_gb=0.01)
    (config,) = report.configs
    (run,) = config.runs
    assert run.seconds == pytest.approx(25.8)
    assert run.billed_seconds == 60
    assert config.dpu_seconds_per_batch() == pytest.approx(120)
    assert config.glue_dollars_per_batch(report.prices) == pytest.approx(120 / 3600 * 0.44)
    assert report.dpu_hours_per_day() == pytest.approx(0.8)
    assert report.glue_dollars_per_month() == pytest.approx(10.56)
    assert report.athena_dollars_per_month() == 0  # an ingest config runs no Athena check


def test_a_large_batch_is_billed_by_its_seconds_over_the_executor_cores():
    # 2 x G.2X: one worker hosts the driver, so 8 executor cores; 10 GB x 320 / 8 = 400 s,
    # + 25 s = 425 s on 4 DPU = 1,700 DPU-s; one batch a day -> 1,700 / 3600 x 0.44 x 30.
    report = estimate([ingest(worker_type="G.2X")], batch_gb=10, batches_per_day=1)
    (config,) = report.configs
    assert config.runs[0].billed_seconds == pytest.approx(425)
    assert config.dpu_seconds_per_batch() == pytest.approx(1700)
    assert report.glue_dollars_per_month() == pytest.approx(1700 / 3600 * 0.44 * 30)


def test_more_workers_shorten_a_large_run_but_not_a_minimum_billed_one():
    big = estimate([ingest(number_of_workers=5)], batch_gb=10, batches_per_day=1).configs[0].runs[0]
    # 4 executor workers x 4 vCPU = 16 cores: 25 + 10 x 320 / 16 = 225 s on 5 DPU.
    assert (big.billed_seconds, big.dpu_seconds) == (pytest.approx(225), pytest.approx(1125))
    small = estimate([ingest(number_of_workers=5)], batch_gb=0.01).configs[0]
    assert small.dpu_seconds_per_batch() == pytest.approx(300)  # 60 s x 5 DPU


def test_prepare_runs_follow_the_source_cadence_and_count_one_run_and_one_check_per_target():
    # erp every 6 hours (4 batches a day); sales runs each of its 3 targets per batch:
    # 3 runs x 60 s x 2 DPU = 360 DPU-s a batch, 1,440 a day, 0.4 DPU-h.
    report = estimate([ingest(cron="0 */6 * * *"), prepare()], batch_gb=0.01)
    sales = next(c for c in report.configs if c.config_name == "sales")
    assert sales.batches_per_day == 4
    assert [r.kind for r in sales.runs] == ["prepare"] * 3
    assert sales.dpu_seconds_per_batch() == pytest.approx(360)
    # Athena: 3 keyed targets x (4 batches + 1 nightly check) = 15 queries a day at 10 MB each.
    assert sales.athena_dollars_per_day(report.prices) == pytest.approx(15 * 10e6 / 1e12 * 5)
    # Both configs: (120 + 360) x 4 = 1,920 DPU-s a day.
    assert report.dpu_hours_per_day() == pytest.approx(1920 / 3600)


def test_flex_bills_the_same_dpu_seconds_at_the_flex_price():
    standard = estimate([ingest()], batch_gb=0.01)
    flex = estimate([ingest(execution_class="FLEX")], batch_gb=0.01)
    assert flex.dpu_hours_per_day() == standard.dpu_hours_per_day()
    assert flex.glue_dollars_per_month() == pytest.approx(0.8 * 0.29 * 30)
    assert standard.with_execution_class("FLEX").glue_dollars_per_month() == pytest.approx(6.96)


def test_flex_is_not_applied_to_workers_glue_cannot_run_on_flex():
    report = estimate([ingest(worker_type="G.4X")], batch_gb=0.01, default_execution_class="FLEX")
    assert report.configs[0].execution_class == "STANDARD"
    assert report.with_execution_class("FLEX").configs[0].execution_class == "STANDARD"


def test_throughput_measured_elsewhere_replaces_the_default():
    slow = estimate([ingest()], batch_gb=1, throughput=Throughput(ingest_core_seconds_per_gb=4000), batches_per_day=1)
    # 25 + 1 x 4000 / 4 = 1,025 s on 2 DPU.
    assert slow.configs[0].dpu_seconds_per_batch() == pytest.approx(2050)


def test_lake_cost_prints_the_configs_the_totals_and_the_levers(capsys):
    assert lake(["cost", "--dir", str(CONFIG_DIR)]) == 0
    out = capsys.readouterr().out
    # The shipped configs: erp hourly with 3 tables and sales with 3 targets, all on 2 x G.1X at
    # the minimum: 6 runs x 120 DPU-s x 24 = 4.8 DPU-h a day, $63.36 Glue a month; Athena
    # 3 x 25 queries x 10 MB x 30 days = $0.1125.
    assert "total: 4.80 DPU-hours a day; $63.36 Glue + $0.11 Athena = $63.47 a month" in out
    assert "FLEX execution" in out and "$63.47 -> $41.87 a month" in out
    assert "6 of 6 runs per batch are billed Glue's 60-second minimum" in out
    assert "sales: its 3 targets run as 3 Glue runs per batch" in out
