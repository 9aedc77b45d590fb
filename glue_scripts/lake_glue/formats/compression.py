"""Compressed landed files: the one file inside a ``.gz``, ``.bz2`` or ``.zip``, by extension or as declared.

A ``.zip`` is read only when it holds exactly one file (directories aside): which member is the
batch's data would otherwise be a guess, so zero or several members refuse the file by name.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile

COMPRESSIONS = ("auto", "none", "gzip", "bz2", "zip")
_EXTENSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip"}


class DecompressError(ValueError):
    """A landed file cannot be decompressed; the message names the file and why."""


def compression_of(path: str, compression: str) -> str:
    """The compression a file is read with: by its extension under ``auto``, else as declared."""
    if compression != "auto":
        return compression
    return next((kind for ext, kind in _EXTENSIONS.items() if path.endswith(ext)), "none")


def decompress(path: str, data: bytes, compression: str) -> bytes:
    """The file's content: gunzipped, bunzipped or its one zip member, by extension (``auto``) or as declared."""
    kind = compression_of(path, compression)
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "bz2":
        return bz2.decompress(data)
    if kind == "zip":
        return _only_member(path, data)
    return data


def _only_member(path: str, data: bytes) -> bytes:
    name = path.rsplit("/", 1)[-1]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                held = [m.filename for m in members]
                raise DecompressError(
                    f"{name}: a zip landing file must hold exactly one file, this one holds {len(held)}: {held}"
                )
            return archive.read(members[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise DecompressError(f"{name}: not a readable zip file: {exc}") from None
