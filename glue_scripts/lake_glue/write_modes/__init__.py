"""Write modes as strategies: one file per mode, each registering itself (see ``base``).

Importing this package imports every module in it, so a mode is found by its file alone.
"""

from __future__ import annotations

import importlib
import pkgutil

from lake_glue.write_modes.base import (
    WRITE_MODES,
    PrepareBatch,
    PrepareError,
    StaleRebuild,
    UnknownWriteMode,
    WriteMode,
    register,
    write_mode_of,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "WRITE_MODES",
    "PrepareBatch",
    "PrepareError",
    "StaleRebuild",
    "UnknownWriteMode",
    "WriteMode",
    "register",
    "write_mode_of",
]
