"""A project's files: the ``config.yaml`` that ``init`` writes, the bundled Datasette
metadata, and ``add --keep``'s edit of the config.

The config template and the metadata ship inside the package (``archiver/data/``), so
a wheel install has everything the README's commands need. The config is edited as
text, never round-tripped through a YAML library: the user's comments and layout stay
exactly as they were, and only the lines we add are new.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from archiver.config import DEFAULT_CONFIG, ConfigError, config_from_dict
from archiver.errors import ProjectError as ProjectError
from archiver.files import atomic_file

ARTICLES_PLACEHOLDER = "__ARTICLES__"
KEPT_SOURCE = "added"  # the urls source `add --keep` appends to
DEFAULT_ARTICLES = "articles"


def data_text(name: str) -> str:
    """The text of a file shipped in ``archiver/data/``."""
    return resources.files("archiver").joinpath("data", name).read_text(encoding="utf-8")


def config_template() -> str:
    """The commented config template, with the articles folder still a placeholder."""
    return data_text("config.yaml")


def render_config(articles: str, fetch: bool = True) -> str:
    """The config ``init`` writes: every key at its default, the articles folder filled in.

    ``fetch=False`` turns off network enrichment (``x.fetch: false``, ``bluesky.enabled:
    false``, ``mastodon.enabled: false``): posts are archived from the embed markup alone.
    """
    # A JSON string is a valid YAML double-quoted scalar: any folder name is safe.
    text = config_template().replace(ARTICLES_PLACEHOLDER, json.dumps(articles))
    if not fetch:
        text = text.replace("\n  fetch: true\n", "\n  fetch: false\n", 1)
        for section in ("bluesky", "mastodon"):
            text = text.replace(
                f"\n{section}:\n  enabled: true\n", f"\n{section}:\n  enabled: false\n", 1
            )
    return text


@dataclass
class InitResult:
    config: Path
    articles: Path
    created_articles: bool


def init_project(
    directory: Path, articles: str = DEFAULT_ARTICLES, *, force: bool = False, fetch: bool = True
) -> InitResult:
    """Write ``DIRECTORY/config.yaml`` and create the articles folder if it is missing.

    Refuses (``ProjectError``) to overwrite an existing config unless ``force``; the
    config is written atomically, so a failure leaves the old one (or none) in place.
    """
    if not articles.strip() or "\n" in articles or "\r" in articles:
        raise ProjectError(f"not a folder name: {articles!r}")
    config_path = directory / DEFAULT_CONFIG
    if config_path.is_dir():
        raise ProjectError(f"{config_path} is a folder; choose another directory")
    if config_path.exists() and not force:
        raise ProjectError(f"{config_path} already exists; use --force to overwrite it")
    articles_dir = directory / articles  # an absolute `articles` stays as it is
    if articles_dir.exists() and not articles_dir.is_dir():
        raise ProjectError(f"{articles_dir} exists and is not a folder")
    text = render_config(articles, fetch=fetch)
    # Check the result the way `run` will read it, before anything is written.
    config_from_dict(yaml.safe_load(text), base=directory.resolve())
    directory.mkdir(parents=True, exist_ok=True)
    created = not articles_dir.exists()
    articles_dir.mkdir(parents=True, exist_ok=True)
    with atomic_file(config_path) as handle:
        handle.write(text.encode("utf-8"))
    return InitResult(config=config_path, articles=articles_dir, created_articles=created)


def datasette_metadata(database: Path | str = "archive.db") -> str:
    """The bundled Datasette metadata, describing a database at ``database``.

    Datasette names a database after its file name without the extension; the bundled
    file describes ``archive`` (``archive.db``), so that key is renamed to match.
    """
    name = Path(database).stem
    text = data_text("datasette-metadata.yml")
    renamed, count = re.subn(
        r"^(databases:\n)  archive:$",
        lambda m: f"{m.group(1)}  {json.dumps(name)}:",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1:  # pragma: no cover - the bundled file is ours; a test reads it
        raise ProjectError("the bundled Datasette metadata has no 'databases: archive:' block")
    return renamed


def browse_metadata(database: Path, media_dir: Path | None) -> dict[str, Any]:
    """The metadata ``browse`` gives Datasette: the bundled file plus what only the
    plugin understands (the article facet, where the media files are)."""
    metadata: dict[str, Any] = yaml.safe_load(datasette_metadata(database))
    posts = metadata["databases"][Path(database).stem]["tables"]["posts"]
    facets = list(posts.get("facets") or [])
    facets += [f for f in ("status", "author_handle", "platform") if f not in facets]
    posts["facets"] = [*facets, {"article": "key"}]
    if media_dir is not None:
        metadata.setdefault("plugins", {})["embed-archiver"] = {"media_dir": str(media_dir)}
    return metadata


# -- add --keep: append URLs to the "added" urls source, as text ------------------------


def keep_urls(config_path: Path, urls: list[str]) -> list[str]:
    """Append ``urls`` to the ``urls`` source named ``added`` in ``config_path``.

    The source is created at the end of ``sources:`` when missing. The file is edited
    as text (comments and layout kept), the result validated as a config, then written
    atomically. Returns the URLs actually added (those not listed already).
    Raises ``ProjectError`` when the file's layout is not one we can edit safely.
    """
    text = config_path.read_text(encoding="utf-8")
    new_text, added = append_kept_urls(text, urls)
    if not added:
        return []
    try:
        raw = yaml.safe_load(new_text)
        config = config_from_dict(raw, base=config_path.resolve().parent, origin=config_path)
    except (yaml.YAMLError, ConfigError) as exc:  # pragma: no cover - a bug in the edit
        raise ProjectError(f"{config_path}: could not add the URLs safely ({exc})") from exc
    kept = [s for s in config.sources if s.kind == "urls" and s.name == KEPT_SOURCE]
    if len(kept) != 1 or not set(added) <= set(getattr(kept[0], "urls", [])):
        raise ProjectError(f"{config_path}: could not add the URLs safely; edit it by hand")
    with atomic_file(config_path) as handle:
        handle.write(new_text.encode("utf-8"))
    return added


def append_kept_urls(text: str, urls: list[str]) -> tuple[str, list[str]]:
    """The config text with ``urls`` appended to the ``added`` source; pure, no I/O."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ProjectError(f"the config is not valid YAML: {exc}") from exc
    if root is None:
        root = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(root, yaml.MappingNode):
        raise ProjectError("the config's top level is not a mapping of keys")
    sources = _value(root, "sources")
    item = _kept_source(sources)
    existing = _scalars(_value(item, "urls")) if item is not None else []
    added = [u for u in dict.fromkeys(urls) if u not in existing]
    if not added:
        return text, []
    if sources is None:
        return _append_new_sources(text, root, added), added
    if not isinstance(sources, yaml.SequenceNode):
        raise ProjectError("'sources:' is not a list; add the URLs by hand")
    if item is None:
        return _append_source(text, sources, added), added
    urls_node = _value(item, "urls")
    if not isinstance(urls_node, yaml.SequenceNode):
        raise ProjectError(f"the {KEPT_SOURCE!r} source has no 'urls:' list; add them by hand")
    return _append_items(text, urls_node, added), added


def _value(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def _scalars(node: Any) -> list[str]:
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)]


def _kept_source(sources: Any) -> Any:
    if not isinstance(sources, yaml.SequenceNode):
        return None
    for item in sources.value:
        name, kind = _value(item, "name"), _value(item, "kind")
        if getattr(name, "value", None) == KEPT_SOURCE and getattr(kind, "value", None) == "urls":
            return item
    return None


def _line_after(text: str, node: Any) -> int:
    """Offset of the start of the line after ``node`` ends (a trailing comment stays put)."""
    end = node.end_mark
    if end.column == 0:  # block nodes end at the start of the next key, after comments
        at = int(end.index)
        while at >= 2 and text[at - 2 : at] == "\n\n":  # keep the blank line before it
            at -= 1
        return at
    newline = text.find("\n", end.index)
    return len(text) if newline < 0 else newline + 1


def _insert(text: str, at: int, lines: list[str]) -> str:
    before = text[:at]
    if before and not before.endswith("\n"):
        before += "\n"
    return before + "".join(f"{line}\n" for line in lines) + text[at:]


def _source_lines(indent: int, urls: list[str]) -> list[str]:
    pad = " " * indent
    return [
        f"{pad}- kind: urls",
        f"{pad}  name: {KEPT_SOURCE}   # embed-archiver add --keep",
        f"{pad}  urls:",
        *(f"{pad}    - {json.dumps(url)}" for url in urls),
    ]


def _append_new_sources(text: str, root: Any, urls: list[str]) -> str:
    if getattr(root, "flow_style", False):
        raise ProjectError("the config is a one-line mapping; add the URLs by hand")
    return _insert(text, len(text), ["sources:", *_source_lines(2, urls)])


def _append_source(text: str, sources: Any, urls: list[str]) -> str:
    if sources.flow_style:
        if sources.value:
            raise ProjectError("'sources:' is a one-line list; add the URLs by hand")
        # sources: [] -> a block list in its place.
        start, end = sources.start_mark.index, sources.end_mark.index
        block = "\n" + "\n".join(_source_lines(2, urls))
        return text[:start].rstrip(" ") + block + text[end:]
    indent = sources.start_mark.column
    return _insert(text, _line_after(text, sources.value[-1]), _source_lines(indent, urls))


def _append_items(text: str, node: Any, urls: list[str]) -> str:
    quoted = [json.dumps(url) for url in urls]
    if node.flow_style:
        # [a, b] -> [a, b, "c"]: insert before the closing bracket.
        close = node.end_mark.index - 1
        if text[close] != "]":  # pragma: no cover - PyYAML marks flow lists this way
            raise ProjectError("cannot find the end of the 'urls:' list; add them by hand")
        inner = text[node.start_mark.index + 1 : close]
        sep = ", " if inner.strip() else ""
        return text[:close].rstrip() + sep + ", ".join(quoted) + text[close:]
    if not node.value:  # pragma: no cover - an empty block list parses as null
        raise ProjectError("the 'urls:' list is empty; add them by hand")
    indent = node.start_mark.column
    return _insert(
        text, _line_after(text, node.value[-1]), [f"{' ' * indent}- {q}" for q in quoted]
    )
