"""Assets of the raw, source and target layers, built from the configs."""

from lake_platform.assets.factory import TableAssets, build_table_assets

__all__ = ["TableAssets", "build_table_assets"]
