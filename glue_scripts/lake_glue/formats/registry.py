"""The landing formats by name. Each format module registers its class when it is imported."""

from __future__ import annotations

from typing import TypeVar

from lake_glue.formats.base import LandingFormat

FORMATS: dict[str, LandingFormat] = {}
_F = TypeVar("_F", bound=type[LandingFormat])


def register(cls: _F) -> _F:
    """Class decorator: make a format known by its ``name`` (to the config and the ingest job)."""
    FORMATS[cls.name] = cls()
    return cls


def format_names() -> list[str]:
    """The known format names, sorted (what a config's ``format`` may be)."""
    _load()
    return sorted(FORMATS)


def format_of(name: str) -> LandingFormat:
    """The format called ``name``; the error lists the known ones."""
    _load()
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown landing format {name!r}; known formats: {', '.join(sorted(FORMATS))}") from None


def _load() -> None:
    # Importing the package imports every format module in it, and each registers itself.
    import lake_glue.formats  # noqa: F401
