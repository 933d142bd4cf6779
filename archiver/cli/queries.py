"""The query commands: ``posts list|search|show``, ``articles list|show``, ``export``
and ``stats``. Every query command prints a rich table on a terminal and JSON with
--json; it exits 0 on success (an empty list is a success), 3 when the post or article
asked for does not exist, and 2 on bad arguments (see archiver.cli.context)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from archiver import platforms
from archiver.api import MARK_END, MARK_START, ORDERS, Archive
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
from archiver.models import STATUSES, Post

POST_FIELDS = (
    "key",
    "platform",
    "post_id",
    "url",
    "author_handle",
    "author_name",
    "text",
    "html",
    "lang",
    "created_at",
    "status",
    "source",
    "first_seen_at",
    "archived_at",
    "local_path",
    "dir",
    "date_text",
    "notice",
    "status_changed_at",
    "last_checked_at",
    "next_check_at",
)

# Plain strings: click shows and matches the names of enum members, not their values.
STATUS_CHOICES = [*(status.value for status in STATUSES), "gone"]


def _platform_option(help_text: str) -> Callable[..., Any]:
    """``--platform``: one of the registered platforms (x, bluesky, mastodon)."""
    names = [p.name for p in platforms.all_platforms()]
    return click.option("--platform", type=click.Choice(names), help=help_text)


def post_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filters shared by ``posts list`` and ``export``."""
    options = [
        click.option(
            "--author", metavar="HANDLE", help="Posts by this handle (with or without @)."
        ),
        click.option(
            "--since", metavar="DATE", help="Posted on or after DATE (YYYY-MM-DD or ISO)."
        ),
        click.option(
            "--until", metavar="DATE", help="Posted on or before DATE (a date: that day included)."
        ),
        click.option("--archived-since", metavar="DATE", help="Archived on or after DATE."),
        click.option("--archived-until", metavar="DATE", help="Archived on or before DATE."),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=click.Choice(STATUS_CHOICES),
            help="Only posts in this status (repeatable; 'gone': deleted, protected, "
            "suspended or unavailable).",
        ),
        click.option("--article", metavar="PATH|URL", help="Only posts embedded in this article."),
        _platform_option("Only posts of this platform."),
        click.option("--limit", type=click.IntRange(min=0), help="At most this many posts."),
        click.option(
            "--order",
            type=click.Choice(list(ORDERS)),
            default="created",
            show_default=True,
            help="Sort by posting time, archiving time or author.",
        ),
        click.option("--desc", is_flag=True, help="Newest (or Z) first."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(archive: Archive, criteria: dict[str, Any]) -> Any:
    statuses = criteria.pop("statuses", ())
    return archive.post_filter(status=statuses, **criteria)


def post_dict(post: Post) -> dict[str, Any]:
    """The fields of a post that list and search print as JSON."""
    data = asdict(post)
    return {name: data[name] for name in POST_FIELDS}


@click.group()
def posts() -> None:
    """List, search and show archived posts."""


@posts.command("list")
@post_filter_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def posts_list(ctx: Context, as_json: bool, **criteria: Any) -> None:
    """List archived posts, filtered and ordered.

    \b
    Examples:
      embed-archiver posts list --author jack --since 2024-01-01
      embed-archiver posts list --status deleted --order archived --desc --limit 20
      embed-archiver posts list --article blog/2024/post.html
    """
    with ctx.archive() as archive:
        found = archive.posts(_filters(archive, criteria))
    rows = [post_dict(p) for p in found]
    if as_json:
        _echo_json(rows)
        return
    _table(
        plural(len(rows), "post"),
        ["key", "posted", "author", "status", "text"],
        [
            [
                r["key"],
                (r["created_at"] or "")[:10],
                _handle(r["author_handle"]),
                r["status"],
                _one_line(r["text"]),
            ]
            for r in rows
        ],
    )


def _minute(timestamp: str | None) -> str:
    """A stored timestamp as a table shows it: ``2024-03-21 09:15`` (UTC)."""
    return (timestamp or "")[:16].replace("T", " ")


def _day(timestamp: str | None) -> str:
    return (timestamp or "")[:10]


def _handle(handle: str | None) -> str:
    return f"@{handle}" if handle else ""


@posts.command("search")
@click.argument("query")
@click.option(
    "--raw", is_flag=True, help='QUERY is FTS5 syntax (AND, OR, NEAR, "phrases", prefix*).'
)
@click.option("--author", metavar="HANDLE", help="Only posts by this handle.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUS_CHOICES))
@_platform_option("Only posts of this platform.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array; matches in [brackets].")
@pass_context
def posts_search(
    ctx: Context,
    query: str,
    raw: bool,
    author: str | None,
    statuses: tuple[str, ...],
    platform: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over post text and author names, best match first.

    Each word is searched as written (all words must match); add * for a prefix
    (arch*). Use --raw for FTS5 query syntax.
    """
    with ctx.archive() as archive:
        hits = archive.search(
            query, raw=raw, limit=limit, author=author, status=statuses, platform=platform
        )
    if as_json:
        _echo_json(
            [
                {**post_dict(h.post), "snippet": _plain_snippet(h.snippet), "score": h.score}
                for h in hits
            ]
        )
        return
    _table(
        f"{plural(len(hits), 'match', 'matches')} for {query!r}",
        ["key", "author", "status", "snippet"],
        [
            [h.post.key, _handle(h.post.author_handle), h.post.status, _rich_snippet(h.snippet)]
            for h in hits
        ],
    )


def _plain_snippet(snippet: str) -> str:
    return snippet.replace(MARK_START, "[").replace(MARK_END, "]").replace("\n", " ")


def _rich_snippet(snippet: str) -> Any:
    from rich.text import Text

    text = Text()
    for index, part in enumerate(snippet.replace("\n", " ").split(MARK_START)):
        marked, _, rest = part.partition(MARK_END) if index else ("", "", part)
        if marked:
            text.append(marked, style="bold reverse")
        text.append(rest)
    return text


@posts.command("show")
@click.argument("ref", metavar="KEY|ID|URL")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def posts_show(ctx: Context, ref: str, as_json: bool) -> None:
    """Show one post: its content, every snapshot, its media and the articles embedding it."""
    with ctx.archive() as archive:
        detail = archive.post(ref)
    if detail is None:
        _fail(f"no archived post matches {ref!r}", EXIT_NOT_FOUND)
    if as_json:
        _echo_json(asdict(detail))
        return
    fields = post_dict(detail)
    fields.update(
        {
            "status_changed_at": detail.status_changed_at,
            "last_checked_at": detail.last_checked_at,
            "notice": detail.notice,
        }
    )
    fields.pop("html")
    _table(detail.key, ["field", "value"], [[name, value] for name, value in fields.items()])
    _table(
        "snapshots",
        ["#", "captured", "source", "status", "from", "text"],
        [
            # Numbered 1..n, oldest first: row ids mean nothing to a reader.
            [
                number,
                _minute(s.captured_at),
                s.source,
                s.status,
                s.source_url or "",
                _one_line(s.text, 60),
            ]
            for number, s in enumerate(detail.snapshots, start=1)
        ],
    )
    if detail.media:
        _table(
            "media",
            ["kind", "file", "original", "alt"],
            [
                [m.kind, m.local_path or "(not downloaded)", m.url, _one_line(m.alt_text, 40)]
                for m in detail.media
            ],
        )
    _table(
        "embedded in",
        ["article", "#", "form", "found", "removed"],
        # Embeds are counted from 1 in an article, as a reader counts them.
        [
            [a.location, a.ordinal + 1, a.form, _day(a.found_at), _day(a.removed_at)]
            for a in detail.articles
        ],
    )


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
@_platform_option("Only articles embedding a post of this platform.")
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
                _day(a.last_scanned_at),
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
                _handle(e.author_handle),
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
        filters = _filters(archive, criteria)
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
        [[_handle(k) or "(unknown)", v] for k, v in data["top_authors"].items()],
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover
