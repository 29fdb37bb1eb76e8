"""The web client left running (issue 11): a live badge that tells the truth, reconnects by
itself, charts from history, logs, pace, takeover leases and the emergency stop.

Tests that need a server part from another branch skip, naming it, when the schema lacks it
(found by introspection at run time), so they run as soon as that part is merged."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Route, expect

from support import launch_running, terminate, wait_for

SCHEMA = "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }"


@pytest.fixture(autouse=True)
def _one_test_at_a_time(server):
    yield
    for found in server.gql("{ instances(status: [RUNNING, PAUSED, STARTING]) { id } }")["instances"]:
        terminate(server, found["id"])


def has(server, kind: str, name: str) -> bool:
    schema = server.gql(SCHEMA)["__schema"]
    return any(f["name"] == name for f in (schema[f"{kind}Type"] or {}).get("fields") or [])


PROBES = {
    "emergencyStop": 'mutation { emergencyStop(id: "no-such-instance") { id } }',
    "setPace": 'mutation { setPace(id: "no-such-instance", pace: 1) { id } }',
    "logs": '{ logs(id: "no-such-instance") { text } }',
}


def need(server, kind: str, name: str) -> None:
    """Skip unless the server has `name` and resolves it (the core schema declares names early)."""
    if not has(server, kind, name):
        pytest.skip(f"the server has no {kind} field `{name}` yet (issue 11's server part is not merged)")
    probe = PROBES.get(name)
    if probe:
        errors = server.post(probe).json().get("errors") or []
        if any(
            e.get("extensions", {}).get("code") == "INTERNAL" or "Cannot return null" in e.get("message", "")
            for e in errors
        ):
            pytest.skip(
                f"the server declares `{name}` but does not resolve it yet (issue 11's server part is not merged)"
            )


def open_instance(page: Page, server, instance_id: str, tab: str = "") -> None:
    page.goto(f"{server.url}/#/instance/{instance_id}{'/' + tab if tab else ''}")
    expect(page.get_by_test_id("instance-view")).to_be_visible()


def badge(page: Page):
    return page.get_by_test_id("instance-view").get_by_test_id("live-badge")


def test_the_live_badge_says_live_while_frames_arrive_then_paused_then_ended(server, page):
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    open_instance(page, server, launched["id"])
    expect(badge(page)).to_have_attribute("data-health", "live", timeout=20_000)
    expect(badge(page)).to_have_text("● live")
    page.get_by_role("button", name=re.compile("Pause")).click()
    expect(badge(page)).to_have_attribute("data-health", "paused", timeout=10_000)
    page.get_by_role("button", name=re.compile("Resume")).click()
    expect(badge(page)).to_have_attribute("data-health", "live", timeout=20_000)
    terminate(server, launched["id"])
    expect(badge(page)).to_have_attribute("data-health", "ended", timeout=20_000)


def test_a_dropped_stream_says_reconnecting_and_comes_back_live_by_itself(server, page):
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    refused = {"n": 0}

    def flaky(route: Route) -> None:
        body = route.request.post_data or ""
        # The first telemetry connections fail as a restarting server's would; then they go through.
        if "telemetry(" in body and refused["n"] < 4:
            refused["n"] += 1
            route.fulfill(status=503, body="restarting")
        else:
            route.continue_()

    page.route("**/graphql", flaky)
    open_instance(page, server, launched["id"])
    expect(badge(page)).to_have_attribute("data-health", "reconnecting", timeout=10_000)
    expect(badge(page)).to_have_attribute("data-health", "live", timeout=30_000)
    assert refused["n"] == 4
    frames = page.get_by_test_id("env-frame")
    page.wait_for_function("document.querySelector('[data-testid=env-frame]').dataset.frames > 5", timeout=20_000)
    assert int(frames.get_attribute("data-frames")) > 5


def test_the_instance_list_badge_reconnects_its_event_stream(server, page):
    refused = {"n": 0}

    def flaky(route: Route) -> None:
        if "instanceEvents(" in (route.request.post_data or "") and refused["n"] < 3:
            refused["n"] += 1
            route.fulfill(status=503, body="restarting")
        else:
            route.continue_()

    page.route("**/graphql", flaky)
    page.goto(f"{server.url}/#/instances")
    list_badge = page.get_by_test_id("live-badge")
    expect(list_badge).to_have_attribute("data-health", "reconnecting", timeout=10_000)
    expect(list_badge).to_have_attribute("data-health", "live", timeout=30_000)


def test_escape_twice_is_an_emergency_stop(server, page):
    need(server, "mutation", "emergencyStop")
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    open_instance(page, server, launched["id"])
    view = page.get_by_test_id("instance-view")
    expect(view).to_have_attribute("data-status", "RUNNING")
    expect(page.get_by_test_id("emergency-stop")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(view).to_have_attribute("data-status", "PAUSED", timeout=10_000)
    assert server.gql(f'{{ instance(id: "{launched["id"]}") {{ status overrides {{ id }} }} }}')["instance"] == {
        "status": "PAUSED",
        "overrides": [],
    }


def test_charts_come_from_history_and_survive_a_reload_and_runs_compare(server, page, screenshot):
    need(server, "query", "metricHistory")
    launched = launch_running(server, {"model": "Reinforce", "environment": "CartPole", "mode": "TRAIN"})
    wait_for(
        lambda: any(
            len(s["steps"]) >= 3
            for s in server.gql(
                'query($id: ID!) { metricHistory(ids: [$id], names: ["episode_return"]) { steps } }',
                {"id": launched["id"]},
            )["metricHistory"]
        ),
        timeout=60,
        what="three episode returns in the history",
    )
    histories: list[str] = []
    page.on(
        "request", lambda r: histories.append(r.post_data or "") if "metricHistory" in (r.post_data or "") else None
    )
    open_instance(page, server, launched["id"])
    for reload in (False, True):  # open, then reload: the chart starts from the history both times
        if reload:
            histories.clear()
            page.reload()
        page.wait_for_function(
            "document.querySelector('canvas[aria-label=\"episode return\"]')?.dataset.points >= 3", timeout=10_000
        )
        assert histories, "the view asked for no metric history"
    screenshot(page, "instance-history", full_page=True)
    page.goto(f"{server.url}/#/compare?ids={launched['id']}")
    expect(page.get_by_test_id("legend")).to_contain_text("Reinforce")
    page.wait_for_function(
        "document.querySelector('[data-testid=compare] canvas')?.dataset.points >= 3", timeout=10_000
    )
    screenshot(page, "compare-runs")


def test_the_logs_tab_shows_the_tail_then_live_lines(server, page):
    need(server, "query", "logs")
    launched = launch_running(server, {"model": "Reinforce", "environment": "CartPole", "mode": "TRAIN"})
    open_instance(page, server, launched["id"], "logs")
    logs = page.get_by_test_id("logs")
    expect(logs).to_be_visible()
    expect(logs.get_by_role("log")).to_have_attribute("data-follow", "yes")


def test_the_launch_form_sets_a_pace_and_the_control_bar_changes_it(server, page):
    need(server, "mutation", "setPace")
    page.goto(f"{server.url}/#/launch/Balancer?env=CartPole")
    form = page.get_by_role("form", name="Launch")
    form.get_by_text("Pace, budget and checkpoints").click()
    form.get_by_label("Pace (steps per second)").fill("-5")
    expect(form.get_by_text("expects a number > 0")).to_be_visible()
    form.get_by_label("Pace (steps per second)").fill("20")
    form.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r"#/instance/"), timeout=30_000)
    instance_id = re.search(r"#/instance/([^/?]+)", page.url).group(1)
    assert server.gql(f'{{ instance(id: "{instance_id}") {{ pace }} }}')["instance"]["pace"] == 20
    expect(page.get_by_test_id("pace-value")).to_contain_text("20 steps/s", timeout=10_000)
    page.get_by_label("Pace (steps per second)").fill("40")
    page.get_by_role("button", name="Set pace").click()
    wait_for(
        lambda: server.gql(f'{{ instance(id: "{instance_id}") {{ pace }} }}')["instance"]["pace"] == 40, timeout=10
    )


def press_until_sent(page, key: str, attempts: int = 5) -> None:
    """Hold `key` until the pad reports an action sent.

    The pad attaches its key listeners in an effect after it renders, so a press made the
    moment "Hand back" appears can land before anyone listens; a person would press again.
    """
    sent = page.get_by_test_id("last-action")
    for _ in range(attempts):
        page.keyboard.down(key)
        try:
            expect(sent).not_to_contain_text("none (the AInimal acts)", timeout=2_000)
            return
        except AssertionError:
            page.keyboard.up(key)
    raise AssertionError(f"pressing {key} never sent an action: {sent.inner_text()}")


def test_a_takeover_is_renewed_while_its_tab_is_open_and_released_after_it_closes(server, browser):
    need(server, "mutation", "renewTakeover")
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    context = browser.new_context()
    page = context.new_page()
    open_instance(page, server, launched["id"])
    takeover = page.get_by_test_id("takeover")
    takeover.get_by_role("button", name="Take over").click()
    expect(takeover.get_by_role("button", name="Hand back")).to_be_visible()
    press_until_sent(page, "ArrowLeft")
    expect(page.get_by_test_id("takeover-lease")).to_contain_text("lapses in", timeout=10_000)

    def active() -> list:
        return server.gql(f'{{ instance(id: "{launched["id"]}") {{ overrides {{ id holdSeconds }} }} }}')["instance"][
            "overrides"
        ]

    hold = (active()[0].get("holdSeconds") or 3) if active() else 3
    time.sleep(3 * hold)  # three lease periods: still held, the tab renews it
    assert len(active()) == 1
    context.close()  # the person goes: nobody renews, the server hands control back
    wait_for(lambda: active() == [], timeout=hold * 3 + 10, what="the abandoned takeover released")
