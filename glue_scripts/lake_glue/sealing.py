"""Sealed batches: a batch is the file list recorded when it was registered, and nothing else.

When the landing sensor (or the raw asset) registers a batch it records every data file's
key, size and ETag. Ingest reads exactly those files and refuses the batch, naming each file,
when a sealed file differs: one that is gone, one whose size or ETag changed, or one whose
bytes as read differ from the sealed size (or, where the ETag is the content's MD5, from the
sealed digest). Re-landing the files under a new batch id is the fix; a sealed batch is never
silently re-read. A file that appeared after sealing (a straggler) is not part of the batch:
ingest leaves it alone and reads the sealed files, so a re-run or a rebuild from raw still gives
the batch's rows; the landing sensor and ``lake doctor`` report the straggler, and
``lake reseal`` ingests it as a new batch.
"""

from __future__ import annotations

from dataclasses import dataclass

FIX = "land the complete files under a new batch id and retire this batch (`lake retire <table> <batch> --reason ...`)"


@dataclass(frozen=True)
class SealedFile:
    """One file of a sealed batch, by its path relative to the batch folder."""

    name: str
    size: int
    etag: str | None


def sealed_files(entries: list[dict], batch_key_prefix: str) -> list[SealedFile]:
    """The registry's sealed entries (full keys) as files relative to the batch folder."""
    prefix = batch_key_prefix.rstrip("/") + "/"
    files = []
    for entry in entries:
        key = entry["key"]
        if not key.startswith(prefix):
            raise ValueError(f"sealed file {key} is not under the batch folder {prefix}")
        files.append(SealedFile(key[len(prefix) :], int(entry["size"]), entry.get("etag")))
    return sorted(files, key=lambda f: f.name)


def listing_problems(sealed: list[SealedFile], now: dict[str, tuple[int, str | None]]) -> list[str]:
    """What differs for the sealed files between the sealed list and a listing of the folder now.

    Files the list does not name are stragglers, reported elsewhere; they never refuse the batch.
    """
    problems = []
    for f in sealed:
        if f.name not in now:
            problems.append(f"{f.name}: sealed but no longer there")
            continue
        size, etag = now[f.name]
        if size != f.size:
            problems.append(f"{f.name}: changed after sealing: sealed {f.size} bytes, now {size} bytes")
        elif etag is not None and f.etag is not None and etag != f.etag:
            problems.append(f"{f.name}: changed after sealing: ETag {f.etag} when sealed, now {etag}")
    return problems


def content_problems(sealed: list[SealedFile], read: dict[str, tuple[int, str]], etag_is_md5: bool) -> list[str]:
    """What differs between the sealed list and the bytes actually read (name -> (size, MD5))."""
    problems = []
    for f in sealed:
        size, md5 = read[f.name]
        if size != f.size:
            problems.append(f"{f.name}: read {size} bytes, {f.size} were sealed (the file changed after sealing)")
        elif etag_is_md5 and f.etag and md5 != f.etag:
            problems.append(f"{f.name}: its bytes differ from the sealed ones (MD5 {md5}, sealed {f.etag})")
    return problems
