"""How the commands print: the run summary line, plurals, JSON, and rich tables that
fit the terminal (and stay plain text when piped)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from archiver.models import RunReport


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
