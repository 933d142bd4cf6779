"""The wheel carries every package: a subpackage missing from pyproject's list installs a
command that fails on import (the slow wheel test shows it; this one says it at once)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_under_archiver_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "archiver").rglob("__init__.py")
        if "storage" not in init.parent.relative_to(ROOT).parts
    }
    found.add("archiver.storage")  # storage/ at the top, linked as archiver/storage
    assert found - listed == set(), "add these to [tool.setuptools] packages"
