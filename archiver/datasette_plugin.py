"""The Datasette plugin behind ``embed-archiver browse`` (registered as a ``datasette``
entry point, so it loads wherever the package and Datasette are installed together).

- ``render_cell``: a post's ``text`` cell shows the post as its archived card (the same
  card the articles get, from ``archiver.render``), then its version history and the
  articles that embed it.
- A facet type ``article`` (posts by the article embedding them) and the ``_article=``
  filter its links use.
- Routes for the card's stylesheet and the archived media files (from the folder named
  in the plugin's configuration, ``media_dir``; ``browse`` sets it).

It only acts on databases with embed-archiver's tables; every value shown is escaped,
and nothing it renders runs script.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from archiver import render
from archiver.storage.reports import ARTICLE_FACET_SQL, EMBEDDED_IN_SQL, read_post_detail
from archiver.storage.results import PostDetail

PLUGIN = "embed-archiver"
ROUTE = "/-/embed-archiver"
MEDIA_PREFIX = f"{ROUTE}/media/"
ARTICLE_ARG = "_article"
# Media files are content-addressed names (sha256 plus an extension): nothing else is served.
_MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}(\.[A-Za-z0-9]{1,8})?$")
_POST_COLUMNS = {"key", "post_id", "platform", "content_hash"}


def _is_post_row(row: Any) -> bool:
    try:
        return set(row.keys()) >= _POST_COLUMNS
    except AttributeError:
        return False


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Callable[[], Awaitable[Markup | None]] | None:
    """The ``text`` of a ``posts`` row, as the post's archived card and its history."""
    if table != "posts" or column != "text" or not _is_post_row(row):
        return None
    key = row["key"]

    async def card() -> Markup | None:
        db = datasette.get_database(database)
        detail = await db.execute_fn(lambda conn: read_post_detail(conn, key))
        if detail is None:
            return None
        return _post_html(detail, lambda id_: datasette.urls.row(database, "articles", id_))

    return card


def _post_html(detail: PostDetail, article_href: Callable[[int], str]) -> Markup:
    card = render.render_embed(detail, copy_href="", media_href_prefix=MEDIA_PREFIX, style=False)
    versions = "".join(
        f"<li>{escape(s.captured_at)}: {escape(s.source)}, {escape(s.status)}</li>"
        for s in reversed(detail.snapshots)
    )
    articles = "".join(
        f'<li><a href="{escape(article_href(a.article_id))}">{escape(a.location)}</a>'
        f"{' (removed)' if a.removed_at else ''}</li>"
        for a in detail.articles
    )
    n_versions, n_articles = len(detail.snapshots), len(detail.articles)
    summary = (
        f"{n_versions} version{'s' if n_versions != 1 else ''}, embedded in "
        f"{n_articles} article{'s' if n_articles != 1 else ''}"
    )
    return Markup(
        f'<div class="eab-post">{card}<details class="eab-history"><summary>{summary}</summary>'
        f"<p>Versions, newest first:</p><ol>{versions}</ol>"
        f"<p>Embedded in:</p><ul>{articles}</ul></details></div>"
    )


@hookimpl
def extra_css_urls(database: str | None, table: str | None) -> list[str]:
    return [f"{ROUTE}/card.css"] if table == "posts" else []


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (rf"^{ROUTE}/card\.css$", _card_css),
        (rf"^{ROUTE}/media/(?P<name>[^/]+)$", _media),
    ]


async def _card_css() -> Response:
    css = render.card_css()
    return Response(css, content_type="text/css; charset=utf-8")


async def _media(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    folder = (datasette.plugin_config(PLUGIN) or {}).get("media_dir")
    if not folder or not _MEDIA_NAME.match(name):
        return Response("not found", status=404)
    path = Path(folder) / name  # a checked file name: it cannot leave the folder
    if not path.is_file():
        return Response("not found", status=404)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox"}
    return Response(path.read_bytes(), content_type=content_type, headers=headers)


# -- posts by article ------------------------------------------------------------------


@hookimpl
def filters_from_request(request: Any, database: str, table: str) -> FilterArguments | None:
    """``?_article=LOCATION``: only the posts embedded in that article."""
    location = request.args.get(ARTICLE_ARG)
    if table != "posts" or location is None:
        return None
    return FilterArguments(
        [EMBEDDED_IN_SQL.format(param="eab_article")],
        params={"eab_article": location},
        human_descriptions=[f'embedded in "{location}"'],
    )


class ArticleFacet(Facet):
    """Posts by the article that embeds them (``facets: [{article: key}]``)."""

    type = "article"

    async def suggest(self) -> list[dict[str, Any]]:
        return []

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        if self.table != "posts" or not self.get_configs():
            return [], []
        size = self.get_facet_size()
        rows = await self.ds.execute(
            self.database,
            ARTICLE_FACET_SQL.format(sql=self.sql, limit=size + 1),
            self.params,
            truncate=False,
            custom_time_limit=self.ds.setting("facet_time_limit_ms"),
        )
        chosen = self.request.args.get(ARTICLE_ARG)
        values = []
        for row in rows.rows[:size]:
            selected = row["value"] == chosen
            change = {ARTICLE_ARG: row["value"]}
            path = (
                path_with_removed_args(self.request, change)
                if selected
                else path_with_added_args(self.request, change)
            )
            values.append(
                {
                    "value": row["value"],
                    "label": row["value"],
                    "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path)),
                    "selected": selected,
                }
            )
        result = {
            "name": "article",
            "type": self.type,
            "hideable": False,
            "toggle_url": self.ds.urls.path(self.request.path),
            "results": values,
            "truncated": len(rows.rows) > size,
        }
        return [result], []


@hookimpl
def register_facet_classes() -> list[type]:
    return [ArticleFacet]
