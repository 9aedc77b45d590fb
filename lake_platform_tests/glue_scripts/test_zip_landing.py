"""A ``.zip`` landing file is read like a ``.gz``: its one member is the file's content.

A zip holding no file or several is refused by name: which member is the batch's data would
otherwise be a guess.
"""

import io
import zipfile

import pytest

from lake_glue import ingest_job
from lake_glue.records import DecompressError, decompress
from lake_platform_tests.conftest import ORDERS_HEADER, order_row
from lake_platform_tests.glue_scripts.test_transactional_tables import query

BATCH = "20260101T000000Z"
ORDERS = ORDERS_HEADER + "".join(order_row(i, "NEW", 10) for i in range(1, 4))


def _zip(members: dict[str, str], folders: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(folder + "/"), "")
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _land(lake, files: dict[str, bytes]) -> None:
    folder = lake.root / "lake-raw" / lake.erp["source"]["landing_prefix"] / "orders" / BATCH
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "_SUCCESS").write_text("")


def test_the_one_member_of_a_zip_is_the_files_content_and_folders_do_not_count():
    assert decompress("s3://raw/b/a.csv.zip", _zip({"export/a.csv": ORDERS}, ("export",)), "auto") == ORDERS.encode()
    assert decompress("s3://raw/b/a.bin", _zip({"a.csv": ORDERS}), "zip") == ORDERS.encode()


@pytest.mark.parametrize(
    "members, held",
    [({}, r"holds 0: \[\]"), ({"a.csv": "x", "b.csv": "y"}, r"holds 2: \['a.csv', 'b.csv'\]")],
)
def test_a_zip_without_exactly_one_file_is_a_decompress_error_naming_it(members, held):
    with pytest.raises(
        DecompressError, match=rf"^orders\.zip: a zip landing file must hold exactly one file, this one {held}"
    ):
        decompress("s3://raw/b/orders.zip", _zip(members), "auto")
    with pytest.raises(DecompressError, match=r"^orders\.zip: not a readable zip file"):
        decompress("s3://raw/b/orders.zip", b"PK not really", "auto")


def test_a_zipped_csv_lands_the_same_rows_as_the_plain_file(lake):
    _land(lake, {"a.csv.zip": _zip({"a.csv": ORDERS})})
    figures = lake.ingest("orders", BATCH)
    assert (figures["landed_rows"], figures["source_rows"], figures["quarantined_rows"]) == (3, 3, 0)
    rows = sorted(query(lake, "select order_id, _source_file, _source_line from erp.orders"))
    assert [(r[0], r[1].rsplit("/", 1)[-1], r[2]) for r in rows] == [(i, "a.csv.zip", i + 1) for i in range(1, 4)]


def test_a_batch_holding_a_zip_of_two_files_is_refused_naming_the_file(lake):
    _land(lake, {"a.csv": ORDERS.encode(), "both.zip": _zip({"a.csv": ORDERS, "b.csv": ORDERS})})
    with pytest.raises(
        ingest_job.IngestError, match=r"both\.zip: cannot decompress \(auto\): both\.zip: a zip landing file must hold"
    ):
        lake.ingest("orders", BATCH)
