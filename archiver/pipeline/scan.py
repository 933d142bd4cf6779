"""The pure scan of one article: its embeds and their markup snapshots (no I/O, no archive)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from archiver import detect, encoding, platforms
from archiver.detect_ssg import SsgOptions, options_for
from archiver.models import (
    Article,
    EmbedSpan,
    PostSnapshot,
)
from archiver.sources.directory import is_markdown
from archiver.storage import (
    EmbedRecord,
)


@dataclass
class ScanResult:
    """What scanning one article yields: pure data, no I/O and no archive involved."""

    scan_bytes: bytes
    spans: list[EmbedSpan]
    records: list[EmbedRecord]
    snapshots: list[PostSnapshot]
    # Embeds of reported-only platforms (Threads, Instagram…): recorded, never rewritten.
    reported: list[EmbedSpan] = field(default_factory=list)


@dataclass
class Prescan:
    """What a worker found in one article; ``result`` is None when it did not scan it."""

    content_hash: str = ""
    encoding: str = ""
    result: ScanResult | None = None
    written: str | None = None  # the output copy the worker wrote (no embeds)
    changed: bool = False  # that copy's bytes were new
    out_hash: str = ""
    error: str | None = None  # the article failed: why (as the single process says)
    scanned: bool = False  # the error came after reading (the article counts as scanned)
    trace: str = ""


def scan_article(
    article: Article, budget: float | None = None, ssg: SsgOptions | None = None
) -> ScanResult:
    """Find an article's embeds and snapshot each from its markup (no I/O, no archive).

    ``budget``: seconds detection may take (``scan.article_time_budget_seconds``); past
    it ``detect.DetectionTimeout`` is raised, so the article fails alone.  ``ssg``: the
    static-site generator forms to look for too (default: those for its location).
    """
    if ssg is None:
        ssg = options_for(article.ref.location)
    scan_bytes = encoding.to_scan_bytes(article.data, article.encoding)
    spans: list[EmbedSpan] = []
    if detect.might_contain_embeds(scan_bytes, ssg, reported=True):
        deadline = time.monotonic() + budget if budget is not None else None
        try:
            spans = detect.find_embeds(
                scan_bytes,
                markdown=is_markdown(article.ref.location),
                deadline=deadline,
                ssg=ssg,
                reported=True,
            )
        except detect.DetectionTimeout as exc:
            raise detect.DetectionTimeout(
                f"{exc} of {budget:g} s (scan.article_time_budget_seconds); "
                "the markup is pathological or the page far too large"
            ) from None
    reported = [s for s in spans if s.reported]
    if reported:
        spans = [s for s in spans if not s.reported]
    # Fragments are UTF-8 when the article was transcoded for scanning.
    fragment_encoding = (
        article.encoding if encoding.is_ascii_compatible(article.encoding) else "utf-8"
    )
    records: list[EmbedRecord] = []
    snapshots: list[PostSnapshot] = []
    seen_keys: set[str] = set()
    for span in spans:
        fragment = encoding.decode_fragment(scan_bytes[span.start : span.end], fragment_encoding)
        records.append(EmbedRecord(span=span, original=fragment))
        if span.key not in seen_keys:
            seen_keys.add(span.key)
            snapshot = platform_of(span).snapshot_from_markup(span, fragment)
            if snapshot is not None:
                snapshots.append(snapshot)
    return ScanResult(
        scan_bytes=scan_bytes,
        spans=spans,
        records=records,
        snapshots=snapshots,
        reported=reported,
    )


def resolved_span(span: EmbedSpan, aliases: dict[str, str]) -> EmbedSpan:
    """``span`` naming its post's own id when ``aliases`` resolves its key."""
    key = aliases.get(span.key)
    return span if key is None else replace(span, post_id=key.partition(":")[2])


def resolved_result(result: ScanResult, aliases: dict[str, str]) -> ScanResult:
    """A scan's spans, embed records and markup snapshots under their posts' own keys."""
    spans = [resolved_span(s, aliases) for s in result.spans]
    records = [replace(r, span=s) for r, s in zip(result.records, spans, strict=True)]
    snapshots = []
    for snap in result.snapshots:
        key = aliases.get(snap.key)
        if key is not None:
            snap = replace(snap, post_id=key.partition(":")[2])
        snapshots.append(snap)
    return ScanResult(result.scan_bytes, spans, records, snapshots, result.reported)


def platform_of(span: EmbedSpan) -> platforms.Platform:
    """The registered platform a span's form belongs to (the lexer only reports forms of
    registered platforms, so this holds unless one was unregistered mid-run)."""
    return platforms.get(span.platform)
