"""The web client against the real server: connect, launch from the form, watch frames arrive,
pause, take over with the keyboard, checkpoint, record, and the client's own PWA files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from support import REPO, ServerProcess, free_port, launch_running, terminate, wait_for

LATEST = 'query($id: ID!) { latestFrame(id: $id, streams: ["outputs", "inputs"]) { step streams } }'


@pytest.fixture(autouse=True)
def _one_test_at_a_time(server):
    """Each test's instances end with it: the zoo's limits hold and workers do not pile up."""
    yield
    for found in server.gql("{ instances(status: [RUNNING, PAUSED, STARTING]) { id } }")["instances"]:
        terminate(server, found["id"])


def instance(server, instance_id: str, fields: str = "id status mode step parameters") -> dict:
    return server.gql(f'{{ instance(id: "{instance_id}") {{ {fields} }} }}')["instance"]


def open_app(page: Page, server, route: str = "") -> None:
    page.goto(f"{server.url}/{route}")
    expect(page.locator("header.topbar")).to_be_visible()


def current_instance_id(page: Page) -> str:
    match = re.search(r"#/instance/([^/?]+)", page.url)
    assert match, page.url
    return match.group(1)


def click_until(button, effect, attempts: int = 3) -> None:
    """Click `button` until `effect` shows: the instance view grows charts as metric names arrive,
    and a click that lands while the page shifts under it hits whatever moved there instead."""
    for attempt in range(attempts):
        button.click()
        try:
            expect(effect).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def test_the_server_serves_the_client_with_its_own_address_and_skips_the_connect_screen(server, page, screenshot):
    html = server.http.get("/").text
    assert 'window.__ZK_CONFIG__ = {"server": ""}' in html
    open_app(page, server)
    expect(page.get_by_role("heading", name=re.compile("Instances"))).to_be_visible()
    expect(page.get_by_text("open server")).to_be_visible()
    page.get_by_role("link", name="Launch", exact=True).click()
    expect(page.get_by_test_id("model-Reinforce")).to_be_visible()
    expect(page.get_by_test_id("env-CartPole")).to_contain_text("discrete: 2 choices")
    page.get_by_test_id("model-Balancer").locator("summary").click()
    screenshot(page, "catalog")


def test_launching_from_the_form_checks_values_then_streams_frames_and_network(server, page, screenshot):
    open_app(page, server, "#/catalog")
    page.get_by_test_id("model-TorchReinforce").get_by_role("link", name="Launch…").click()
    form = page.get_by_role("form", name="Launch")
    expect(form.get_by_label("Model", exact=True)).to_have_value("TorchReinforce")
    form.get_by_label("gamma").fill("2")
    expect(form.get_by_text("gamma expects a number in [0.8, 1], got 2")).to_be_visible()
    form.get_by_role("button", name="Launch").click()
    expect(form.get_by_role("alert")).to_contain_text("gamma expects")
    assert "#/launch" in page.url  # nothing was sent
    form.get_by_label("gamma").fill("0.95")
    form.get_by_label("Mode", exact=True).select_option("TRAIN")
    screenshot(page, "launch")
    form.get_by_role("button", name="Launch").click()

    page.wait_for_url(re.compile(r"#/instance/"), timeout=30_000)
    launched = instance(server, current_instance_id(page))
    assert launched["parameters"]["gamma"] == 0.95 and launched["mode"] == "TRAIN"
    view = page.get_by_test_id("instance-view")
    expect(view).to_have_attribute("data-status", "RUNNING", timeout=30_000)
    frames = page.get_by_test_id("env-frame")
    page.wait_for_function("document.querySelector('[data-testid=env-frame]').dataset.frames > 10", timeout=20_000)
    assert int(frames.get_attribute("data-frames")) > 10
    # Inputs as bars with their numbers, the action as highlighted choices, activations per layer.
    expect(page.locator("[data-testid=inputs-panel] [data-widget=bars]")).to_be_visible()
    expect(page.locator("[data-testid=outputs-panel] .chip.on")).to_have_count(1)
    expect(page.get_by_test_id("layer-policy.0")).to_contain_text("activations mean", timeout=15_000)
    expect(page.get_by_test_id("layer-policy.0")).to_contain_text("weight [64×4]")
    screenshot(page, "instance", full_page=True)


def test_a_launch_link_to_a_model_that_does_not_exist_says_so_and_opens_no_form(server, page):
    open_app(page, server, "#/launch/NoSuchModel?env=CartPole")
    expect(page.get_by_test_id("launch-unavailable").get_by_role("alert")).to_contain_text(
        "There is no model named “NoSuchModel”"
    )
    expect(page.get_by_role("form", name="Launch")).to_have_count(0)
    open_app(page, server, "#/launch/Balancer?env=NoSuchEnv")
    expect(page.get_by_role("alert")).to_contain_text("There is no environment named “NoSuchEnv”")
    open_app(page, server, "#/launch/Balancer?env=CartPole")
    expect(page.get_by_role("form", name="Launch").get_by_label("Model", exact=True)).to_have_value("Balancer")


def test_pause_resume_and_a_checkpoint_in_the_lineage(server, page, screenshot):
    launched = launch_running(server, {"model": "Reinforce", "environment": "CartPole", "mode": "TRAIN"})
    open_app(page, server, f"#/instance/{launched['id']}/checkpoints")
    view = page.get_by_test_id("instance-view")
    expect(view).to_have_attribute("data-status", "RUNNING")
    page.get_by_role("button", name=re.compile("Pause")).click()
    expect(view).to_have_attribute("data-status", "PAUSED")
    assert instance(server, launched["id"])["status"] == "PAUSED"

    page.get_by_label("Checkpoint tag").fill("first")
    page.get_by_role("button", name="Save checkpoint").click()
    page.get_by_role("button", name=re.compile("Resume")).click()
    expect(view).to_have_attribute("data-status", "RUNNING")
    page.get_by_label("Checkpoint tag").fill("second")
    page.get_by_role("button", name="Save checkpoint").click()
    expect(page.locator("svg[aria-label='checkpoint lineage'] .node")).to_have_count(2)
    checkpoints = instance(server, launched["id"], "checkpoints { tag parent { id } id }")["checkpoints"]
    assert [c["tag"] for c in checkpoints] == ["first", "second"]
    assert checkpoints[1]["parent"]["id"] == checkpoints[0]["id"]
    page.get_by_test_id(f"checkpoint-node-{checkpoints[0]['id']}").click()
    expect(page.get_by_role("button", name="Restore into this instance")).to_be_visible()
    screenshot(page, "checkpoints", full_page=True)


def test_a_keyboard_takeover_reaches_the_env(server, page, screenshot):
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    open_app(page, server, f"#/instance/{launched['id']}")
    takeover = page.get_by_test_id("takeover")
    click_until(takeover.get_by_role("button", name="Take over"), takeover.get_by_role("button", name="Hand back"))

    def action() -> int:
        return server.gql(LATEST, {"id": launched["id"]})["latestFrame"]["streams"]["outputs"]["action"]

    def held(key: str, expected: int) -> None:
        page.keyboard.down(key)
        expect(takeover.get_by_test_id("last-action")).to_contain_text(f"last action sent: {expected}")
        # Real time: every step from now on takes the person's action.
        wait_for(lambda: all(action() == expected for _ in range(5)), timeout=10, what=f"action {expected}")
        page.keyboard.up(key)

    held("ArrowLeft", 0)
    overrides = instance(server, launched["id"], "overrides { takeover active setBy }")["overrides"]
    assert [(o["takeover"], o["active"]) for o in overrides] == [("realtime", True)]
    held("ArrowRight", 1)
    screenshot(page, "takeover")
    expect(takeover.get_by_test_id("last-action")).to_contain_text("none (the AInimal acts)")
    takeover.get_by_role("button", name="Hand back").click()
    expect(takeover.get_by_role("button", name="Take over")).to_be_visible()
    assert instance(server, launched["id"], "overrides { active }")["overrides"] == []  # none in force


def test_a_lockstep_takeover_steps_the_env_once_per_key_press(server, page):
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    open_app(page, server, f"#/instance/{launched['id']}")
    takeover = page.get_by_test_id("takeover")
    takeover.get_by_label("Takeover mode").select_option("lockstep")
    click_until(
        takeover.get_by_role("button", name="Take over"), takeover.get_by_text("your first action starts the takeover")
    )
    page.keyboard.press("ArrowLeft")  # starts the takeover: from now on the env waits for each action
    expect(takeover).not_to_contain_text("your first action starts the takeover")

    def step() -> int:  # fresh from the worker (the stored step lags by up to a progress interval)
        return server.gql(LATEST, {"id": launched["id"]})["latestFrame"]["step"]

    def still() -> int | None:
        before = step()
        time.sleep(0.3)
        return before if step() == before else None

    waiting = wait_for(still, what="the env waiting for a person")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: step() >= waiting + 3, timeout=10, what="three steps")
    time.sleep(0.3)
    assert step() == waiting + 3
    assert server.gql(LATEST, {"id": launched["id"]})["latestFrame"]["streams"]["outputs"]["action"] == 1


def test_on_a_phone_the_touch_buttons_drive_the_action(server, browser, screenshot):
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, bypass_csp=True
    )  # bypass_csp: see conftest's `page`
    page = phone.new_page()
    try:
        open_app(page, server, f"#/instance/{launched['id']}")
        takeover = page.get_by_test_id("takeover")
        takeover.get_by_label("Takeover mode").select_option("lockstep")
        click_until(
            takeover.get_by_role("button", name="Take over"),
            takeover.get_by_text("your first action starts the takeover"),
        )
        takeover.get_by_role("button", name="action 1").tap()
        expect(takeover).not_to_contain_text("your first action starts the takeover")
        frame = wait_for(
            lambda: (
                (f := server.gql(LATEST, {"id": launched["id"]})["latestFrame"])["streams"]["outputs"]["action"] == 1
                and f
            ),
            what="the tapped action",
        )
        assert frame["streams"]["outputs"]["action"] == 1
        takeover.scroll_into_view_if_needed()
        screenshot(page, "phone")
    finally:
        phone.close()


def test_recording_is_started_stopped_and_listed(server, page, screenshot):
    launched = launch_running(server, {"model": "Reinforce", "environment": "CartPole", "mode": "INFER"})
    open_app(page, server, f"#/instance/{launched['id']}/recordings")
    page.get_by_role("button", name=re.compile("Record")).click()
    page.get_by_role("button", name=re.compile("Stop recording")).click()
    recordings = wait_for(
        lambda: [
            r
            for r in instance(server, launched["id"], "recordings { id status steps }")["recordings"]
            if r["status"] == "complete"
        ],
        what="a complete recording",
    )
    row = page.get_by_test_id(f"recording-{recordings[0]['id']}")
    expect(row).to_contain_text("complete")
    with page.expect_download() as download:
        row.get_by_role("button", name="Arrow").click()
    assert download.value.suggested_filename == f"recording-{recordings[0]['id']}.arrow"
    screenshot(page, "recordings", full_page=True)


def test_two_checkpoints_compared_side_by_side_on_one_recording(server, page, screenshot):
    launched = launch_running(server, {"model": "Reinforce", "environment": "CartPole", "mode": "TRAIN"})
    save = "mutation($id: ID!, $tag: String) { saveCheckpoint(id: $id, tag: $tag) { id } }"
    server.gql(save, {"id": launched["id"], "tag": "early"})
    wait_for(lambda: instance(server, launched["id"])["step"] > 20_000, what="some training")
    server.gql(save, {"id": launched["id"], "tag": "later"})
    recording = server.gql("mutation($id: ID!) { startRecording(id: $id) { id } }", {"id": launched["id"]})
    time.sleep(0.05)
    server.gql("mutation($r: ID!) { stopRecording(recording: $r) { id } }", {"r": recording["startRecording"]["id"]})
    open_app(page, server, f"#/instance/{launched['id']}/recordings")
    comparison = page.get_by_test_id("comparison")
    started = page.get_by_test_id("compare-progress").or_(comparison)  # its progress, or already its result
    click_until(page.get_by_role("button", name="Compare", exact=True), started)
    expect(comparison).to_contain_text("early and later", timeout=60_000)
    expect(comparison.get_by_role("cell", name="outputs/action")).to_be_visible()
    screenshot(page, "compare", full_page=True)
    # The instance's own state was saved first and is restored after.
    tags = [c["tag"] for c in instance(server, launched["id"], "checkpoints { tag }")["checkpoints"]]
    assert tags == ["early", "later", "before comparison"]


def test_the_instance_list_updates_live(server, page, screenshot):
    open_app(page, server, "#/instances")
    launched = launch_running(server, {"model": "Balancer", "environment": "CartPole", "mode": "INFER"})
    row = page.get_by_test_id(f"instance-{launched['id']}")
    expect(row).to_contain_text("running", timeout=10_000)
    server.gql(f'mutation {{ pause(id: "{launched["id"]}") {{ status }} }}')
    expect(row).to_contain_text("paused", timeout=10_000)
    screenshot(page, "instances")


def test_the_standalone_client_asks_for_a_server_and_is_an_installable_pwa(page, screenshot, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ainimal_zookeeper.client", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        assert "AInimal Zookeeper client at http://127.0.0.1" in process.stdout.readline()
        wait_for(lambda: _answers(url), what="the client serving")
        manifest = httpx.get(url + "manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in json.loads(manifest.text)["icons"]}
        page.goto(url)
        expect(page.get_by_role("form", name="Connect")).to_be_visible()
        screenshot(page, "connect")
        # The service worker takes over and keeps the app shell, so the installed app opens offline.
        page.wait_for_function("navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller || true)")
        page.reload()
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        page.context.set_offline(True)
        page.reload()
        expect(page.get_by_role("form", name="Connect")).to_be_visible()
        page.context.set_offline(False)
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def test_the_standalone_client_connects_to_a_server_on_another_origin(page, tmp_path):
    """The Connect screen with the server's URL, from the standalone client's origin (CORS)."""
    client_port = free_port()
    origin = f"http://127.0.0.1:{client_port}"
    examples = REPO / "examples"
    zoo = yaml.safe_load((examples / "zoo.yaml").read_text())
    zoo["server"]["cors_origins"] = [origin]
    for entry in zoo["models"] + zoo["envs"]:
        if "path" in entry:
            entry["path"] = str(examples / entry["path"])
    config = tmp_path / "cors.yaml"
    config.write_text(yaml.safe_dump(zoo))
    srv = ServerProcess(config, tmp_path / "data")
    client = subprocess.Popen(
        [sys.executable, "-m", "ainimal_zookeeper.client", "--host", "127.0.0.1", "--port", str(client_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    try:
        wait_for(lambda: _answers(origin + "/"), what="the client serving")
        refused = httpx.options(
            srv.url + "/graphql",
            headers={"origin": "http://evil.example", "access-control-request-method": "POST"},
        )
        assert "access-control-allow-origin" not in refused.headers  # only the configured origin
        page.goto(origin + "/")
        form = page.get_by_role("form", name="Connect")
        form.get_by_label("Server address").fill(srv.url)
        form.get_by_role("button", name="Connect").click()
        expect(page.get_by_role("heading", name=re.compile("Instances"))).to_be_visible()
    finally:
        client.terminate()
        client.wait(10)
        assert srv.stop() == 0, srv.log()
