"""Shared, pure-PySpark code for the platform's generic Glue jobs.

Nothing here imports ``awsglue``: the same modules run in AWS Glue 5.0 (shipped with
``--extra-py-files``) and in local Spark on a laptop.
"""
