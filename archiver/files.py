"""File-system primitives shared by every layer that writes files under a chosen root."""

from __future__ import annotations

from pathlib import Path


def safe_join(root: Path, relpath: str) -> Path:
    """``root/relpath``, refusing absolute paths and '..' that would leave ``root``."""
    candidate = (root / relpath).resolve()
    root_resolved = root.resolve()
    if candidate != root_resolved and root_resolved not in candidate.parents:
        raise ValueError(f"refusing to write outside {root}: {relpath!r}")
    return candidate


__all__ = ["safe_join"]
