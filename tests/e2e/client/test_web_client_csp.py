"""The client works under its Content-Security-Policy: a violation breaks a page silently, so
the browser's console is watched while the main views load and a run is observed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from support import launch_running, terminate


def test_no_view_breaks_the_content_security_policy(server, browser):
    context = browser.new_context()  # the policy on (the `page` fixture bypasses it)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    launched = launch_running(server, {"model": "TorchReinforce", "environment": "CartPole", "mode": "TRAIN"})
    try:
        for view in ("#/instances", "#/catalog", "#/launch/Balancer?env=CartPole", "#/compare"):
            page.goto(f"{server.url}/{view}")
            expect(page.get_by_role("main")).to_be_visible()
        page.goto(f"{server.url}/#/instance/{launched['id']}")
        # Locators, not wait_for_function: that evaluates a string, which the policy forbids.
        expect(page.get_by_test_id("env-frame")).to_have_attribute(
            "data-frames", re.compile(r"[1-9]\d+"), timeout=30_000
        )
        expect(page.locator("[data-testid^=layer-]").first).to_be_visible(timeout=30_000)
        for section in ("logs", "details", "recordings"):
            page.goto(f"{server.url}/#/instance/{launched['id']}/{section}")
            expect(page.get_by_role("main")).to_contain_text(re.compile(r"\w"))
    finally:
        terminate(server, launched["id"])
        context.close()
    assert violations == [], violations
    assert errors == [], errors
