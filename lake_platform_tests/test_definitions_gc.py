"""Loading the code location pauses the cyclic garbage collector only while it builds."""

import gc

import pytest

from lake_platform.definitions import build_definitions


@pytest.mark.parametrize("enabled", [True, False])
def test_building_the_definitions_leaves_the_garbage_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        defs = build_definitions()
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
    assert defs.get_repository_def().asset_graph.get_all_asset_keys()
