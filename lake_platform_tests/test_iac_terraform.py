"""Static checks of terraform/ (no Terraform binary can run here).

They parse every file with python-hcl2 and cross-check the parts that `terraform validate`
and a plan would otherwise catch: references between files and modules, the Glue jobs
derived from configs/*.json, the DynamoDB contract, the environment-variable outputs and
the least-privilege rules for IAM.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[1]
TF = REPO / "terraform"
MODULES = TF / "modules"
CONFIGS = REPO / "configs"
GLUE_SCRIPTS = REPO / "glue_scripts"

# The variables lake_platform reads in LAKE_ENV=aws mode; output.tf must print exactly these.
LAKE_AWS_ENV_VARS = {
    "LAKE_ENV",
    "LAKE_LANDING_QUEUE_URL",
    "LAKE_ALERTS_TOPIC_ARN",
    "AWS_REGION",
    "LAKE_RAW_BUCKET",
    "LAKE_SOURCE_BUCKET",
    "LAKE_TARGET_BUCKET",
    "LAKE_CONFIGS_TABLE",
    "LAKE_PARTITIONS_TABLE",
    "LAKE_STATE_MACHINE_ARN",
    "LAKE_ATHENA_WORKGROUP",
    "LAKE_PIPES_BUCKET",
    "LAKE_PIPES_PREFIX",
}

# Same order as local.worker_type_order in terraform/glue_jobs.tf.
GLUE_WORKER_TYPES = ["G.1X", "G.2X", "G.4X", "G.8X"]
GLUE_JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


# --------------------------------------------------------------------------------------------
# Loading helpers
# --------------------------------------------------------------------------------------------
def _unquote(value: Any) -> Any:
    """python-hcl2 8 keeps string quotes and ${} around expressions; normalise its output."""
    if isinstance(value, dict):
        return {
            _unquote(k): _unquote(v)
            for k, v in value.items()
            if k not in ("__comments__", "__inline_comments__", "__is_block__")
        }
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@functools.lru_cache(maxsize=None)
def load_tf(path: Path) -> dict[str, Any]:
    """Parsed, normalised file (cached: parsing is the slow part; callers must not mutate)."""
    with path.open() as fh:
        return _unquote(hcl2.load(fh))


def load_dir(directory: Path) -> dict[str, list[Any]]:
    """All top-level blocks of the .tf files of one module directory, merged by block type."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block_type, blocks in load_tf(path).items():
            merged.setdefault(block_type, []).extend(blocks)
    return merged


def named(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """[{name: body}, ...] -> {name: body} for variable/output/module/locals-like lists."""
    out: dict[str, Any] = {}
    for block in blocks:
        out.update(block)
    return out


def resources(module: dict[str, list[Any]], kind: str = "resource") -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for block in module.get(kind, []):
        for rtype, by_name in block.items():
            for rname, body in by_name.items():
                out[(rtype, rname)] = body
    return out


def locals_of(module: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in module.get("locals", []):
        out.update(block)
    return out


def module_dirs() -> list[Path]:
    return [TF] + sorted(p for p in MODULES.iterdir() if p.is_dir())


def _code(path: Path) -> str:
    """File text without comment lines and inline # comments (good enough for our style)."""
    lines = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or stripped.startswith("//"):
            continue
        lines.append(re.sub(r"\s#\s.*$", "", line))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The configs -> Glue jobs contract, as a reusable check (mirrors local.glue_jobs)
# --------------------------------------------------------------------------------------------
def script_for(etl_job: str) -> str:
    return etl_job.replace("-", "_") + ".py"


def expected_glue_jobs(configs_dir: Path) -> dict[str, dict[str, Any]]:
    """What terraform/glue_jobs.tf derives from configs/*.json: etl_job -> job settings."""
    jobs: dict[str, dict[str, Any]] = {}
    for path in sorted(configs_dir.glob("*.json")):
        config = json.loads(path.read_text())
        settings = config.get("job_settings") or {}
        job = jobs.setdefault(
            config["etl_job"],
            {
                "script": script_for(config["etl_job"]),
                "configs": [],
                "worker_type": None,
                "number_of_workers": 0,
                "timeout_minutes": 0,
            },
        )
        job["configs"].append(config["config_name"])
        wt = settings.get("worker_type")
        if wt in GLUE_WORKER_TYPES and (
            job["worker_type"] is None or GLUE_WORKER_TYPES.index(wt) > GLUE_WORKER_TYPES.index(job["worker_type"])
        ):
            job["worker_type"] = wt
        job["number_of_workers"] = max(job["number_of_workers"], settings.get("number_of_workers") or 0)
        job["timeout_minutes"] = max(job["timeout_minutes"], settings.get("timeout_minutes") or 0)
    return jobs


def check_glue_jobs_cover_configs(configs_dir: Path, glue_scripts_dir: Path) -> list[str]:
    """Errors that would stop `terraform plan` (or a Glue run) for these configs; [] if none.

    Every config must name an etl_job that is a valid Glue job name, with worker settings
    Terraform can turn into job defaults, and the script glue_scripts/<etl_job '-'->'_'>.py
    must exist (Terraform uploads it with filemd5, and the runner starts the job by that name).
    """
    errors: list[str] = []
    files = sorted(configs_dir.glob("*.json"))
    if not files:
        return [f"{configs_dir}: no *.json configs"]
    names: dict[str, str] = {}
    for path in files:
        try:
            config = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name}: not valid JSON ({exc})")
            continue
        for field in ("config_name", "config_type", "etl_job"):
            if not isinstance(config.get(field), str) or not config.get(field):
                errors.append(f"{path.name}: field {field!r} is missing or not a string")
        if not isinstance((config.get("target") or {}).get("database"), str):
            errors.append(f"{path.name}: field 'target.database' is missing (one catalog database per config)")
        name = config.get("config_name")
        if isinstance(name, str):
            if name in names:
                errors.append(f"{path.name}: config_name {name!r} also used by {names[name]} (DynamoDB hash key)")
            names[name] = path.name
        etl_job = config.get("etl_job")
        if not isinstance(etl_job, str) or not etl_job:
            continue
        if not GLUE_JOB_NAME.match(etl_job):
            errors.append(f"{path.name}: etl_job {etl_job!r} is not a valid Glue job name")
        script = glue_scripts_dir / script_for(etl_job)
        if not script.is_file():
            errors.append(
                f"{path.name}: etl_job {etl_job!r} has no Glue script:"
                f" expected {script.relative_to(glue_scripts_dir.parent)}"
            )
        settings = config.get("job_settings") or {}
        if settings.get("worker_type") not in GLUE_WORKER_TYPES:
            errors.append(
                f"{path.name}: job_settings.worker_type {settings.get('worker_type')!r} not in {GLUE_WORKER_TYPES}"
            )
        for field in ("number_of_workers", "timeout_minutes"):
            if not isinstance(settings.get(field), int) or settings.get(field) < 1:
                errors.append(f"{path.name}: job_settings.{field} must be a positive integer")
    return errors


# --------------------------------------------------------------------------------------------
# Parsing and structure
# --------------------------------------------------------------------------------------------
def test_every_tf_and_tfvars_file_parses_with_python_hcl2():
    files = sorted(TF.rglob("*.tf")) + sorted(TF.rglob("*.tfvars"))
    assert len(files) > 20
    for path in files:
        assert load_tf(path) is not None, path


def test_root_keeps_the_challenge_file_names_and_every_module_has_the_four_standard_files():
    for name in ("main.tf", "glue_jobs.tf", "output.tf", "variables.tf", "versions.tf"):
        assert (TF / name).is_file(), name
    assert (TF / "environments" / "dev.tfvars").is_file()
    for module in MODULES.iterdir():
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (module / name).is_file(), f"{module.name}/{name}"


def test_versions_pin_terraform_1_6_and_aws_provider_5_everywhere():
    for directory in module_dirs():
        terraform = load_dir(directory)["terraform"][0]
        assert terraform["required_version"] == ">= 1.6.0", directory
        aws = terraform["required_providers"][0]["aws"]
        assert aws["source"] == "hashicorp/aws"
        assert re.fullmatch(r"~> 5\.\d+", aws["version"]), (directory, aws["version"])
    root = load_dir(TF)["terraform"][0]
    assert "s3" in root["backend"][0], "root must declare the S3 backend (configured from CFN/seed.yaml)"


def test_every_variable_and_output_has_a_description():
    for directory in module_dirs():
        module = load_dir(directory)
        for kind in ("variable", "output"):
            for name, body in named(module.get(kind, [])).items():
                assert str(body.get("description", "")).strip(), f"{directory.name}: {kind} {name}"


def test_outputs_are_not_declared_twice():
    seen: dict[str, str] = {}
    for path in sorted(TF.glob("*.tf")):
        for name in named(load_tf(path).get("output", [])):
            assert name not in seen, f"output {name} in {path.name} and {seen[name]}"
            seen[name] = path.name


# --------------------------------------------------------------------------------------------
# References (what `terraform validate` would check)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_every_var_local_resource_and_data_reference_is_declared(directory: Path):
    module = load_dir(directory)
    variables = set(named(module.get("variable", [])))
    local_names = set(locals_of(module))
    declared_resources = {f"{t}.{n}" for t, n in resources(module)}
    declared_data = {f"{t}.{n}" for t, n in resources(module, "data")}
    module_calls = set(named(module.get("module", [])))
    problems = []
    for path in sorted(directory.glob("*.tf")):
        code = _code(path)
        for name in re.findall(r"\bvar\.([a-z0-9_]+)", code):
            if name not in variables:
                problems.append(f"{path.name}: var.{name} not declared")
        for name in re.findall(r"\blocal\.([a-z0-9_]+)", code):
            if name not in local_names:
                problems.append(f"{path.name}: local.{name} not defined")
        for rtype, rname in re.findall(r"\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)", code):
            if f"{rtype}.{rname}" not in declared_data:
                problems.append(f"{path.name}: data.{rtype}.{rname} not declared")
        for rtype, rname in re.findall(r"(?<![.\w:/-])(aws_[a-z0-9_]+)\.([a-z0-9_]+)\b", code):
            if f"{rtype}.{rname}" not in declared_resources:
                problems.append(f"{path.name}: {rtype}.{rname} not declared")
        for name in re.findall(r"\bmodule\.([a-z0-9_]+)", code):
            if name not in module_calls:
                problems.append(f"{path.name}: module.{name} not called")
    assert not problems, problems


def _module_calls() -> list[tuple[Path, str, dict[str, Any]]]:
    calls = []
    for directory in module_dirs():
        for name, body in named(load_dir(directory).get("module", [])).items():
            calls.append((directory, name, body))
    return calls


@pytest.mark.parametrize(
    "caller,name,body",
    _module_calls(),
    ids=lambda v: v.name if isinstance(v, Path) else (v if isinstance(v, str) else ""),
)
def test_module_calls_pass_declared_inputs_and_read_existing_outputs(caller: Path, name: str, body: dict):
    target = (caller / body["source"]).resolve()
    assert target.is_dir(), body["source"]
    callee = load_dir(target)
    declared = named(callee.get("variable", []))
    meta = {"source", "count", "for_each", "depends_on", "providers", "version"}
    passed = set(body) - meta
    assert passed <= set(declared), f"module {name}: unknown inputs {passed - set(declared)}"
    required = {v for v, spec in declared.items() if "default" not in spec}
    assert required <= passed, f"module {name}: missing required inputs {required - passed}"
    outputs = set(named(callee.get("output", [])))
    for path in caller.glob("*.tf"):
        for out in re.findall(rf"\bmodule\.{name}(?:\[\d+\])?\.([a-z0-9_]+)", _code(path)):
            assert out in outputs, f"{path.name}: module.{name}.{out} is not an output of {target.name}"


def test_dev_tfvars_sets_only_declared_variables_and_every_required_one():
    declared = named(load_dir(TF)["variable"])
    tfvars = load_tf(TF / "environments" / "dev.tfvars")
    assert set(tfvars) <= set(declared), set(tfvars) - set(declared)
    required = {v for v, spec in declared.items() if "default" not in spec}
    assert required <= set(tfvars), required - set(tfvars)


# --------------------------------------------------------------------------------------------
# Configs -> DynamoDB items, Glue jobs and catalog databases
# --------------------------------------------------------------------------------------------
def test_configs_are_read_from_the_configs_folder_with_for_each_over_the_json_files():
    root_locals = locals_of(load_dir(TF))
    assert root_locals["configs_dir"] == "${path.module}/../configs"
    assert root_locals["config_files"] == '${fileset(local.configs_dir, "*.json")}'
    configs = root_locals["configs"]
    assert "for f in local.config_files" in configs
    assert re.search(r"jsondecode\(file\(.*\)\)\.config_name\s*=>\s*jsondecode\(file\(", configs), configs


def test_every_config_becomes_one_dynamodb_item_with_name_type_job_and_full_json_body():
    root = named(load_dir(TF)["module"])["dynamodb"]["configs"]
    assert "for name, c in local.configs" in root
    for fragment in ("config_type = c.config_type", "etl_job = c.etl_job", "body = jsonencode(c)"):
        assert fragment in root, fragment
    ddb = resources(load_dir(MODULES / "dynamodb"))
    item = ddb[("aws_dynamodb_table_item", "config")]
    assert item["for_each"] == "${var.configs}"
    assert item["table_name"] == "${aws_dynamodb_table.configs.name}"
    for attribute in (
        "config_name = {S = each.key}",
        "config_type = {S = each.value.config_type}",
        "etl_job = {S = each.value.etl_job}",
        "body = {S = each.value.body}",
    ):
        assert attribute in item["item"], attribute


def test_dynamodb_tables_match_the_python_contract():
    ddb = resources(load_dir(MODULES / "dynamodb"))
    configs = ddb[("aws_dynamodb_table", "configs")]
    partitions = ddb[("aws_dynamodb_table", "partitions")]
    for table in (configs, partitions):
        assert table["billing_mode"] == "PAY_PER_REQUEST"
        assert table["point_in_time_recovery"][0]["enabled"] is True
        sse = table["server_side_encryption"][0]
        assert sse["enabled"] is True and sse["kms_key_arn"] == "${var.kms_key_arn}"
    assert configs["hash_key"] == "config_name"
    assert {(a["name"], a["type"]) for a in configs["attribute"]} == {("config_name", "S")}
    assert partitions["hash_key"] == "table_id" and partitions["range_key"] == "batch_id"
    assert {(a["name"], a["type"]) for a in partitions["attribute"]} == {
        ("table_id", "S"),
        ("batch_id", "S"),
        ("status", "S"),
        ("updated_at", "S"),
    }
    (gsi,) = partitions["global_secondary_index"]
    assert (gsi["name"], gsi["hash_key"], gsi["range_key"], gsi["projection_type"]) == (
        "by_status",
        "status",
        "updated_at",
        "ALL",
    )


def test_glue_job_resource_iterates_over_the_distinct_etl_jobs_of_the_configs():
    root = load_dir(TF)
    loc = locals_of(root)
    assert loc["etl_jobs"] == "${toset([for c in values(local.configs) : c.etl_job])}"
    glue_jobs = loc["glue_jobs"]
    assert glue_jobs.startswith("${{for job in local.etl_jobs : job => {")
    assert (
        'script = "${replace(job, \\"-\\", \\"_\\")}.py"' in glue_jobs
        or 'script = "${replace(job, "-", "_")}.py"' in glue_jobs
    ), glue_jobs
    for setting in ("worker_type", "number_of_workers", "timeout_minutes"):
        assert re.search(
            rf"{setting} = .*max\(\[for c in values\(local\.configs\) : .*if c\.etl_job == job\]", glue_jobs
        ), setting
    assert [v.strip('"') for v in loc["worker_type_order"]] == GLUE_WORKER_TYPES

    res = resources(root)
    job = res[("aws_glue_job", "this")]
    assert job["for_each"] == "${local.glue_jobs}"
    assert job["name"] == "${each.key}", "the Glue job name must be exactly the config's etl_job"
    assert job["worker_type"] == "${each.value.worker_type}"
    assert job["number_of_workers"] == "${each.value.number_of_workers}"
    assert job["timeout"] == "${each.value.timeout_minutes}"
    assert job["glue_version"] == "${var.glue_version}"
    assert named(root["variable"])["glue_version"]["default"] == "5.0"
    assert "aws_s3_object.glue_script[each.key]" in job["command"][0]["script_location"]
    assert job["security_configuration"] == "${aws_glue_security_configuration.this.name}"
    assert job["execution_property"][0]["max_concurrent_runs"] == "${var.glue_max_concurrent_runs}"

    script = res[("aws_s3_object", "glue_script")]
    assert script["for_each"] == "${local.glue_jobs}"
    assert script["source"] == "${local.glue_scripts_dir}/${each.value.script}"
    assert script["source_hash"] == '${filemd5("${local.glue_scripts_dir}/${each.value.script}")}'
    assert loc["glue_scripts_dir"] == "${path.module}/../glue_scripts"


def test_glue_job_default_arguments_follow_the_runtime_contract():
    root = load_dir(TF)
    args = resources(root)[("aws_glue_job", "this")]["default_arguments"]
    args = {k.strip('"'): v for k, v in args.items()}
    assert args["--object_listing"] == "s3"
    assert args["--config_source"] == "dynamodb://${module.dynamodb.configs_table_name}"
    assert args["--raw_bucket"] == "${module.storage.raw_bucket}"
    assert args["--source_bucket"] == "${module.storage.source_bucket}"
    assert args["--target_bucket"] == "${module.storage.target_bucket}"
    assert args["--extra-py-files"] == "s3://${module.storage.artifacts_bucket}/${aws_s3_object.lake_glue_zip.key}"
    assert args["--catalog"] == "glue"
    assert args["--additional-python-modules"] == (
        "dagster-pipes==${var.dagster_pipes_version},pyiceberg[glue,pyarrow]==${var.pyiceberg_version}"
    )
    assert named(root["variable"])["dagster_pipes_version"]["default"] == "1.13.27"
    locked = re.search(r'name = "pyiceberg"\nversion = "([^"]+)"', (TF.parent / "uv.lock").read_text()).group(1)
    assert named(root["variable"])["pyiceberg_version"]["default"] == locked
    assert args["--enable-continuous-cloudwatch-log"] == "true"
    assert args["--enable-metrics"] == "true"
    assert args["--job-language"] == "python"
    assert args["--enable-glue-datacatalog"] == "true"


def test_shared_package_is_zipped_from_glue_scripts_lake_glue_and_uploaded_by_content_hash():
    root = load_dir(TF)
    archive = resources(root, "data")[("archive_file", "lake_glue")]
    assert locals_of(root)["lake_glue_files"] == '${fileset("${local.glue_scripts_dir}/lake_glue", "**/*.py")}'
    source = archive["dynamic"][0]["source"]
    assert source["for_each"] == "${local.lake_glue_files}"
    assert source["content"][0]["filename"] == "lake_glue/${source.value}"
    zipped = resources(root)[("aws_s3_object", "lake_glue_zip")]
    assert zipped["source_hash"] == "${data.archive_file.lake_glue.output_md5}"
    assert (GLUE_SCRIPTS / "lake_glue" / "__init__.py").is_file()


def test_repository_configs_have_glue_scripts_and_the_expected_jobs():
    assert check_glue_jobs_cover_configs(CONFIGS, GLUE_SCRIPTS) == []
    jobs = expected_glue_jobs(CONFIGS)
    assert {"files-spark-ingest-default", "dapfw-prepare-default"} <= set(jobs)
    for name, job in jobs.items():
        assert (GLUE_SCRIPTS / job["script"]).is_file(), name


def test_a_config_naming_an_etl_job_without_a_glue_script_is_reported(tmp_path: Path):
    configs = tmp_path / "configs"
    configs.mkdir()
    base = json.loads((CONFIGS / "erp.json").read_text())
    (configs / "erp.json").write_text(json.dumps(base))
    rogue = dict(base, config_name="crm", etl_job="files-spark-ingest-custom")
    (configs / "crm.json").write_text(json.dumps(rogue))

    errors = check_glue_jobs_cover_configs(configs, GLUE_SCRIPTS)

    assert len(errors) == 1, errors
    assert "crm.json" in errors[0] and "files-spark-ingest-custom" in errors[0]
    assert "glue_scripts/files_spark_ingest_custom.py" in errors[0]


def test_invalid_configs_are_reported_with_file_and_field(tmp_path: Path):
    configs = tmp_path / "configs"
    configs.mkdir()
    base = json.loads((CONFIGS / "erp.json").read_text())
    (configs / "a.json").write_text(json.dumps({k: v for k, v in base.items() if k != "etl_job"}))
    (configs / "b.json").write_text(json.dumps(dict(base, job_settings=dict(base["job_settings"], worker_type="G.3X"))))
    (configs / "c.json").write_text("{not json")

    errors = check_glue_jobs_cover_configs(configs, GLUE_SCRIPTS)

    assert any("a.json" in e and "etl_job" in e for e in errors), errors
    assert any("b.json" in e and "worker_type" in e for e in errors), errors
    assert any("c.json" in e and "not valid JSON" in e for e in errors), errors
    assert any("b.json" in e and "also used by" in e for e in errors), errors


def test_shared_glue_job_takes_the_largest_settings_of_its_configs(tmp_path: Path):
    configs = tmp_path / "configs"
    configs.mkdir()
    base = json.loads((CONFIGS / "erp.json").read_text())
    small = dict(
        base,
        config_name="a",
        job_settings=dict(base["job_settings"], worker_type="G.2X", number_of_workers=2, timeout_minutes=60),
    )
    large = dict(
        base,
        config_name="b",
        job_settings=dict(base["job_settings"], worker_type="G.1X", number_of_workers=10, timeout_minutes=20),
    )
    (configs / "a.json").write_text(json.dumps(small))
    (configs / "b.json").write_text(json.dumps(large))

    (job,) = expected_glue_jobs(configs).values()

    assert (job["worker_type"], job["number_of_workers"], job["timeout_minutes"]) == ("G.2X", 10, 60)
    assert job["configs"] == ["a", "b"]


def test_one_catalog_database_per_config_target_database_in_its_layer_bucket():
    root = load_dir(TF)
    databases = locals_of(root)["catalog_databases"]
    assert "{for c in values(local.configs) : c.target.database => c...}" in databases
    assert (
        'cs[0].config_type == \\"prepare\\" ? module.storage.target_bucket : module.storage.source_bucket' in databases
        or 'cs[0].config_type == "prepare" ? module.storage.target_bucket : module.storage.source_bucket' in databases
    )
    db = resources(root)[("aws_glue_catalog_database", "this")]
    assert db["for_each"] == "${local.catalog_databases}" and db["name"] == "${each.key}"
    expected = {json.loads(p.read_text())["target"]["database"] for p in CONFIGS.glob("*.json")}
    assert expected == {"erp", "sales"}


# --------------------------------------------------------------------------------------------
# Outputs = the LAKE_ENV=aws environment
# --------------------------------------------------------------------------------------------
def test_outputs_print_exactly_the_environment_variables_of_aws_mode():
    outputs = load_tf(TF / "output.tf")
    lake_env = locals_of(outputs)["lake_env"]
    assert set(lake_env) == LAKE_AWS_ENV_VARS
    assert lake_env["LAKE_ENV"] == "aws"
    assert lake_env["LAKE_STATE_MACHINE_ARN"] == "${module.orchestration.state_machine_arn}"
    assert lake_env["LAKE_PIPES_PREFIX"] == "${local.pipes_prefix}"
    assert locals_of(load_dir(TF))["pipes_prefix"] == "dagster-pipes/"
    out = named(outputs["output"])
    assert out["lake_env"]["value"] == "${local.lake_env}"
    exports = out["lake_env_exports"]["value"]
    assert "for k in sort(keys(local.lake_env))" in exports and "export ${k}=${local.lake_env[k]}" in exports


def test_landing_events_reach_an_encrypted_queue_with_a_dead_letter_queue_and_an_alarm():
    root = load_dir(TF)
    res = resources(root)
    rule = res[("aws_cloudwatch_event_rule", "landing_object_created")]
    pattern = rule["event_pattern"]
    assert '"Object Created"' in pattern or "Object Created" in pattern
    assert 'prefix = "landing/"' in pattern and "module.storage.raw_bucket" in pattern
    assert res[("aws_cloudwatch_event_target", "landing_queue")]["arn"] == "${aws_sqs_queue.landing_events.arn}"
    queue, dlq = res[("aws_sqs_queue", "landing_events")], res[("aws_sqs_queue", "landing_events_dlq")]
    assert queue["kms_master_key_id"] == dlq["kms_master_key_id"] == "${module.kms.key_arn}"
    assert "aws_sqs_queue.landing_events_dlq.arn" in queue["redrive_policy"]
    data = resources(root, "data")
    (send,) = data[("aws_iam_policy_document", "landing_events_queue")]["statement"]
    assert send["actions"] == ["sqs:SendMessage"]
    assert send["condition"][0]["values"] == ["${aws_cloudwatch_event_rule.landing_object_created.arn}"]
    alarm = res[("aws_cloudwatch_metric_alarm", "landing_events_dead_letters")]
    assert alarm["alarm_actions"] == ["${module.monitoring.alerts_topic_arn}"]
    dagster = {s["sid"]: s for s in data[("aws_iam_policy_document", "dagster")]["statement"]}
    assert dagster["ConsumeLandingEvents"]["resources"] == ["${aws_sqs_queue.landing_events.arn}"]
    # The raw bucket's module call is the one that sends its events to EventBridge.
    assert "eventbridge_notifications          = true" in (MODULES / "storage" / "main.tf").read_text()


# --------------------------------------------------------------------------------------------
# Storage, encryption, logging
# --------------------------------------------------------------------------------------------
def test_data_buckets_are_kms_encrypted_private_versioned_tls_only_and_logged():
    bucket = resources(load_dir(MODULES / "s3_bucket"))
    sse = bucket[("aws_s3_bucket_server_side_encryption_configuration", "this")]["rule"][0]
    default = sse["apply_server_side_encryption_by_default"][0]
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": "${var.kms_key_arn}"}
    pab = bucket[("aws_s3_bucket_public_access_block", "this")]
    assert all(
        pab[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert bucket[("aws_s3_bucket_versioning", "this")]["versioning_configuration"][0]["status"] == "Enabled"
    assert ("aws_s3_bucket_logging", "this") in bucket
    policy = resources(load_dir(MODULES / "s3_bucket"), "data")[("aws_iam_policy_document", "tls_only")]
    conditions = [s["condition"][0] for s in policy["statement"]]
    assert {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]} in conditions


def test_raw_bucket_tiers_to_ia_and_glacier_ir_and_short_lived_prefixes_expire():
    storage = load_dir(MODULES / "storage")
    calls = named(storage["module"])
    assert calls["raw"]["transition_to_ia_days"] == "${var.raw_transition_to_ia_days}"
    assert calls["raw"]["transition_to_glacier_ir_days"] == "${var.raw_transition_to_glacier_ir_days}"
    variables = named(storage["variable"])
    assert variables["raw_transition_to_ia_days"]["default"] == 30
    assert variables["raw_transition_to_glacier_ir_days"]["default"] == 90
    assert variables["pipes_expiration_days"]["default"] == 7
    assert calls["athena_results"]["expiration_days"] == "${var.athena_results_expiration_days}"
    assert calls["artifacts"]["prefix_expirations"]["${(var.pipes_prefix)}"] == "${var.pipes_expiration_days}"
    lifecycle = resources(load_dir(MODULES / "s3_bucket"))[("aws_s3_bucket_lifecycle_configuration", "this")]
    text = json.dumps(lifecycle)
    assert "STANDARD_IA" in text and "GLACIER_IR" in text


def test_log_groups_have_retention_and_kms():
    groups = resources(load_dir(TF)) | resources(load_dir(MODULES / "orchestration"))
    found = [body for (t, _), body in groups.items() if t == "aws_cloudwatch_log_group"]
    assert len(found) == 2
    for body in found:
        assert body["retention_in_days"].startswith("${var.")
        assert "kms" in body["kms_key_id"]


# --------------------------------------------------------------------------------------------
# IAM: no "*" actions, "*" resources only where a service forces them
# --------------------------------------------------------------------------------------------
# (module dir, policy document, statement sid) allowed to use Resource "*", and why.
STAR_RESOURCE_ALLOWED = {
    ("kms", "key", "AccountAdministration"): "key policy: * is the key itself",
    ("kms", "key", "CloudWatchLogs"): "key policy",
    ("kms", "key", "StepFunctionsLogDelivery"): "key policy",
    ("kms", "key", "AlarmAndEventPublishers"): "key policy",
    ("orchestration", "state_machine", "ExecutionLogDelivery"): "logs delivery APIs have no resource ARNs",
    ("orchestration", "state_machine", "XRayTracing"): "X-Ray has no resource ARNs",
    ("terraform", "glue_job", "JobMetrics"): "PutMetricData has no resource ARNs (namespace condition)",
    ("terraform", "glue_job", "DescribeVpcForGlueConnection"): "EC2 Describe* has no resource ARNs",
}


def _policy_statements():
    for directory in module_dirs():
        data = resources(load_dir(directory), "data")
        for (dtype, dname), body in data.items():
            if dtype != "aws_iam_policy_document":
                continue
            statements = list(body.get("statement", []))
            for dyn in body.get("dynamic", []):
                if "statement" in dyn:
                    statements.extend(dyn["statement"]["content"])
            for statement in statements:
                yield directory.name, dname, statement


def test_no_iam_statement_allows_all_actions_and_star_resources_are_justified():
    seen_allowed = set()
    for module, doc, statement in _policy_statements():
        if statement.get("effect", "Allow") == "Deny":
            continue
        actions = statement.get("actions", [])
        assert "*" not in actions, (module, doc, statement.get("sid"))
        for action in actions:
            if action.endswith(":*"):
                assert (module, doc, statement.get("sid")) == ("kms", "key", "AccountAdministration"), action
        if statement.get("resources") == ["*"]:
            key = (module, doc, statement.get("sid"))
            assert key in STAR_RESOURCE_ALLOWED, f'unexpected Resource "*" in {key}'
            seen_allowed.add(key)
    assert seen_allowed == set(STAR_RESOURCE_ALLOWED)


def test_dagster_policy_grants_what_the_deployment_needs():
    data = resources(load_dir(TF), "data")
    statements = {s["sid"]: s for s in data[("aws_iam_policy_document", "dagster")]["statement"]}
    actions = {a for s in statements.values() for a in s["actions"]}
    for needed in (
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "states:GetExecutionHistory",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "glue:GetTable",
        "glue:GetPartitions",
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ):
        assert needed in actions, needed
    assert statements["StartGlueRunnerExecutions"]["resources"] == ["${local.state_machine_arn}"]
    assert "/index/*" in json.dumps(statements["PartitionRegistry"]["resources"])
    assert statements["ReadLandingFiles"]["resources"] == ["${local.raw_arn}/landing/*"]
    assert statements["PipesExchange"]["resources"] == ["${local.artifacts_arn}/${local.pipes_prefix}*"]
    writer = data[("aws_iam_policy_document", "configs_writer")]["statement"]
    assert "dynamodb:PutItem" in writer[0]["actions"]


def test_glue_job_role_reads_raw_writes_lake_and_manages_catalog_tables_only():
    data = resources(load_dir(TF), "data")
    statements = {s["sid"]: s for s in data[("aws_iam_policy_document", "glue_job")]["statement"]}
    assert statements["ReadRawLanding"]["actions"] == ["s3:GetObject"]
    assert statements["WriteSourceAndTarget"]["resources"] == ["${local.source_arn}/*", "${local.target_arn}/*"]
    catalog = statements["CatalogTablesOfPlatformDatabases"]["actions"]
    assert {"glue:CreateTable", "glue:UpdateTable", "glue:GetTable"} <= set(catalog)
    assert not any("Partition" in action for action in catalog)
    assert not any(
        a.startswith("dynamodb:")
        and a != "dynamodb:DescribeTable"
        and "Get" not in a
        and a not in ("dynamodb:Query", "dynamodb:Scan")
        for a in statements["ReadConfigs"]["actions"]
    )
    assert "partitions" not in json.dumps(statements)


def test_optional_vpc_module_has_self_referencing_sg_gateway_endpoints_and_glue_connection():
    root = load_dir(TF)
    call = named(root["module"])["network"]
    assert call["count"] == "${var.enable_vpc ? 1 : 0}"
    net = resources(load_dir(MODULES / "network"))
    ingress = net[("aws_vpc_security_group_ingress_rule", "self")]
    assert ingress["referenced_security_group_id"] == "${aws_security_group.glue.id}"
    assert net[("aws_vpc_endpoint", "s3")]["vpc_endpoint_type"] == "Gateway"
    assert net[("aws_vpc_endpoint", "dynamodb")]["vpc_endpoint_type"] == "Gateway"
    assert ("aws_glue_connection", "this") in net
    job = resources(root)[("aws_glue_job", "this")]
    assert job["connections"] == "${var.enable_vpc ? [module.network[0].glue_connection_name] : []}"
