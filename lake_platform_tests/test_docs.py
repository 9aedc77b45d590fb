"""The README's pictures are generated from the code and kept in step with it."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_diagrams():
    spec = importlib.util.spec_from_file_location("diagrams", REPO / "docs" / "diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_diagrams_are_the_ones_the_code_draws_today():
    diagrams = load_diagrams()
    assert diagrams.main(["--check"]) == 0, "run: .venv/bin/python docs/diagrams.py"


def test_the_data_plane_shows_every_configured_table_and_the_control_plane_every_terraform_module():
    import hcl2

    from lake_glue.config import load_config_dir

    diagrams = load_diagrams()
    data = diagrams.data_plane(REPO / "configs")
    for config in load_config_dir(REPO / "configs"):
        for table in config.table_config:
            assert f'"{config.target.database}.{table.table_name}' in data
    control = diagrams.control_plane(REPO / "terraform" / "main.tf")
    with open(REPO / "terraform" / "main.tf", encoding="utf-8") as f:
        modules = [name.strip('"') for block in hcl2.load(f).get("module", []) for name in block]
    assert modules and all(f'"module.{name}"' in control for name in modules)


def test_a_readme_without_the_markers_is_refused_with_the_marker_it_needs():
    import pytest

    diagrams = load_diagrams()
    with pytest.raises(SystemExit, match="diagram:data-plane"):
        diagrams.updated_readme("no markers here", {"data-plane": "flowchart LR"})


def test_the_readme_layout_names_every_module_and_only_files_that_exist():
    import re

    text = (REPO / "README.md").read_text()
    block = text.split("## Layout\n\n```\n", 1)[1].split("```", 1)[0]
    package = REPO / "lake_platform"
    expected = [p.name for p in package.iterdir() if p.suffix == ".py" and p.name != "__init__.py"]
    expected += [p.name + "/" for p in package.iterdir() if p.is_dir() and not p.name.startswith("__")]
    expected += [p.name for p in (package / "resources").iterdir() if p.is_dir() and not p.name.startswith("__")]
    tests = REPO / "lake_platform_tests"
    expected += [p.name + "/" for p in tests.iterdir() if (p / "__init__.py").exists()]
    assert [name for name in expected if name not in block] == []
    searched = [REPO / d for d in ("lake_platform", "glue_scripts", "docs", "bench", "lake_platform_tests")]
    for name in set(re.findall(r"[A-Za-z_]+\.py\b", block)):
        assert any(any(root.rglob(name)) for root in searched), f"README layout names {name}, which does not exist"
