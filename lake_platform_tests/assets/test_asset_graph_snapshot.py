"""The whole asset graph of the shipped configs, pinned: any change to it shows in review.

Keys, groups, kinds, dependencies, partitions, checks (and which block), jobs with the assets
they run, schedules and sensors are written to ``snapshots/asset_graph.json``. After an
intended change, regenerate it with::

    LAKE_UPDATE_SNAPSHOTS=1 .venv/bin/pytest lake_platform_tests/test_asset_graph_snapshot.py

and commit the file with the change, so the reviewer sees the graph's diff.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "asset_graph.json"


def describe(defs) -> dict:
    """A stable, JSON-able description of the definitions' graph."""
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": getattr(node.partitions_def, "name", None)
            or (type(node.partitions_def).__name__ if node.partitions_def else None),
            "checks": sorted(
                f"{c.name}{' (blocking)' if graph.get_check_spec(c).blocking else ''}" for c in node.check_keys
            ),
        }
    jobs = {
        job.name: sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        for job in sorted(repo.get_all_jobs(), key=lambda j: j.name)
        if not job.name.startswith("__")
    }
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "default": str(s.default_status.value)}
        for s in sorted(repo.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {"jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [], "default": str(s.default_status.value)}
        for s in sorted(repo.sensor_defs, key=lambda s: s.name)
    }
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_the_asset_graph_matches_its_snapshot(lake_home):
    import lake_platform.definitions as module

    current = json.dumps(describe(importlib.reload(module).defs()), indent=1, sort_keys=True) + "\n"
    if os.environ.get("LAKE_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    pinned = SNAPSHOT.read_text()
    diff = "".join(difflib.unified_diff(pinned.splitlines(True), current.splitlines(True), "pinned", "current"))
    assert not diff, (
        "the asset graph changed; if that is intended, regenerate the snapshot"
        f" (LAKE_UPDATE_SNAPSHOTS=1) and commit it with the change:\n{diff}"
    )
