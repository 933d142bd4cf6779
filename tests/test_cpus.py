"""``scan.workers: auto``: how many cores the archiver may count as its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archiver.cpus import MAX_AUTO_WORKERS, _quota_cpus, auto_workers, usable_cpus


@pytest.mark.parametrize(
    ("cpu_max", "cpus"),
    [
        ("max 100000\n", None),  # no quota
        ("150000 100000\n", 2),  # 1.5 CPUs of time: a second worker still gets half a core
        ("50000 100000\n", 1),
        ("400000 100000\n", 4),
        ("garbage\n", None),
    ],
)
def test_a_container_quota_bounds_the_cores(tmp_path: Path, cpu_max: str, cpus: int | None) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max, encoding="ascii")
    assert _quota_cpus(path) == cpus


def test_no_cgroup_file_means_no_quota(tmp_path: Path) -> None:
    assert _quota_cpus(tmp_path / "absent") is None


def test_auto_stays_within_the_machine() -> None:
    usable = usable_cpus()
    assert 1 <= usable <= (os.cpu_count() or 1)
    workers = auto_workers()
    assert workers == 1 or 2 <= workers <= min(usable, MAX_AUTO_WORKERS)
