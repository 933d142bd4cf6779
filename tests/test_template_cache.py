"""Compiled templates kept between processes (archiver.render.template_cache).

A cold process loads the card, page and index templates compiled instead of compiling
them; what it renders must be the same bytes, and a cache that is corrupt or cannot be
written must never fail a render. Real files in tmp_path, real Jinja environments.
"""

from __future__ import annotations

from pathlib import Path

from test_render import make_post

from archiver import index_page
from archiver.render import common
from archiver.render.card import _view
from archiver.render.template_cache import template_cache

TEMPLATES = ("embed.html.j2", "post_page.html.j2")


def rendered(cache_dir: Path | None) -> list[str]:
    """The card and the page of one post, from a fresh environment using ``cache_dir``."""
    cache = template_cache(common.__name__, str(cache_dir)) if cache_dir else None
    env = common._new_env(cache)
    v = _view(make_post(author_avatar="av.jpg"), "../media/")
    values = dict(
        post=make_post(),
        title="t",
        css="",
        articles=[],
        versions=[],
        source_words="s",
        archived_day=None,
        status_words="live",
        notice_intro="X said",
        checked_day=None,
        seen_day=None,
        changed_day=None,
        posted=None,
        first_seen=None,
        archived=None,
        status_changed=None,
        last_checked=None,
        index_href="../index.html",
        rel=common.LINK_REL,
    )
    return [
        env.get_template("embed.html.j2").render(v=v, copy_href="../x/1.html"),
        env.get_template("post_page.html.j2").render(v=v, **values),
    ]


def test_a_fresh_environment_renders_the_same_bytes_from_the_compiled_templates(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    without = rendered(None)
    assert rendered(cache) == without  # compiled, and stored
    entries = sorted(cache.iterdir())
    assert len(entries) == 3  # the card, the page and the macros they share
    assert rendered(cache) == without  # loaded compiled
    assert sorted(cache.iterdir()) == entries
    # What a cold process asks the cache for: code, for the templates as they are.
    cached = template_cache(common.__name__, str(cache))
    assert cached is not None
    env = common._new_env(cached)
    for name in (*TEMPLATES, "_post.html.j2"):
        source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        assert cached.get_bucket(env, name, filename, source).code is not None, name


def test_a_corrupt_entry_is_compiled_again_not_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    without = rendered(None)
    rendered(cache)
    for entry in cache.iterdir():
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2])  # a process killed mid-write, say
    assert rendered(cache) == without
    assert rendered(cache) == without  # and written again whole


def test_a_folder_that_cannot_take_entries_is_no_cache_not_an_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("in the way")
    assert rendered(not_a_folder) == rendered(None)


def test_each_environment_has_its_own_entries(tmp_path: Path) -> None:
    """The index's environment compiles without the one-line extension: the same
    template compiled there must never be loaded by the cards' environment."""
    cards = template_cache(common.__name__, str(tmp_path))
    index = template_cache(index_page.__name__, str(tmp_path))
    assert cards is not None and index is not None
    keys = {c.get_cache_key("_post.html.j2", "f") for c in (cards, index)}
    assert len(keys) == 2
