"""The Glue scripts as local Spark subprocesses: the embedded default."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import dagster as dg

from lake_platform import spark_gateway
from lake_platform.resources.glue_runner.base import (
    GlueJobError,
    GlueJobRunner,
    attach_reported_checks,
    script_for,
)
from lake_platform.settings import java_environment


class LocalGlueJobRunner(GlueJobRunner):
    """Runs the Glue scripts as local Spark subprocesses through Dagster Pipes.

    With ``shared_spark`` (the default; ``LAKE_SHARED_SPARK=0`` at run time turns it off) each
    job borrows the one warm local JVM of :mod:`lake_platform.spark_gateway` instead of
    starting its own; a job that fails returns it stopped.
    """

    scripts_dir: str
    bucket_root: str
    buckets: list[str]
    log_dir: str
    python_executable: str = sys.executable
    shared_spark: bool = True

    def _class_data_sharing(self, env: dict[str, str]) -> Path | None:
        """Point the job's JVM at a class-data-sharing archive, or have it write one.

        Loading Spark's classes dominates a short local job on a cold JVM; a CDS archive of
        them roughly halves start-up and first-action time. The first job dumps the archive
        to a private file that is renamed into place afterwards, so concurrent jobs never
        read a half-written archive. A JVM that cannot use the archive ignores it.
        """
        archive = Path(self.log_dir).parent / "spark-classes.jsa"
        if archive.exists():
            option = f"-XX:SharedArchiveFile={archive} -Xlog:cds=off"
            pending = None
        else:
            pending = archive.with_name(f".spark-classes-{os.getpid()}-{time.monotonic_ns()}.jsa")
            option = f"-XX:ArchiveClassesAtExit={pending} -Xlog:cds=off"
        env["LAKE_SPARK_JAVA_OPTIONS"] = f"{env.get('LAKE_SPARK_JAVA_OPTIONS', '')} {option}".strip()
        return pending

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(java_environment())
        env["LAKE_LOCAL_BUCKET_ROOT"] = self.bucket_root
        env["LAKE_LOCAL_BUCKETS"] = ",".join(self.buckets)
        # --extra-py-files puts the shared package on Glue's path; PYTHONPATH does it here.
        env["PYTHONPATH"] = os.pathsep.join([self.scripts_dir, env.get("PYTHONPATH", "")]).strip(os.pathsep)
        env["PYSPARK_PYTHON"] = self.python_executable
        return env

    def run_standalone(self, job_name: str, arguments: dict[str, str]) -> int:
        """Run a Glue script outside Dagster (``lake rebuild``); its output goes to the terminal.

        Without Pipes arguments the job reports through its stand-in reporter (JSON on stdout).
        """
        argv = [self.python_executable, str(script_for(job_name, Path(self.scripts_dir)))]
        for key, value in arguments.items():
            argv += [key, value]
        return subprocess.run(argv, env=self._environment(), check=False).returncode

    def run(
        self, context, *, job_name, arguments, timeout_minutes, worker_type="G.1X", number_of_workers=2, extras=None
    ):
        script = script_for(job_name, Path(self.scripts_dir))
        log_dir = Path(self.log_dir) / context.run.run_id
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{job_name}-{arguments.get('--table_name', 'job')}-{arguments.get('--batch_id', '')}.log"
        env = self._environment()
        shared = self.shared_spark and os.environ.get("LAKE_SHARED_SPARK", "1") != "0"
        try:
            with (
                dg.open_pipes_session(
                    context=context,
                    context_injector=dg.PipesTempFileContextInjector(),
                    message_reader=dg.PipesTempFileMessageReader(),
                    extras=extras,
                ) as session,
                (
                    spark_gateway.lease(env, self.python_executable)
                    if shared
                    else contextlib.nullcontext(spark_gateway.Lease(None, None))
                ) as jvm,
            ):
                argv = [self.python_executable, str(script)]
                for key, value in {**arguments, **session.get_bootstrap_cli_arguments()}.items():
                    argv += [key, value]
                if jvm.env:
                    env.update(jvm.env)
                    pending_archive = None
                else:
                    pending_archive = self._class_data_sharing(env)
                started = time.monotonic()
                context.log.info(
                    f"starting local Glue job {job_name} ({log_path})"
                    + (f" on the shared Spark JVM (its log: {jvm.folder}/gateway.log)" if jvm.env else "")
                )
                with open(log_path, "w", encoding="utf-8") as log:
                    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                    try:
                        returncode = proc.wait(timeout=timeout_minutes * 60)
                    except subprocess.TimeoutExpired:
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        raise GlueJobError(
                            f"Glue job {job_name} for {arguments.get('--config_name')}.{arguments.get('--table_name')}"
                            f" batch {arguments.get('--batch_id')} exceeded timeout_minutes={timeout_minutes}"
                        ) from None
                    except BaseException:
                        # Dagster run termination arrives as an exception here: stop the job too.
                        os.killpg(proc.pid, signal.SIGTERM)
                        proc.wait()
                        raise
                duration = time.monotonic() - started
                _wait_for_process_group(proc.pid)
                if pending_archive is not None and returncode == 0 and pending_archive.exists():
                    pending_archive.replace(pending_archive.with_name("spark-classes.jsa"))
                if returncode != 0:
                    raise GlueJobError(
                        f"Glue job {job_name} for {arguments.get('--config_name')}.{arguments.get('--table_name')}"
                        f" batch {arguments.get('--batch_id')} failed (exit {returncode}; full log: {log_path}):\n"
                        + _error_summary(log_path)
                    )
        except GlueJobError as exc:
            # The session has closed, so every message the job sent has been read.
            raise attach_reported_checks(exc, session) from exc.__cause__
        return dg.PipesClientCompletedInvocation(
            session,
            metadata={
                "glue_job_name": job_name,
                "glue_run_id": f"local-{context.run.run_id[:8]}-{proc.pid}",
                "glue_log": dg.MetadataValue.path(str(log_path)),
                "glue_duration_seconds": round(duration, 2),
            },
        )


def _group_alive(pgid: int) -> bool:
    """True while a process of group ``pgid`` is running (zombies left unreaped do not count)."""
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc_root.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _wait_for_process_group(pgid: int, timeout: float = 60.0) -> None:
    """Wait until every process of the job's group has exited.

    PySpark's JVM outlives the Python driver by a moment (it writes the class archive on exit);
    leaving it behind would let the next job race it for memory and files.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _error_summary(log_path: Path, lines: int = 25) -> str:
    """The Python traceback's tail and the last lines of the job log."""
    tail: deque[str] = deque(maxlen=lines)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("\tat ") and "WARN" not in line[:40]:
                tail.append(line.rstrip())
    return "\n".join(tail)
