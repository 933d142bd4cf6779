"""The commands that work on the archive: ``run``, ``regenerate``, ``restore``, ``index``."""

from __future__ import annotations

import sys
from typing import Literal

import click

from archiver.cli.context import (
    EXIT_FAILURES,
    Context,
    pass_context,
)
from archiver.cli.output import (
    _echo_json,
    _print_report,
    _progress_callback,
    plural,
)
from archiver.config import MAX_SCAN_WORKERS


class WorkerCount(click.ParamType):
    """``--workers``: 1 to ``MAX_SCAN_WORKERS``, or "auto"."""

    name = "N|auto"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | Literal["auto"]:
        if value == "auto" or isinstance(value, int):
            return value
        try:
            count = int(str(value))
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_SCAN_WORKERS:
            self.fail(
                f"{value!r} is not 'auto' or a number from 1 to {MAX_SCAN_WORKERS}", param, ctx
            )
        return count


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--workers",
    type=WorkerCount(),
    default=None,
    help="Processes that read and scan articles of directory sources: a number from 1 "
    f"(all in this process) to {MAX_SCAN_WORKERS}, or 'auto', one per idle core "
    "(default: scan.workers).",
)
@pass_context
def run(ctx: Context, as_json: bool, workers: int | Literal["auto"] | None) -> None:
    """One pass: scan sources, snapshot posts, store them, rewrite articles."""
    with ctx.archive(writes=True) as archive:
        if workers is not None:
            archive.config.scan.workers = workers
        advance, done = _progress_callback(not as_json)
        try:
            report = archive.run(progress=advance)
        finally:
            done()
    _print_report(report, as_json, "run")
    if report.errors:
        sys.exit(EXIT_FAILURES)


@click.command()
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


@click.command()
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


@click.command()
@click.option("--per-page", type=click.IntRange(min=1), default=100, show_default=True)
@pass_context
def index(ctx: Context, per_page: int) -> None:
    """Write the static index of archived posts (OUTPUT/embeds/index.html …)."""
    with ctx.archive(writes=True) as archive:
        pages = archive.write_index(per_page, force=True)
    click.echo(f"wrote {plural(len(pages), 'index page')}: {pages[0]}")
