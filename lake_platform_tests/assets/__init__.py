"""Tests of lake_platform/assets and the code location built from them."""
