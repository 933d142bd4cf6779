"""restore: run -> restore -> every article's output equals its source, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from archive_helpers import build_archive, default_articles, page, tweet
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "articles"


def all_articles() -> dict[str, str | bytes]:
    """Our own articles plus every example (AMP, iframe, WordPress block, windows-1252)."""
    articles: dict[str, str | bytes] = dict(default_articles())
    for path in EXAMPLES.rglob("*.htm*"):
        articles["examples/" + path.relative_to(EXAMPLES).as_posix()] = path.read_bytes()
    # UTF-16 pages are transcoded for scanning: restoring must give the same bytes back.
    utf16 = page("UTF-16", tweet("1641086480675225601", "hindinews", "समाचार", "नमस्ते"))
    articles["utf16.html"] = b"\xff\xfe" + utf16.replace(
        'charset="utf-8"', 'charset="utf-16"'
    ).encode("utf-16-le")
    return articles


def sources_and_outputs(config: Path) -> list[tuple[bytes, bytes]]:
    source_root, out_root = config.parent / "articles", config.parent / "out"
    pairs = []
    for source in sorted(source_root.rglob("*.htm*")):
        output = out_root / source.relative_to(source_root)
        pairs.append((source.read_bytes(), output.read_bytes()))
    return pairs


def test_run_then_restore_gives_back_the_sources(tmp_path: Path) -> None:
    config = build_archive(tmp_path, all_articles())
    pairs = sources_and_outputs(config)
    assert len(pairs) == 8
    marker = "data-archived-post"
    assert all(marker.encode() in out or marker.encode("utf-16-le") in out for _, out in pairs)
    assert all(src != out for src, out in pairs)  # the run did rewrite them all

    result = CliRunner().invoke(cli, ["--config", str(config), "restore", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert all(r["error"] is None and r["missing"] == 0 for r in report)
    assert sum(r["restored"] for r in report) >= 10
    for source, output in sources_and_outputs(config):
        assert output == source

    # Restoring again changes nothing.
    again = CliRunner().invoke(cli, ["--config", str(config), "restore", "--json"])
    assert not any(r["changed"] for r in json.loads(again.output))


def test_restore_named_articles_only(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        results = archive.restore(["tech/history.html"])
    assert [(r.location, r.restored, r.changed) for r in results] == [
        ("articles/tech/history.html", 3, True)
    ]
    history = (tmp_path / "out" / "tech" / "history.html").read_bytes()
    assert history == (tmp_path / "articles" / "tech" / "history.html").read_bytes()
    assert b"data-archived-post" in (tmp_path / "out" / "solo.html").read_bytes()


def test_restore_unknown_article_exits_3(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "restore", "nope.html"])
    assert result.exit_code == 3
    # Nothing was restored before the unknown name was reported.
    assert b"data-archived-post" in (tmp_path / "out" / "solo.html").read_bytes()


def test_restore_in_place(tmp_path: Path) -> None:
    """With output.in_place the sources themselves are rewritten, then restored."""
    articles = all_articles()
    config = build_archive(tmp_path, articles, in_place=True)
    root = tmp_path / "articles"
    encoded = {k: v if isinstance(v, bytes) else v.encode("utf-8") for k, v in articles.items()}
    assert all((root / relpath).read_bytes() != data for relpath, data in encoded.items())
    with Archive.from_config(config) as archive:
        results = archive.restore()
    assert all(r.error is None and r.missing == 0 for r in results)
    for relpath, original in encoded.items():
        assert (root / relpath).read_bytes() == original, relpath


def test_restore_all_skips_articles_that_were_never_rewritten(tmp_path: Path) -> None:
    """A binary file in the source is an article with an error, not a restore failure."""
    import shutil

    shutil.copytree(Path(__file__).parent.parent / "examples" / "articles", tmp_path / "articles")
    (tmp_path / "articles" / "broken.html").write_bytes(b"\x00\x01binary" * 50)
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - kind: directory\n    path: articles\nx:\n  fetch: false\n")
    runner = CliRunner()
    runner.invoke(cli, ["--config", str(config), "run"])
    result = runner.invoke(cli, ["--config", str(config), "restore", "--json"])
    assert result.exit_code == 0, result.output
    restored = json.loads(result.stdout)
    assert "articles/broken.html" not in [r["article"] for r in restored]
    assert len(restored) == 4 and all(r["error"] is None for r in restored)


@pytest.mark.parametrize("in_place", [False, True], ids=["output-folder", "in-place"])
def test_restored_articles_stay_restored_until_edited_or_regenerated(
    tmp_path: Path, in_place: bool
) -> None:
    """After restore, a plain run (the service's next pass) leaves the originals, in
    either output mode; regenerate, or an edit of the article, archives it again."""
    config = build_archive(tmp_path, in_place=in_place)
    folder = tmp_path / ("articles" if in_place else "out")
    solo, history = folder / "solo.html", folder / "tech" / "history.html"
    marker = b"data-archived-post"

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.output

    invoke("restore")
    restored = {path: path.read_bytes() for path in (solo, history)}
    assert not any(marker in data for data in restored.values())
    assert '"articles_rewritten": 0' in invoke("run", "--json")
    assert {path: path.read_bytes() for path in (solo, history)} == restored

    invoke("regenerate", "solo.html")
    assert marker in solo.read_bytes() and history.read_bytes() == restored[history]

    source = tmp_path / "articles" / "tech" / "history.html"
    source.write_bytes(source.read_bytes().replace(b"The end.", b"The end, edited."))
    invoke("run")
    assert marker in history.read_bytes()
