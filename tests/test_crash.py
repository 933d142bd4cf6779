"""kill -9 at random moments during ``embed-archiver run``: the archive stays consistent
and the next run converges to what an uninterrupted run produces.

The harness lives in ``bench/kill9_stress.py`` (a longer, configurable version of
the same loop); these tests run a bounded number of kills on ~150 articles, offline
and against the local fake of X (kills during fetches and media downloads). Also here:
what the network bench found, as plain tests.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import yaml
from fakex import FakeX, config_for, make_tweet_payload

from archiver import Archive

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import kill9_stress

KILLS = 20
NETWORK_KILLS = 10
WINDOW = 0.8  # kill most runs before they end: more kills per second of test
SEED = int(os.environ.get("KILL9_SEED", "20240601"))


@pytest.mark.slow
def test_kill_9_during_runs_leaves_a_consistent_archive_that_converges(tmp_path: Path) -> None:
    lines: list[str] = []
    result = kill9_stress.stress(
        tmp_path,
        kills=KILLS,
        articles=150,
        seed=SEED,
        # Keep the suite bounded; the bench script runs as long as asked.
        deadline=time.monotonic() + 48,
        window_factor=WINDOW,
        log=lines.append,
    )
    rerun = (
        f"python bench/kill9_stress.py --kills {KILLS} --articles 150 --window {WINDOW} "
        f"--seed {SEED}"
    )
    assert result.failures == [], "\n".join([*result.failures[:20], f"rerun: {rerun}"])
    assert result.kills >= KILLS, f"only {result.kills} kills in time ({lines})"
    assert result.episodes >= 1


@pytest.mark.slow
def test_kill_9_during_fetches_and_media_downloads_leaves_a_consistent_archive(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    result = kill9_stress.stress(
        tmp_path,
        kills=NETWORK_KILLS,
        articles=150,
        seed=SEED,
        mode="network",
        deadline=time.monotonic() + 60,
        window_factor=WINDOW,
        log=lines.append,
    )
    rerun = (
        f"python bench/kill9_stress.py --kills {NETWORK_KILLS} --mode network --articles 150 "
        f"--window {WINDOW} --seed {SEED}"
    )
    assert result.failures == [], "\n".join([*result.failures[:20], f"rerun: {rerun}"])
    assert result.kills >= NETWORK_KILLS, f"only {result.kills} kills in time ({lines})"
    assert result.kills_during_fetch >= 1, "no kill landed while a request was open"


def test_a_post_page_lists_every_article_after_a_pass_that_fetched_the_post(
    tmp_path: Path, fakex: FakeX
) -> None:
    """Found by the network kill bench: the uninterrupted run was the wrong one.

    A post first met in the first batch of articles (32) is fetched there and its page
    written, listing the articles recorded so far; a later batch adds another article
    embedding it. Its page must list both at the end of the pass, as the page of a
    pass resumed after a kill does.
    """
    post = "1641086480675225601"
    fakex.add_post(make_tweet_payload(post, "from X", "sam", "Sam"))
    folder = tmp_path / "articles"
    folder.mkdir()
    embed = (
        f'<blockquote class="twitter-tweet"><p>from the page</p>&mdash; Sam (@sam) '
        f'<a href="https://twitter.com/sam/status/{post}">March 29, 2023</a></blockquote>'
    )
    for i in range(40):  # more than one batch
        body = embed if i in (0, 39) else "<p>no embed here</p>"
        (folder / f"story-{i:02d}.html").write_text(f"<html><body>{body}</body></html>\n")
    config = tmp_path / "config.yaml"
    settings = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        **config_for(fakex, wayback={"enabled": False}),
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == [] and report.posts_fetched == 1
    page = (tmp_path / "out" / "embeds" / "x" / f"{post}.html").read_text(encoding="utf-8")
    assert "articles/story-00.html" in page
    assert "articles/story-39.html" in page
