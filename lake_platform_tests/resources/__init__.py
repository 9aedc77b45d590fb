"""Tests of lake_platform/resources: one contract suite per interface, run on both implementations."""
