"""The web client's browser tests: the real server with `--client`, driven in Debian's chromium.

Playwright drives the system's chromium through `executable_path` (never a downloaded
browser); without chromium these tests skip, saying so. Set ZK_SCREENSHOTS to a folder (e.g.
docs/screenshots) to keep the screenshots the tests take of the main screens.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

CHROMIUM = next(
    (
        p
        for p in (os.environ.get("ZK_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium")
        if p and Path(p).exists()
    ),
    None,
)
STATIC = Path(__file__).resolve().parents[3] / "src" / "ainimal_zookeeper" / "client" / "static"

if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium): the browser tests need it",
        allow_module_level=True,
    )
if not (STATIC / "sw.js").exists():
    pytest.fail("the web client is not built: run `make client` (make test does it)", pytrace=False)

sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra's playwright package is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    # Module-scoped: Playwright's sync API keeps an event loop running on this thread until it
    # stops, which would break every asyncio test that runs after it in the same session.
    # As root (containers, CI) chromium refuses to start without --no-sandbox.
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    # bypass_csp: Playwright's wait_for_function evaluates a string in the page, which the client's
    # Content-Security-Policy forbids; test_web_client_csp.py loads the views with the policy on.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The example zoo (what `make run` serves) with the client."""
    srv = ServerProcess(None, tmp_path_factory.mktemp("zk-client") / "data", extra=["--client"])
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="session")
def screenshot():
    """`screenshot(page, name)`: keep a picture of the page in $ZK_SCREENSHOTS, when it is set."""
    folder = os.environ.get("ZK_SCREENSHOTS")

    def take(page: sync_api.Page, name: str, full_page: bool = False) -> None:
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        # Passing notices would cover the screen, and a sticky bar lands mid-page in a full-page picture.
        style = page.add_style_tag(
            content=".toasts { display: none !important } .topbar { position: static !important }"
        )
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)
        style.evaluate("element => element.remove()")

    return take
