"""Getting things back out of the archive: JSONL/CSV exports, and restoring original embeds.

Exports stream from one database cursor to the output, so memory stays flat; a file
is written atomically (readers see the old export or the new one, never half).

Restoring puts the publisher's original embed markup back in place of our archived
embeds, byte for byte, using ``embeds.original`` recorded when the embed was first found.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archiver import detect, encoding
from archiver.detect_ssg import options_for
from archiver.files import atomic_file, safe_join, write_atomic
from archiver.models import FORM_ARCHIVED, EmbedSpan, sha256_hex
from archiver.rewrite import splice
from archiver.sources.directory import is_markdown
from archiver.storage import ArchiveStorage, PostFilter, StoredEmbed
from archiver.storage.fsnames import representable

FORMATS = ("jsonl", "csv")
SNAPSHOT_PREFIX = "snapshot_"


# -- export ------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_text_file(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """A UTF-8 text file that appears at ``path`` only once it is complete and synced."""
    with atomic_file(path, fsync=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline=newline, write_through=True)
        yield text
        text.flush()
        text.detach()  # the binary file is closed by atomic_file


# A spreadsheet evaluates a cell that starts with one of these as a formula: post
# text comes from strangers, so such cells are written with a leading apostrophe
# (OWASP's advice for CSV injection). JSON Lines exports stay exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value made safe to open in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def jsonl_record(
    post: dict[str, Any], snapshot: dict[str, Any] | None, media: list[dict[str, Any]]
) -> dict[str, Any]:
    """One JSONL line: the ``posts`` row as stored, its latest snapshot and its media."""
    return {**post, "latest_snapshot": snapshot, "media": media}


def csv_header(post_cols: list[str], snap_cols: list[str]) -> list[str]:
    """CSV columns: the post's, then the latest snapshot's (prefixed), then media as JSON."""
    return [*post_cols, *(SNAPSHOT_PREFIX + c for c in snap_cols), "media"]


def write_export(
    store: ArchiveStorage,
    out: IO[str],
    fmt: str,
    filters: PostFilter | None = None,
    advance: Callable[[], None] | None = None,
) -> int:
    """Write matching posts to ``out`` in ``fmt``; return how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    rows = store.iter_export_rows(filters)
    writer = None
    if fmt == "csv":
        post_cols, snap_cols = store.export_columns()
        writer = csv.writer(out)
        writer.writerow(csv_header(post_cols, snap_cols))
    written = 0
    for post, snapshot, media in rows:
        if writer is None:
            out.write(json.dumps(jsonl_record(post, snapshot, media), ensure_ascii=False))
            out.write("\n")
        else:
            snap_values = (
                [snapshot.get(c) for c in snap_cols] if snapshot else [None] * len(snap_cols)
            )
            # Always a JSON array ("[]" for none), so every row parses the same way.
            media_json = json.dumps(media, ensure_ascii=False)
            writer.writerow([csv_cell(v) for v in (*post.values(), *snap_values, media_json)])
        written += 1
        if advance is not None:
            advance()
    return written


def export_to(
    store: ArchiveStorage,
    output: str | os.PathLike[str] | IO[str],
    fmt: str,
    filters: PostFilter | None = None,
    advance: Callable[[], None] | None = None,
) -> int:
    """Export to a file path (atomically) or an open text stream."""
    if isinstance(output, str | os.PathLike):
        # csv writes its own \r\n line ends; the file must not translate them.
        with atomic_text_file(Path(output), newline="" if fmt == "csv" else None) as handle:
            return write_export(store, handle, fmt, filters, advance)
    return write_export(store, output, fmt, filters, advance)


REPORTED_COLUMNS = ("location", "platform", "url", "form", "start", "end", "found_at")


def export_reported_to(
    store: ArchiveStorage, output: str | os.PathLike[str] | IO[str], fmt: str
) -> int:
    """Export the reported embeds to a file path (atomically) or an open text stream."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if isinstance(output, str | os.PathLike):
        with atomic_text_file(Path(output), newline="" if fmt == "csv" else None) as handle:
            return _write_reported(store, handle, fmt)
    return _write_reported(store, output, fmt)


def _write_reported(store: ArchiveStorage, out: IO[str], fmt: str) -> int:
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(REPORTED_COLUMNS)
    written = 0
    for embed in store.iter_reported_embeds():
        row = {name: getattr(embed, name) for name in REPORTED_COLUMNS}
        if writer is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer.writerow([csv_cell(v) for v in row.values()])
        written += 1
    return written


# -- restore -----------------------------------------------------------------------


@dataclass
class RestoreResult:
    """What restoring one article did."""

    location: str
    path: str | None  # the file that was (or would have been) rewritten
    restored: int = 0  # archived embeds replaced by their original markup
    missing: int = 0  # archived embeds with no original on record, left as they are
    changed: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "article": self.location,
            "path": self.path,
            "restored": self.restored,
            "missing": self.missing,
            "changed": self.changed,
            "error": self.error,
        }


def current_file(row: dict[str, Any], output_dir: Path | None) -> Path | None:
    """The file that holds an article's archived embeds now.

    ``output_dir`` is None in in-place mode, where the source file is the output.
    Otherwise the rewritten copy: ``articles.output_path``, which holds a path
    relative to ``output_dir`` until a rewrite has been confirmed.
    """
    if output_dir is None:
        return Path(row["path"]) if row.get("path") else None
    recorded = row.get("output_path")
    if not recorded:
        return None
    if Path(recorded).is_absolute():
        return Path(recorded)
    return safe_join(output_dir, recorded)


def restore_article(
    store: ArchiveStorage, article_id: int, output_dir: Path | None
) -> RestoreResult:
    """Put the original embed markup back into one article's current file."""
    row = store.article_row(article_id)
    if row is None:
        raise LookupError(f"no article with id {article_id}")
    location = row["location"]
    path = current_file(row, output_dir)
    result = RestoreResult(location=location, path=representable(str(path)) if path else None)
    if path is None:
        result.error = "no rewritten file on record"
        return result
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.error = f"cannot read {result.path}: {exc.strerror or exc}"
        return result
    try:
        page_encoding = row["encoding"] or encoding.sniff_encoding(data)
        new = _restored_bytes(data, page_encoding, location, store.embeds_of(location), result)
        if new != data:
            write_atomic(path, new)
            result.changed = True
            if output_dir is None:
                # In place, the restored file is the source: recorded as scanned, so
                # a plain run leaves the originals, as it does with an output folder.
                stat = path.stat()
                store.record_restored(location, stat.st_size, stat.st_mtime_ns, sha256_hex(new))
    except (OSError, ValueError) as exc:
        # One article that cannot be restored (its bytes no longer decode under its
        # charset, a full disk) is reported; the others are restored.
        result.error = representable(f"{type(exc).__name__}: {exc}")
        result.restored = result.missing = 0
    return result


def _restored_bytes(
    data: bytes,
    page_encoding: str,
    location: str,
    stored: list[StoredEmbed],
    result: RestoreResult,
) -> bytes:
    scan = encoding.to_scan_bytes(data, page_encoding)
    # Our Hugo and MDX wrappers are found by the static-site generator pass.
    spans = detect.find_embeds(scan, markdown=is_markdown(location), ssg=options_for(location))
    originals = _Originals(stored)
    replacements = []
    for ordinal, span in enumerate(spans):
        if span.form != FORM_ARCHIVED:
            continue  # never archived (or already restored): nothing to put back
        original = originals.take(span, ordinal)
        if original is None:
            result.missing += 1
            continue
        replacements.append(
            (span.start, span.end, encoding.encode_fragment(original, page_encoding))
        )
        result.restored += 1
    return encoding.from_scan_bytes(splice(scan, replacements), page_encoding)


class _Originals:
    """Stored original markup, matched to archived spans by ordinal, else by post."""

    def __init__(self, stored: list[StoredEmbed]) -> None:
        # Only real originals: in-place rewrites may record our own markup with no original.
        self._left = [e for e in stored if e.original and e.form != FORM_ARCHIVED]

    def take(self, span: EmbedSpan, ordinal: int) -> str | None:
        match = next(
            (e for e in self._left if e.ordinal == ordinal and e.post_key == span.key), None
        ) or next((e for e in self._left if e.post_key == span.key), None)
        if match is None:
            return None
        self._left.remove(match)
        return match.original
