"""Tests of lake_platform/sensors."""
