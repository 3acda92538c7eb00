"""Headless Chromium for tests: Debian's ``chromium`` driven by Playwright for Python.

Playwright's own browser download cannot run here, so `launch` points Playwright
at the system's Chromium. Without one (or without Playwright) a browser test
skips, except under ``SERVICEKIT_REQUIRE_BROWSER=1`` (as CI sets it), where it
fails: a CI run must never pass by skipping its browser tests.

    from browser import launch, network_requests

    with launch() as browser:
        page = browser.new_page()
        requests = network_requests(page)
        page.goto(url)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Chromium's switches: headless, in a container, and quiet on the network by itself."""


def chromium_path() -> Path | None:
    """The system's Chromium, or None: /usr/bin/chromium, else the first on PATH."""
    default = Path("/usr/bin/chromium")
    if default.exists():
        return default
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return None if found is None else Path(found)


def _unavailable(reason: str) -> None:
    if os.environ.get("SERVICEKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SERVICEKIT_REQUIRE_BROWSER=1, but {reason}")
    pytest.skip(reason)


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium `playwright.sync_api.Browser`, closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only browser tests
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
        raise  # pragma: no cover - _unavailable raises
    path = chromium_path()
    if path is None:
        _unavailable("there is no Chromium (apt-get install chromium)")
        raise AssertionError  # pragma: no cover - _unavailable raises
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(path), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def network_requests(page: Any) -> list[str]:
    """Every request the page makes from now on, except for data: and about: URLs."""
    seen: list[str] = []

    def note(request: Any) -> None:
        url = str(request.url)
        if not url.startswith(("data:", "about:")):
            seen.append(url)

    page.on("request", note)
    return seen
