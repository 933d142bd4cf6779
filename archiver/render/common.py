"""What the card and the pages share: the template environment, dates in a reader's
language, linked post text, and the checks every value passes before a template sees it."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import BytecodeCache, Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from archiver.models import (
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
)
from archiver.platforms.base import CardInfo, card_info
from archiver.render.template_cache import template_cache
from archiver.snapshot.sanitize import safe_http_url, sanitize_post_html

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
# Our media files are content-addressed names, maybe in subdirectories.
_LOCAL_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# What a local link may not hold: whitespace (``\s`` is ``str.isspace``), control
# characters, quotes, angle brackets, backslash and backtick. One regex search instead
# of a Python test per character: every card and page checks its links.
_UNSAFE_HREF = re.compile(r"[\s\x00-\x1f\"'<>\\`]")
# Static-site generators (Hugo, Jekyll/Liquid, Nunjucks) would execute these in
# archived text; an NCR for "{" reads the same in HTML.
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])|(?<=\{)\{")

_NOTICES: dict[str, str] = {
    STATUS_DELETED: "This post was deleted",
    STATUS_PROTECTED: "This post is no longer public: the account is protected",
    STATUS_SUSPENDED: "The account that wrote this post is suspended",
    STATUS_UNAVAILABLE: "This post is no longer available on {label}",
}
# Sources that read the post from its platform itself (X's syndication and oEmbed,
# the Wayback Machine's copy of X, Bluesky's AppView, a Mastodon server's API): a copy
# from one of them was live then.
_NETWORK_SOURCES = ("syndication", "oembed", "wayback", "appview", "api")
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
    return _new_env(template_cache(__name__))


def _new_env(cache: BytecodeCache | None) -> Environment:
    """The card and page templates' environment, compiled code kept in ``cache``."""
    env = Environment(
        loader=PackageLoader("archiver", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[_OneLine],
        keep_trailing_newline=False,
        # Templates ship with the package: no stat() of every file on every render.
        auto_reload=False,
        bytecode_cache=cache,  # a cold process loads them compiled (template_cache.py)
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


def _default_card() -> CardInfo:
    """X's card: what ``link_entities`` links to when no platform is named."""
    from archiver import platforms

    return card_info(platforms.get("x"))


def link_entities(markup: Markup, info: CardInfo | None = None, post_id: str = "") -> Markup:
    """Link the @mentions and #hashtags of sanitized post HTML to the post's platform
    (``info``, X when None), as its widget did, and bare http(s) URLs (plain-text
    posts have no links of their own). ``post_id`` names the post, for platforms whose
    profile and tag pages live on the post's own server (Mastodon).

    Only text between tags changes (never inside a tag or an existing link); the
    names are word characters, so the links they make need no escaping.
    """
    if "@" not in markup and "#" not in markup and "://" not in markup:
        return markup
    linker = _Linker(info or _default_card(), post_id)
    source = str(markup)  # slices of a str: a Markup slice is a new Markup object each
    out: list[str] = []
    pos = 0
    for token in _MARKUP_TOKEN.finditer(source):
        out.append(linker.text(source[pos : token.start()]))
        out.append(token.group(0))
        pos = token.end()
    out.append(linker.text(source[pos:]))
    return Markup("".join(out))


class _Linker:
    """Links the names in the text of one post, for its platform."""

    def __init__(self, info: CardInfo, post_id: str) -> None:
        self.info = info
        self.post_id = post_id

    def text(self, text: str) -> str:
        """Link bare http(s) URLs, then mentions and hashtags in the text between them."""
        if "://" in text:
            parts = _BARE_URL.split(text)  # odd items are URLs (the pattern has one group)
            return "".join(
                _link_url(part) if i % 2 else self.names(part) for i, part in enumerate(parts)
            )
        return self.names(text)

    def names(self, text: str) -> str:
        # Safe in either order: a mention link holds no "#", a hashtag link no "@".
        if "@" in text and self.info.mention is not None:
            text = self.info.mention.sub(self.mention, text)
        if "#" in text:
            text = _HASHTAG.sub(self.hashtag, text)
        return text

    def mention(self, m: re.Match[str]) -> str:
        name = m.group(1)
        url = safe_http_url(self.info.profile_url(name, self.post_id))
        if url is None:
            return m.group(0)
        href = html.escape(url, quote=True)
        return f'<a href="{href}" rel="{LINK_REL}" dir="ltr">@{name}</a>'

    def hashtag(self, m: re.Match[str]) -> str:
        tag = m.group(1)
        if tag.isdigit():
            return m.group(0)  # "#1" is not a hashtag on X either
        url = safe_http_url(self.info.tag_url(tag, self.post_id))
        if url is None:
            return m.group(0)
        return f'<a href="{html.escape(url, quote=True)}" rel="{LINK_REL}">#{tag}</a>'


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


def notice(status: str, label: str) -> str | None:
    """The banner of a card whose post is gone (None while it is live or unchecked)."""
    words = _NOTICES.get(status)
    return words.format(label=label) if words else None


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
    if href.lstrip(" \t\n\r\f")[:8].lower().startswith(("http://", "https://")):
        # What safe_http_url takes for http(s) (the same test): a local link never is,
        # and need not pay for its check, nor fill its cache with every article's path.
        return safe_http_url(href)
    if _SCHEME.match(href) or href.startswith("//") or _UNSAFE_HREF.search(href):
        return None
    return href


def safe_lang(lang: object) -> str | None:
    """``lang`` if it is a well-formed language tag (``en``, ``pt-BR``), else None: it goes
    into ``lang`` attributes of cards and of the index."""
    return lang if isinstance(lang, str) and _LANG.match(lang) else None


def _safe_dir(d: str | None) -> str | None:
    return d if d in ("ltr", "rtl", "auto") else None


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
