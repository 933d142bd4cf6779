"""The ``init``, ``add``, ``datasette-metadata`` and ``browse`` commands (registered on the
``embed-archiver`` group by ``archiver.cli``): a new user's first steps, from an empty
folder to a searchable archive.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archiver.cli.context import EXIT_FAILURES, EXIT_USAGE, Context, _fail, pass_context
from archiver.cli.output import _print_report, _progress_callback
from archiver.config import load_config


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--articles",
    metavar="FOLDER",
    help="Folder of the articles to archive, relative to DIRECTORY "
    "(asked on a terminal; default: articles).",
)
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Archive posts from the embed markup only (every platform's fetching off): no network.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing config.yaml.")
def init(directory: Path, articles: str | None, no_fetch: bool, force: bool) -> None:
    """Start a project: write a commented DIRECTORY/config.yaml (every key, its default).

    Creates DIRECTORY and the articles folder if they are missing; nothing else.
    """
    from archiver.project import DEFAULT_ARTICLES, init_project

    if articles is None:
        articles = DEFAULT_ARTICLES
        if sys.stdin.isatty():
            articles = click.prompt("Folder of the articles to archive", default=articles)
    try:
        result = init_project(directory, articles, force=force, fetch=not no_fetch)
    except OSError as exc:
        _fail(str(exc), EXIT_USAGE)
    click.echo(f"wrote {result.config}")
    created = " (created)" if result.created_articles else ""
    click.echo(f"articles: {result.articles}{created}")
    go = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(
        f"next: {go}embed-archiver add ARTICLE.html|URL, or put articles in "
        f"{articles}/ and run 'embed-archiver run'"
    )


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="URL|PATH...")
@click.option(
    "--keep",
    is_flag=True,
    help="Also append the URLs to the 'added' urls source in config.yaml, "
    "so later runs rescan them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_context
def add(ctx: Context, targets: tuple[str, ...], keep: bool, as_json: bool) -> None:
    """Archive these articles now: fetch, detect, snapshot, rewrite to the output folder.

    Nothing else is scanned, and config.yaml is left alone unless --keep is given.
    Exit codes as for run.
    """
    with ctx.archive(writes=True) as archive:
        advance, done = _progress_callback(not as_json)
        try:
            report = archive.add(list(targets), keep=keep, progress=advance)
        finally:
            done()
    _print_report(report, as_json, "add")
    if report.errors:
        sys.exit(EXIT_FAILURES)


def _database_path(ctx: Context) -> Path:
    return _archive_paths(ctx)[0]


def _archive_paths(ctx: Context) -> tuple[Path, Path | None]:
    """The archive's database, and its media folder when a config names it."""
    if ctx.db_path is not None:
        return Path(ctx.db_path), None
    config = load_config(ctx.config_path)
    return config.database, config.media_root


@click.command("datasette-metadata")
@pass_context
def datasette_metadata(ctx: Context) -> None:
    """Print the Datasette metadata (descriptions, canned queries) for this archive.

    \b
    embed-archiver datasette-metadata > metadata.yml
    datasette serve archive.db --metadata metadata.yml
    """
    from archiver.project import datasette_metadata as metadata

    click.echo(metadata(_database_path(ctx)), nl=False)


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@pass_context
def browse(ctx: Context, port: int) -> None:
    """Browse the archive read-only in Datasette on http://127.0.0.1:PORT/.

    Each post shows as its archived card, with its versions and the articles that
    embed it; full-text search and facets by status, author, platform and article.
    Needs the web extra: pip install 'embed-archiver[web]'. Stop with Ctrl-C.
    """
    from archiver.project import browse_metadata

    try:
        import datasette  # noqa: F401 - only to say how to install it when it is missing
    except ImportError:
        _fail(
            "browse needs Datasette: pip install 'embed-archiver[web]' (or pip install datasette)",
            EXIT_USAGE,
        )
    database, media = _archive_paths(ctx)
    if not database.is_file():
        _fail(f"no archive database at {database} (run 'embed-archiver add' or 'run' first)", 2)
    with tempfile.TemporaryDirectory(prefix="embed-archiver-browse-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(browse_metadata(database, media)), encoding="utf-8")
        command = [sys.executable, "-m", "datasette", "serve", str(database)]
        command += ["--metadata", str(meta), "--host", "127.0.0.1", "--port", str(port)]
        click.echo(f"browse: http://127.0.0.1:{port}/{database.stem}/posts (Ctrl-C stops)")
        try:
            code = subprocess.call(command)
        except KeyboardInterrupt:
            code = 0
    sys.exit(code)
