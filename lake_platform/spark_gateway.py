"""One warm local Spark JVM that the local Glue runner lends to one job at a time.

A local Glue job used to start its own JVM: about 4 s to start Spark, and its first batch ran
on cold, interpreted code (a 10 MB ingest took 16 s cold and 4.5 s on a warm JVM). The jobs
of a ``lake process`` or of the daemon's runs now borrow one long-lived JVM instead:

- A **holder** process (``python -m lake_platform.spark_gateway``) starts the JVM through
  PySpark's own ``launch_gateway``, with the JVM settings every local job uses, and writes the
  Py4J port and secret to ``state.json``. It exits when nobody leased the JVM for
  ``IDLE_SECONDS`` (and the JVM with it: PySpark's gateway dies when its stdin closes).
- A **lease** is an exclusive lock on the gateway's folder. The job process gets
  ``PYSPARK_GATEWAY_PORT`` and ``PYSPARK_GATEWAY_SECRET``, so PySpark connects to that JVM
  instead of starting one; the job creates its own Spark session with its own settings and
  stops it at the end (``lake_glue.spark.release_spark``). The Glue scripts, their arguments
  and Pipes reporting are exactly as before, and nothing of this exists in AWS.
- **Only clean endings return the JVM.** A job that failed, timed out or was killed may have
  left its Spark context running (or tasks still writing), so the lease then stops the holder
  and the JVM; the next job starts a fresh one.
- A job that finds the JVM leased by another job (runs in parallel) does not wait: it starts
  a JVM of its own, as before. So does a job when the gateway cannot start.

The gateway is keyed by the interpreter, the Glue scripts folder and the JVM settings, so two
checkouts or two memory settings never share one. Its log is ``gateway.log`` in its folder.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

IDLE_SECONDS = 300
START_TIMEOUT_SECONDS = 90
_holders: list[subprocess.Popen] = []


def gateway_folder(env: dict[str, str], python: str) -> Path:
    """The gateway's folder for this interpreter, scripts path and JVM settings (per user)."""
    from lake_glue.spark import JAVA_OPTIONS_ENV

    key = json.dumps(
        [
            python,
            env.get("PYTHONPATH", ""),
            env.get("JAVA_HOME", ""),
            env.get("LAKE_SPARK_DRIVER_MEMORY", ""),
            env.get(JAVA_OPTIONS_ENV, ""),
        ]
    )
    return (
        Path(tempfile.gettempdir())
        / f"lake-spark-gateway-{os.getuid()}"
        / hashlib.sha256(key.encode()).hexdigest()[:16]
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _state(folder: Path) -> dict | None:
    """The running gateway's port, secret and pids, or None."""
    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return state if _alive(state["holder_pid"]) and _alive(state["jvm_pid"]) else None


def _stop(folder: Path, state: dict | None) -> None:
    for name in ("jvm_pid", "holder_pid"):
        if state and state.get(name):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(state[name], signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        (folder / "state.json").unlink()


def _start(folder: Path, env: dict[str, str], python: str) -> dict | None:
    """Start a holder and wait for its JVM; None when it could not start (the caller goes on without)."""
    _stop(folder, None)
    _holders[:] = [p for p in _holders if p.poll() is None]
    with open(folder / "gateway.log", "ab") as log:
        holder = subprocess.Popen(
            [python, "-m", "lake_platform.spark_gateway", "--folder", str(folder), "--idle-seconds", str(IDLE_SECONDS)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _holders.append(holder)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and holder.poll() is None:
        state = _state(folder)
        if state and state["holder_pid"] == holder.pid:
            return state
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(holder.pid, signal.SIGKILL)
    return None


class Lease:
    """A job's use of the shared JVM: ``env`` to add to the job's environment (None: no JVM to lend)."""

    def __init__(self, folder: Path | None, state: dict | None):
        self.folder, self.state = folder, state
        self.env = (
            {"PYSPARK_GATEWAY_PORT": str(state["port"]), "PYSPARK_GATEWAY_SECRET": state["secret"]} if state else None
        )

    def discard(self) -> None:
        """Stop the JVM: the job did not end cleanly, so its Spark context may still be running."""
        if self.folder is not None and self.state is not None:
            _stop(self.folder, self.state)
            self.state = None


@contextlib.contextmanager
def lease(env: dict[str, str], python: str = sys.executable) -> Iterator[Lease]:
    """Lend the shared JVM to one job, starting it if needed; an exception discards it.

    Yields a lease without ``env`` when another job holds the JVM or it cannot start.
    """
    folder = gateway_folder(env, python)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield Lease(None, None)
            return
        state = _state(folder) or _start(folder, env, python)
        held = Lease(folder, state)
        try:
            yield held
        except BaseException:
            held.discard()
            raise
        if held.state is not None:
            # Idle time counts from the end of the last lease.
            os.utime(folder / "state.json")
    finally:
        os.close(fd)


def _hold(folder: Path, idle_seconds: float) -> None:
    """Start the JVM, publish its address, and keep it until it has been idle long enough."""
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    from lake_glue.spark import jvm_launch_conf

    conf = SparkConf(loadDefaults=False)
    for key, value in jvm_launch_conf().items():
        conf.set(key, value)
    gateway = launch_gateway(conf)
    params = getattr(gateway, "java_parameters", None) or gateway.gateway_parameters
    state = {"port": params.port, "secret": params.auth_token, "holder_pid": os.getpid(), "jvm_pid": gateway.proc.pid}
    pending = folder / f"state.{os.getpid()}.json"
    pending.write_text(json.dumps(state))
    pending.replace(folder / "state.json")
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} gateway JVM {gateway.proc.pid} on port {params.port}", flush=True)
    fd = os.open(folder / "lock", os.O_CREAT | os.O_RDWR, 0o600)
    while gateway.proc.poll() is None:
        time.sleep(2)
        try:
            if time.time() - (folder / "state.json").stat().st_mtime < idle_seconds:
                continue
            if json.loads((folder / "state.json").read_text()).get("holder_pid") != os.getpid():
                break
        except (OSError, ValueError):
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        with contextlib.suppress(FileNotFoundError):
            (folder / "state.json").unlink()
        break
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} gateway JVM {gateway.proc.pid} stopping", flush=True)
    gateway.proc.kill()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the holder process (started by :func:`lease`)."""
    parser = argparse.ArgumentParser(description="hold the shared local Spark JVM")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--idle-seconds", type=float, default=IDLE_SECONDS)
    args = parser.parse_args(argv)
    _hold(args.folder, args.idle_seconds)


if __name__ == "__main__":
    main()
