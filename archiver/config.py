"""Configuration: ``config.yaml``, validated on load with pydantic.

Paths in the file are relative to the folder that holds it, so a config can be
moved together with its articles and archive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from archiver.errors import ConfigError as ConfigError

CONFIG_ENV = "EMBED_ARCHIVER_CONFIG"
MEDIA_DIR = "media"  # under the embeds folder: the content-addressed media store
DEFAULT_CONFIG = "config.yaml"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
# The most scan workers a config or ``run --workers`` may ask for.
MAX_SCAN_WORKERS = 64
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float) -> float:
    """``"90s"``, ``"1h"``, ``"7d"`` or a number of seconds -> seconds."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 15m, 1h, 7d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DirectorySource(_Strict):
    kind: Literal["directory"] = "directory"
    name: str | None = None
    path: Path
    include: list[str] = Field(default_factory=lambda: ["**/*.html", "**/*.htm"])
    exclude: list[str] = Field(default_factory=list)
    # A post URL alone in its own paragraph is an embed here (Gatsby remark-embedder,
    # Eleventy's embed plugin, WordPress's classic editor); elsewhere it is a link.
    bare_urls: bool = False


class UrlsSource(_Strict):
    kind: Literal["urls"]
    name: str | None = None
    urls: list[str] = Field(default_factory=list)
    file: Path | None = None  # one URL per line; blank lines and '#' comments ignored
    # Other hosts this source's articles, child sitemaps and redirects may be on
    # (e.g. "www.news.example", "cdn.news.example:8443"); the source's own host is
    # always allowed, every other host is refused.
    allowed_hosts: list[str] = Field(default_factory=list)


class SitemapSource(_Strict):
    kind: Literal["sitemap"]
    name: str | None = None
    url: str
    max_articles: int = 10000
    # Other hosts this source's articles, child sitemaps and redirects may be on
    # (e.g. "www.news.example", "cdn.news.example:8443"); the source's own host is
    # always allowed, every other host is refused.
    allowed_hosts: list[str] = Field(default_factory=list)


class FeedSource(_Strict):
    kind: Literal["feed"]
    name: str | None = None
    url: str
    max_articles: int = 10000
    # Other hosts this source's articles, child sitemaps and redirects may be on
    # (e.g. "www.news.example", "cdn.news.example:8443"); the source's own host is
    # always allowed, every other host is refused.
    allowed_hosts: list[str] = Field(default_factory=list)


Source = Annotated[
    DirectorySource | UrlsSource | SitemapSource | FeedSource, Field(discriminator="kind")
]


class OutputConfig(_Strict):
    dir: Path = Path("out")
    in_place: bool = False
    embeds_dir: str = "embeds"  # under output.dir: local copies (x/ID.html) and media/
    # Flush each written file to disk before renaming it into place. Renames are
    # atomic either way (a killed process never leaves half a file); fsync also
    # covers a power cut, at a cost of a few ms per file.
    fsync: bool = False

    # Where the embeds folder is served on the site, root-relative (e.g. "/embeds").
    # Set it when articles are published at URLs that do not mirror their files
    # (static site generators, CMS exports); otherwise links are relative paths.
    embeds_url: str | None = None

    @field_validator("embeds_url")
    @classmethod
    def _root_relative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"/[A-Za-z0-9._~!$&()*+,;=:@%/-]*", value) or value.startswith("//"):
            raise ValueError('must be a root-relative URL path such as "/embeds"')
        return value.rstrip("/") or "/"

    @field_validator("embeds_dir")
    @classmethod
    def _relative(cls, value: str) -> str:
        # The embeds folder holds index.html, x/ and media/: as output.dir itself (".",
        # "", "a/..") its index would overwrite the site's index.html; outside it, it
        # would write where nobody asked. Only a real subfolder is accepted.
        if "\\" in value or any(ord(c) < 32 for c in value):
            raise ValueError(
                "must be a plain relative folder name (no backslash or control character)"
            )
        path = PurePosixPath(value.strip())
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative path inside output.dir (no leading '/', no '..')")
        if not [part for part in path.parts if part != "."]:
            raise ValueError(
                'must name a subfolder of output.dir (such as "embeds"), not output.dir '
                "itself: its index.html would overwrite the site's"
            )
        return path.as_posix()


class XConfig(_Strict):
    fetch: bool = True
    syndication_url: str = "https://cdn.syndication.twimg.com/tweet-result"
    oembed_url: str = "https://publish.x.com/oembed"


class BlueskyConfig(_Strict):
    enabled: bool = True
    # The public AppView answers app.bsky.feed.getPosts and resolveHandle without a token.
    appview: str = "https://public.api.bsky.app"

    @field_validator("appview")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#@]+(?:/[^\s?#]*)?", value.strip()):
            raise ValueError("must be an http(s) base URL, e.g. https://public.api.bsky.app")
        return value.strip().rstrip("/")


class WaybackConfig(_Strict):
    enabled: bool = True
    cdx_url: str = "https://web.archive.org/cdx/search/cdx"
    base_url: str = "https://web.archive.org/web"


class HttpConfig(_Strict):
    concurrency: int = Field(8, ge=1, le=256)
    per_host_rate: float = Field(5, gt=0)  # requests per second per host
    timeout: float = Field(10, gt=0)  # seconds per request
    retries: int = Field(4, ge=0, le=20)
    post_deadline: float = Field(60, gt=0)  # seconds, all attempts for one post
    user_agent: str = "embed-archiver/0.1 (+https://github.com/embed-archiver)"
    max_article_bytes: int = Field(20_000_000, gt=0)
    # Requests in flight at once to one host named by article markup (a Mastodon
    # instance, a media host reached through the host guard): strangers' small
    # servers must not feel a run. Configured hosts (X, Wayback) are bounded by
    # ``concurrency`` alone.
    per_host_concurrency: int = Field(2, ge=1, le=64)
    # host (optionally host:port) -> base URL: every request for that host goes to
    # the base URL instead, and the host is trusted as configured (an operator's
    # mirror, the tests' local fakes), e.g. {"mastodon.example": "http://127.0.0.1:8123"}.
    host_overrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("host_overrides")
    @classmethod
    def _overrides(cls, value: dict[str, str]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for host, base in value.items():
            key = host.strip().lower()
            if not re.fullmatch(
                r"[a-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9a-f:.]+\](?::[0-9]{1,5})?", key
            ):
                raise ValueError(f"not a host name (host or host:port): {host!r}")
            target = base.strip().rstrip("/")
            if not re.fullmatch(r"https?://[^/?#@\s]+(?:/[^?#\s]*)?", target, re.I):
                raise ValueError(
                    f"{host}: not an http(s) base URL such as http://127.0.0.1:8123: {base!r}"
                )
            checked[key] = target
        return checked


class MastodonConfig(_Strict):
    enabled: bool = True
    # A host that cannot be reached (connection refused, DNS failure) is a failure,
    # not a status: instances come back. Once a post's host has failed this long,
    # the failure carries a note saying so (see archiver.platforms.mastodon.fetch).
    host_down_note_after: str = "30d"

    @field_validator("host_down_note_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class MediaConfig(_Strict):
    download: bool = True
    max_bytes: int = Field(50_000_000, gt=0)
    allowed_hosts: list[str] = Field(
        default_factory=lambda: [
            "pbs.twimg.com",
            "video.twimg.com",
            "abs.twimg.com",
            "cdn.bsky.app",
            "video.bsky.app",
        ]
    )


class ScanConfig(_Strict):
    # Wall-clock seconds detection may spend on one article: past it, that article fails
    # alone ("DetectionTimeout") and the pass goes on.  Detection is linear in the page
    # size (~30 MB/s), so only a pathological page comes near it.
    article_time_budget_seconds: float = Field(10, gt=0)
    # Worker processes that read and scan articles of directory sources (1: none, all in
    # this process). They pay off on a first backfill with cores to spare, so "auto" starts
    # one per idle core (archiver.cpus), and only for new articles; see README.
    workers: Literal["auto"] | Annotated[int, Field(ge=1, le=MAX_SCAN_WORKERS)] = "auto"
    # Static-site generator names that embed a post, besides the built-in ones (Hugo
    # shortcodes tweet/x/twitter; Liquid tags twitter/twitternocache/tweet/embed).
    tweet_shortcodes: list[str] = Field(default_factory=list)
    tweet_liquid_tags: list[str] = Field(default_factory=list)
    # MDX/Astro components that embed a post (<Tweet id="…" />); sites wrap them.
    tweet_components: list[str] = Field(default_factory=lambda: ["Tweet"])

    @field_validator("tweet_shortcodes", "tweet_liquid_tags", "tweet_components")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", name):
                raise ValueError(f"not a shortcode/tag/component name: {name!r}")
        return value


class ScheduleConfig(_Strict):
    scan_interval: str = "15m"  # how often sources are scanned
    scan_cron: str | None = None  # a crontab line; replaces scan_interval when set
    recheck_interval: str = "5m"  # how often due posts are looked for

    @field_validator("scan_interval", "recheck_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class Config(_Strict):
    database: Path = Path("archive.db")
    sources: list[Source] = Field(default_factory=list)
    output: OutputConfig = Field(default_factory=lambda: OutputConfig())
    x: XConfig = Field(default_factory=lambda: XConfig())
    bluesky: BlueskyConfig = Field(default_factory=lambda: BlueskyConfig())
    wayback: WaybackConfig = Field(default_factory=lambda: WaybackConfig())
    mastodon: MastodonConfig = Field(default_factory=lambda: MastodonConfig())
    http: HttpConfig = Field(default_factory=lambda: HttpConfig())
    media: MediaConfig = Field(default_factory=lambda: MediaConfig())
    scan: ScanConfig = Field(default_factory=lambda: ScanConfig())
    recheck: list[str] = Field(default_factory=lambda: ["1h", "1d", "7d", "30d", "90d"])
    schedule: ScheduleConfig = Field(default_factory=lambda: ScheduleConfig())
    # Where the config came from; paths above are already resolved against its folder.
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("recheck")
    @classmethod
    def _durations(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one interval")
        for item in value:
            parse_duration(item)
        return value

    @property
    def recheck_seconds(self) -> list[float]:
        return [parse_duration(item) for item in self.recheck]

    @property
    def embeds_root(self) -> Path:
        """Folder of the local copies: ``output.dir/embeds``."""
        return self.output.dir / self.output.embeds_dir

    @property
    def media_root(self) -> Path:
        return self.embeds_root / MEDIA_DIR

    def fetches(self, platform: str) -> bool:
        """Whether posts of ``platform`` are looked up on the network: each platform
        has its own switch (``x.fetch``, ``bluesky.enabled``, ``mastodon.enabled``); a
        platform without a section follows ``x.fetch``, the historic one."""
        switches = {"bluesky": self.bluesky.enabled, "mastodon": self.mastodon.enabled}
        return switches.get(platform, self.x.fetch)

    def no_fetching(self) -> None:
        """Turn every platform's network lookups off (markup only)."""
        self.x.fetch = False
        self.bluesky.enabled = False
        self.mastodon.enabled = False

    def resolve_paths(self, base: Path) -> Config:
        """Make every relative path absolute against ``base`` (the config's folder)."""
        self.database = _under(base, self.database)
        self.output.dir = _under(base, self.output.dir)
        for source in self.sources:
            if isinstance(source, DirectorySource):
                source.path = _under(base, source.path)
            elif isinstance(source, UrlsSource) and source.file is not None:
                source.file = _under(base, source.file)
        return self


def _under(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$EMBED_ARCHIVER_CONFIG``, else ``./config.yaml``."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a config file; raise ``ConfigError`` naming the file and key."""
    config_path = find_config_path(path)
    if not config_path.exists():
        raise ConfigError(
            f"no config file at {config_path}. Create one with 'embed-archiver init' "
            f"(a commented config.yaml with every key), or point --config / ${CONFIG_ENV} at it."
        )
    if config_path.is_dir():
        raise ConfigError(
            f"{config_path} is a folder, not a config file; point --config / ${CONFIG_ENV} "
            f"at the file itself (e.g. {config_path / DEFAULT_CONFIG})"
        )
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read the config: {exc.strerror or exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: the top level must be a mapping of keys")
    config = config_from_dict(raw, base=config_path.resolve().parent, origin=config_path)
    _check_paths(config, str(config_path))
    return config


def _check_paths(config: Config, where: str) -> None:
    """Refuse a config file whose output folder is a file, or whose database is a
    folder: every write would fail later, one article at a time. (Not for
    ``Archive.open``, which only reads and has no output.)"""
    if config.output.dir.exists() and not config.output.dir.is_dir():
        raise ConfigError(
            f"{where}: invalid configuration: output.dir: {config.output.dir} exists and is "
            "not a folder; move it away or choose another output.dir"
        )
    if config.database.is_dir():
        raise ConfigError(
            f"{where}: invalid configuration: database: {config.database} is a folder; "
            "name the database file (e.g. archive.db) instead"
        )


def _check_layout(config: Config, where: str) -> None:
    """Refuse layouts where writing the output would overwrite the sources."""
    if config.output.in_place:
        return
    for index, source in enumerate(config.sources):
        if isinstance(source, DirectorySource) and Path(source.path) == config.output.dir:
            raise ConfigError(
                f"{where}: invalid configuration: output.dir is the folder of sources.{index} "
                f"({source.path}); choose another output.dir, or set output.in_place: true "
                "to rewrite the sources themselves"
            )


def config_from_dict(raw: dict[str, object], base: Path, origin: Path | None = None) -> Config:
    """Validate a mapping as a config, resolving relative paths against ``base``."""
    where = str(origin) if origin else "config"
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{where}: invalid configuration: {problems}") from exc
    config.config_path = origin.resolve() if origin else None
    config.resolve_paths(base)
    _check_layout(config, where)
    return config
