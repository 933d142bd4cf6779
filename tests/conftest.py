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


def require_browser() -> None:
    """Skip (one reason for the whole module) when Chromium or Playwright is missing;
    under CI=true, fail instead: CI must run the browser tests."""
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not found (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright not installed (pip install -e '.[test]')"
    require_tool(missing, "browser tests")


def require_tool(missing: str | None, what: str) -> None:
    """Skip ``what`` (one line, for the whole module) when a tool is ``missing`` (a
    reason, or None when present); under CI=true fail instead: CI must run them."""
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"{what} need a tool under CI: {missing}", pytrace=False)
    if missing:
        pytest.skip(f"{what} skipped: {missing}", allow_module_level=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (the browser tests share it).

    Missing Chromium or Playwright: the browser tests skip with one reason, except
    under CI=true, where a missing browser fails the run.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an asyncio loop running in the main thread until the
    session-wide browser closes; tests that start their own loop (the fetchers use
    asyncio.run) cannot run while it is alive. Last, the browser is started once and
    nothing else shares its lifetime.
    """
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
