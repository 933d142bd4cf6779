"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakex import FakeX  # tests/ is on sys.path (pytest's default rootdir import mode)


@pytest.fixture
def fakex() -> Iterator[FakeX]:
    """A running fake of X / Wayback / media CDN on 127.0.0.1 (see tests/fakex.py)."""
    with FakeX() as fake:
        yield fake
