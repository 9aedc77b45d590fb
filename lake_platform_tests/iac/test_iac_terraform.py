"""Static checks of terraform/ (no Terraform binary can run here).

They parse every file with python-hcl2 and cross-check the parts that `terraform validate`
and a plan would otherwise catch: references between files and modules, the Glue jobs
derived from configs/*.json, the DynamoDB contract, the environment-variable outputs and
the least-privilege rules for IAM.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
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
    "LAKE_GLUE_JOB_PREFIX",
    "LAKE_GLUE_DATABASE_PREFIX",
}

# Same order as local.worker_type_order in terraform/glue_jobs.tf.
GLUE_WORKER_TYPES = ["G.1X", "G.2X", "G.4X", "G.8X"]
GLUE_JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


# Loading helpers
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


def data_bucket_settings() -> dict[str, dict[str, Any]]:
    """modules/storage local.data_buckets as Terraform computes it: defaults merged per bucket."""
    storage = locals_of(load_dir(MODULES / "storage"))
    return {
        key: {**storage["data_bucket_defaults"], **bucket} for key, bucket in storage["data_bucket_settings"].items()
    }


def policy_statements(data: dict[tuple[str, str], Any], document: str) -> dict[str, dict[str, Any]]:
    """sid -> statement of a policy document, including those of its source_policy_documents."""
    body = data[("aws_iam_policy_document", document)]
    statements: dict[str, dict[str, Any]] = {}
    for source in body.get("source_policy_documents", []):
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([a-z0-9_]+)\.json\}", source)
        assert match, source
        statements.update(policy_statements(data, match.group(1)))
    statements.update({s["sid"]: s for s in body.get("statement", [])})
    return statements


def _code(path: Path) -> str:
    """File text without comment lines and inline # comments (good enough for our style)."""
    lines = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or stripped.startswith("//"):
            continue
        lines.append(re.sub(r"\s#\s.*$", "", line))
    return "\n".join(lines)


MOVED_BLOCK = re.compile(r"^moved\s*\{[^}]*\}", re.M)


def _live_code(path: Path) -> str:
    """_code without `moved` blocks, whose `from` addresses name what no longer exists."""
    return MOVED_BLOCK.sub("", _code(path))


# The configs -> Glue jobs contract, as a reusable check (mirrors local.glue_jobs)
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


# Parsing and structure
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


# References (what `terraform validate` would check)
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
        code = _live_code(path)
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
        for out in re.findall(rf"\bmodule\.{name}(?:\[[^\]]+\])?\.([a-z0-9_]+)", _live_code(path)):
            assert out in outputs, f"{path.name}: module.{name}.{out} is not an output of {target.name}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tfvars_set_only_declared_variables_and_with_the_seed_every_required_one(env):
    declared = named(load_dir(TF)["variable"])
    tfvars = load_tf(TF / "environments" / f"{env}.tfvars")
    assert set(tfvars) <= set(declared), set(tfvars) - set(declared)
    required = {v for v, spec in declared.items() if "default" not in spec}
    # The seed's CodeBuild project sets these as TF_VAR_* (CFN/seed.yaml), e.g. environment.
    seed_vars = set(re.findall(r"Name: TF_VAR_([a-z0-9_]+)", (REPO / "CFN" / "seed.yaml").read_text()))
    assert required <= set(tfvars) | seed_vars, required - set(tfvars) - seed_vars


# Configs -> DynamoDB items, Glue jobs and catalog databases
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
    assert {(a["name"], a["type"]) for a in partitions["attribute"]} == {("table_id", "S"), ("batch_id", "S")}
    # Nothing queries a secondary index; one would copy the large attributes on every write.
    assert "global_secondary_index" not in partitions


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
    assert job["name"] == "${local.glue_job_prefix}${each.key}", "the Glue job name must be the prefix + etl_job"
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
    assert args["--enable-metrics"] == "true"
    assert args["--job-language"] == "python"


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
    # Keyed by the catalog name: the environment's prefix + the config's database.
    assert '"${local.glue_database_prefix}${c.target.database}" => c...' in databases
    assert (
        'cs[0].config_type == \\"prepare\\" ? module.storage.target_bucket : module.storage.source_bucket' in databases
        or 'cs[0].config_type == "prepare" ? module.storage.target_bucket : module.storage.source_bucket' in databases
    )
    db = resources(root)[("aws_glue_catalog_database", "this")]
    assert db["for_each"] == "${local.catalog_databases}" and db["name"] == "${each.key}"
    expected = {json.loads(p.read_text())["target"]["database"] for p in CONFIGS.glob("*.json")}
    assert expected == {"erp", "sales"}


# Outputs = the LAKE_ENV=aws environment
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
    assert 'wildcard = "landing/*/_SUCCESS"' in pattern and "module.storage.raw_bucket" in pattern
    assert res[("aws_cloudwatch_event_target", "landing_queue")]["arn"] == "${aws_sqs_queue.landing_events.arn}"
    queue, dlq = res[("aws_sqs_queue", "landing_events")], res[("aws_sqs_queue", "landing_events_dlq")]
    assert queue["kms_master_key_id"] == dlq["kms_master_key_id"] == "${module.kms.key_arn}"
    assert "aws_sqs_queue.landing_events_dlq.arn" in queue["redrive_policy"]
    data = resources(root, "data")
    send = policy_statements(data, "landing_events_queue")["EventBridgeLandingRuleSends"]
    assert send["actions"] == ["sqs:SendMessage"]
    assert send["condition"][0]["values"] == ["${aws_cloudwatch_event_rule.landing_object_created.arn}"]
    alarm = res[("aws_cloudwatch_metric_alarm", "landing_events_dead_letters")]
    assert alarm["alarm_actions"] == ["${module.monitoring.alerts_topic_arn}"]
    dagster = {s["sid"]: s for s in data[("aws_iam_policy_document", "dagster")]["statement"]}
    assert dagster["ConsumeLandingEvents"]["resources"] == ["${aws_sqs_queue.landing_events.arn}"]
    # The raw bucket, and only it, sends its object events to EventBridge.
    buckets = data_bucket_settings()
    assert {key for key, b in buckets.items() if b["eventbridge_notifications"] is True} == {"raw"}
    call = named(load_dir(MODULES / "storage")["module"])["bucket"]
    assert call["eventbridge_notifications"] == "${each.value.eventbridge_notifications}"


# Storage, encryption, logging
def test_data_buckets_are_kms_encrypted_private_versioned_tls_only_and_logged():
    module = load_dir(MODULES / "s3_bucket")
    bucket = resources(module)
    sse = bucket[("aws_s3_bucket_server_side_encryption_configuration", "this")]["rule"][0]
    default = sse["apply_server_side_encryption_by_default"][0]
    assert default == {
        "sse_algorithm": "${var.sse_algorithm}",
        "kms_master_key_id": '${var.sse_algorithm == "aws:kms" ? var.kms_key_arn : null}',
    }
    assert sse["bucket_key_enabled"] == '${var.sse_algorithm == "aws:kms" ? true : null}'
    assert named(module["variable"])["sse_algorithm"]["default"] == "aws:kms"
    # The data buckets keep the SSE-KMS default and always log to the access-log bucket.
    call = named(load_dir(MODULES / "storage")["module"])["bucket"]
    assert "sse_algorithm" not in call and call["kms_key_arn"] == "${var.kms_key_arn}"
    assert call["access_log_bucket"] == "${module.access_logs.id}"
    pab = bucket[("aws_s3_bucket_public_access_block", "this")]
    assert all(
        pab[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert bucket[("aws_s3_bucket_versioning", "this")]["versioning_configuration"][0]["status"] == "Enabled"
    assert bucket[("aws_s3_bucket_logging", "this")]["count"] == "${var.access_log_bucket == null ? 0 : 1}"
    policy = resources(load_dir(MODULES / "s3_bucket"), "data")[("aws_iam_policy_document", "tls_only")]
    conditions = [s["condition"][0] for s in policy["statement"]]
    assert {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]} in conditions


def test_raw_bucket_tiers_to_ia_and_glacier_ir_and_short_lived_prefixes_expire():
    storage = load_dir(MODULES / "storage")
    buckets = data_bucket_settings()
    assert buckets["raw"]["transition_to_ia_days"] == "${var.raw_transition_to_ia_days}"
    assert buckets["raw"]["transition_to_glacier_ir_days"] == "${var.raw_transition_to_glacier_ir_days}"
    assert [k for k, b in buckets.items() if b["transition_to_ia_days"] or b["transition_to_glacier_ir_days"]] == [
        "raw"
    ]
    variables = named(storage["variable"])
    assert variables["raw_transition_to_ia_days"]["default"] == 30
    assert variables["raw_transition_to_glacier_ir_days"]["default"] == 90
    assert variables["pipes_expiration_days"]["default"] == 7
    assert buckets["athena_results"]["expiration_days"] == "${var.athena_results_expiration_days}"
    assert buckets["artifacts"]["prefix_expirations"]["${(var.pipes_prefix)}"] == "${var.pipes_expiration_days}"
    assert buckets["artifacts"]["prefix_expirations"]["${(var.glue_tmp_prefix)}"] == 2
    call = named(storage["module"])["bucket"]
    for field in ("transition_to_ia_days", "transition_to_glacier_ir_days", "expiration_days", "prefix_expirations"):
        assert call[field] == f"${{each.value.{field}}}", field
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


# IAM: no "*" actions, "*" resources only where a service forces them
# (module dir, policy document, statement sid) allowed to use Resource "*", and why.
STAR_RESOURCE_ALLOWED = {
    ("kms", "key", "AccountAdministration"): "key policy: * is the key itself",
    ("kms", "key", "CloudWatchLogs"): "key policy",
    ("kms", "key", "StepFunctionsLogDelivery"): "key policy",
    ("kms", "key", "AlarmAndEventPublishers"): "key policy",
    ("orchestration", "state_machine", "ExecutionLogDelivery"): "logs delivery APIs have no resource ARNs",
    ("orchestration", "state_machine", "XRayTracing"): "X-Ray has no resource ARNs",
    ("dagster", "execution", "EcrAuth"): "ecr:GetAuthorizationToken has no resource ARNs",
    ("dagster", "run_launcher", "ResourcelessReads"): "ECS/EC2/Secrets Manager reads without ARNs",
    ("dagster", "run_launcher", "EcsExecChannels"): "ssmmessages channels take no resource ARN (ECS Exec)",
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
    statements = policy_statements(data, "dagster")
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
    statements = policy_statements(data, "glue_job")
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
    endpoint = net[("aws_vpc_endpoint", "gateway")]
    assert endpoint["vpc_endpoint_type"] == "Gateway" and endpoint["for_each"] == "${local.gateway_endpoints}"
    assert endpoint["service_name"] == "com.amazonaws.${data.aws_region.current.name}.${each.key}"
    assert set(locals_of(load_dir(MODULES / "network"))["gateway_endpoints"]) == {"s3", "dynamodb"}
    egress = net[("aws_vpc_security_group_egress_rule", "gateway_endpoint")]
    assert egress["for_each"] == "${local.gateway_endpoints}"
    assert egress["prefix_list_id"] == "${aws_vpc_endpoint.gateway[each.key].prefix_list_id}"
    assert (egress["from_port"], egress["to_port"]) == (443, 443)
    assert ("aws_glue_connection", "this") in net
    job = resources(root)[("aws_glue_job", "this")]
    assert job["connections"] == "${var.enable_vpc ? [module.network[0].glue_connection_name] : []}"


# Storage: the data buckets are one for_each module call; the access-log bucket is an instance
# of the same s3_bucket module and gets the same TLS-only policy
# for_each key of the data bucket => bucket name suffix (outputs are named <key>_bucket[_arn]).
DATA_BUCKETS = {
    "raw": "raw",
    "source": "source",
    "target": "target",
    "artifacts": "artifacts",
    "athena_results": "athena-results",
}


def test_storage_data_buckets_come_from_one_for_each_module_call_with_their_own_settings():
    storage = load_dir(MODULES / "storage")
    calls = named(storage["module"])
    assert set(calls) == {"bucket", "access_logs"}
    assert {call["source"] for call in calls.values()} == {"../s3_bucket"}
    assert calls["bucket"]["for_each"] == "${local.data_buckets}"
    assert locals_of(storage)["data_buckets"] == (
        "${{for key, settings in local.data_bucket_settings : key => merge(local.data_bucket_defaults, settings)}}"
    )
    buckets = data_bucket_settings()
    assert list(buckets) == list(DATA_BUCKETS)
    for key, suffix in DATA_BUCKETS.items():
        assert buckets[key]["name"] == f"${{local.bucket_prefix}}-{suffix}"
    # Every field the call reads from each.value exists for every bucket (terraform would fail).
    fields = set(re.findall(r"each\.value\.([a-z0-9_]+)", json.dumps(calls["bucket"])))
    for key, bucket in buckets.items():
        assert fields <= set(bucket), (key, fields - set(bucket))
    # The differences between the buckets that the five separate calls had.
    assert {key: b["noncurrent_version_expiration_days"] for key, b in buckets.items()} == {
        "raw": "${var.raw_noncurrent_version_expiration_days}",
        "source": "${var.lake_noncurrent_version_expiration_days}",
        "target": "${var.lake_noncurrent_version_expiration_days}",
        "artifacts": 90,
        "athena_results": 1,
    }
    assert {key: b["tags"] for key, b in buckets.items()} == {
        "raw": {"layer": "raw"},
        "source": {"layer": "source"},
        "target": {"layer": "target"},
        "artifacts": {},
        "athena_results": {},
    }
    assert calls["bucket"]["tags"] == "${merge(var.tags, each.value.tags)}"
    assert [key for key, b in buckets.items() if b["expiration_days"]] == ["athena_results"]
    assert [key for key, b in buckets.items() if b["prefix_expirations"]] == ["artifacts"]
    # Outputs keep their names and read the instance of their key.
    outputs = named(storage["output"])
    for key in DATA_BUCKETS:
        assert outputs[f"{key}_bucket"]["value"] == f'${{module.bucket["{key}"].id}}'
        assert outputs[f"{key}_bucket_arn"]["value"] == f'${{module.bucket["{key}"].arn}}'
    assert outputs["access_logs_bucket"]["value"] == "${module.access_logs.id}"
    # No hand-written bucket resources are left in the storage module.
    assert [r for r in resources(storage) if r[0].startswith("aws_s3_")] == []


def test_access_log_bucket_is_an_s3_bucket_instance_with_sse_s3_log_delivery_and_the_tls_denies():
    call = named(load_dir(MODULES / "storage")["module"])["access_logs"]
    assert call["bucket_name"] == "${local.bucket_prefix}-access-logs"
    # S3 server access logs cannot be delivered to an SSE-KMS bucket, and it must not log itself.
    assert call["sse_algorithm"] == "AES256" and "kms_key_arn" not in call
    assert call["access_log_bucket"] is None
    (delivery,) = call["extra_policy_statements"]
    assert delivery.get("effect", "Allow") == "Allow"
    assert delivery["actions"] == ["s3:PutObject"] and delivery["key_patterns"] == ["s3/*"]
    assert delivery["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    assert delivery["conditions"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["${local.account_id}"]}
    ]
    # The lifecycle of the former hand-written bucket.
    assert call["lifecycle_rule_id"] == "expire-access-logs"
    assert (call["abort_incomplete_multipart_upload_days"], call["transition_to_ia_days"]) == (1, 30)
    assert call["noncurrent_version_expiration_days"] == 1
    assert call["expiration_days"] == "${var.access_log_retention_days}"

    module = load_dir(MODULES / "s3_bucket")
    res = resources(module)
    # Data buckets deliver their logs under s3/<bucket>/, inside the granted key pattern.
    logging = res[("aws_s3_bucket_logging", "this")]
    assert logging["target_prefix"] == "s3/${var.bucket_name}/"
    # count needs a value known at plan time: the data buckets pass module.access_logs.id, which
    # must therefore be the bucket argument (known before the bucket exists), not its computed id.
    assert logging["count"] == "${var.access_log_bucket == null ? 0 : 1}"
    assert named(module["output"])["id"]["value"] == "${aws_s3_bucket.this.bucket}"
    policy = resources(module, "data")[("aws_iam_policy_document", "tls_only")]
    assert res[("aws_s3_bucket_policy", "this")]["policy"] == "${data.aws_iam_policy_document.tls_only.json}"
    # The TLS denies are static statements: every instance, the access-log bucket included, has them.
    denies = {s["sid"]: s for s in policy["statement"]}
    assert set(denies) == {"DenyInsecureTransport", "DenyOutdatedTLS"}
    assert denies["DenyInsecureTransport"]["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    assert denies["DenyOutdatedTLS"]["condition"] == [
        {"test": "NumericLessThan", "variable": "s3:TlsVersion", "values": ["1.2"]}
    ]
    for deny in denies.values():
        assert deny["effect"] == "Deny" and deny["actions"] == ["s3:*"]
        assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert deny["resources"] == ["${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"]
    (extra,) = policy["dynamic"]
    assert extra["statement"]["for_each"] == "${var.extra_policy_statements}"
    content = extra["statement"]["content"][0]
    resources_of_extra = '${[for pattern in statement.value.key_patterns : "${aws_s3_bucket.this.arn}/${pattern}"]}'
    assert content["resources"] == resources_of_extra


def test_glue_and_dagster_policies_share_the_configs_and_key_statements():
    data = resources(load_dir(TF), "data")
    shared = data[("aws_iam_policy_document", "configs_and_key")]
    assert {s["sid"] for s in shared["statement"]} == {"ReadConfigs", "UsePlatformKey"}
    for document in ("glue_job", "dagster"):
        body = data[("aws_iam_policy_document", document)]
        assert body["source_policy_documents"] == ["${data.aws_iam_policy_document.configs_and_key.json}"]
        assert not {s["sid"] for s in body["statement"]} & {"ReadConfigs", "UsePlatformKey"}, document


# moved blocks: every address the for_each refactoring renamed keeps its state
EXPECTED_MOVES = {
    "storage": {
        *((f"module.{key}", f'module.bucket["{key}"]') for key in DATA_BUCKETS),
        *(
            (f"{rtype}.logs", f"module.access_logs.{rtype}.this")
            for rtype in (
                "aws_s3_bucket",
                "aws_s3_bucket_ownership_controls",
                "aws_s3_bucket_public_access_block",
                "aws_s3_bucket_server_side_encryption_configuration",
                "aws_s3_bucket_versioning",
                "aws_s3_bucket_lifecycle_configuration",
                "aws_s3_bucket_policy",
            )
        ),
    },
    "s3_bucket": {("aws_s3_bucket_logging.this", "aws_s3_bucket_logging.this[0]")},
    "orchestration": {
        ("aws_cloudwatch_metric_alarm.executions_timed_out", 'aws_cloudwatch_metric_alarm.executions["timed-out"]'),
    },
    "network": {
        ("aws_vpc_endpoint.s3", 'aws_vpc_endpoint.gateway["s3"]'),
        ("aws_vpc_endpoint.dynamodb", 'aws_vpc_endpoint.gateway["dynamodb"]'),
        ("aws_vpc_security_group_egress_rule.s3", 'aws_vpc_security_group_egress_rule.gateway_endpoint["s3"]'),
        (
            "aws_vpc_security_group_egress_rule.dynamodb",
            'aws_vpc_security_group_egress_rule.gateway_endpoint["dynamodb"]',
        ),
    },
}

ADDRESS_STEP = re.compile(
    r"(?:module\.(?P<module>[a-z0-9_]+)|(?P<type>aws_[a-z0-9_]+)\.(?P<name>[a-z0-9_]+))(?:\[(?P<key>[^\]]+)\])?(?:\.|$)"
)


def moves(directory: Path) -> set[tuple[str, str]]:
    return {(m["from"][2:-1], m["to"][2:-1]) for m in load_dir(directory).get("moved", [])}


def _for_each_keys(directory: Path, for_each: Any) -> set[str]:
    """Keys of a for_each that is a literal map, a local map, or a for-expression over a local map."""
    if isinstance(for_each, dict):
        return set(for_each)
    match = re.fullmatch(r"\$\{local\.([a-z0-9_]+)\}", for_each)
    assert match, f"cannot resolve for_each {for_each}"
    value = locals_of(load_dir(directory))[match.group(1)]
    if isinstance(value, dict):
        return set(value)
    source = re.match(r"\$\{\{for \w+, \w+ in (local\.[a-z0-9_]+) :", value)
    assert source, f"cannot resolve local {match.group(1)}"
    return _for_each_keys(directory, f"${{{source.group(1)}}}")


def address_exists(directory: Path, address: str) -> bool:
    """Whether a (module-relative) resource or module instance address exists in the configuration."""
    pos = 0
    while pos < len(address):
        step = ADDRESS_STEP.match(address, pos)
        assert step, f"cannot parse address {address}"
        module = load_dir(directory)
        if step["module"]:
            body = named(module.get("module", [])).get(step["module"])
        else:
            body = resources(module).get((step["type"], step["name"]))
        if body is None:
            return False
        key = step["key"]
        if key is None and ("count" in body or "for_each" in body):
            return False
        if key is not None:
            if "count" in body:
                if not key.isdigit():
                    return False
            elif "for_each" not in body or json.loads(key) not in _for_each_keys(directory, body["for_each"]):
                return False
        if step["module"]:
            directory = (directory / body["source"]).resolve()
        pos = step.end()
    return True


def test_moved_blocks_cover_every_renamed_address():
    found = {directory.name: moves(directory) for directory in module_dirs() if moves(directory)}
    assert found == EXPECTED_MOVES


@pytest.mark.parametrize("directory", [d for d in module_dirs() if d.name in EXPECTED_MOVES], ids=lambda p: p.name)
def test_moved_blocks_lead_from_addresses_that_are_gone_to_addresses_that_exist(directory: Path):
    for source, target in moves(directory):
        assert not address_exists(directory, source), f"{source} still exists: the move would clash"
        assert address_exists(directory, target), f"{target} does not exist: the state would be dropped"


def test_address_resolution_sees_for_each_keys_and_child_modules():
    storage = MODULES / "storage"
    assert address_exists(storage, 'module.bucket["raw"].aws_s3_bucket.this')
    assert address_exists(storage, 'module.bucket["raw"].aws_s3_bucket_logging.this[0]')
    assert not address_exists(storage, 'module.bucket["logs"]')
    assert not address_exists(storage, "module.bucket")
    assert not address_exists(storage, "module.access_logs.aws_s3_bucket.logs")


# Variable validations, checked by evaluating their conditions: a small evaluator for the
# subset of HCL they use. Like Terraform (>= 1.6, without short-circuit), && and || evaluate
# both sides, and null in an operator or a function is an error that only can()/try() catch.
class HclError(Exception):
    """An expression Terraform could not evaluate (can() turns it into false)."""


HCL_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)'
    r"|(?P<op>&&|\|\||==|!=|>=|<=|[-!<>?:()\[\],.]))"
)
HCL_BINARY_LEVELS = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">=")]


def _hcl_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise HclError(f"a bool is required, not {value!r}")
    return value


def _hcl_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HclError(f"a number is required, not {value!r}")
    return value


def _hcl_regex(pattern: str, text: str) -> str:
    # RE2's $ is the end of the text; Python's also matches before a final newline.
    match = re.search(re.sub(r"(?<!\\)\$", r"\\Z", pattern), text)
    if match is None:
        raise HclError(f"{pattern} does not match {text!r}")
    return match.group(0)


def _hcl_ipv4_network(cidr: str) -> ipaddress.IPv4Network:
    network = ipaddress.ip_network(cidr, strict=False) if "/" in cidr else None
    if not isinstance(network, ipaddress.IPv4Network):
        raise HclError(f"{cidr!r} is not an IPv4 CIDR block")
    return network


HCL_FUNCTIONS = {
    "regex": _hcl_regex,
    "contains": lambda items, value: value in items,
    "alltrue": lambda items: all([_hcl_bool(item) for item in items]),
    "length": len,
    "floor": lambda n: math.floor(_hcl_number(n)),
    "max": lambda *numbers: max(_hcl_number(n) for n in numbers),
    "lower": str.lower,
    "startswith": str.startswith,
    "strcontains": lambda text, part: part in text,
    "tonumber": float,
    "jsondecode": json.loads,
    "distinct": lambda items: list(dict.fromkeys(items)),
    "coalesce": lambda *values: next(v for v in values if v is not None),
    "cidrnetmask": lambda cidr: str(_hcl_ipv4_network(cidr).netmask),
    "cidrsubnet": lambda cidr, bits, num: str(list(_hcl_ipv4_network(cidr).subnets(prefixlen_diff=bits))[num]),
}


class HclCondition:
    """Parses one condition into a function of {"var": {...}} (plus loop variables)."""

    def __init__(self, text: str):
        text = text.strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1]
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            match = HCL_TOKEN.match(text, pos)
            assert match and match.end() > pos, f"cannot tokenise {text[pos:]!r}"
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        self.pos = 0
        self.run = self.expression()
        assert self.pos == len(self.tokens), f"unparsed tail {self.tokens[self.pos :]}"

    def __call__(self, variables: dict[str, Any]) -> Any:
        return self.run({"var": variables})

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _accept(self, value: str) -> bool:
        if self._peek() == value:
            self.pos += 1
            return True
        return False

    def _expect(self, value: str) -> None:
        assert self._accept(value), f"expected {value!r} at {self.tokens[self.pos :]}"

    def expression(self):
        condition = self.binary(0)
        if not self._accept("?"):
            return condition
        then = self.expression()
        self._expect(":")
        otherwise = self.expression()
        return lambda env: (then if _hcl_bool(condition(env)) else otherwise)(env)

    def binary(self, level: int):
        if level == len(HCL_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self._peek() in HCL_BINARY_LEVELS[level] and self.tokens[self.pos][0] == "op":
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = self._binary_op(op, left, self.binary(level + 1))
        return left

    @staticmethod
    def _binary_op(op: str, left, right):
        def run(env):
            a, b = left(env), right(env)  # both sides, always
            if op == "||":
                return _hcl_bool(a) | _hcl_bool(b)
            if op == "&&":
                return _hcl_bool(a) & _hcl_bool(b)
            if op == "==":
                return a == b
            if op == "!=":
                return a != b
            a, b = _hcl_number(a), _hcl_number(b)
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

        return run

    def unary(self):
        if self._accept("!"):
            inner = self.unary()
            return lambda env: not _hcl_bool(inner(env))
        if self._accept("-"):
            inner = self.unary()
            return lambda env: -_hcl_number(inner(env))
        return self.postfix()

    def postfix(self):
        run = self.primary()
        while True:
            if self._accept("."):
                run = self._attribute(run, self.tokens[self.pos][1])
                self.pos += 1
            elif self._accept("["):
                index = self.expression()
                self._expect("]")
                run = (lambda obj, idx: lambda env: obj(env)[idx(env)])(run, index)
            else:
                return run

    @staticmethod
    def _attribute(obj, name: str):
        def run(env):
            value = obj(env)
            # A missing attribute is an error in Terraform too (try() and can() catch it).
            if not isinstance(value, dict) or name not in value:
                raise HclError(f"cannot read .{name} of {value!r}")
            return value[name]

        return run

    def primary(self):
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            assert "${" not in value, "templates are not supported"
            text = json.loads(value)
            return lambda env: text
        if kind == "num":
            number = float(value) if "." in value else int(value)
            return lambda env: number
        if value == "(":
            inner = self.expression()
            self._expect(")")
            return inner
        if value == "[":
            return self.list_or_for()
        assert kind == "name", f"unexpected {value!r}"
        constants = {"true": True, "false": False, "null": None}
        if value in constants:
            return lambda env: constants[value]
        if self._accept("("):
            return self.call(value)
        return lambda env: env[value]

    def list_or_for(self):
        if self._accept("for"):
            names = [self.tokens[self.pos][1]]
            self.pos += 1
            if self._accept(","):
                names.append(self.tokens[self.pos][1])
                self.pos += 1
            self._expect("in")
            collection = self.expression()
            self._expect(":")
            body = self.expression()
            self._expect("]")

            def run(env):
                items = collection(env)
                pairs = items.items() if isinstance(items, dict) else enumerate(items)
                out = []
                for key, item in pairs:
                    scope = dict(env, **({names[0]: key, names[1]: item} if len(names) == 2 else {names[0]: item}))
                    out.append(body(scope))
                return out

            return run
        elements = []
        while not self._accept("]"):
            elements.append(self.expression())
            self._accept(",")
        return lambda env: [element(env) for element in elements]

    def call(self, name: str):
        args = []
        while not self._accept(")"):
            args.append(self.expression())
            self._accept(",")
        if name in ("can", "try"):

            def run(env):
                for arg in args:
                    try:
                        value = arg(env)
                    except HclError:
                        continue
                    return True if name == "can" else value
                if name == "can":
                    return False
                raise HclError("try: no argument could be evaluated")

            return run
        function = HCL_FUNCTIONS[name]

        def run(env):
            values = [arg(env) for arg in args]
            if name != "coalesce" and any(v is None for v in values):
                raise HclError(f"{name}: null argument")
            try:
                return function(*values)
            except (TypeError, ValueError, IndexError, StopIteration) as exc:
                raise HclError(f"{name}: {exc}") from exc

        return run


def validations(directory: Path, name: str) -> list[HclCondition]:
    body = named(load_dir(directory)["variable"])[name]
    return [HclCondition(v["condition"]) for v in body.get("validation", [])]


def passes(directory: Path, name: str, value: Any) -> bool:
    """Whether `value` passes every validation of the variable; an evaluation error fails the test."""
    return all(_hcl_bool(check({name: value})) for check in validations(directory, name))


def test_condition_evaluator_follows_terraform_semantics():
    def run(text, **variables):
        return HclCondition(text)(variables)

    assert run('can(regex("^a+$", var.x))', x="aaa") is True
    assert run('can(regex("^a+$", var.x))', x="aaa\n") is False
    assert run("var.x == null ? true : var.x >= 3", x=None) is True
    with pytest.raises(HclError):  # no short-circuit: null >= 3 is evaluated
        run("var.x == null || var.x >= 3", x=None)
    assert run('alltrue([for k, v in var.m : length(k) <= 2 && v == "b"])', m={"a": "b", "cc": "b"}) is True
    assert run("try(cidrsubnet(var.c, 0, 0) == var.c, false)", c="10.0.0.1/8") is False
    assert run("!contains([1, 3], var.x) && floor(var.x) == var.x", x=2) is True


# Values each validated variable must accept and reject, by variable name or (module dir, name).
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_DELIVERY = {
    "sid": "S3ServerAccessLogsDelivery",
    "effect": "Allow",
    "actions": ["s3:PutObject"],
    "key_patterns": ["s3/*"],
    "principals": [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}],
    "conditions": [],
}
CONFIG_ITEM = {"config_type": "spark_ingest", "etl_job": "files-spark-ingest-default", "body": '{"config_name": "erp"}'}
WHOLE_DAYS = ([1, 7, 365], [0, -1, 1.5])
LOG_LEVELS = (["ALL", "ERROR", "FATAL", "OFF"], ["error", "DEBUG", ""])
CUTOFF = ([10485760, 10737418240], [10485759, 0, 10485760.5])
ROUTE_TABLES = ([[], ["rtb-0123abcd", "rtb-0123456789abcdef0"]], [["rtb-xyz"], ["subnet-0123abcd"]])
CIDRS = ([[], ["10.20.0.0/16", "0.0.0.0/0"]], [["10.20.0.1/16"], ["10.20.0.0"], ["fd00::/8"], ["10.300.0.0/16"]])
PREFIXES = (["dagster-pipes/", "glue/tmp/"], ["dagster-pipes", "/glue/tmp/", "glue//", "my dir/", ""])
JOBS = ([["files-spark-ingest-default", "dapfw-prepare-default"]], [[], ["bad name"], ["j" * 256]])
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
OIDC = {"issuer": "i", "client_id": "c"} | {f"{e}_endpoint": e for e in ("authorization", "token", "user_info")}
COGNITO = {"user_pool_arn": "p", "user_pool_client_id": "c", "user_pool_domain": "d"}
UI = {"public": False, "certificate_arn": None, "allowed_cidrs": [], "oidc": None, "cognito": None}
DAGSTER_UI = (
    [UI, dict(UI, allowed_cidrs=["10.0.0.0/8"]), dict(UI, public=True, certificate_arn=CERT, oidc=OIDC)]
    + [dict(UI, public=True, certificate_arn=CERT, cognito=COGNITO)],
    [dict(UI, public=True), dict(UI, public=True, certificate_arn=CERT), dict(UI, public=True, oidc=OIDC)],
)
FARGATE_SIZES = (
    [{"cpu": 256, "memory": 512}, {"cpu": 1024, "memory": 8192}],
    [{"cpu": 300, "memory": 1024}, {"cpu": 512, "memory": 256}],
)
VALIDATION_EXAMPLES: dict[Any, tuple[list[Any], list[Any]]] = {
    "project": (["lake-platform", "ab"], ["Lake", "1lake", "a", "lake_platform", "l" * 22]),
    "environment": (["dev", "prod2"], ["Dev", "d", "dev-1", "e" * 11]),
    "name_prefix": (["lake-platform-dev", "ab"], ["Lake-dev", "1lake", "a", "lake_dev", "l" * 33]),
    ("storage", "name_prefix"): (
        ["lake-platform-dev", "ab"],
        ["xn--lake", "sthree-lake", "Lake-dev", "1lake", "a", "lake_dev", "l" * 33],
    ),
    "aws_region": (["eu-west-1", "us-gov-west-1", "ap-southeast-3"], ["eu-west", "EU-WEST-1", "euwest1", ""]),
    "tags": ([{}, {"owner": "data-platform"}], [{"aws:created-by": "x"}, {"k" * 129: "v"}, {"k": "v" * 257}]),
    "permissions_boundary_arn": (
        [None, "arn:aws:iam::123456789012:policy/lake-platform-dev-boundary"],
        ["lake-platform-dev-boundary", "arn:aws:iam::123456789012:role/x", "arn:aws:iam::1234:policy/x", ""],
    ),
    "catalog_encryption_owner": ([None, "prod", "dev"], ["Prod", "p", "prod-1", ""]),
    "kms_key_arn": (
        [KMS_KEY, "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd"],
        ["alias/lake", "arn:aws:kms:eu-west-1:1234:key/abc", KMS_KEY.replace(":key/", ":alias/"), ""],
    ),
    ("s3_bucket", "kms_key_arn"): ([KMS_KEY, None], ["alias/lake", ""]),
    "raw_transition_to_ia_days": ([30, 365], [29, 0, 30.5]),
    "raw_transition_to_glacier_ir_days": ([31, 90], [30, 0, 90.5]),
    "raw_noncurrent_version_expiration_days": WHOLE_DAYS,
    "lake_noncurrent_version_expiration_days": WHOLE_DAYS,
    "noncurrent_version_expiration_days": WHOLE_DAYS,
    "athena_results_expiration_days": WHOLE_DAYS,
    "pipes_expiration_days": WHOLE_DAYS,
    "abort_incomplete_multipart_upload_days": WHOLE_DAYS,
    "glue_max_concurrent_runs": WHOLE_DAYS,
    "access_log_retention_days": ([31, 365], [30, 1, 365.5]),
    "transition_to_ia_days": ([None, 30], [29, 30.5]),
    "transition_to_glacier_ir_days": ([None, 0, 90], [-1, 1.5]),
    "expiration_days": ([None, 1, 365], [0, 1.5]),
    "pipes_prefix": PREFIXES,
    "glue_tmp_prefix": PREFIXES,
    "glue_version": (["3.0", "4.0", "5.0"], ["2.0", "0.9", "5", "latest", "5.0.1"]),
    "glue_wheels_zip": (["../dist/glue-wheels.zip", "/tmp/w.zip"], ["../dist/glue-wheels", "pyiceberg.whl", ""]),
    "glue_execution_class": (["STANDARD", "FLEX"], ["flex", "SPOT"]),
    "log_retention_days": ([1, 90, 3653], [0, 2, 100, 4000]),
    "sfn_log_level": LOG_LEVELS,
    "log_level": LOG_LEVELS,
    "alert_emails": ([[], ["data-platform-alerts@example.com"]], [["not-an-email"], ["a@b"], ["a b@example.com"]]),
    "athena_bytes_scanned_cutoff_per_query": CUTOFF,
    "bytes_scanned_cutoff_per_query": CUTOFF,
    "snapshot_retention_days": ([7, 1, 30], [0, -1, 1.5]),
    "orphan_file_retention_days": ([3, 7], [2, 1, 0, 3.5]),
    "analyst_trusted_principals": (
        [[], ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/analysts"]],
        [["123456789012"], ["arn:aws:iam::1234:root"], ["arn:aws:s3:::bucket"]],
    ),
    "catalog_encryption_key_arn": (
        [None, "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        ["alias/lake", "arn:aws:kms:eu-west-1:123456789012:alias/lake", "1234abcd"],
    ),
    "dagster_role_name": (
        [None, "dagster-runtime", "svc+dagster@team"],
        ["arn:aws:iam::123456789012:role/x", "r" * 65],
    ),
    ("terraform", "vpc_id"): ([None, "vpc-0123abcd", "vpc-0123456789abcdef0"], ["vpc-0123", "subnet-0123abcd", ""]),
    ("network", "vpc_id"): (["vpc-0123abcd"], [None, "vpc-0123", "vpc-0123ABCD"]),
    "private_subnet_ids": ([[], ["subnet-0123abcd", "subnet-0123456789abcdef0"]], [["subnet-xyz"], ["vpc-0123abcd"]]),
    "subnet_ids": ([["subnet-0123abcd"]], [[], ["subnet-xyz"]]),
    "private_route_table_ids": ROUTE_TABLES,
    "route_table_ids": ROUTE_TABLES,
    "on_premise_cidrs": CIDRS,
    "https_egress_cidrs": CIDRS,
    "jdbc_port": ([1, 5432, 65535], [0, 65536, 5432.5]),
    "jdbc_url": (
        [None, "jdbc:postgresql://db.example.com:5432/erp", "jdbc:oracle:thin:@//host:1521/svc"],
        ["postgresql://db:5432/erp", "jdbc:", ""],
    ),
    "jdbc_secret_arn": (
        [None, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lake/jdbc-AbCdEf"],
        ["lake/jdbc", "arn:aws:s3:::bucket"],
    ),
    "jdbc_secret_id": (
        [None, "lake/jdbc", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lake/jdbc-AbCdEf"],
        ["lake jdbc", "arn:aws:s3:::bucket", ""],
    ),
    "landing_events_retention_seconds": ([60, 345600, 1209600], [59, 1209601, 60.5]),
    "landing_events_max_receives": ([1, 5, 1000], [0, 1001, 2.5]),
    "bucket_name": (
        ["lake-platform-dev-123456789012-raw", "a.b.c"],
        ["Lake", "ab", "-lake", "lake-", "a..b", "192.168.1.1", "xn--lake", "lake-s3alias", "lake--x-s3", "l" * 64],
    ),
    "access_log_bucket": ([None, "lake-platform-dev-123456789012-access-logs"], ["Lake_Logs", "ab"]),
    "results_bucket": (["lake-platform-dev-123456789012-athena-results"], ["Lake", "s3://bucket"]),
    "sse_algorithm": (["aws:kms", "AES256"], ["aws:kms:dsse", "aes256"]),
    "lifecycle_rule_id": (["bucket-wide", "expire-access-logs"], ["", "has space", "r" * 256]),
    "prefix_expirations": (
        [{}, {"dagster-pipes/": 7, "glue/tmp/": 2}],
        [{"dagster-pipes": 7}, {"/tmp/": 2}, {"a//": 1}, {"tmp/": 0}, {"tmp/": 1.5}],
    ),
    "extra_policy_statements": (
        [[], [LOG_DELIVERY]],
        [
            [dict(LOG_DELIVERY, sid="DenyInsecureTransport", effect="Deny")],
            [dict(LOG_DELIVERY, effect="allow")],
            [dict(LOG_DELIVERY, actions=["s3:*"])],
            [dict(LOG_DELIVERY, principals=[])],
            [dict(LOG_DELIVERY, sid="has space")],
            [LOG_DELIVERY, LOG_DELIVERY],
        ],
    ),
    "glue_job_names": JOBS,
    "configs": (
        [{}, {"erp": CONFIG_ITEM}],
        [
            {"erp": dict(CONFIG_ITEM, config_type="ingest")},
            {"erp": dict(CONFIG_ITEM, etl_job="bad job")},
            {"erp": dict(CONFIG_ITEM, body="{not json")},
            {"bad name": CONFIG_ITEM},
        ],
    ),
    "deletion_window_in_days": ([7, 30], [6, 31, 7.5]),
    # modules/dagster and the root's dagster_* variables (issue 20).
    "dagster_image_tag": (["unset", "caa3c38", "v1.2.3"], ["latest", "", "bad tag", "-x"]),
    "image_tag": (["caa3c38", "0123456789abcdef0123456789abcdef01234567"], ["latest", "", "a/b"]),
    "dagster_db_instance_class": (["db.t4g.micro", "db.m7g.large"], ["t4g.micro", "db.t4g", ""]),
    "db_instance_class": (["db.t4g.micro"], ["m7g.large", ""]),
    "dagster_public_subnet_ids": ([[], ["subnet-0123abcd"]], [["subnet-xyz"]]),
    "public_subnet_ids": ([[], ["subnet-0123abcd"]], [["vpc-0123abcd"]]),
    "dagster_ui": DAGSTER_UI,
    "dagster_ui_oidc_client_secret": ([None, "s3cr3t-value"], ["", "has space"]),
    "ui_oidc_client_secret": ([None, "s3cr3t-value"], ["", "has space"]),
    "ui_access_logs_bucket": ([None, "lake-platform-dev-123456789012-access-logs"], ["Lake", ""]),
    ("dagster", "ui"): DAGSTER_UI,
    "alerts_topic_arn": (["arn:aws:sns:eu-west-1:123456789012:lake-platform-dev-alerts"], ["alerts", ""]),
    "dagster_policy_arn": (["arn:aws:iam::123456789012:policy/lake-platform-dev-dagster"], ["dagster", None]),
    "extra_task_policy_arns": ([{}, {"w": "arn:aws:iam::123456789012:policy/x"}], [{"w": "x"}]),
    ("dagster", "vpc_id"): (["vpc-0123abcd"], [None, "vpc-0123", ""]),
    ("dagster", "private_subnet_ids"): (
        [["subnet-0123abcd", "subnet-0123456789abcdef0"]],
        [[], ["subnet-0123abcd"], ["subnet-xyz", "subnet-0123abcd"]],
    ),
    "lake_environment": ([{}, {"LAKE_RAW_BUCKET": "b"}], [{"DAGSTER_PG_PASSWORD": "x"}, {"lake_raw": "b"}]),
    "compute_logs_bucket": (["lake-platform-dev-123456789012-artifacts"], ["Lake", "s3://b"]),
    "compute_logs_bucket_arn": (["arn:aws:s3:::lake-platform-dev-123456789012-artifacts"], ["bucket", ""]),
    "compute_logs_prefix": (["dagster-compute-logs/"], ["dagster-compute-logs", "/x/", ""]),
    "webserver": FARGATE_SIZES,
    "daemon": FARGATE_SIZES,
    "code": FARGATE_SIZES,
    "webserver_count": ([1, 4], [0, 5, 1.5]),
    "compute_logs_expiration_days": WHOLE_DAYS,
    "dagster_compute_logs_expiration_days": WHOLE_DAYS,
    "db_engine_version": (["16", "17"], ["16.4", "9", ""]),
    "db_allocated_storage_gb": ([20, 100], [19, 20000]),
    "db_backup_retention_days": ([7, 35], [0, 6, 36]),
    "ecr_keep_tagged_images": ([2, 30], [1, 1001]),
    "ecr_untagged_expiry_days": ([1, 3], [0, 366]),
    "sns_topic_arn": (
        ["arn:aws:sns:eu-west-1:123456789012:lake-platform-dev-alerts"],
        ["lake-platform-dev-alerts", "arn:aws:sqs:eu-west-1:123456789012:queue"],
    ),
}


def _variables() -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (directory, name, body)
        for directory in module_dirs()
        for name, body in named(load_dir(directory).get("variable", [])).items()
    ]


VALIDATED = [(d, n) for d, n, body in _variables() if body.get("validation")]


def test_every_variable_that_is_not_a_bool_has_a_validation_whose_message_names_it():
    missing = []
    for directory, name, body in _variables():
        checks = body.get("validation", [])
        if body["type"] == "bool":
            assert not checks, f"{directory.name}: {name}"
            continue
        if not checks:
            missing.append(f"{directory.name}: {name}")
        for check in checks:
            assert str(body.get("description", "")).strip(), f"{directory.name}: {name}"
            assert check["error_message"].startswith(f"{name} must "), f"{directory.name}: {name}"
    assert missing == []
    assert len(VALIDATED) > 80


@pytest.mark.parametrize("directory,name", VALIDATED, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_validation_accepts_the_default_and_good_values_and_rejects_bad_ones(directory: Path, name: str):
    examples = VALIDATION_EXAMPLES.get((directory.name, name)) or VALIDATION_EXAMPLES.get(name)
    assert examples, f"add good and bad examples for {directory.name}: {name} to VALIDATION_EXAMPLES"
    good, bad = examples
    body = named(load_dir(directory)["variable"])[name]
    if "default" in body:
        assert passes(directory, name, body["default"]), f"default {body['default']!r}"
    for value in good:
        assert passes(directory, name, value), f"{name} = {value!r} should pass"
    for value in bad:
        assert not passes(directory, name, value), f"{name} = {value!r} should fail"


def test_dev_tfvars_and_literal_module_inputs_pass_the_validations():
    for name, value in load_tf(TF / "environments" / "dev.tfvars").items():
        assert passes(TF, name, value), f"dev.tfvars: {name} = {value!r}"

    def literal(value: Any) -> bool:
        if isinstance(value, dict):
            return all(literal(v) for v in value.values())
        if isinstance(value, list):
            return all(literal(v) for v in value)
        return not (isinstance(value, str) and "${" in value)

    checked = 0
    for caller, call_name, body in _module_calls():
        callee = (caller / body["source"]).resolve()
        declared = named(load_dir(callee)["variable"])
        for name, value in body.items():
            if name in declared and declared[name].get("validation") and literal(value):
                assert passes(callee, name, value), f"module {call_name}: {name} = {value!r}"
                checked += 1
    assert checked >= 5


def _preconditions(resource_type: str) -> list[HclCondition]:
    body = resources(load_dir(MODULES / "s3_bucket"))[(resource_type, "this")]
    return [HclCondition(p["condition"]) for p in body["lifecycle"][0]["precondition"]]


@pytest.mark.parametrize(
    "ia,glacier,expiration,ok",
    [
        (30, 90, None, True),  # raw bucket defaults
        (30, None, 31, True),  # access logs, shortest retention
        (None, None, 1, True),  # athena results
        (90, 30, None, False),
        (30, None, 30, False),
        (30, 90, 60, False),
    ],
)
def test_s3_bucket_lifecycle_preconditions_keep_transitions_and_expiration_in_order(ia, glacier, expiration, ok):
    variables = {"transition_to_ia_days": ia, "transition_to_glacier_ir_days": glacier, "expiration_days": expiration}
    results = [check(variables) for check in _preconditions("aws_s3_bucket_lifecycle_configuration")]
    assert all(results) is ok, results


@pytest.mark.parametrize(
    "algorithm,key,ok",
    [("aws:kms", KMS_KEY, True), ("AES256", None, True), ("aws:kms", None, False), ("AES256", KMS_KEY, False)],
)
def test_s3_bucket_encryption_precondition_pairs_the_algorithm_with_the_key(algorithm, key, ok):
    (check,) = _preconditions("aws_s3_bucket_server_side_encryption_configuration")
    assert check({"sse_algorithm": algorithm, "kms_key_arn": key}) is ok
