"""X's names in static-site generator sources (``archiver.detect_ssg`` reads them).

Hugo shortcodes (``{{< tweet … >}}``, ``{{< x … >}}``, ``{{< twitter … >}}``) and
Jekyll/Liquid tags (jekyll-twitter-plugin's ``twitter`` / ``twitternocache``, the
``tweet`` and ``embed`` tags of other plugins) that embed an X post; a site adds its own
names in the config (``ssg.shortcodes``, ``ssg.liquid_tags``).
"""

from __future__ import annotations

from typing import Final

from archiver.platforms.x.urls import RESERVED_HANDLES

__all__ = ["DEFAULT_LIQUID", "DEFAULT_SHORTCODES", "RESERVED_HANDLES_B"]

DEFAULT_SHORTCODES: Final = ("tweet", "x", "twitter")
DEFAULT_LIQUID: Final = ("twitter", "twitternocache", "tweet", "embed")
# Path segments that are not handles, as bytes (``tweetLink="i/status/ID"``).
RESERVED_HANDLES_B: Final = frozenset(h.encode("ascii") for h in RESERVED_HANDLES)
