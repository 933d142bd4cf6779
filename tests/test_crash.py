"""kill -9 at random moments during ``embed-archiver run``: the archive stays consistent
and the next run converges to what an uninterrupted run produces.

The harness lives in ``bench/kill9_stress.py`` (a longer, configurable version of
the same loop); this test runs a bounded number of kills on ~150 articles.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import kill9_stress

KILLS = 20
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
