"""Freed memory goes back to the system between batches (glibc), as the benchmarks rely on."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's: a no-op elsewhere"
)

# In a fresh interpreter: in a test worker, what ran before decides where the blocks land
# (the holes of earlier tests, or the top of the heap, which free() trims by itself).
HOLES = """
import json
from archiver.heap import release_freed_memory

def resident_mb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

# 64 KB blocks come from the heap (under glibc's mmap threshold), each followed by a
# small block that stays: freeing the big ones leaves holes that free() keeps.
big, kept = [], []
for n in range(800):
    big.append(bytes([n % 251]) * 65536)
    kept.append(bytes([n % 251]) * 600)
before = resident_mb()
del big
freed = resident_mb()
release_freed_memory(interval_s=0)
trimmed = resident_mb()
whole = len(kept) == 800 and kept[799][0] == 799 % 251
print(json.dumps({"before": before, "freed": freed, "trimmed": trimmed, "whole": whole}))
"""


def test_blocks_freed_below_live_ones_are_handed_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HOLES], capture_output=True, text=True, check=True, timeout=60
    )
    rss = json.loads(done.stdout)
    assert rss["before"] - rss["freed"] < 5, "free() alone gave the holes back: no test"
    assert rss["freed"] - rss["trimmed"] > 25, f"the 50 MB of holes stayed resident: {rss}"
    assert rss["whole"]  # what is live is untouched
