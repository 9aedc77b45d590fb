"""Tests of glue_scripts: the two Glue jobs and the lake_glue package."""
