"""The ``serve`` and ``status`` commands (registered on the ``embed-archiver`` group by
``archiver.cli``).

``serve`` runs until SIGTERM/SIGINT and exits 0; it exits 4 at once if another
process holds the archive lock. ``status`` only reads and takes no lock.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from archiver.cli.context import Context, pass_context
from archiver.clock import utc_now
from archiver.lock import holder_alive, lock_path_for


@click.command()
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0.5),
    default=8.0,
    show_default=True,
    help="Seconds to let the current unit of work finish after SIGTERM before exiting anyway.",
)
@pass_context
def serve(ctx: Context, stop_timeout: float) -> None:
    """Run as a service: scan sources and recheck due posts on the configured schedule.

    The first scan starts at once. Stop with SIGTERM or Ctrl-C (exit code 0).
    """
    from archiver.service import serve as run_service

    # One line per job is the service's heartbeat: show it without -v.
    service_log = logging.getLogger("archiver.service")
    if service_log.getEffectiveLevel() > logging.INFO:
        service_log.setLevel(logging.INFO)
    with ctx.archive(writes=True) as archive:
        code = run_service(archive, stop_timeout=stop_timeout)
    sys.exit(code)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.option("--runs", "run_count", type=click.IntRange(1, 1000), default=10, show_default=True)
@pass_context
def status(ctx: Context, as_json: bool, run_count: int) -> None:
    """Show the last runs, what is due next, and recent failures (read-only, no lock)."""
    with ctx.archive() as archive:
        report = archive.store.status_report(utc_now(), runs=run_count)
        pid = holder_alive(lock_path_for(archive.config.database))
        fetching = bool(archive.fetching_platforms())
    report["service"] = {"running": pid is not None, "pid": pid}
    report["due"]["network_checks"] = fetching
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_status(report)


def _print_status(report: dict[str, Any]) -> None:
    service = report["service"]
    due = report["due"]
    if service["running"]:
        click.echo(f"lock:     held by pid {service['pid']} (serve or run in progress)")
    else:
        click.echo("lock:     free (no run or serve in progress)")
    click.echo(
        f"archive:  {due['posts']} posts, {due['articles']} articles "
        f"({due['articles_removed']} removed from their sources)"
    )
    click.echo(
        f"due:      {due['due_now']} posts due for a check now; "
        f"next check at {due['next_check_at'] or '-'}"
        + (
            ""
            if due["network_checks"]
            else " (fetching is off for every platform: no network checks)"
        )
    )
    click.echo("")
    click.echo("last runs:")
    if not report["runs"]:
        click.echo("  (none yet)")
    for run in report["runs"]:
        summary = run["summary"] if isinstance(run["summary"], dict) else {}
        counts = (
            f"{summary.get('articles_scanned', 0)} scanned, "
            f"{summary.get('posts_new', 0)} new posts, "
            f"{summary.get('posts_fetched', 0)} fetched, "
            f"{summary.get('articles_rewritten', 0)} rewritten, "
            f"{len(summary.get('errors') or [])} errors"
            if summary
            else ""
        )
        click.echo(
            f"  #{run['id']:<5} {run['kind']:<10} {run['outcome'] or '':<11} "
            f"{run['started_at'] or '':<24} {counts}"
        )
        if run["error"]:
            click.echo(f"         error: {run['error']}")
    failures = report["failures"]
    if failures["articles"] or failures["posts"]:
        click.echo("")
        click.echo("recent failures:")
    for article in failures["articles"]:
        click.echo(f"  article {article['location']}: {article['error']}")
    for post in failures["posts"]:
        click.echo(
            f"  post {post['key']}: {post['last_error']} "
            f"({post['check_failures']} failures, next try {post['next_check_at'] or '-'})"
        )


__all__ = ["serve", "status"]
