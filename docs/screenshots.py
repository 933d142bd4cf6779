"""Render the example cards in headless Chromium and write the README's pictures.

    .venv/bin/python docs/screenshots.py            # writes docs/images/*.png
    .venv/bin/python docs/screenshots.py --out /tmp/shots

Needs the Debian ``chromium`` package and ``playwright`` (the ``test`` extra); no
browser download. Pages come from tests/card_fixtures.py, rendered by the project's
own code inside a hostile news theme, so the pictures show what a reader gets.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from card_fixtures import build_index, build_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A plain news theme for the pictures (the tests use a hostile one).
THEME = """
body { font: 18px/1.6 Georgia, serif; color: #222; background: #fff; margin: 0; padding: 24px; }
article { max-width: 600px; margin: 0 auto; }
h1 { font-size: 24px; }
blockquote { font-style: italic; border-left: 4px solid #999; }
@media (prefers-color-scheme: dark) { body { color: #ddd; background: #111; } }
"""


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        site = build_site(Path(tmp), THEME)
        index = build_index(Path(tmp))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def card(
            url: str, name: str, width: int = 640, dark: bool = False, whole: bool = False
        ) -> None:
            page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            if dark:
                page.emulate_media(color_scheme="dark")
            page.goto(url)
            target = out / f"{name}.png"
            if whole:
                # The top of the page: what a reader sees first (keeps the PNG small).
                height = min(page.evaluate("document.documentElement.scrollHeight"), 1400)
                clip = {"x": 0, "y": 0, "width": width, "height": height}
                page.screenshot(path=str(target), full_page=True, clip=clip)
            else:
                page.locator(".eac").first.screenshot(path=str(target))
            page.close()
            written.append(target)

        card(site.articles["live"].as_uri(), "card-live")
        card(site.articles["deleted"].as_uri(), "card-deleted")
        card(site.articles["arabic"].as_uri(), "card-arabic")
        card(site.articles["photos_quote"].as_uri(), "card-photos-quote")
        card(site.articles["live"].as_uri(), "card-live-dark", dark=True)
        card(site.articles["bluesky"].as_uri(), "card-bluesky")
        card(site.articles["mastodon"].as_uri(), "card-mastodon")
        card(site.pages["photos_quote"].as_uri(), "local-copy-page", width=700, whole=True)
        card(index.as_uri(), "index-390", width=390, whole=True)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in shoot(args.out):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
