"""Waiting for a Datasette server the tests started (plain or through ``browse``)."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Return once ``url`` answers, or fail the test with the server's output."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"{what} exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/-/versions.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{what} did not start within 30s")
