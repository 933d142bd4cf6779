"""The ``embed-archiver`` command: a thin layer over ``archiver.Archive``.

Exit codes: 0 success, 1 some articles or posts failed, 2 usage or config error,
3 not found, 4 another instance holds the archive lock.

The group lives here; the commands live by kind in ``archiver.cli.work`` (run,
regenerate, restore, index), ``archiver.cli.posts`` (posts), ``archiver.cli.queries``
(articles, export, stats), ``archiver.cli.service`` (serve, status) and
``archiver.cli.project`` (init, add, datasette-metadata, browse); ``archiver.cli.context``
holds the context, exit codes and error mapping, ``archiver.cli.output`` the printing.
Command modules import those two, never this package, so nothing imports in a circle.
"""

from __future__ import annotations

import click

from archiver.cli.context import Context, _Group
from archiver.cli.output import _progress_callback
from archiver.cli.project import add, browse, datasette_metadata, init
from archiver.cli.queries import articles, export_cmd, posts, stats
from archiver.cli.service import serve, status
from archiver.cli.work import index, regenerate, restore, run
from archiver.cpus import declare_main_guarded


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


for _command in (
    run,
    regenerate,
    restore,
    index,
    posts,
    articles,
    export_cmd,
    stats,
    serve,
    status,
    init,
    add,
    datasette_metadata,
    browse,
):
    cli.add_command(_command)


def main() -> None:
    """The ``embed-archiver`` command."""
    declare_main_guarded()  # its script only calls main() when run: workers may start
    cli(prog_name="embed-archiver")


__all__ = ["_progress_callback", "cli", "main"]
