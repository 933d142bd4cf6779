"""The import rule: every import points down the layers, and no two modules import each other.

Each module under ``archiver/`` (and ``archiver.storage``, which lives in ``storage/`` at the
repository top) is parsed with ``ast``; every import counts, at module level or inside a
function, under ``TYPE_CHECKING`` too: a lazy import still ties the two modules together.

The layers, bottom first (a module may import its own layer or a lower one, never a higher one):

0. base: ``errors``, ``clock``, ``models``, ``config``, ``encoding``, ``files``, ``lock``, ``logs``,
   ``heap``, ``cpus``, ``decide`` (pure policy: plain values in, plain values out)
1. parse: ``snapshot``, ``detect_ssg``, the byte lexer's building blocks
   (``detect.lexer``, ``detect.walk``), and a platform's pure URL/id/time parsers
   (``platforms.x.urls``, ``.snowflake``, ``.ssg``, ``.markup``, ``.markup_lxml``) (markup in, plain values out)
2. io: ``fetch``, ``storage`` (the network and the database), and a platform's
   fetcher and endpoint clients (``platforms.x.fetcher``, ``.syndication`` with its readers
   ``.payload`` and ``.text``, ``.oembed``, ``.wayback``, ``.token``)
3. platforms: the ``platforms`` registry, the interface and each platform's entry
   point and recognisers (a platform package spans layers: its parsers sit in parse,
   its fetcher in io, and the rest here)
4. detect: ``detect`` (the lexer, over the registered platforms' recognisers)
5. sources: ``sources`` (what articles there are)
6. output: ``render``, ``rewrite``, ``ssg_rewrite``, ``index_page`` (with ``index_rows`` and ``index_nav``), ``export``
7. pipeline: the ``pipeline`` package (``scan``, ``state``, ``pages``, ``outputs``, ``articles``,
   ``checks``, ``worker``, ``pool``, and ``Pipeline`` in its ``__init__``)
8. api: ``api``, ``project``, the ``archiver`` package itself (the public facade)
9. service: ``service``, ``datasette_plugin``
10. cli: the ``cli`` package (context, output, and the command modules), ``__main__``

A new module must be given a layer here (the test says so), which keeps the rule honest.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "archiver.errors",
            "archiver.clock",
            "archiver.models",
            "archiver.config",
            "archiver.encoding",
            "archiver.files",
            "archiver.lock",
            "archiver.logs",
            "archiver.heap",
            "archiver.cpus",
            "archiver.decide",
        ),
    ),
    (
        "parse",
        (
            "archiver.snapshot",
            "archiver.detect_ssg",
            "archiver.detect.lexer",
            "archiver.detect.walk",
            "archiver.platforms.x.urls",
            "archiver.platforms.x.snowflake",
            "archiver.platforms.x.ssg",
            "archiver.platforms.x.markup",
            "archiver.platforms.x.markup_lxml",
        ),
    ),
    (
        "io",
        (
            "archiver.fetch",
            "archiver.storage",
            "archiver.platforms.x.fetcher",
            "archiver.platforms.x.syndication",
            "archiver.platforms.x.payload",
            "archiver.platforms.x.text",
            "archiver.platforms.x.oembed",
            "archiver.platforms.x.wayback",
            "archiver.platforms.x.token",
        ),
    ),
    ("platforms", ("archiver.platforms",)),
    ("detect", ("archiver.detect",)),
    ("sources", ("archiver.sources",)),
    (
        "output",
        (
            "archiver.render",
            "archiver.rewrite",
            "archiver.ssg_rewrite",
            "archiver.index_page",
            "archiver.index_rows",
            "archiver.index_nav",
            "archiver.export",
        ),
    ),
    (
        "pipeline",
        (
            "archiver.pipeline",
            "archiver.pipeline.scan",
            "archiver.pipeline.state",
            "archiver.pipeline.pages",
            "archiver.pipeline.outputs",
            "archiver.pipeline.articles",
            "archiver.pipeline.checks",
        ),
    ),
    ("api", ("archiver.api", "archiver.project", "archiver")),
    ("service", ("archiver.service", "archiver.datasette_plugin")),
    ("cli", ("archiver.cli", "archiver.__main__")),
]


def _module_files() -> dict[str, Path]:
    """Every module's dotted name and file; ``storage/`` is ``archiver.storage``."""
    found: dict[str, Path] = {}
    for package, folder in (
        ("archiver", ROOT / "archiver"),
        ("archiver.storage", ROOT / "storage"),
    ):
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            if rel.parts[0] == "storage" and package == "archiver":
                continue  # the symlink: walked as storage/ above
            parts = [package, *rel.parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _imports(name: str, files: dict[str, Path]) -> set[str]:
    """The project modules that ``name`` imports, anywhere in its file."""
    tree = ast.parse(files[name].read_text(encoding="utf-8"), filename=str(files[name]))
    package = name if _is_package(name, files) else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from archiver import detect`` imports the submodule, not the package.
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in files else base)
    return {target for target in targets if target in files and target != name}


def _third_party(name: str, files: dict[str, Path]) -> set[str]:
    """The top-level names of the outside packages that ``name`` imports."""
    tree = ast.parse(files[name].read_text(encoding="utf-8"), filename=str(files[name]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.partition(".")[0])
    return found


def _graph() -> dict[str, set[str]]:
    files = _module_files()
    return {name: _imports(name, files) for name in files}


def _layer(name: str) -> int | None:
    """The layer index of a module: its longest matching prefix in LAYERS."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or name.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def test_every_module_has_a_layer() -> None:
    missing = sorted(name for name in _graph() if _layer(name) is None)
    assert not missing, f"give these modules a layer in tests/test_layers.py: {missing}"


def test_the_graph_sees_the_imports() -> None:
    """A sanity check on the parser itself: relative and aliased imports resolve."""
    graph = _graph()
    assert "archiver.platforms.x.syndication" in graph["archiver.platforms.x.oembed"]  # from .
    assert "archiver.fetch.http" in graph["archiver.fetch.media"]  # from .http import ...
    assert "archiver.storage.queries" in graph["archiver.api"]  # from archiver.storage.queries
    assert "archiver.detect" in graph["archiver.pipeline.scan"]  # from archiver import detect


def test_no_import_cycles() -> None:
    try:
        TopologicalSorter(_graph()).prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise AssertionError(f"import cycle: {cycle}") from None


def test_imports_point_down_the_layers() -> None:
    upward = []
    for name, targets in sorted(_graph().items()):
        own = _layer(name)
        for target in sorted(targets):
            theirs = _layer(target)
            if own is not None and theirs is not None and theirs > own:
                upward.append(f"{name} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_only_the_cli_imports_click() -> None:
    """The Python API raises archiver errors, never CLI exceptions (the CLI maps them)."""
    files = _module_files()
    cli_layer = len(LAYERS) - 1
    offenders = sorted(
        name for name in files if _layer(name) != cli_layer and "click" in _third_party(name, files)
    )
    assert not offenders, f"click imported below the CLI: {offenders}"


# Modules outside storage/ that may still touch the database directly, each with why.
# (None today: the Datasette plugin reads through storage.reports.read_post_detail, the
# CLI and the pipeline name database errors through storage.errors.)
DATABASE_EXCEPTIONS: dict[str, str] = {}


def _database_uses(name: str, files: dict[str, Path]) -> list[str]:
    """Where ``name`` imports sqlite3 or sqlite_utils, or reads the ``.db`` of a store."""
    tree = ast.parse(files[name].read_text(encoding="utf-8"), filename=str(files[name]))
    found = [
        f"imports {package}"
        for package in sorted(_third_party(name, files) & {"sqlite3", "sqlite_utils"})
    ]
    found += [
        f"reads .db at line {node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "db"
    ]
    return found


def test_only_storage_touches_the_database() -> None:
    """The rest of the code goes through the ArchiveStorage protocol: no module outside
    storage/ imports sqlite3 or sqlite_utils, or reaches for ``store.db``."""
    files = _module_files()
    offenders = [
        f"{name}: {use}"
        for name in sorted(files)
        if not (name == "archiver.storage" or name.startswith("archiver.storage."))
        and name not in DATABASE_EXCEPTIONS
        for use in _database_uses(name, files)
    ]
    assert not offenders, "database reached outside storage/:\n" + "\n".join(offenders)


def test_only_the_api_names_the_sqlite_store() -> None:
    """Code above storage/ takes an ``ArchiveStorage``; only ``Archive`` (archiver.api),
    which opens the archive, names the SQLite class ``Store``."""
    files = _module_files()
    offenders = []
    for name in sorted(files):
        if name.startswith("archiver.storage") or name == "archiver.api":
            continue
        tree = ast.parse(files[name].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "archiver.storage"
            ):
                offenders += [f"{name} imports Store" for a in node.names if a.name == "Store"]
    assert not offenders, "\n".join(offenders)
