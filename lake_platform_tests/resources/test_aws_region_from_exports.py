"""Issue 21 item 15: ``lake_env_exports`` sets ``AWS_REGION`` only, and botocore reads only
``AWS_DEFAULT_REGION``: every client the platform creates still gets the exported region."""

from __future__ import annotations

from lake_platform.resources.aws import aws_client


def test_a_client_without_a_region_takes_aws_region_when_aws_default_region_is_unset(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert aws_client("s3").meta.region_name == "ap-southeast-2"
    assert aws_client("glue").meta.region_name == "ap-southeast-2"


def test_an_explicit_region_still_wins(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert aws_client("sqs", region_name="eu-west-1").meta.region_name == "eu-west-1"
