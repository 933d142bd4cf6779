"""The ``embed-archiver`` command: a thin layer over ``archiver.Archive``.

Exit codes: 0 success, 1 some articles or posts failed, 2 usage or config error,
3 not found, 4 another instance holds the archive lock.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from archiver.api import MARK_END, MARK_START, ORDERS, Archive
from archiver.cli_common import (
    EXIT_FAILURES,
    EXIT_NOT_FOUND,
    Context,
    _fail,
    _Group,
    _print_report,
    _progress_callback,
    pass_context,
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $EMBED_ARCHIVER_CONFIG or ./config.yaml).",
)
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    help="Open this archive database directly instead of a config (for queries).",
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="embed-archiver")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, db_path: str | None, log_format: str, verbose: int
) -> None:
    """Archive embedded social posts and rewrite articles to use local copies."""
    from archiver.logs import setup_logging

    setup_logging(log_format, verbose)
    ctx.obj = Context(config_path, log_format, db_path)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_context
def run(ctx: Context, as_json: bool) -> None:
    """One pass: scan sources, snapshot posts, store them, rewrite articles."""
    with ctx.archive(writes=True) as archive:
        advance, done = _progress_callback(not as_json)
        try:
            report = archive.run(progress=advance)
        finally:
            done()
    _print_report(report, as_json, "run")
    if report.errors:
        sys.exit(EXIT_FAILURES)


@cli.command()
@click.argument("articles", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@pass_context
def regenerate(ctx: Context, articles: tuple[str, ...], as_json: bool) -> None:
    """Rewrite articles from the archive (all, or the ARTICLES named) without rescanning."""
    with ctx.archive(writes=True) as archive:
        advance, done = _progress_callback(not as_json)
        try:
            report = archive.regenerate(list(articles) or None, progress=advance)
        finally:
            done()
    _print_report(report, as_json, "regenerate")
    if report.errors:
        sys.exit(EXIT_FAILURES)


# -- querying the archive ----------------------------------------------------------------
#
# Every query command prints a rich table on a terminal and JSON with --json; it
# exits 0 on success (an empty list is a success), 3 when the post or article asked
# for does not exist, and 2 on bad arguments.

# Plain strings: click shows and matches the names of enum members, not their values.
STATUS_CHOICES = [*(status.value for status in STATUSES), "gone"]
TEXT_WIDTH = 80
# Table columns by how a long cell gives way (see _table).
_NO_WRAP = {
    "key",
    "post",
    "posted",
    "#",
    "status",
    "captured",
    "author",
    "form",
    "found",
    "removed",
    "source",
    "kind",
    "scanned",
    "embeds",
    "field",
    "count",
    "posts",
}
_FOLD = {"article", "file", "original", "from", "url"}
_MIN_TEXT = 12  # the narrowest a free-text column gets while identifiers are kept whole


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _console() -> Any:
    from rich.console import Console

    # Created per call: click's test runner swaps sys.stdout.
    return Console(file=sys.stdout, highlight=False)


def _one_line(text: str | None, width: int = TEXT_WIDTH) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    console = _console()
    cells = [[_cell(value) for value in row] for row in rows]
    widest = [
        max([len(name), *(row[index].cell_len for row in cells)])
        for index, name in enumerate(columns)
    ]
    whole = [name in _NO_WRAP or name in _FOLD for name in columns]
    # Identifiers, dates, statuses and paths stay whole when they fit: as wide as
    # their longest value, leaving the free-text columns at least _MIN_TEXT each
    # (else 80 columns split "blockquote" into "blockquot" / "e", and a path into
    # "history.h" / "tml").
    needed = sum(w for w, keep in zip(widest, whole, strict=True) if keep)
    text_min = [min(w, max(_MIN_TEXT, len(name))) for w, name in zip(widest, columns, strict=True)]
    needed += sum(m for m, keep in zip(text_min, whole, strict=True) if not keep)
    needed += 3 * len(columns) + 1  # borders and padding
    fits = needed <= console.width
    table = Table(title=title, show_lines=False, title_justify="left")
    for index, name in enumerate(columns):
        if not fits:
            # A terminal too narrow for the identifiers: every column folds, so no
            # column is squeezed out of sight and every character stays on screen.
            table.add_column(name, overflow="fold")
        elif whole[index]:
            table.add_column(name, no_wrap=True, overflow="ellipsis", min_width=widest[index])
        elif name == "value":
            # A detail's values: words wrap, a long path folds (nothing is cut off).
            table.add_column(name, overflow="fold")
        else:
            # Free text wraps between words; a word too long for the column ends in
            # "…" rather than being cut in two.
            table.add_column(name, overflow="ellipsis", min_width=text_min[index])
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _cell(value: Any) -> Any:
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value))


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
        click.option("--platform", metavar="NAME", help="Only posts of this platform (e.g. x)."),
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


@cli.group()
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
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array; matches in [brackets].")
@pass_context
def posts_search(
    ctx: Context,
    query: str,
    raw: bool,
    author: str | None,
    statuses: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over post text and author names, best match first.

    Each word is searched as written (all words must match); add * for a prefix
    (arch*). Use --raw for FTS5 query syntax.
    """
    with ctx.archive() as archive:
        hits = archive.search(query, raw=raw, limit=limit, author=author, status=statuses)
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


@cli.group()
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
@click.option("--include-removed", is_flag=True, help="Also articles no longer in any source.")
@click.option("--limit", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_context
def articles_list(
    ctx: Context, statuses: tuple[str, ...], include_removed: bool, limit: int | None, as_json: bool
) -> None:
    """List articles with how many of their embeds point at posts in each status."""
    with ctx.archive() as archive:
        found = archive.articles(statuses, include_removed=include_removed, limit=limit)
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


@cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE (atomically) instead of stdout.",
)
@post_filter_options
@pass_context
def export_cmd(ctx: Context, fmt: str, output: str | None, **criteria: Any) -> None:
    """Export posts with their latest snapshot as JSON Lines or CSV.

    Rows stream from the database; a progress bar shows on a terminal when the
    data goes to a file or a pipe.
    """
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


@cli.command()
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


@cli.command()
@click.argument("articles", nargs=-1, metavar="[ARTICLE]...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per article.")
@pass_context
def restore(ctx: Context, articles: tuple[str, ...], as_json: bool) -> None:
    """Put the original embed markup back (all articles, or the ARTICLES named).

    Rewrites each article's current file (the copy in output.dir, or the source
    itself with output.in_place), replacing our archived embeds with the markup
    they replaced, byte for byte.
    """
    with ctx.archive(writes=True) as archive:
        results = archive.restore(list(articles) or None)
    if as_json:
        _echo_json([r.as_dict() for r in results])
    else:
        for r in results:
            if r.error:
                click.echo(f"error: {r.location}: {r.error}", err=True)
            else:
                state = "restored" if r.changed else "unchanged"
                extra = f" ({r.missing} without an original)" if r.missing else ""
                click.echo(f"{state}: {r.location}: {plural(r.restored, 'embed')}{extra}")
    if any(r.error for r in results):
        sys.exit(EXIT_FAILURES)


@cli.command()
@click.option("--per-page", type=click.IntRange(min=1), default=100, show_default=True)
@pass_context
def index(ctx: Context, per_page: int) -> None:
    """Write the static index of archived posts (OUTPUT/embeds/index.html …)."""
    with ctx.archive(writes=True) as archive:
        pages = archive.write_index(per_page, force=True)
    click.echo(f"wrote {plural(len(pages), 'index page')}: {pages[0]}")


def _register_service_commands() -> None:
    # archiver.cli_service imports this module (for Context), so it joins the group
    # once the group exists.
    from archiver.cli_service import serve, status

    cli.add_command(serve)
    cli.add_command(status)


_register_service_commands()


def _register_project_commands() -> None:
    # A new user's first steps (archiver.cli_project imports this module too).
    from archiver.cli_project import add, browse, datasette_metadata, init

    for command in (init, add, datasette_metadata, browse):
        cli.add_command(command)


_register_project_commands()


def main() -> None:
    cli(prog_name="embed-archiver")
