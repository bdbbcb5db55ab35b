"""A reviewer at a browser: one Playwright context and page, with what a person does and sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SECONDS = 1000  # Playwright counts milliseconds


class Reviewer:
    """Drives the console in one tab and records what must never happen there."""

    def __init__(self, context: Any, page: Any, base_url: str) -> None:
        self.context, self.page, self.base_url = context, page, base_url
        self.page_errors: list[str] = []  # uncaught exceptions in the page
        self.csp_violations: list[str] = []
        self.dialogs: list[str] = []  # alert/confirm/prompt: injected script would open one
        self.sockets: list[Any] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._console)
        page.on("dialog", self._dialog)
        page.on("websocket", lambda socket: self.sockets.append(socket))

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def sign_in(self, key: str) -> None:
        """Paste `key` into the sign-in form and press Enter; wait until signed in."""
        await self.page.fill("#api-key", key)
        await self.page.press("#api-key", "Enter")
        await self.page.wait_for_selector("#session:not([hidden])", timeout=10 * SECONDS)

    async def live_state(self, state: str, within: float = 10) -> None:
        await self.page.wait_for_selector(f"#live[data-state='{state}']", timeout=within * SECONDS)

    async def card(self, action_id: str, within: float = 10) -> Any:
        return await self.page.wait_for_selector(f"li.card[data-action-id='{action_id}']", timeout=within * SECONDS)

    async def no_card(self, action_id: str, within: float = 10) -> None:
        await self.page.wait_for_selector(f"li.card[data-action-id='{action_id}']", state="detached",
                                          timeout=within * SECONDS)

    async def count(self, selector: str, expected: int) -> None:
        """Wait until exactly `expected` elements match (polled by Playwright, not by page script,
        which the console's CSP would refuse to evaluate)."""
        from playwright.async_api import expect

        await expect(self.page.locator(selector)).to_have_count(expected, timeout=10 * SECONDS)

    async def text(self, selector: str = "main") -> str:
        return str(await self.page.inner_text(selector))

    async def tab_to(self, selector: str, presses: int = 60) -> None:
        """Press Tab until the focused element matches `selector` (keyboard-only navigation)."""
        for _ in range(presses):
            await self.page.keyboard.press("Tab")
            if await self.page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=False)
        return path

    def assert_clean(self) -> None:
        assert self.page_errors == [], self.page_errors
        assert self.csp_violations == [], self.csp_violations
        assert self.dialogs == [], self.dialogs
