"""`lake retire` is a data operation: it reaches the source table and every target built from it."""

from lake_platform.cli import main
from lake_platform.resources.partition_registry.base import BatchRecord

B = "20260102T010000Z"


def _register(batch_id: str) -> None:
    from lake_platform.cli import _load_defs, _resources

    defs = _load_defs()
    with _resources(defs) as res:
        res.partition_registry.register(BatchRecord("erp.order_lines", batch_id, files=["l.jsonl"], registered_by="t"))


def test_retire_names_the_source_table_and_every_target_it_removes_the_batch_from(lake_home, capsys):
    _register(B)
    assert main(["retire", "erp.order_lines", B, "--reason", "bad export"]) == 0
    out = capsys.readouterr().out
    assert f"retired erp.order_lines/{B}: bad export" in out
    # Nothing was ingested yet, so each table says so; test_retire pins the commits themselves.
    assert "  erp.order_lines: no table" in out and "  sales.order_lines: no table" in out
    assert main(["retire", "erp.order_lines", B, "--reason", "bad export"]) == 0
