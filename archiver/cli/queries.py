"""The query commands: ``posts list|search|show`` (in archiver.cli.posts), ``articles
list|show``, ``export`` and ``stats``. Every query command prints a rich table on a
terminal and JSON with --json; it exits 0 on success (an empty list is a success), 3 when
the post or article asked for does not exist, and 2 on bad arguments (see
archiver.cli.context)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from archiver.cli.context import (
    EXIT_NOT_FOUND,
    Context,
    _fail,
    pass_context,
)
from archiver.cli.output import (
    _echo_json,
    _one_line,
    _table,
    plural,
)
from archiver.cli.posts import (
    POST_FIELDS,
    STATUS_CHOICES,
    format_day,
    format_handle,
    platform_option,
    post_dict,
    post_filter_options,
    post_filters,
    posts,
    posts_list,
    posts_search,
    posts_show,
)

# The posts commands lived here before archiver.cli.posts: still importable from here.
__all__ = [
    "POST_FIELDS",
    "articles",
    "export_cmd",
    "post_dict",
    "posts",
    "posts_list",
    "posts_search",
    "posts_show",
    "stats",
]


@click.group()
def articles() -> None:
    """List articles and show their embeds."""


@articles.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_CHOICES),
    help="Only articles embedding a post in this status (e.g. deleted; repeatable).",
)
@platform_option("Only articles embedding a post of this platform.")
@click.option("--include-removed", is_flag=True, help="Also articles no longer in any source.")
@click.option("--limit", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def articles_list(
    ctx: Context,
    statuses: tuple[str, ...],
    platform: str | None,
    include_removed: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """List articles with how many of their embeds point at posts in each status."""
    with ctx.archive() as archive:
        found = archive.articles(
            statuses, include_removed=include_removed, limit=limit, platform=platform
        )
    if as_json:
        _echo_json([asdict(a) for a in found])
        return
    _table(
        plural(len(found), "article"),
        ["article", "embeds", "by status", "scanned", "note"],
        [
            [
                a.location,
                a.embed_count,
                ", ".join(f"{status} {n}" for status, n in sorted(a.statuses.items())),
                format_day(a.last_scanned_at),
                "removed" if a.removed_at else (a.error or ""),
            ]
            for a in found
        ],
    )


@articles.command("show")
@click.argument("ref", metavar="PATH|URL")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def articles_show(ctx: Context, ref: str, as_json: bool) -> None:
    """Show an article's embeds, in order, with each post's status."""
    with ctx.archive() as archive:
        detail = archive.article(ref)
    if detail is None:
        _fail(f"no article matches {ref!r}", EXIT_NOT_FOUND)
    if as_json:
        _echo_json(asdict(detail))
        return
    a = detail.article
    _table(
        a.location,
        ["field", "value"],
        [
            ["source", a.source],
            ["url", a.url],
            ["path", a.path],
            ["output", a.output_path],
            ["encoding", a.encoding],
            ["last scanned", a.last_scanned_at],
            ["last rewritten", a.last_rewritten_at],
            ["removed", a.removed_at],
            ["error", a.error],
        ],
    )
    _table(
        plural(len(detail.embeds), "embed"),
        ["#", "post", "form", "status", "author", "text"],
        [
            [
                e.ordinal + 1,
                e.post_key,
                e.form,
                e.status or "(missing)",
                format_handle(e.author_handle),
                _one_line(e.text, 60),
            ]
            for e in detail.embeds
        ],
    )
    if detail.reported:
        _table(
            f"{plural(len(detail.reported), 'embed')} of platforms that are only reported "
            "(not archived, left as they are)",
            ["platform", "url", "bytes"],
            [[r.platform, r.url, f"{r.start}-{r.end}"] for r in detail.reported],
        )


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE (atomically) instead of stdout.",
)
@click.option(
    "--reported",
    is_flag=True,
    help="Export the embeds of platforms that are only reported (Threads, Instagram, "
    "TikTok, Facebook: article, platform, URL, byte span) instead of posts.",
)
@post_filter_options
@pass_context
def export_cmd(ctx: Context, fmt: str, output: str | None, reported: bool, **criteria: Any) -> None:
    """Export posts with their latest snapshot as JSON Lines or CSV.

    Rows stream from the database; a progress bar shows on a terminal when the
    data goes to a file or a pipe.
    """
    if reported:
        with ctx.archive() as archive:
            count = archive.export_reported(output if output else sys.stdout, fmt)
        if output:
            click.echo(f"exported {plural(count, 'reported embed')} to {output}", err=True)
        return
    with ctx.archive() as archive:
        filters = post_filters(archive, criteria)
        show_bar = sys.stderr.isatty() and (output is not None or not sys.stdout.isatty())
        with _export_progress(show_bar, lambda: archive.count_posts(filters)) as advance:
            count = archive.export(output if output else sys.stdout, fmt, filters, advance)
    if output:
        click.echo(f"exported {plural(count, 'post')} to {output}", err=True)


@contextmanager
def _export_progress(
    enabled: bool, total: Callable[[], int]
) -> Iterator[Callable[[], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    from archiver.logs import logs_through

    console = Console(stderr=True)
    with logs_through(console), Progress(console=console, transient=True) as progress:
        task = progress.add_task("exporting", total=total())
        yield lambda: progress.advance(task)


@click.command()
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many authors to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def stats(ctx: Context, top: int, as_json: bool) -> None:
    """Counts by status, platform and author, and the archive's size."""
    with ctx.archive() as archive:
        data = archive.stats(top)
    if as_json:
        _echo_json(data)
        return
    _table(
        "archive",
        ["", "count"],
        [
            ["posts", data["posts"]],
            ["snapshots", data["snapshots"]],
            ["articles", data["articles"]],
            ["articles removed", data["articles_removed"]],
            ["embeds", data["embeds"]],
            ["media files", data["media"]],
            ["database size", _size(data["db_bytes"])],
            ["media size", _size(data["media_bytes"])],
        ],
    )
    _table("by status", ["status", "posts"], [[k, v] for k, v in data["by_status"].items()])
    _table("by platform", ["platform", "posts"], [[k, v] for k, v in data["by_platform"].items()])
    if data["reported_by_platform"]:
        _table(
            "reported, not archived",
            ["platform", "embeds"],
            [[k, v] for k, v in data["reported_by_platform"].items()],
        )
    _table(
        f"top {top} authors",
        ["author", "posts"],
        [[format_handle(k) or "(unknown)", v] for k, v in data["top_authors"].items()],
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
