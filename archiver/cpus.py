"""How many scan workers ``scan.workers: auto`` starts: one per idle core.

Measured on two cores over 2,000 articles (README "Scale"): with both cores idle, two
workers made a first run 1.4 × faster at 10 % density and 1.2 × dense; with another job
busy on one core they gained nothing (from a forkserver they were 15 % slower), nor with
both cores busy. The pipeline's main process keeps the database, so workers only pay on
cores that nothing else wants. "Idle" is what this process may use (its CPU affinity, and a
cgroup CPU quota in a container) less the 1-minute load average, which is the work that
was waiting for a core over the last minute.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

# More workers than this cannot pay: the main process stays the bottleneck. It spends
# 0.15 ms on an article without embeds that a worker spends about 0.45 ms on, so past
# three or four workers it cannot keep up with them (README "Scale").
MAX_AUTO_WORKERS = 4

_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")

# A worker started from a forkserver (in a process with threads, see pipeline/pool.py)
# imports the program's main module again, which runs a script's top-level code unless
# it sits under ``if __name__ == "__main__":``. The embed-archiver command is guarded and
# says so (``declare_main_guarded``); in a program that imports the archiver, "auto"
# means one process unless that program says so too (whether it will have threads when
# a pass starts is not known here).
_main_guarded = False


def declare_main_guarded() -> None:
    """Let ``scan.workers: auto`` start workers in this process: its main module does
    nothing when imported again (the embed-archiver command calls this)."""
    global _main_guarded
    _main_guarded = True


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, bounded by a cgroup v2 quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _quota_cpus() or cpus))


def _quota_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> int | None:
    """The CPUs a cgroup v2 quota allows (``cpu.max``: "quota period"), or None."""
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2, "max" (no quota), or unreadable
        return None


def idle_cpus() -> int:
    """Usable CPUs that the last minute's load leaves free (at least 0)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on Windows: assume idle
        load = 0.0
    return max(0, round(usable_cpus() - load))


def auto_workers() -> int:
    """Scan workers for ``scan.workers: auto``; 1 (none, all in one process) unless at
    least two cores are idle and the main module is guarded (``declare_main_guarded``)."""
    if not _main_guarded:
        return 1
    idle = min(idle_cpus(), MAX_AUTO_WORKERS)
    return idle if idle >= 2 else 1
