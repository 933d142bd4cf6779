"""Platforms behind one interface (issue 12).

Placeholder in this branch: the seam branch owns this module and the registry;
Mastodon registers with one line there (``archiver.platforms.mastodon.PLATFORM``).
"""
