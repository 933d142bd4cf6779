"""The network checks of posts that are due, and what their answers change."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archiver import platforms
from archiver.clock import utc_now
from archiver.decide import (
    Change,
    next_check_at,
)
from archiver.models import (
    RunReport,
)
from archiver.pipeline.state import PipelineState, log

if TYPE_CHECKING:
    from archiver.fetch import FetchResult


_MEDIA_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,5}")


class ChecksMixin(PipelineState):
    """Checks due posts over the network and files what the platforms answer."""

    def _check_due(self, report: RunReport, only: set[str] | None) -> set[str]:
        """Fetch posts whose check is due (limited to ``only`` keys when given)."""
        if self.fetcher is None or (only is not None and not only):
            return set()
        from archiver.fetch import FetchRequest

        now = utc_now()
        # Only the platforms the fetcher looks up: a platform switched off keeps its
        # posts as the markup gave them, not checked and not counted as failures.
        due = [
            (name, d)
            for name in self.fetcher.platform_names()
            for d in (
                self.store.posts_due(now, platform=name)
                if only is None
                # A batch's posts only, looked up by key (not every due post, filtered).
                else self.store.posts_due_among(now, only, platform=name)
            )
        ]
        # One check per post per pass, even when a failure makes it due again at once.
        first = set(self._posts_met().first_checks(f"{p}:{d.post_id}" for p, d in due))
        due = [(p, d) for p, d in due if f"{p}:{d.post_id}" in first]
        if not due:
            return set()
        changed: set[str] = set()
        requests = (
            FetchRequest(
                d.post_id,
                d.handle,
                d.have_content,
                self._stored_media(f"{p}:{d.post_id}"),
                platform=p,
                failing_since=d.failing_since,
            )
            for p, d in due
        )
        for result in self.fetcher.fetch_many(requests):
            now = utc_now()
            key = f"{result.platform}:{result.post_id}"
            if result.snapshot is None:
                report.fetch_failures += 1
                next_at = self._next_check(key, failed=True)
                log.warning("post %s: check failed: %s", key, result.error)
            else:
                report.posts_fetched += 1
                next_at = self._next_check(key, failed=False)
            resolved = self._resolved_key(result)
            if resolved is not None and result.snapshot is not None:
                # A handle-form id answered under the post's own id: filed under it.
                outcome = self.store.record_resolved_check(key, result.snapshot, next_at, now)
                self._posts_met().first_checks([resolved])
                key = resolved
            else:
                outcome = self.store.record_check(
                    result.post_id, result.snapshot, result.error, next_at, now, result.platform
                )
            if outcome == Change.UPDATED:
                self._count_changes(report, set(), {key})
                changed.add(key)
            elif outcome == Change.NEW:
                self._count_changes(report, {key}, set())
                changed.add(key)
            if self.stop.is_set():
                break
        self._content_changed(changed)
        return changed

    @staticmethod
    def _resolved_key(result: FetchResult) -> str | None:
        """The post's own key when the fetcher answered a request made under another
        id of it (a Bluesky handle resolved to the DID), else None."""
        snap = result.snapshot
        if snap is None or snap.post_id == result.post_id or snap.platform != result.platform:
            return None
        owner = platforms.get(result.platform)
        if owner.is_post_id(result.post_id) or not owner.is_post_id(snap.post_id):
            return None
        return snap.key

    def _stored_media(self, key: str) -> frozenset[str]:
        """Media URLs of a post whose files are in the store (not to download again)."""
        root = self.config.media_root
        return frozenset(
            url
            for url, name in self.store.stored_media(key)
            if _MEDIA_NAME.fullmatch(name) and (root / name).is_file()
        )

    def _next_check(self, key: str, failed: bool) -> str:
        """When a post just checked is next due (``archiver.decide.check_wait``)."""
        count = self.store.check_failures(key) if failed else self.store.check_count(key)
        return next_check_at(self.config.recheck_seconds, failed, count, datetime.now(UTC))
