"""Platform packages (X, Bluesky, Mastodon) behind one interface (``base``).

The registry lives here in the seam helper's version; this placeholder only makes
the package importable for the Bluesky package standing alone.
"""
