"""Named points where a test can kill a job the way a Glue timeout or StopExecution would.

``LAKE_FAILPOINTS=commit:staged`` (a comma list) makes the job SIGKILL itself when it reaches
that point: no ``finally`` block, no cleanup, exactly a killed worker. Unset, a point costs one
environment lookup. The points are part of the commit protocol's contract (``lake_glue.tables``):
``commit:before`` (data files written, nothing committed), ``commit:staged`` (manifests written,
catalog not yet swapped) and ``commit:after`` (committed, not yet reported). The ingest job adds
``ingest:cast`` (records parsed and cast, nothing written yet).
"""

from __future__ import annotations

import os
import signal

ENV = "LAKE_FAILPOINTS"


def hit(name: str) -> None:
    """Kill this process with SIGKILL if ``name`` is armed in ``LAKE_FAILPOINTS``."""
    armed = os.environ.get(ENV)
    if armed and name in armed.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
