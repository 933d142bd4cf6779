"""Render archived posts as static, script-free HTML.

Two outputs:

* ``render_embed``: the stable embed spliced into an article where the original embed
  was. It must be byte-for-byte deterministic (rewriting is idempotent only if the same
  ``Post`` always renders the same bytes), one line (so Markdown keeps it as a single
  raw-HTML block), and carry ``data-archived-post`` so a later scan recognises it.
* ``render_post_page``: a self-contained page per post, with provenance.

Everything shown comes from strangers. Templates autoescape; every URL is checked
here, in Python, before a template sees it (http(s) for links, safe relative paths
for local media), so the templates stay dumb and the checks are testable.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from archiver.models import (
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
    Post,
)
from archiver.snapshot.sanitize import safe_http_url, sanitize_post_html, text_to_html
from archiver.snapshot.snowflake import created_at_from_id

__all__ = [
    "EmbeddingArticle",
    "SnapshotLike",
    "document_lang",
    "human_date",
    "post_time",
    "render_embed",
    "render_post_page",
]

# Links to the outside world: no referrer, no SEO endorsement of strangers' links.
LINK_REL = "nofollow noopener noreferrer"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T|$)")
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_X_KEY = re.compile(r"^x:([0-9]{1,20})$")
# Our media files are content-addressed names, maybe in subdirectories.
_LOCAL_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Static-site generators (Hugo, Jekyll/Liquid, Nunjucks) would execute these in
# archived text; an NCR for "{" reads the same in HTML.
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])|(?<=\{)\{")

_NOTICES: dict[str, str] = {
    STATUS_DELETED: "This post was deleted",
    STATUS_PROTECTED: "This post is no longer public: the account is protected",
    STATUS_SUSPENDED: "The account that wrote this post is suspended",
    STATUS_UNAVAILABLE: "This post is no longer available on X",
}
# Sources that read the post from X itself: a copy from one of them was live then.
_NETWORK_SOURCES = ("syndication", "oembed", "wayback")
_VERIFIED = {"blue": "blue", "verified": "blue", "business": "business", "government": "government"}

# Dates in the article's language: month names and the order of the parts. A few
# languages by hand (no locale database needed for twelve words); anything else is
# English. Month names are "|"-separated (split on use, once per embed).
_LOCAL_MONTHS = {
    "hi": "जनवरी|फ़रवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|अक्तूबर|नवंबर|दिसंबर",
    "ar": "يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر",
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    "noviembre|diciembre",
    "fr": "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
    "de": "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember",
    "pt": "janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|"
    "novembro|dezembro",
}
# (date, what joins the time to it) per language.
_LOCAL_FORMAT = {
    "hi": ("{d} {m} {y}", ", "),
    "ar": ("{d} {m} {y}", "، "),
    "es": ("{d} de {m} de {y}", ", "),
    "fr": ("{d} {m} {y}", " à "),
    "de": ("{d}. {m} {y}", ", "),
    "pt": ("{d} de {m} de {y}", ", "),
    "ja": ("{y}年{n}月{d}日", " "),
}
_ISO_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")

# Links, @mentions and #hashtags in post text, linked like the original widget does,
# only in the text between tags and existing links.
_MARKUP_TOKEN = re.compile(r"<a\b[^>]*>.*?</a>|<[^>]*>", re.S)
# Bare URLs in plain text (markup and syndication HTML already link theirs); a
# trailing full stop, comma or closing bracket is punctuation, not part of the URL.
_BARE_URL = re.compile(r"(?<![\w/\"'=])(https?://[^\s<>\"']+?)(?=[.,;:!?)\]]*(?:\s|<|$))")
# Names: not after a word character (e-mail addresses) or "&" (character references).
_MENTION = re.compile(r"(?<![\w@#&])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
# Marks (Devanagari and Arabic vowel signs, joiners) are part of a hashtag's word.
_TAG_CHAR = (
    r"[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0903\u093a-\u094f"
    r"\u0951-\u0957\u0962\u0963\u200c\u200d]"
)
_HASHTAG = re.compile(rf"(?<![\w#&])#({_TAG_CHAR}{{1,100}})")


# --- template environment ---------------------------------------------------------------


class _OneLine(Extension):
    """Strip source line breaks (and the indentation after them) from one-line templates.

    The embed must be a single line, but templates are easier to read on many lines;
    removing ``\\n`` plus indentation from the *template source* (never from values)
    gives both. Applies to ``embed*`` and ``_*`` (macro) templates.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name and (name.startswith("embed") or name.startswith("_")):
            return re.sub(r"\n[ \t]*", "", source)
        return source


@lru_cache(maxsize=1)
def _env() -> Environment:
    # Created on first use: importing this module never touches the filesystem.
    env = Environment(
        loader=PackageLoader("archiver", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[_OneLine],
        keep_trailing_newline=False,
        # Templates ship with the package: no stat() of every file on every render.
        auto_reload=False,
    )
    env.filters["post_html"] = _post_html_filter
    # A global, not a render variable: the macros are then imported without context,
    # which Jinja caches instead of running _post.html.j2 again for every embed.
    env.globals["rel"] = LINK_REL
    return env


# The exact shape our sanitizer produces: escaped text, <br>, and links with a
# plain http(s) href. Stored HTML of this shape is provably inert, so it skips
# the (much slower) full re-parse; anything else is re-sanitized.
_SANITIZED_SHAPE = re.compile(
    r'(?:[^<>&"]|"|&(?:amp|lt|gt|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});'
    r'|<br>|<a href="https?://[^"<>\s`\\]+">|</a>)*\Z'
)
_LINK_OPEN = re.compile(r'<a href="([^"]+)">')


def _post_html_filter(value: str | None) -> Markup:
    """Re-check stored post HTML on output: it came from our sanitizer, but trust nothing stored."""
    if not value:
        return Markup("")
    if _SANITIZED_SHAPE.match(value):
        return Markup(_LINK_OPEN.sub(rf'<a href="\1" rel="{LINK_REL}">', value))
    return Markup(sanitize_post_html(value, rel=LINK_REL))


def isolate_mentions(text: str) -> Markup:
    """Plain text, escaped, with each @mention in its own ``<bdi dir="ltr">``, so that
    right-to-left text around it cannot show "@newsdesk" as "newsdesk@"."""
    return Markup(_MENTION.sub(r'<bdi dir="ltr">@\1</bdi>', html.escape(text, quote=True)))


def _link_mention(m: re.Match[str]) -> str:
    return f'<a href="https://x.com/{m.group(1)}" rel="{LINK_REL}" dir="ltr">@{m.group(1)}</a>'


def _link_hashtag(m: re.Match[str]) -> str:
    tag = m.group(1)
    if tag.isdigit():
        return m.group(0)  # "#1" is not a hashtag on X either
    return f'<a href="https://x.com/hashtag/{quote(tag, safe="")}" rel="{LINK_REL}">#{tag}</a>'


def link_entities(markup: Markup) -> Markup:
    """Link the @mentions and #hashtags of sanitized post HTML to X, as the widget did,
    and bare http(s) URLs (plain-text posts have no links of their own).

    Only text between tags changes (never inside a tag or an existing link); the
    names are word characters, so the links they make need no escaping.
    """
    if "@" not in markup and "#" not in markup and "://" not in markup:
        return markup
    out: list[str] = []
    pos = 0
    for token in _MARKUP_TOKEN.finditer(markup):
        out.append(_link_text(markup[pos : token.start()]))
        out.append(token.group(0))
        pos = token.end()
    out.append(_link_text(markup[pos:]))
    return Markup("".join(out))


def _link_text(text: str) -> str:
    """Link bare http(s) URLs, then mentions and hashtags in the text between them."""
    if "://" in text:
        parts = _BARE_URL.split(text)  # odd items are URLs (the pattern has one group)
        return "".join(
            _link_url(part) if i % 2 else _link_names(part) for i, part in enumerate(parts)
        )
    return _link_names(text)


def _link_names(text: str) -> str:
    # Safe in either order: a mention link holds no "#", a hashtag link no "@".
    if "@" in text:
        text = _MENTION.sub(_link_mention, text)
    if "#" in text:
        text = _HASHTAG.sub(_link_hashtag, text)
    return text


def _link_url(shown: str) -> str:
    """A bare URL of plain-text post (already HTML-escaped) as a link, if it is http(s)."""
    url = safe_http_url(html.unescape(shown))
    if url is None:
        return shown
    return f'<a href="{html.escape(url, quote=True)}" rel="{LINK_REL}">{shown}</a>'


@lru_cache(maxsize=4)
def _css(name: str = "archived.css") -> str:
    """A stylesheet of ours, minified to one line (the embed carries the card's)."""
    loader = _env().loader
    assert loader is not None
    source, _, _ = loader.get_source(_env(), name)
    css = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r" ?([{}:;,>]) ?", r"\1", css).replace(";}", "}").strip()
    # Spliced into articles in any encoding, read by template engines: see card.css.
    if not css.isascii() or "<" in css or _TEMPLATE_OPEN.search(css):
        raise ValueError(f"{name} must be ASCII without '<' or template syntax")
    return css


def card_css() -> str:
    """The post card's stylesheet, one line (for pages that style many cards at once)."""
    return _css("card.css")


# --- value checks ---------------------------------------------------------------------


def human_date(iso: str | None) -> str | None:
    """``2026-02-09T…`` → ``February 9, 2026`` (English, UTC date); None if not a date."""
    if not iso:
        return None
    m = _ISO_DATE.match(iso)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{_MONTHS[month - 1]} {day}, {year}"


def _base_lang(lang: str | None) -> str | None:
    return lang.split("-")[0].lower() if lang and _LANG.match(lang) else None


def post_time(
    iso: str | None, lang: str | None = None, day_only: bool = False
) -> tuple[str, str] | None:
    """The posting time as a reader sees it, and the language it is written in.

    ``2026-02-09T14:31:07.123Z`` → ``("2:31 PM UTC · Feb 9, 2026", "en")``; in Hindi
    (``lang="hi"``) ``("9 फ़रवरी 2026, 14:31 UTC", "hi")``. Languages without a
    format here get English. ``day_only`` leaves the time of day out (for posts whose
    id does not encode one). None if ``iso`` is not a UTC timestamp.
    """
    m = _ISO_TIME.match(iso or "")
    if not m:
        return None
    year, month, day, hour, minute = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60):
        return None
    base = _base_lang(lang)
    if base in _LOCAL_FORMAT:
        fmt, joiner = _LOCAL_FORMAT[base]
        months = _LOCAL_MONTHS[base].split("|") if base in _LOCAL_MONTHS else _MONTHS
        text = fmt.format(d=day, m=months[month - 1], n=month, y=year)
        if not day_only:
            text += f"{joiner}{hour:02d}:{minute:02d} UTC"
        return text, base
    if day_only:
        return f"{_MONTHS[month - 1]} {day}, {year}", "en"
    twelve = hour % 12 or 12
    half = "AM" if hour < 12 else "PM"
    return f"{twelve}:{minute:02d} {half} UTC · {_MONTHS[month - 1][:3]} {day}, {year}", "en"


def _check_prefix(prefix: str) -> str:
    # Embeds must not load anything from a third party: media come from our own
    # media directory, addressed relatively or from the site root.
    if (
        _SCHEME.match(prefix)
        or prefix.startswith(("//", "\\"))
        or any(c.isspace() or c in "\"'<>\\" for c in prefix)
    ):
        raise ValueError(
            f"media_href_prefix must be a relative or root-relative path, got {prefix!r}"
        )
    return prefix


def _local_src(prefix: str, path: str | None) -> str | None:
    """``prefix + path`` for a media file in our store; None for anything else."""
    if not path or not _LOCAL_PATH.match(path) or ".." in path.split("/"):
        return None
    return prefix + quote(path, safe="/")


def _safe_copy_href(href: str) -> str | None:
    """Link to the local copy: relative, root-relative or http(s); never another scheme."""
    if not href:
        return None
    if safe_http_url(href):
        return safe_http_url(href)
    if _SCHEME.match(href) or href.startswith("//"):
        return None
    if any(c.isspace() or ord(c) < 32 or c in "\"'<>\\`" for c in href):
        return None
    return href


def _safe_lang(lang: str | None) -> str | None:
    return lang if lang and _LANG.match(lang) else None


def _safe_dir(d: str | None) -> str | None:
    return d if d in ("ltr", "rtl", "auto") else None


def _id_from_key(key: str | None) -> str | None:
    m = _X_KEY.match(key or "")
    return m.group(1) if m else None


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if v >= 0 else None
    if isinstance(v, str) and v.strip().isascii() and v.strip().isdigit():
        return int(v.strip())
    return None


def _as_text(v: Any, limit: int = 500) -> str | None:
    if not isinstance(v, str):
        return None
    v = v.strip()
    return v[:limit] if v else None


# --- view model -------------------------------------------------------------------------


@dataclass
class _MediaView:
    kind: str
    src: str | None  # image to show (photo, or video poster)
    href: str | None  # local file to open (videos)
    alt: str
    width: int | None
    height: int | None
    play: str = ""  # label of the play link (videos, GIFs)

    @property
    def ratio(self) -> str | None:
        """CSS ``aspect-ratio`` that keeps the original shape while the file loads."""
        return f"{self.width} / {self.height}" if self.width and self.height else None


@dataclass
class _LinkView:
    text: str
    url: str | None


@dataclass
class _PollChoice:
    label: str
    count: int | None
    percent: int | None


@dataclass
class _CardView:
    type: str
    title: str | None = None
    description: str | None = None
    domain: str | None = None
    url: str | None = None
    image: str | None = None
    choices: list[_PollChoice] = field(default_factory=list)
    total: int | None = None
    summary: str | None = None  # poll: "1,234 votes · Final results"
    image_alt: str = ""


@dataclass
class _PostView:
    key: str
    status: str
    lang: str | None
    dir: str | None
    url: str | None
    name: str | None
    handle: str | None
    avatar: str | None
    text_html: Markup
    created_at: str | None
    date: str | None
    truncated: bool
    notice: str | None
    media: list[_MediaView]
    missing_media: int
    card: _CardView | None
    reply_to: _LinkView | None
    quoted: _PostView | None
    quoted_link: _LinkView | None
    initial: str = "?"  # shown in place of a missing avatar
    profile_url: str | None = None
    verified: str | None = None  # blue | business | government
    date_lang: str | None = None
    notice_detail: str = ""


def _last_seen_live(post: Post, live_times: list[str] | None = None) -> str | None:
    """When X last showed the post: the latest live snapshot we know of.

    ``live_times`` are capture times of snapshots with status live (the page has
    them); the current copy counts when it came from X itself rather than markup.
    """
    times = [t for t in (live_times or []) if t]
    if post.source in _NETWORK_SOURCES and post.archived_at:
        times.append(post.archived_at)
    return max(times) if times else None


def _notice_detail(post: Post, live_times: list[str] | None = None) -> str:
    if post.status not in _NOTICES:
        return ""
    seen = human_date(_last_seen_live(post, live_times))
    archived = human_date(post.archived_at)
    if seen:
        return f" Last seen live on {seen}. This is the copy archived then."
    if archived:
        return f" This copy was archived from the article on {archived}."
    return " This is an archived copy."


def _initial(name: str | None, handle: str | None) -> str:
    """The first letter (with its combining marks) of the name, else of the handle."""
    for source in (name, handle):
        text = (source or "").strip()
        if not text:
            continue
        out = text[0].upper()
        for ch in text[1:4]:
            if not unicodedata.category(ch).startswith("M"):
                break
            out += ch
        return out
    return "?"


def _media_views(post: Post, prefix: str) -> tuple[list[_MediaView], int]:
    views: list[_MediaView] = []
    missing = 0
    for m in post.media:
        if m.kind == "avatar":
            continue
        alt = (m.alt_text or "").strip()
        w = m.width if isinstance(m.width, int) and m.width > 0 else None
        h = m.height if isinstance(m.height, int) and m.height > 0 else None
        if m.kind == "photo":
            src = _local_src(prefix, m.local_path)
            if src is None:
                missing += 1
                continue
            views.append(_MediaView("photo", src, None, alt or "Image from the post", w, h))
        elif m.kind in ("video", "animated_gif"):
            href = _local_src(prefix, m.local_path)
            poster = _local_src(prefix, m.poster_local_path)
            if href is None:
                missing += 1
                continue
            label = "GIF" if m.kind == "animated_gif" else "Video"
            play = "Play GIF" if m.kind == "animated_gif" else "Play video"
            views.append(
                _MediaView(m.kind, poster, href, alt or f"{label} from the post", w, h, play)
            )
        else:
            missing += 1
    return views, missing


def _card_view(card: dict[str, Any] | None, prefix: str) -> _CardView | None:
    if not isinstance(card, dict):
        return None
    kind = card.get("type")
    if kind == "poll":
        raw = card.get("choices")
        if not isinstance(raw, list):
            return None
        choices: list[tuple[str, int | None]] = []
        for c in raw[:10]:
            if isinstance(c, dict):
                label = _as_text(c.get("label"), 200)
                if label:
                    choices.append((label, _as_int(c.get("count"))))
        if not choices:
            return None
        counts = [c for _, c in choices if c is not None]
        total = sum(counts) if len(counts) == len(choices) else None
        views = []
        for label, count in choices:
            pct = None
            if total and count is not None:
                pct = (count * 200 + total) // (2 * total)  # rounded, integer-only
            views.append(_PollChoice(label, count, pct))
        parts = []
        if total is not None:
            parts.append(f"{total:,} vote{'' if total == 1 else 's'}")
        if card.get("counts_final") is True:
            parts.append("Final results")
        return _CardView("poll", choices=views, total=total, summary=" · ".join(parts) or None)
    if kind == "link":
        url = safe_http_url(card.get("url") if isinstance(card.get("url"), str) else None)
        title = _as_text(card.get("title"), 300)
        if not url and not title:
            return None
        image = None
        for k in ("image_local_path", "image"):
            v = card.get(k)
            image = _local_src(prefix, v) if isinstance(v, str) else None
            if image:
                break
        return _CardView(
            "link",
            title=title,
            description=_as_text(card.get("description"), 500),
            domain=_as_text(card.get("domain"), 200),
            url=url,
            image=image,
            image_alt=f"Preview image: {title}" if title else "Preview image of the link",
        )
    return None


def _post_link(p: Post | None, key: str | None) -> _LinkView | None:
    """How to refer to a post we may or may not hold: its handle and an http(s) link."""
    if p is not None:
        handle = p.author_handle if p.author_handle and _HANDLE.match(p.author_handle) else None
        text = f"@{handle}" if handle else "a post"
        return _LinkView(text, safe_http_url(p.url))
    pid = _id_from_key(key)
    if pid:
        return _LinkView("a post", f"https://x.com/i/status/{pid}")
    return None


def _view(
    post: Post,
    prefix: str,
    depth: int = 0,
    lang: str | None = None,
    live_times: list[str] | None = None,
) -> _PostView:
    text_html = _post_html_filter(post.html)
    if not text_html and post.text:
        text_html = Markup(text_to_html(post.text))
    text_html = link_entities(text_html)
    created = post.created_at if post.created_at and _ISO_UTC.match(post.created_at) else None
    # A pre-snowflake id encodes no time: midnight then came from day-level date text.
    day_only = bool(created) and created_at_from_id(post.post_id) is None
    shown = post_time(created, lang, day_only=day_only)
    media, missing = _media_views(post, prefix)
    quoted = None
    quoted_link = None
    if depth == 0:
        if post.quoted is not None:
            # One level only: a quote of a quote is shown as a link, which also
            # keeps a cyclic object graph from recursing forever.
            quoted = _view(post.quoted, prefix, depth + 1, lang)
        else:
            quoted_link = _post_link(None, post.quoted_key)
    handle = (
        post.author_handle if post.author_handle and _HANDLE.match(post.author_handle) else None
    )
    return _PostView(
        key=post.key,
        status=post.status,
        lang=_safe_lang(post.lang),
        dir=_safe_dir(post.dir),
        url=safe_http_url(post.url),
        name=(post.author_name or "").strip() or None,
        handle=handle,
        avatar=_local_src(prefix, post.author_avatar),
        text_html=text_html,
        created_at=created,
        date=shown[0] if shown else ((post.date_text or "").strip() or None),
        truncated=bool(post.truncated),
        notice=_NOTICES.get(post.status),
        media=media,
        missing_media=missing,
        card=_card_view(post.card, prefix),
        reply_to=_post_link(post.reply_to, post.reply_to_key) if depth == 0 else None,
        quoted=quoted,
        quoted_link=quoted_link,
        initial=_initial(post.author_name, handle),
        profile_url=f"https://x.com/{handle}" if handle else None,
        verified=_VERIFIED.get((post.author_verified or "").lower()),
        date_lang=shown[1] if shown else None,
        notice_detail=_notice_detail(post, live_times if depth == 0 else None),
    )


def _when(iso: str | None) -> str | None:
    """``February 10, 2026 (2026-02-10T08:00:00.000Z)`` for provenance lines."""
    if not iso:
        return None
    day = human_date(iso)
    return f"{day} ({iso})" if day else iso


def _posted(post: Post, v: _PostView) -> str | None:
    """The creation time for provenance, without claiming precision we do not have."""
    if v.created_at is None:
        return v.date
    if created_at_from_id(post.post_id) is None and v.created_at.endswith("T00:00:00.000Z"):
        # Pre-snowflake id: the time came from day-level date text.
        return f"{v.date} (day only: the post id does not encode a time)"
    return v.created_at


_HTML_LANG = re.compile(
    rb"<html\b[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)", re.I
)


def document_lang(data: bytes) -> str | None:
    """The ``<html lang>`` of an article (its first 4 KB), e.g. ``hi``; None if absent."""
    m = _HTML_LANG.search(data, 0, 4096)
    return m.group(1).decode("ascii") if m else None


def neutralize_template_syntax(html: str) -> str:
    """Write the ``{`` of ``{{``, ``{%`` and ``{#`` as ``&#123;``.

    The same text in HTML, but Hugo, Jekyll and other Liquid-style templates that
    process the output never evaluate what a stranger wrote in a post.
    """
    if "{{" not in html and "{%" not in html and "{#" not in html:
        return html  # the common case, found by a fast substring search
    return _TEMPLATE_OPEN.sub("&#123;", html)


# --- public API -------------------------------------------------------------------------


def render_embed(
    post: Post,
    copy_href: str,
    media_href_prefix: str,
    lang: str | None = None,
    style: bool = True,
) -> str:
    """The static embed (a post card) that replaces an original embed span in an article.

    ``copy_href`` links to the post's local page (relative, root-relative or http(s));
    ``media_href_prefix`` is prepended to media ``local_path``s and must be relative or
    root-relative (ValueError otherwise). ``lang`` is the article's language: the
    posting time is written in it when we know how (else in English). ``style``
    includes the card's scoped ``<style>``; a page needs it once (in its first card),
    as a style element applies to the whole document. Output: one line, no trailing
    newline, no script, no third-party resource, same bytes for the same arguments.
    """
    prefix = _check_prefix(media_href_prefix)
    out = (
        _env()
        .get_template("embed.html.j2")
        .render(
            v=_view(post, prefix, lang=lang),
            copy_href=_safe_copy_href(copy_href),
        )
    )
    # Values may hold line breaks (alt text, names); as character references they
    # mean the same in HTML but keep the embed one line for Markdown.
    out = out.replace("\r", "&#13;").replace("\n", "&#10;")
    out = neutralize_template_syntax(out)
    # The style goes in last: it is checked once (one line, ASCII, no template
    # syntax), so the checks above need not scan its 6 KB for every embed.
    css = f"<style>{_css('card.css')}</style>" if style else ""
    return out.replace(_EMPTY_STYLE, css, 1)


_EMPTY_STYLE = "<style></style>"


class SnapshotLike(Protocol):
    """What the version history reads of a snapshot (storage's ``SnapshotInfo`` fits)."""

    captured_at: str
    source: str
    status: str
    text: str | None
    author_name: str | None
    content_hash: str


@dataclass(frozen=True)
class EmbeddingArticle:
    """An article that embeds the post: its name, its rewritten copy, its original URL."""

    label: str
    copy_href: str | None = None  # relative link to the rewritten copy
    url: str | None = None  # the original, for articles read over HTTP


@dataclass
class _VersionView:
    when: str
    iso: str
    changes: list[str]


_STATUS_WORDS = {
    "unknown": "not checked on X yet",
    "live": "live",
    STATUS_DELETED: "deleted",
    STATUS_PROTECTED: "protected (no longer public)",
    STATUS_SUSPENDED: "suspended account",
    STATUS_UNAVAILABLE: "unavailable",
}


def _source_words(source: str) -> str:
    if source in _NETWORK_SOURCES:
        return "Fetched from X" if source != "wayback" else "Recovered from the Internet Archive"
    if source == "archived-copy":
        return "Read back from an archived copy in an article"
    return "Archived from the article's markup"


def _day_time(iso: str) -> str:
    """``February 10, 2026, 08:05 UTC`` (or the raw value if it is not a timestamp)."""
    day = human_date(iso)
    m = _ISO_TIME.match(iso)
    if not day or not m:
        return iso
    return f"{day}, {m.group(4)}:{m.group(5)} UTC"


def _versions(versions: Sequence[SnapshotLike]) -> list[_VersionView]:
    """Every snapshot, newest first, each with what changed since the one before."""
    out: list[_VersionView] = []
    previous: SnapshotLike | None = None
    for snap in versions:
        changes: list[str] = []
        if previous is None:
            changes.append(f"{_source_words(snap.source)}: first archived copy")
        else:
            if snap.status != previous.status:
                changes.append(f"Status: {_STATUS_WORDS.get(snap.status, snap.status)}")
            if (snap.text or "") != (previous.text or "") and snap.text is not None:
                changes.append("Text edited" if previous.text else "Text added")
            if snap.author_name != previous.author_name and snap.author_name:
                changes.append("Display name changed")
            if snap.source != previous.source:
                changes.append(f"{_source_words(snap.source)}")
            if not changes and snap.content_hash != previous.content_hash:
                changes.append("Details changed (media, card or counts)")
            if not changes:
                changes.append("No visible change")
        out.append(_VersionView(_day_time(snap.captured_at), snap.captured_at, changes))
        previous = snap
    out.reverse()
    return out


def _article_views(articles: Sequence[str | EmbeddingArticle]) -> list[EmbeddingArticle]:
    out = []
    for a in articles:
        if isinstance(a, str):
            if a:
                out.append(EmbeddingArticle(a, None, safe_http_url(a)))
        else:
            out.append(
                EmbeddingArticle(a.label, _safe_copy_href(a.copy_href or ""), safe_http_url(a.url))
            )
    return out


def render_post_page(
    post: Post,
    media_href_prefix: str,
    articles: Sequence[str | EmbeddingArticle] | None = None,
    versions: Sequence[SnapshotLike] | None = None,
    index_href: str | None = "../index.html",
) -> str:
    """A self-contained HTML5 page for one archived post: the card, then provenance.

    Strict CSP (nothing loads but our own images and media), no referrer, no script.
    ``articles`` lists where the post is embedded (names, or ``EmbeddingArticle``s
    with links to the rewritten copies); ``versions`` are its snapshots, oldest first.
    """
    prefix = _check_prefix(media_href_prefix)
    history = list(versions or [])
    live_times = [s.captured_at for s in history if s.status == "live"]
    v = _view(post, prefix, live_times=live_times)
    title_who = f"@{v.handle}" if v.handle else (v.name or "unknown author")
    seen = _last_seen_live(post, live_times)
    out = (
        _env()
        .get_template("post_page.html.j2")
        .render(
            v=v,
            post=post,
            title=f"Post by {title_who} (archived)",
            css=Markup(_css("card.css") + _css()),
            articles=_article_views(articles or []),
            versions=_versions(history),
            source_words=_source_words(post.source),
            archived_day=human_date(post.archived_at),
            status_words=_STATUS_WORDS.get(post.status, post.status),
            checked_day=human_date(post.last_checked_at),
            seen_day=human_date(seen),
            changed_day=human_date(post.status_changed_at),
            posted=_posted(post, v),
            first_seen=_when(post.first_seen_at),
            archived=_when(post.archived_at),
            status_changed=_when(post.status_changed_at),
            last_checked=_when(post.last_checked_at),
            index_href=_safe_copy_href(index_href or ""),
            rel=LINK_REL,
        )
    )
    return neutralize_template_syntax(out)
