"""Starting the processes `make dev` runs (webserver, daemon) on loopback, for the UI test and its benchmark."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start one of the venv's console scripts in its own session, its output in ``log``."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / argv[0]), *argv[1:]],
        cwd=REPO,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_webserver(
    env: dict, home: Path, timeout: float = 180, workspace: str = "workspace.yaml"
) -> tuple[subprocess.Popen, int]:
    """The Dagster webserver on a free loopback port, once it answers; ``RuntimeError`` with its log if not."""
    port = free_port()
    log = home / "webserver.log"
    webserver = start(["dagster-webserver", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)], env, log)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
            return webserver, port
        except OSError:
            if webserver.poll() is not None or time.monotonic() > deadline:
                webserver.kill()
                raise RuntimeError(f"webserver did not start: {log.read_text()[-2000:]}") from None
            time.sleep(1)
