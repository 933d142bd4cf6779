"""The X/Twitter status permalink, written once for every detector.

``STATUS_CORE`` is the host and path of a status URL, without scheme and without what
may follow the id: each caller adds the prefix and the boundary its input needs (raw
bytes of an attribute, a whole string, a shortcode argument). Groups: ``handle`` (None
for ``/i/status/ID`` and ``/i/web/status/ID``) and ``id``.

The id is 1-19 digits: a signed 64-bit snowflake. Reserved first segments such as
``/i/`` are not handles.
"""

from __future__ import annotations

from typing import Final

STATUS_CORE: Final = (
    r"(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/"
    r"(?:#!/)?"  # 2010-12 hashbang URLs
    r"(?:i(?:/web)?(?=/status)|(?P<handle>[A-Za-z0-9_]{1,15}))"
    r"/status(?:es)?/(?P<id>[0-9]{1,19})"
)
# The same, for patterns that scan raw bytes.
STATUS_CORE_B: Final = STATUS_CORE.encode("ascii")

__all__ = ["STATUS_CORE", "STATUS_CORE_B"]
