"""A PNG of the HTML report's first screens, for the README (`make report`).

    python docs/screenshot.py out/report.html docs/report.png

Needs Debian's chromium (/usr/bin/chromium) and Playwright (the dev extra)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

# as root, offline: no sandbox, none of the background connections a closed network refuses
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def main(page_file: str, png: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1150, "height": 1500})
        page.goto(Path(page_file).resolve().as_uri())
        page.screenshot(path=png, full_page=False)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
