"""Issue 21 item 15: Terraform reads configs/*.json itself while Python fills defaults, so a config
that relies on a default would break ``terraform plan``; ``lake configs validate`` names the file and
field instead, and the repository's configs write out every field Terraform reads."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from lake_platform import cli

REPO = Path(__file__).resolve().parents[1]


def test_validate_names_the_file_and_field_terraform_would_miss(tmp_path, capsys):
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    path = tmp_path / "configs" / "erp.json"
    erp = json.loads(path.read_text())
    del erp["job_settings"]["worker_type"]
    path.write_text(json.dumps(erp))
    assert cli.main(["configs", "validate", "--dir", str(tmp_path / "configs")]) == 1
    err = capsys.readouterr().err
    assert f"{path}: field job_settings.worker_type: write it out; Terraform reads this file" in err


def test_the_repository_configs_write_out_every_field_terraform_reads():
    assert cli.terraform_fields_missing(REPO / "configs") == []


def test_the_field_list_covers_what_the_terraform_files_read():
    text = "".join((REPO / "terraform" / name).read_text() for name in ("main.tf", "glue_jobs.tf"))
    read = set(re.findall(r"\bc(?:s\[0\])?\.([a-z_]+(?:\.[a-z_]+)*)", text))
    known = set(cli.TERRAFORM_READS) | set(cli.TERRAFORM_OPTIONAL_READS)
    assert read <= known, read - known
    # An optional field is read only through try(), which turns a missing attribute into null.
    for field in cli.TERRAFORM_OPTIONAL_READS:
        bare = len(re.findall(rf"\bc\.{re.escape(field)}\b", text))
        assert bare == len(re.findall(rf"try\(c\.{re.escape(field)}, null\)", text)) > 0, field
