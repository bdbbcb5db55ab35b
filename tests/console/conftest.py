"""Browser fixtures: Debian's Chromium driven by Playwright, one context per simulated reviewer.

`make test` installs both (playwright from the dev extras, chromium with apt-get); where no
Chromium can run, the browser tests skip and say why. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.console.browser import Reviewer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

OpenReviewer = Callable[..., Awaitable[Reviewer]]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One Chromium for the session (contexts keep reviewers apart)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium: `make test` installs Debian's chromium (apt-get install -y chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def reviewer(browser: Any, server: str) -> AsyncIterator[OpenReviewer]:
    """Opens a fresh browser context (its own tab storage) on a console URL; all closed at the end."""
    opened: list[Reviewer] = []

    async def open_reviewer(base_url: str = server, *, viewport: dict[str, int] = DESKTOP,
                            color_scheme: str = "light") -> Reviewer:
        context = await browser.new_context(viewport=viewport, color_scheme=color_scheme,
                                            reduced_motion="reduce", locale="en-GB", timezone_id="UTC")
        page = await context.new_page()
        opened.append(Reviewer(context, page, base_url))
        return opened[-1]

    yield open_reviewer
    for each in opened:
        await each.context.close()
    for each in opened:
        each.assert_clean()
