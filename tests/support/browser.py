"""Debian's Chromium driven by Playwright, for the browser tests (tests/web, tests/admin).

Browsers cannot be downloaded here, so Playwright launches the system executable
(`LUFFY_CHROMIUM`, default /usr/bin/chromium), which `scripts/bootstrap.sh --browser` installs.
A missing browser fails the tests that need it: it never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, sync_playwright

CHROMIUM = os.environ.get("LUFFY_CHROMIUM", "/usr/bin/chromium")
# Headless, as root, and off the network this machine cannot reach (without the background
# networking flags Chromium keeps opening connections that are refused).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """A headless Chromium for one test module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `scripts/bootstrap.sh --browser`.")
    # Playwright's sync API keeps an asyncio loop running in this thread while it is started,
    # which makes Django refuse ORM calls from the test itself; the live server's threads are
    # not affected. Allowed only while the browser runs, then restored.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
            )
            try:
                yield browser
            finally:
                browser.close()


# Every document of the context reports its CSP violations through the binding; Chromium's own
# console line ("Refused to ... because it violates the following Content Security Policy
# directive") is kept too, for what the event does not show (a refused frame is reported to
# the framing page's console only).
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__luffyCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.documentURI} (${e.sourceFile || ''}:${e.lineNumber})`)
})
"""


def watch_csp(context: BrowserContext) -> list[str]:
    """The Content-Security-Policy violations of every page of `context`, as they happen."""
    violations: list[str] = []
    context.expose_binding("__luffyCspViolation", lambda _source, text: violations.append(text))
    context.add_init_script(_CSP_LISTENER)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.on("console", on_console)
    return violations
