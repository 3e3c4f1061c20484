"""Chromium for the tests that look at pages (test_browser, test_site, the hub's board): which binary,
which flags, and one launch that skips on a user's machine and fails under CI when no browser is there."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium_path(playwright) -> str | None:
    """Debian's chromium, or COURSE_CHROMIUM, or None (then Playwright's own, if installed), or "" (none)."""
    candidates = [os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser")]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    own = Path(playwright.chromium.executable_path)
    return None if own.is_file() else ""


@contextmanager
def launched(unavailable: Callable[[str], None]) -> Iterator[object]:
    """A headless Chromium, closed afterwards; ``unavailable(reason)`` skips or fails (the caller's rule)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed")
        return
    with sync_playwright() as playwright:
        path = chromium_path(playwright)
        if path == "":
            unavailable("no Chromium found (/usr/bin/chromium, COURSE_CHROMIUM, or Playwright's own)")
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
