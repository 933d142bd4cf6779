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

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
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

__all__ = ["human_date", "render_embed", "render_post_page"]

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

_NOTICES = {
    STATUS_DELETED: "This post was deleted",
    STATUS_PROTECTED: "This post is no longer public (the account is protected)",
    STATUS_SUSPENDED: "The account that wrote this post is suspended",
    STATUS_UNAVAILABLE: "This post is no longer available",
}


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
    )
    env.filters["post_html"] = _post_html_filter
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


@lru_cache(maxsize=1)
def _css() -> str:
    loader = _env().loader
    assert loader is not None
    source, _, _ = loader.get_source(_env(), "archived.css")
    # No template syntax can hide in it (it is ours), but keep it compact.
    css = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"\s*\n\s*", "", css).strip()


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


def _notice(post: Post) -> str | None:
    base = _NOTICES.get(post.status)
    if base is None:
        return None
    when = human_date(post.archived_at)
    return f"{base}; archived copy from {when}." if when else f"{base}; archived copy."


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
            views.append(_MediaView(m.kind, poster, href, alt or f"{label} from the post", w, h))
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
        return _CardView("poll", choices=views, total=total)
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


def _view(post: Post, prefix: str, depth: int = 0) -> _PostView:
    text_html = _post_html_filter(post.html)
    if not text_html and post.text:
        text_html = Markup(text_to_html(post.text))
    created = post.created_at if post.created_at and _ISO_UTC.match(post.created_at) else None
    media, missing = _media_views(post, prefix)
    quoted = None
    quoted_link = None
    if depth == 0:
        if post.quoted is not None:
            # One level only: a quote of a quote is shown as a link, which also
            # keeps a cyclic object graph from recursing forever.
            quoted = _view(post.quoted, prefix, depth + 1)
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
        date=human_date(created) or ((post.date_text or "").strip() or None),
        truncated=bool(post.truncated),
        notice=_notice(post),
        media=media,
        missing_media=missing,
        card=_card_view(post.card, prefix),
        reply_to=_post_link(post.reply_to, post.reply_to_key) if depth == 0 else None,
        quoted=quoted,
        quoted_link=quoted_link,
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


def neutralize_template_syntax(html: str) -> str:
    """Write the ``{`` of ``{{``, ``{%`` and ``{#`` as ``&#123;``.

    The same text in HTML, but Hugo, Jekyll and other Liquid-style templates that
    process the output never evaluate what a stranger wrote in a post.
    """
    return _TEMPLATE_OPEN.sub("&#123;", html)


# --- public API -------------------------------------------------------------------------


def render_embed(post: Post, copy_href: str, media_href_prefix: str) -> str:
    """The static embed that replaces an original embed span in an article.

    ``copy_href`` links to the post's local page (relative, root-relative or http(s));
    ``media_href_prefix`` is prepended to media ``local_path``s and must be relative or
    root-relative (ValueError otherwise). Output: one line, no trailing newline, no
    script, no third-party resource, same bytes for the same ``post``.
    """
    prefix = _check_prefix(media_href_prefix)
    out = (
        _env()
        .get_template("embed.html.j2")
        .render(v=_view(post, prefix), copy_href=_safe_copy_href(copy_href), rel=LINK_REL)
    )
    # Values may hold line breaks (alt text, names); as character references they
    # mean the same in HTML but keep the embed one line for Markdown.
    out = out.replace("\r", "&#13;").replace("\n", "&#10;")
    return neutralize_template_syntax(out)


def render_post_page(post: Post, media_href_prefix: str, articles: list[str] | None = None) -> str:
    """A self-contained HTML5 page for one archived post, with provenance.

    Strict CSP (nothing loads but our own images and media), no referrer, no script.
    ``articles`` lists where the post is embedded (http(s) entries become links).
    """
    prefix = _check_prefix(media_href_prefix)
    v = _view(post, prefix)
    article_links = [
        _LinkView(a, safe_http_url(a)) for a in (articles or []) if isinstance(a, str) and a
    ]
    title_who = f"@{v.handle}" if v.handle else (v.name or "unknown author")
    out = (
        _env()
        .get_template("post_page.html.j2")
        .render(
            v=v,
            post=post,
            title=f"Post by {title_who} (archived)",
            css=Markup(_css()),
            articles=article_links,
            posted=_posted(post, v),
            first_seen=_when(post.first_seen_at),
            archived=_when(post.archived_at),
            status_changed=_when(post.status_changed_at),
            last_checked=_when(post.last_checked_at),
            rel=LINK_REL,
        )
    )
    return neutralize_template_syntax(out)
