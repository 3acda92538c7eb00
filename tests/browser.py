"""Headless Chromium for the tests: Debian's system browser driven by Playwright.

Playwright's own browser download cannot run here, so the tests point it at
``/usr/bin/chromium``. Without that browser (or without Playwright) a browser test
skips, unless ``SERVICEKIT_REQUIRE_BROWSER=1`` (as CI sets it): then it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium package installs the browser here."""

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Headless, and quiet: no update checks, no sync, no first-run pages."""


def browser_required() -> bool:
    """Whether a missing browser fails the test instead of skipping it (CI)."""
    return os.environ.get("SERVICEKIT_REQUIRE_BROWSER") == "1"


def no_browser(reason: str) -> None:
    """Skip the calling test, or fail it where a browser is required."""
    if browser_required():
        pytest.fail(f"{reason}, and SERVICEKIT_REQUIRE_BROWSER=1 requires the browser")
    pytest.skip(reason)


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh page in headless system Chromium; closed, with its browser, afterwards."""
    if not CHROMIUM.exists():
        no_browser(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional at import
    except ImportError:
        no_browser("Playwright for Python is not installed (pip install '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page()
            yield page
        finally:
            browser.close()
