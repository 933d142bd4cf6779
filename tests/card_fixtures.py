"""Posts covering every status, media kind, script direction and amount of data, and
the pages that show them: used by the browser tests and by docs/screenshots.py.

Media files are real PNGs written to disk (a few hundred bytes each, made here so no
binary sits in the repository). Pages are built with the project's own renderers.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from archiver import platforms
from archiver.models import MediaItem, Post
from archiver.render import EmbeddingArticle, render_embed, render_post_page

# What a news theme does to every blockquote, link, image and time on its pages.
# (A theme's "!important" would beat any stylesheet, so it is left out on purpose.)
HOSTILE_CSS = """
* { box-sizing: content-box; }
body { font-family: Georgia, serif; color: #333; }
blockquote { font-style: italic; border-left: 10px solid #d00; margin: 1.5em 60px; padding: 30px;
  background: #ffe; font-size: 22px; text-align: justify; quotes: "\\201C" "\\201D"; }
blockquote::before { content: open-quote; font-size: 80px; color: #d00; }
blockquote p { text-transform: uppercase; margin: 2em 0; }
a { color: red; text-decoration: underline wavy; }
.entry-content a { color: red; font-weight: 900; }
img { width: 100%; height: 300px; border: 5px solid blue; }
p { line-height: 3; }
time { display: none; }
bdi { unicode-bidi: normal; }
span { letter-spacing: 3px; }
"""

BASE = dict(
    platform="x",
    lang="en",
    dir="ltr",
    status="live",
    source="syndication",
    first_seen_at="2026-02-10T08:00:00.000Z",
    archived_at="2026-02-10T08:00:00.000Z",
    last_checked_at="2026-02-12T09:30:00.000Z",
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG with a top-to-bottom gradient from ``rgb`` (a real image a browser decodes)."""
    rows = []
    for y in range(height):
        shade = bytes(min(255, c + (255 - c) * y * 2 // (3 * max(height, 1))) for c in rgb)
        rows.append(b"\x00" + shade * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


MEDIA_FILES = {
    "av-1.png": (96, 96, (29, 155, 240)),
    "av-2.png": (96, 96, (0, 150, 110)),
    "p-wide.png": (1200, 675, (70, 110, 160)),
    "p-tall.png": (600, 900, (150, 90, 60)),
    "p-sq.png": (800, 800, (90, 140, 70)),
    "p-4.png": (1000, 700, (120, 80, 140)),
    "poster.png": (1280, 720, (30, 30, 40)),
    "card.png": (1200, 628, (200, 170, 90)),
    "clip.mp4": (0, 0, (0, 0, 0)),
}


def write_media(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (w, h, rgb) in MEDIA_FILES.items():
        data = png(w, h, rgb) if w else b"\x00\x00\x00\x18ftypmp42"  # a stub, never played
        (folder / name).write_bytes(data)


def photo(name: str, alt: str | None = None) -> MediaItem:
    w, h, _ = MEDIA_FILES[name]
    return MediaItem("photo", f"https://pbs.twimg.com/media/{name}", alt, w, h, local_path=name)


def post(post_id: str, **kw: Any) -> Post:
    handle = kw.get("author_handle", "newsdesk")
    fields: dict[str, Any] = dict(
        BASE,
        key=f"x:{post_id}",
        post_id=post_id,
        url=f"https://x.com/{handle}/status/{post_id}",
        author_handle=handle,
        author_name="News Desk",
        text=None,
        html=None,
        created_at="2026-02-09T14:31:07.123Z",
    )
    fields.update(kw)
    if fields["text"] is None and fields["html"]:
        fields["text"] = re.sub(r"<[^>]+>", "", fields["html"].replace("<br>", "\n"))
    return Post(**fields)


QUOTED = post(
    "2020000000000000001",
    author_handle="scientist",
    author_name="Dr. Priya Raman",
    author_avatar="av-2.png",
    html="New paper out today: what we learned from ten years of monsoon data.",
    media=[photo("p-sq.png", "A chart of rainfall by year")],
)


def fixtures() -> dict[str, Post]:
    """Name → post, one per case the card must handle."""
    return {
        "live": post(
            "2020868064400117767",
            author_handle="MrinankSharma",
            author_name="mrinank",
            author_avatar="av-1.png",
            author_verified="blue",
            html=(
                "Today is my last day at Anthropic. I resigned.<br><br>Here is the letter "
                "I shared with my colleagues, explaining my decision. Thanks @AnthropicAI "
                '#AI <a href="https://t.co/Qe4QyAFmxL">pic.twitter.com/Qe4QyAFmxL</a>'
            ),
            media=[photo("p-wide.png", "The first page of a letter")],
        ),
        "photos_quote": post(
            "2020868064400117768",
            author_avatar="av-1.png",
            author_verified="business",
            html="Scenes from the flood relief camp this morning. Thread on what is needed.",
            media=[
                photo("p-wide.png", "Volunteers unloading a truck"),
                photo("p-tall.png", "A child holding a water bottle"),
                photo("p-sq.png", "Tents in rows"),
            ],
            quoted=QUOTED,
            quoted_key=QUOTED.key,
        ),
        "four_photos": post(
            "2020868064400117769",
            html="Four views of the new bridge.",
            media=[
                photo("p-wide.png", "North side"),
                photo("p-tall.png", "A pillar"),
                photo("p-sq.png", "The deck"),
                photo("p-4.png", "At night"),
            ],
        ),
        "video_gif": post(
            "2020868064400117770",
            html="The launch, and the crowd afterwards.",
            media=[
                MediaItem(
                    "video",
                    "https://video.twimg.com/v.mp4",
                    "The rocket lifting off",
                    1280,
                    720,
                    local_path="clip.mp4",
                    poster_local_path="poster.png",
                ),
                MediaItem(
                    "animated_gif", "https://video.twimg.com/g.mp4", None, local_path="clip.mp4"
                ),
            ],
        ),
        "card_poll": post(
            "2020868064400117771",
            html="Which story should we follow up on? Background: https://example.org/story",
            card={
                "type": "poll",
                "choices": [
                    {"label": "The budget", "count": 412},
                    {"label": "The floods", "count": 1288},
                    {"label": "The election", "count": 97},
                ],
                "counts_final": True,
            },
            reply_to_key="x:2020000000000000009",
        ),
        "link_card": post(
            "2020868064400117772",
            author_avatar="av-2.png",
            author_verified="government",
            author_name="Ministry of Information",
            author_handle="MoInfo",
            html='Read the full statement: <a href="https://example.org/statement">example.org/statement</a>',
            card={
                "type": "link",
                "url": "https://example.org/statement",
                "title": "Statement on the new data law",
                "description": "What changes for citizens and companies from 1 March.",
                "domain": "example.org",
                "image": "card.png",
            },
        ),
        "deleted": post(
            "2020868064400117773",
            status="deleted",
            source="markup",
            status_changed_at="2026-02-11T10:00:00.000Z",
            author_name="Someone Important",
            author_handle="someone",
            html="I never said that. (This post was deleted a day later.)",
        ),
        "protected": post(
            "2020868064400117774",
            status="protected",
            status_changed_at="2026-02-11T10:00:00.000Z",
            author_avatar="av-1.png",
            html="Going private for a while.",
        ),
        "suspended": post(
            "2020868064400117775",
            status="suspended",
            status_changed_at="2026-02-11T10:00:00.000Z",
            html="Buy now!!! Limited offer",
        ),
        "unavailable": post(
            "2020868064400117776",
            status="unavailable",
            source="oembed",
            html="Live updates from the court.",
            media=[photo("p-wide.png", "The court building")],
        ),
        "arabic": post(
            "2020868064400117777",
            author_handle="newsdesk_ar",
            author_name="مكتب الأخبار",
            lang="ar",
            dir="rtl",
            html="عاجل: افتتاح الجسر الجديد اليوم بحضور الوزير. التفاصيل في #الأخبار @newsdesk",
            media=[photo("p-wide.png", "صورة الجسر الجديد")],
        ),
        "hindi_markup": post(
            "2020868064400117778",
            status="unknown",
            source="markup",
            last_checked_at=None,
            author_handle="hindinews",
            author_name="हिंदी समाचार",
            lang="hi",
            dir=None,
            created_at=None,
            date_text="February 9, 2026",
            html="नमस्ते, आज की मुख्य ख़बरें यहाँ पढ़ें। 🙏🇮🇳 #समाचार",
        ),
        "japanese": post(
            "2020868064400117779",
            author_name="東京ニュース",
            author_handle="tokyo_news",
            lang="ja",
            html="今日の東京は晴れ。桜が満開です 🌸 #東京",
        ),
        "bluesky": BLUESKY_POST,
        "mastodon": MASTODON_POST,
    }


# Bluesky and Mastodon: the same card, with their own handles, links and words.
_DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
_BSKY_QUOTED = post(
    "did:plc:ewvi7nxzyoun6zhxrhs64oiz/3kqmooj3ems2w",
    platform="bluesky",
    key="bluesky:did:plc:ewvi7nxzyoun6zhxrhs64oiz/3kqmooj3ems2w",
    url="https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/post/3kqmooj3ems2w",
    source="appview",
    author_handle="harbour.example.org",
    author_name="Harbour Authority",
    author_avatar="av-2.png",
    created_at="2024-04-21T06:09:13.063Z",
    html="Ferry timetable changes from Monday.",
)
BLUESKY_POST = post(
    f"{_DID}/3lbv5is6h6c2k",
    platform="bluesky",
    key=f"bluesky:{_DID}/3lbv5is6h6c2k",
    url=f"https://bsky.app/profile/{_DID}/post/3lbv5is6h6c2k",
    source="appview",
    author_handle="citydesk.bsky.social",
    author_name="City Desk",
    author_avatar="av-1.png",
    created_at="2024-11-26T23:04:02.981Z",
    html=(
        'Storm update with <a href="https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz">'
        '@harbour.example.org</a>: roads closed, see <a href="https://example.org/roads">'
        "example.org/roads</a> #storm"
    ),
    media=[
        photo("p-wide.png", "Flooded road by the harbour"),
        photo("p-sq.png", "A closed sign"),
        # Bluesky's video is an HLS stream: only its still is archived.
        MediaItem(
            "video",
            "https://video.bsky.app/watch/did%3Aplc%3Az72i7hdynmk6r22z27h6tvur/c/playlist.m3u8",
            "Waves over the sea wall",
            1280,
            720,
            content_type="application/vnd.apple.mpegurl",
            poster_local_path="poster.png",
        ),
    ],
    quoted=_BSKY_QUOTED,
    quoted_key=_BSKY_QUOTED.key,
)
MASTODON_POST = post(
    "social.example/113486342108431234",
    platform="mastodon",
    key="mastodon:social.example/113486342108431234",
    url="https://social.example/@reporter/113486342108431234",
    source="api",
    author_handle="reporter",
    author_name="Field Reporter",
    author_avatar="av-2.png",
    created_at="2024-11-18T09:15:00.000Z",
    html=(
        "Which road should reopen first? Ask @editor@other.example #roads "
        '<a href="https://social.example/tags/storm">#storm</a>'
    ),
    notice="Edited: 2 versions between 2024-11-18T09:15:00.000Z and 2024-11-18T09:20:00.000Z",
    card={
        "type": "poll",
        "choices": [{"label": "Harbour Road", "count": 30}, {"label": "Hill Road", "count": 10}],
        "counts_final": True,
    },
    media=[photo("p-wide.png", "The hill road under water")],
)


@dataclass
class Site:
    """Rendered output on disk: one host article per post, pages, media."""

    root: Path
    articles: dict[str, Path]
    pages: dict[str, Path]
    all_in_one: Path


def host_page(title: str, body: str, css: str = HOSTILE_CSS, lang: str = "en") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{css}</style></head><body>"
        f'<article class="entry-content"><h1>{title}</h1>'
        "<p>The minister spoke to reporters on Monday. This is what was posted:</p>"
        f"{body}<p>The article goes on after the post.</p></article></body></html>"
    )


def copy_href(p: Post) -> str:
    """Where the post's local copy page lives, as a run names it."""
    stem = platforms.get(p.platform).file_stem(p.post_id)
    return f"embeds/{p.platform}/{stem}.html"


def build_site(root: Path, css: str = HOSTILE_CSS) -> Site:
    """Write every fixture as a rewritten article (in a hostile theme) and a local page."""
    media = root / "embeds" / "media"
    write_media(media)
    posts = fixtures()
    articles: dict[str, Path] = {}
    pages: dict[str, Path] = {}
    embeds = []
    for name, p in posts.items():
        href = copy_href(p)
        page = root / href
        page.parent.mkdir(parents=True, exist_ok=True)
        versions = _versions(p)
        page.write_text(
            render_post_page(
                p,
                "../media/",
                articles=[EmbeddingArticle(f"Article about {name}", f"../../{name}.html", None)],
                versions=versions,
            ),
            encoding="utf-8",
        )
        pages[name] = page
        lang = "hi" if name == "hindi_markup" else None
        embed = render_embed(p, href, "embeds/media/", lang=lang)
        # In one article only the first card carries the style, as a run writes it.
        embeds.append(render_embed(p, href, "embeds/media/", lang, not embeds))
        article = root / f"{name}.html"
        article.write_text(host_page(f"Story: {name}", embed, css, lang or "en"), encoding="utf-8")
        articles[name] = article
    all_in_one = root / "all.html"
    all_in_one.write_text(host_page("Every card", "".join(embeds), css), encoding="utf-8")
    return Site(root, articles, pages, all_in_one)


@dataclass
class _Snap:
    captured_at: str
    source: str
    status: str
    text: str | None
    author_name: str | None
    content_hash: str


def _versions(p: Post) -> list[_Snap]:
    first = _Snap("2026-02-10T08:00:00.000Z", "markup", "unknown", p.text, p.author_name, "a")
    out = [first]
    if p.source != "markup":
        out.append(
            replace(
                first,
                captured_at="2026-02-10T08:05:00.000Z",
                source=p.source,
                status="live",
                content_hash="b",
            )
        )
    if p.status not in ("live", "unknown"):
        out.append(
            replace(
                out[-1], captured_at="2026-02-11T10:00:00.000Z", status=p.status, content_hash="c"
            )
        )
    return out


# The page of one period that build_index writes next to the front page.
MONTH_PAGE = "index-2026-02-2.html"


def build_index(root: Path) -> Path:
    """The index's front page over every fixture, as write_index renders it from the
    archive, and a page of one period (``MONTH_PAGE``)."""
    import json
    from importlib.resources import files

    from archiver.index_nav import filters, month_of, pager, period_links
    from archiver.index_page import render_index_page
    from archiver.index_rows import index_row, search_entry

    embeds = root / "embeds"
    index = embeds / "index.html"
    rows = []
    entries = []
    posts = sorted(fixtures().items(), key=lambda kv: kv[1].post_id, reverse=True)
    for name, p in posts:
        row = {
            "key": p.key,
            "post_id": p.post_id,
            "url": p.url,
            "author_handle": p.author_handle,
            "author_name": p.author_name,
            "text": p.text,
            "lang": p.lang,
            "dir": p.dir,
            "created_at": p.created_at,
            "status": p.status,
            "local_path": copy_href(p),
        }
        articles = [
            {
                "location": f"news/{name}.html",
                "url": None,
                "path": None,
                "output_path": str(root / f"{name}.html"),
            }
        ]
        rows.append(index_row(row, articles, index, root))
        entries.append(search_entry(rows[-1], row))
    counts: dict[str | None, int] = {None: len(posts)}
    months: dict[str, int] = {}
    for _, p in posts:
        counts[p.status] = counts.get(p.status, 0) + 1
        months[month_of(p.created_at)] = months.get(month_of(p.created_at), 0) + 1
    index.parent.mkdir(parents=True, exist_ok=True)
    html = render_index_page(
        rows,
        len(posts),
        generated="2026-02-12",
        filters=filters(counts, None),
        periods=period_links(months, None, 100),
    )
    index.write_text(html, encoding="utf-8")
    # A page of one period, with the pager a period of two pages shows on its newest.
    month = render_index_page(rows, len(posts), page=pager(None, "2026-02", 2, 2), period="2026-02")
    (embeds / MONTH_PAGE).write_text(month, encoding="utf-8")
    # The search box's script and data, as write_index writes them (one file here).
    script = files("archiver").joinpath("templates", "search.js").read_text(encoding="utf-8")
    (embeds / "search.js").write_text(script, encoding="utf-8")
    data = json.dumps({"posts": entries}, ensure_ascii=False)
    (embeds / "search-2026-02-1.js").write_text(f"embedArchiverSearchChunk({data});\n", "utf-8")
    files_list = json.dumps({"files": ["search-2026-02-1.js"]})
    (embeds / "search-index.js").write_text(f"embedArchiverSearchIndex({files_list});\n", "utf-8")
    return index
