"""Compressed landed files: the content of a ``.gz`` or ``.bz2`` file, by extension or as declared."""

from __future__ import annotations

import bz2
import gzip

COMPRESSIONS = ("auto", "none", "gzip", "bz2")


class DecompressError(ValueError):
    """A landed file cannot be decompressed; the message names the file and why."""


def compression_of(path: str, compression: str) -> str:
    """The compression a file is read with: by its extension under ``auto``, else as declared."""
    if compression != "auto":
        return compression
    return "gzip" if path.endswith(".gz") else "bz2" if path.endswith(".bz2") else "none"


def decompress(path: str, data: bytes, compression: str) -> bytes:
    """The file's content: gunzipped or bunzipped by extension (``auto``) or as declared."""
    kind = compression_of(path, compression)
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "bz2":
        return bz2.decompress(data)
    return data
