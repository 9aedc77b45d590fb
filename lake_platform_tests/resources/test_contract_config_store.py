"""Contract of the config store: ``configs/*.json`` locally, the DynamoDB configs table in AWS.

Both implementations are loaded with the repository's own configs and must return the same
validated items. In AWS the items are written exactly as Terraform's ``aws_dynamodb_table_item``
writes them (``body = jsonencode(config)``: keys sorted, no whitespace, HTML characters escaped),
because that is what a deployed platform holds before anyone runs ``lake configs push``.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from lake_glue.config import ConfigError, load_config_dir, parse_config
from lake_platform.resources.config_store.aws import DynamoConfigStore
from lake_platform.resources.config_store.local import LocalConfigStore

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"
REGION = "eu-west-1"
TABLE = "lake-test-configs"


def terraform_jsonencode(value) -> str:
    """What Terraform's ``jsonencode`` produces: sorted keys, compact, ``<>&`` escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def raw_configs() -> dict[str, dict]:
    """The repository's config documents as parsed JSON, by config name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(REPO_CONFIGS.glob("*.json"))}


class LocalBackend:
    """Writes config documents as files in a folder, the way engineers edit them."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.store = LocalConfigStore(config_dir=str(folder))

    def write(self, name: str, document) -> None:
        """Store one document (or raw text) under ``name``."""
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        (self.folder / f"{name}.json").write_text(text)

    def origin(self, name: str) -> str:
        """How errors name the place this item came from."""
        return str(self.folder / f"{name}.json")

    def watch_writes(self):
        """A function returning the config names written since this call (a write replaces the file)."""
        before = {p.stem: p.stat().st_ino for p in self.folder.glob("*.json")}
        return lambda: sorted(p.stem for p in self.folder.glob("*.json") if before.get(p.stem) != p.stat().st_ino)

    def stored_count(self) -> int:
        """How many items the store holds."""
        return len(list(self.folder.glob("*.json")))


class DynamoBackend:
    """The configs table as Terraform defines it (hash key ``config_name``), items as it writes them."""

    def __init__(self, endpoint: str):
        self.client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
        self.client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "config_name", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "config_name", "AttributeType": "S"}],
        )
        self.store = DynamoConfigStore(table_name=TABLE, region_name=REGION, endpoint_url=endpoint)

    def write(self, name: str, document) -> None:
        """Store one document (or raw body text) the way Terraform's table item does."""
        body = document if isinstance(document, str) else terraform_jsonencode(document)
        doc = document if isinstance(document, dict) else {}
        item = {"config_name": {"S": name}, "body": {"S": body}}
        for attr in ("config_type", "etl_job"):
            if isinstance(doc.get(attr), str):
                item[attr] = {"S": doc[attr]}
        self.client.put_item(TableName=TABLE, Item=item)

    def origin(self, name: str) -> str:
        """How errors name the place this item came from."""
        return f"dynamodb://{TABLE}/{name}"

    def watch_writes(self):
        """A function returning the config names of every PutItem sent since this call."""
        names = count_puts(self.store.client)
        return lambda: sorted(names)

    def stored_count(self) -> int:
        """How many items the store holds."""
        return self.client.scan(TableName=TABLE)["Count"]


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def backend(request, tmp_path):
    """An empty config store of each kind, with a way to write items into it."""
    if request.param == "local":
        return LocalBackend(tmp_path / "configs")
    return DynamoBackend(request.getfixturevalue("aws"))


@pytest.fixture
def loaded(backend):
    """The store holding the repository's configs."""
    for name, document in raw_configs().items():
        backend.write(name, document)
    return backend


def test_list_configs_returns_the_repository_configs_validated_and_sorted(loaded):
    expected = load_config_dir(REPO_CONFIGS)
    got = loaded.store.list_configs()
    assert [c.config_name for c in got] == sorted(c.config_name for c in expected)
    assert got == sorted(expected, key=lambda c: c.config_name)


def test_get_config_returns_one_item_and_names_a_missing_one(loaded):
    erp = loaded.store.get_config("erp")
    assert erp.config_type == "spark_ingest" and erp.etl_job == "files-spark-ingest-default"
    with pytest.raises(KeyError, match="'nope'"):
        loaded.store.get_config("nope")


def test_invalid_item_raises_config_error_naming_origin_and_field(loaded):
    document = raw_configs()["erp"]
    document["job_settings"]["number_of_workers"] = 1
    loaded.write("erp", document)
    with pytest.raises(ConfigError) as info:
        loaded.store.list_configs()
    message = str(info.value)
    assert loaded.origin("erp") in message
    assert "job_settings.number_of_workers" in message


def test_item_that_is_not_json_raises_config_error_naming_origin(loaded):
    loaded.write("erp", "{not json")
    with pytest.raises(ConfigError) as info:
        loaded.store.list_configs()
    assert loaded.origin("erp") in str(info.value)


def test_broken_reference_between_items_raises_config_error(loaded):
    document = raw_configs()["sales"]
    document["source"]["config_name"] = "crm"
    loaded.write("sales", document)
    with pytest.raises(ConfigError, match="source.config_name"):
        loaded.store.list_configs()


def test_job_config_source_tells_glue_where_the_items_are(backend):
    source = backend.store.job_config_source()
    if isinstance(backend, LocalBackend):
        assert source == f"file://{backend.folder.resolve()}"
    else:
        assert source == f"dynamodb://{TABLE}"


def count_puts(client) -> list[str]:
    """Record the config_name of every PutItem the client sends (observation only)."""
    names: list[str] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.PutItem", lambda params, **_: names.append(params["Item"]["config_name"]["S"])
    )
    return names


def test_push_creates_then_reports_unchanged_without_rewriting(backend):
    configs = load_config_dir(REPO_CONFIGS)
    written = backend.watch_writes()

    first = backend.store.push(configs)
    assert first.changes == {"erp": "created", "sales": "created"}
    assert written() == ["erp", "sales"]
    assert backend.store.list_configs() == sorted(configs, key=lambda c: c.config_name)

    written = backend.watch_writes()
    second = backend.store.push(configs)
    assert second.changes == {"erp": "unchanged", "sales": "unchanged"}
    assert written() == []


def test_push_reports_and_writes_only_the_changed_item(backend):
    configs = load_config_dir(REPO_CONFIGS)
    backend.store.push(configs)
    document = raw_configs()["erp"]
    document["job_settings"]["cron"] = "45 * * * *"
    changed = [parse_config(document, "erp.json") if c.config_name == "erp" else c for c in configs]
    written = backend.watch_writes()

    result = backend.store.push(changed)
    assert result.changes == {"erp": "updated", "sales": "unchanged"}
    assert written() == ["erp"]
    assert backend.store.get_config("erp").job_settings.cron == "45 * * * *"


def test_push_dry_run_reports_changes_but_writes_nothing(backend):
    configs = load_config_dir(REPO_CONFIGS)
    written = backend.watch_writes()
    result = backend.store.push(configs, dry_run=True)
    assert result.changes == {"erp": "created", "sales": "created"}
    assert written() == []
    assert backend.stored_count() == 0


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(terraform_jsonencode, id="terraform-jsonencode"),
        pytest.param(lambda d: json.dumps(d, indent=4), id="indented"),
        pytest.param(lambda d: json.dumps(dict(reversed(list(d.items())))), id="reordered-keys"),
    ],
)
def test_push_over_items_written_in_other_json_text_reports_unchanged(backend, encode):
    # Terraform (or an engineer's editor) and `lake configs push` write the same items with
    # different JSON text; the writers must agree that nothing changed, or every deploy would
    # rewrite every item.
    for name, document in raw_configs().items():
        backend.write(name, encode(document))
    written = backend.watch_writes()
    result = backend.store.push(load_config_dir(REPO_CONFIGS))
    assert result.changes == {"erp": "unchanged", "sales": "unchanged"}
    assert written() == []


def test_push_rewrites_an_item_whose_body_is_invalid(backend):
    backend.write("erp", "{not json")
    result = backend.store.push(load_config_dir(REPO_CONFIGS))
    assert result.changes == {"erp": "updated", "sales": "created"}
    assert [c.config_name for c in backend.store.list_configs()] == ["erp", "sales"]
