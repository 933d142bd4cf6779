"""The ``posts`` commands (``list``, ``search``, ``show``) and the post filters that
``export`` shares. Exit codes and output as for every query command (archiver.cli.queries)."""

from __future__ import annotations

from collections.abc import Callable
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


def platform_option(help_text: str) -> Callable[..., Any]:
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
        platform_option("Only posts of this platform."),
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


def post_filters(archive: Archive, criteria: dict[str, Any]) -> Any:
    """The archive's PostFilter for the filter options given (``--status`` is repeatable)."""
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
        found = archive.posts(post_filters(archive, criteria))
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
                format_handle(r["author_handle"]),
                r["status"],
                _one_line(r["text"]),
            ]
            for r in rows
        ],
    )


def _minute(timestamp: str | None) -> str:
    """A stored timestamp as a table shows it: ``2024-03-21 09:15`` (UTC)."""
    return (timestamp or "")[:16].replace("T", " ")


def format_day(timestamp: str | None) -> str:
    """A stored timestamp's day, ``2024-03-21``, as tables show it."""
    return (timestamp or "")[:10]


def format_handle(handle: str | None) -> str:
    """``@handle``, or nothing without one."""
    return f"@{handle}" if handle else ""


@posts.command("search")
@click.argument("query")
@click.option(
    "--raw", is_flag=True, help='QUERY is FTS5 syntax (AND, OR, NEAR, "phrases", prefix*).'
)
@click.option("--author", metavar="HANDLE", help="Only posts by this handle.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUS_CHOICES))
@platform_option("Only posts of this platform.")
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
            [
                h.post.key,
                format_handle(h.post.author_handle),
                h.post.status,
                _rich_snippet(h.snippet),
            ]
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
            [a.location, a.ordinal + 1, a.form, format_day(a.found_at), format_day(a.removed_at)]
            for a in detail.articles
        ],
    )
