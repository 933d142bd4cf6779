"""Compiled templates kept between processes, so a cold process does not compile them.

Compiling the card, post page and index templates cost a fresh process ~50 ms before
its first card (``bench/bench_render.py``), more than its first hundred articles
without embeds. Jinja's ``FileSystemBytecodeCache`` keeps the compiled code in Jinja's
own per-user folder (mode 0700, owner checked, or no cache at all), written atomically.

Two things are added. An entry is named by what the code was compiled with, not only
by the template: the Jinja version and the source of the module that sets up the
environment (its options and the one-line extension change the compiled code), so an
upgrade or an edit never runs code compiled for other settings; the template's own
source is checked by Jinja. And a cache that cannot be read or written (a full disk, a
corrupt entry) is no cache: the template is compiled, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache


class _TemplateCache(FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, its entries named by ``namespace``."""

    def __init__(self, namespace: str, directory: str | None = None) -> None:
        super().__init__(directory)  # None: Jinja's private per-user folder
        self.namespace = namespace

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        """The template's entry for these settings: a hash of both."""
        return hashlib.sha256(f"{self.namespace}|{name}|{filename}".encode()).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        """The cached code, if any; an entry that cannot be read leaves the bucket empty
        (the template is compiled and the entry written again)."""
        try:
            super().load_bytecode(bucket)
        except Exception:  # a truncated or foreign entry: whatever it raises
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Store the code; a folder that cannot take it is no reason to fail a render."""
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def template_cache(module: str, directory: str | None = None) -> BytecodeCache | None:
    """The cache for the environment set up by ``module`` (its ``__name__``), or None
    when there can be none (no safe folder, the module's source not readable)."""
    try:
        source = Path(str(sys.modules[module].__file__)).read_bytes()
        namespace = hashlib.sha256(
            b"\0".join([jinja2.__version__.encode(), module.encode(), source])
        ).hexdigest()
        return _TemplateCache(namespace, directory)
    except (KeyError, OSError, RuntimeError):  # RuntimeError: Jinja found no safe folder
        return None
