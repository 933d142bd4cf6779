"""Freed memory goes back to the system between batches (glibc), as the benchmarks rely on."""

from __future__ import annotations

import platform

import pytest

from archiver.heap import release_freed_memory

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's: a no-op elsewhere"
)


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_blocks_freed_below_live_ones_are_handed_back() -> None:
    # 64 KB blocks come from the heap (under glibc's mmap threshold), each followed by
    # a small block that stays: freeing the big ones leaves holes that free() keeps.
    big, kept = [], []
    for n in range(800):
        big.append(bytes([n % 251]) * 65536)
        kept.append(bytes([n % 251]) * 600)
    del big
    holding = resident_mb()
    release_freed_memory(interval_s=0)  # now, whatever ran before in this process
    assert holding - resident_mb() > 25, "the 50 MB of holes stayed resident"
    assert len(kept) == 800 and kept[799][0] == 799 % 251  # what is live is untouched
