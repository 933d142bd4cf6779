"""The ``embed-archiver`` command: a thin layer over ``archiver.Archive``.

Exit codes: 0 success, 1 some articles or posts failed, 2 usage or config error,
3 not found, 4 another instance holds the archive lock.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import click

from archiver.api import MARK_END, MARK_START, ORDERS, Archive, NotFoundError, QueryError
from archiver.config import ConfigError, load_config
from archiver.models import STATUSES, Post, RunReport
from archiver.storage.schema import SchemaTooNewError

log = logging.getLogger(__name__)

EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_LOCKED = 4

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


class Context:
    def __init__(
        self, config_path: str | None, log_format: str, db_path: str | None = None
    ) -> None:
        self.config_path = config_path
        self.log_format = log_format
        self.db_path = db_path
        self._database = db_path  # the archive's database, once known (for error messages)

    @contextmanager
    def archive(self, writes: bool = False) -> Iterator[Archive]:
        """Open the archive; ``writes`` for commands that change files or the database."""
        if writes and self.db_path is not None:
            # --db has no sources and no output folder: a writer would act on the
            # files the database names (e.g. restore into a live site from a backup).
            _fail("--db opens an archive for queries only; use --config for this command", 2)
        try:
            if self.db_path is not None:
                archive = self._open_database(self.db_path)
            else:
                archive = self._open_config(writes)
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        except (SchemaTooNewError, sqlite3.DatabaseError, OSError) as exc:
            _fail(_setup_error(exc, self._database), EXIT_USAGE)
        try:
            yield archive
        except BrokenPipeError:
            raise  # the reader of our output left: not an error (see _Group)
        except (SchemaTooNewError, sqlite3.DatabaseError, OSError) as exc:
            # What stops a whole command (one bad article never does): a damaged
            # database, a full disk, an output folder that cannot be written. One
            # line saying what to do; -vv logs the traceback.
            log.debug("command failed", exc_info=True)
            _fail(_setup_error(exc, str(archive.config.database)), EXIT_USAGE)
        finally:
            with suppress(sqlite3.Error, OSError):  # closing a damaged database may fail too
                archive.close()

    def _open_config(self, writes: bool) -> Archive:
        config = load_config(self.config_path)
        self._database = str(config.database)
        if not writes and not config.database.exists():
            # Opening creates a database; for a query a missing one is a mistake.
            _fail(f"no archive database at {config.database} (run 'embed-archiver run' first)", 2)
        return Archive(config)

    @staticmethod
    def _open_database(db_path: str) -> Archive:
        # Opening creates a database; for queries a missing file is a mistake.
        if not Path(db_path).is_file():
            click.echo(f"error: no archive database at {db_path}", err=True)
            sys.exit(EXIT_USAGE)
        return Archive.open(db_path)


pass_context = click.make_pass_decorator(Context)


class _Group(click.Group):
    """The command group: a reader that closes the pipe early ends the command quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _closed_pipe()


def _closed_pipe() -> NoReturn:
    """``export | head`` read what it wanted: exit 0, with no message.

    Python's advice for SIGPIPE: point stdout at /dev/null, so the interpreter's
    final flush of the unwritten rest does not fail again on the way out.
    """
    with suppress(OSError, ValueError, AttributeError):  # click's test runner has no fd
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


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


def _progress_callback(enabled: bool) -> tuple[Callable[[str], None] | None, Callable[[], None]]:
    """A rich status line on a terminal; nothing when piped.

    While it shows, log records go through the same console, above the line,
    rather than into the middle of it.
    """
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from contextlib import ExitStack

    from rich.console import Console

    from archiver.logs import logs_through

    console = Console(stderr=True)
    status = console.status("scanning…")
    stack = ExitStack()
    stack.enter_context(logs_through(console))
    status.start()
    stack.callback(status.stop)
    count = 0

    def advance(location: str) -> None:
        nonlocal count
        count += 1
        status.update(f"{count} articles · {location[-60:]}")

    return advance, stack.close


def _print_report(report: RunReport, as_json: bool, title: str) -> None:
    data = report.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if title == "regenerate":
        click.echo(_regenerate_line(data))
    else:
        click.echo(_run_line(title, data))
    for error in data["errors"]:
        click.echo(f"  error: {error['article']}: {error['reason']}", err=True)


def _run_line(title: str, data: dict[str, Any]) -> str:
    """One line saying what a pass did, every count with its noun."""
    return (
        f"{title}: {plural(data['articles_scanned'], 'article')} scanned "
        f"({data['articles_skipped']} unchanged, skipped; {data['articles_removed']} removed), "
        f"{plural(data['embeds_found'], 'embed')} found, "
        f"{plural(data['posts_new'], 'new post')}, {data['posts_updated']} updated, "
        f"{data['posts_fetched']} fetched ({data['fetch_failures']} failed), "
        f"{plural(data['articles_rewritten'], 'article')} rewritten "
        f"in {data['duration_s']:.2f}s"
    )


def _regenerate_line(data: dict[str, Any]) -> str:
    """What regenerate did: it scans nothing, it rewrites (or finds up to date)."""
    failed = len(data["errors"])
    done = data["articles_rewritten"] + data["articles_unchanged"] + failed
    return (
        f"regenerate: {plural(done, 'article')} rendered again from the archive: "
        f"{data['articles_rewritten']} rewritten, {data['articles_unchanged']} already "
        f"up to date, {failed} failed in {data['duration_s']:.2f}s"
    )


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 embed``, ``2 embeds``: a count with its noun in the right number."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_form or noun + 's'}"


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
    with ctx.archive(writes=True) as archive, _query_errors():
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

STATUS_CHOICES = [*STATUSES, "gone"]
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


def _setup_error(exc: BaseException, database: str | None) -> str:
    """A one-line message for an error that stops a whole command, with what to do."""
    where = f" {database}" if database else ""
    if isinstance(exc, SchemaTooNewError):
        return str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return (
            f"the archive database{where} is busy ({exc}); run again once the other writer is done"
        )
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return (
            f"no space left for the archive database{where} ({exc}); free some space and "
            "run again (the last committed state is kept)"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return (
            f"the archive database{where} is damaged or not an embed-archiver database ({exc}); "
            "restore it from a backup, or move it away to start a new archive"
        )
    assert isinstance(exc, OSError)
    name = f": {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return (
            f"no space left on the device{name}; free some space and run again "
            "(every file is written atomically: nothing written before is lost)"
        )
    if exc.errno == errno.ENOTDIR:
        return f"{reason}{name}: a file is in the way of a folder; move it or choose another path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{reason}{name}; check the permissions of that path"
    return f"{reason}{name}"


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def _query_errors() -> Iterator[None]:
    """Turn API errors into the documented exit codes."""
    try:
        yield
    except NotFoundError as exc:
        _fail(str(exc.args[0] if exc.args else exc), EXIT_NOT_FOUND)
    except QueryError as exc:
        _fail(str(exc), EXIT_USAGE)


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
    with ctx.archive() as archive, _query_errors():
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
    with ctx.archive() as archive, _query_errors():
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
    with ctx.archive() as archive, _query_errors():
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
    with ctx.archive() as archive, _query_errors():
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
    with ctx.archive(writes=True) as archive, _query_errors():
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
