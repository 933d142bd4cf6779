"""Build real archives for the query, export, restore and index tests.

Articles are real files in tmp_path, the archive a real SQLite file built by
``Archive.run()`` with fetching off: no mocks, no network.
"""

from __future__ import annotations

from pathlib import Path

from archiver import Archive
from archiver.clock import utc_now
from archiver.models import PostSnapshot

# Hindi, Arabic, hostile markup and a name full of quotes: what the archive must survive.
HINDI_TEXT = "नमस्ते दुनिया, आज चुनाव का परिणाम आया"
ARABIC_TEXT = "تجربة النشر المباشر من الموقع الجديد اليوم مع @newsdesk"
HOSTILE_TEXT = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"
HOSTILE_NAME = 'Evil "Quote" <b>Name</b>'


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def tweet(post_id: str, handle: str, name: str, text: str, date: str = "March 21, 2024") -> str:
    """The markup X's embed button produces for a post (text and name are escaped)."""
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{_escape(text)}</p>'
        f"&mdash; {_escape(name)} (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{post_id}?ref_src=twsrc%5Etfw">{date}</a>'
        "</blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )


def page(title: str, *embeds: str, charset: str = "utf-8") -> str:
    body = "\n<p>Some prose between the embeds.</p>\n".join(embeds)
    return (
        f'<!doctype html>\n<html><head><meta charset="{charset}"><title>{title}</title></head>\n'
        f"<body>\n<h1>{title}</h1>\n{body}\n<p>The end.</p>\n</body></html>\n"
    )


# Ids are real snowflakes so created_at comes from the id: 2023-03-29 and 2025-01-03 …
POST_ELECTION = "1641086480675225601"  # 2023-03-29
POST_ARABIC = "1875083037872181254"  # 2025-01-03
POST_HOSTILE = "1629307668568633344"  # 2023-02-25
POST_JACK = "20"  # 2006-03-21 (pre-snowflake: date from the markup)


def default_articles() -> dict[str, str]:
    election = tweet(POST_ELECTION, "hindinews", "हिंदी समाचार", HINDI_TEXT, "March 29, 2023")
    arabic = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT, "January 3, 2025")
    hostile = tweet(POST_HOSTILE, "evil_user", HOSTILE_NAME, HOSTILE_TEXT, "February 25, 2023")
    jack = tweet(POST_JACK, "jack", "jack", "just setting up my twttr", "March 21, 2006")
    return {
        "world/elections.html": page("Elections", election, arabic),
        "tech/history.html": page("History", jack, hostile, jack),
        "solo.html": page("Solo", arabic),
    }


def make_project(
    tmp_path: Path,
    articles: dict[str, str | bytes] | None = None,
    extra: str = "",
    in_place: bool = False,
) -> Path:
    """Write articles and a config.yaml under tmp_path; return the config's path."""
    (tmp_path / "articles").mkdir(parents=True, exist_ok=True)
    for relpath, content in (articles if articles is not None else default_articles()).items():
        target = tmp_path / "articles" / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n  - kind: directory\n    path: articles\n"
        f"output:\n  dir: out\n  in_place: {'true' if in_place else 'false'}\n"
        "x:\n  fetch: false\n" + extra,
        encoding="utf-8",
    )
    return config


def build_archive(
    tmp_path: Path,
    articles: dict[str, str | bytes] | None = None,
    extra: str = "",
    in_place: bool = False,
) -> Path:
    """make_project + one run; return the config's path."""
    config = make_project(tmp_path, articles, extra, in_place)
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == [], report.errors
    return config


def set_status(config: Path, post_id: str, status: str) -> None:
    """Record a network check that found the post in ``status`` (e.g. deleted)."""
    with Archive.from_config(config) as archive:
        snap = PostSnapshot(post_id=post_id, status=status, source="syndication", http_status=404)
        archive.store.record_check(post_id, snap, None, "2099-01-01T00:00:00.000Z", utc_now())
