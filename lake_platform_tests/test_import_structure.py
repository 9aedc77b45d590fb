"""The import structure of ``lake_platform`` and ``lake_glue``, read from the source (nothing is imported).

Neither package imports one of its modules back through another (no import cycle). Layers in
``lake_platform``: ``batches`` (sealing, registration, run requests) sits below the assets and
the sensors, and the resources below everything, so ``assets`` and ``resources`` never import
from ``sensors``. Imports inside functions count (they are dependencies all the same); imports
under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "lake_platform"
# Every package whose modules must not import each other in a cycle.
PACKAGES = (PACKAGE, REPO / "glue_scripts" / "lake_glue")
FORBIDDEN = {
    "lake_platform.assets": "lake_platform.sensors",
    "lake_platform.resources": "lake_platform.sensors",
}


def module_name(path: Path, root: Path) -> str:
    """``<root>/a/b.py`` -> ``<root name>.a.b``; a package's ``__init__.py`` is the package."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST):
    """Every import node under ``node``, leaving out ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            yield from (n for orelse in child.orelse for n in [orelse, *_imports(orelse)] if _is_import(n))
            continue
        if _is_import(child):
            yield child
        yield from _imports(child)


def _is_import(node: ast.AST) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def imported_modules(source: str, modules: set[str]) -> set[str]:
    """Which of ``modules`` a source imports (``from pkg import sub`` names the submodule)."""
    found: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif node.module and node.module in modules and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            # ``from pkg import sub, name``: the submodule, and the package for the other names.
            found |= subs | ({node.module} if len(subs) < len(node.names) else set())
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, for every module under ``root``."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(paths)
    return {name: imported_modules(path.read_text(), modules) - {name} for name, path in paths.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path per import cycle found by a depth-first walk (each as ``a -> b -> ... -> a``)."""
    cycles, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the current path, 2 done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [node, nxt] if nxt in path else [node, nxt])
            elif state.get(nxt) == 0:
                walk(nxt, [*path, node])
        state[node] = 2

    for start in sorted(graph):
        if state[start] == 0:
            walk(start, [])
    return cycles


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_package_has_no_import_cycle(package):
    cycles = find_cycles(import_graph(package))
    assert not cycles, f"import cycles in {package.name}:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(("layer", "above"), sorted(FORBIDDEN.items()))
def test_lower_layers_never_import_from_the_sensors(layer, above):
    graph = import_graph()
    offending = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _within(module, layer)
        for target in targets
        if _within(target, above)
    )
    assert not offending, f"{layer} must not import from {above}:\n" + "\n".join(offending)


def test_the_checker_sees_a_cycle_and_a_forbidden_import(tmp_path):
    """The checks above can fail: a planted cycle and a planted back-edge are both found."""
    package = tmp_path / "lake_platform"
    for folder in (package / "assets", package / "sensors"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from lake_platform import b\n")
    (package / "b.py").write_text("def f():\n    from lake_platform.a import x\n")
    (package / "assets" / "raw.py").write_text("from lake_platform.sensors.landing import seal\n")
    (package / "sensors" / "landing.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lake_platform.assets.raw import y\n"
    )
    graph = import_graph(package)
    assert find_cycles(graph) == [["lake_platform.a", "lake_platform.b", "lake_platform.a"]]
    assert graph["lake_platform.assets.raw"] == {"lake_platform.sensors.landing"}
    assert graph["lake_platform.sensors.landing"] == set()
