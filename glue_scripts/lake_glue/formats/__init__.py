"""Landing formats as strategies: one module per format, found and registered on import.

Adding a format is adding one module here that defines a :class:`~lake_glue.formats.base.LandingFormat`
subclass decorated with :func:`~lake_glue.formats.registry.register` (see docs/landing_formats.md).
"""

from __future__ import annotations

import importlib
import pkgutil

_INFRASTRUCTURE = {"base", "compression", "registry", "text"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module.name}")
