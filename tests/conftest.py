"""Shared pytest fixtures."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakex import FakeX  # tests/ is on sys.path (pytest's default rootdir import mode)


@pytest.fixture
def fakex() -> Iterator[FakeX]:
    """A running fake of X / Wayback / media CDN on 127.0.0.1 (see tests/fakex.py)."""
    with FakeX() as fake:
        yield fake


# The system Chromium (Debian package ``chromium``), never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (the browser tests share it).

    Missing Chromium or Playwright: the browser tests skip with one reason, except
    under CI=true, where a missing browser fails the run.
    """
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not found (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need a browser under CI: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
