"""Observe and override, end to end: the real server, real workers, telemetry over SSE."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import pytest

from support import GraphQLError, ServerProcess, SseStream, launch_running, terminate, wait_for

pytest.importorskip("torch")
from PIL import Image

HERE = Path(__file__).parent
TELEMETRY = """subscription($id: ID!, $streams: [String!], $hz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $hz) { instance step episode time streams dropped }
}"""
INSTANCE_FIELDS = "id status architecture"
OVERRIDE = """mutation($id: ID!, $input: OverrideInput!) {
  override(id: $id, input: $input) { id target value mode setBy active takeover }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "observe_zoo.yaml", tmp_path_factory.mktemp("zk-observe") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def launch(server, model, env, mode="INFER", **extra):
    return launch_running(server, {"model": model, "environment": env, "mode": mode, **extra}, INSTANCE_FIELDS)


def telemetry(server, instance_id, streams, hz=20.0):
    return SseStream(server, TELEMETRY, {"id": instance_id, "streams": streams, "hz": hz}, "telemetry")


def test_frames_come_at_the_asked_rate_with_rising_steps_and_the_asked_streams(server):
    instance = launch(server, "TorchReinforce", "CartPole")
    streams = ["inputs", "outputs", "reward", "metrics", "frame", "activations/policy.2"]
    with telemetry(server, instance["id"], streams, hz=10.0) as stream:
        first = stream.next()
        started = time.monotonic()
        frames = stream.take(10)
        elapsed = time.monotonic() - started
    terminate(server, instance["id"])
    steps = [frame["step"] for frame in frames]
    assert steps == sorted(steps) and len(set(steps)) == len(steps), steps
    # The rate is a ceiling: ten frames at 10 Hz cannot arrive in much under a second.
    assert elapsed > 0.8, elapsed
    frame = frames[-1]
    assert frame["instance"] == instance["id"] and first["dropped"] == 0
    assert set(frame["streams"]) == set(streams)
    assert len(frame["streams"]["inputs"]["observation"]) == 4
    assert frame["streams"]["outputs"]["action"] in (0, 1)
    assert frame["streams"]["activations/policy.2"]["shape"] == [64]
    assert len(frame["streams"]["activations/policy.2"]["values"]) == 64
    picture = frame["streams"]["frame"]
    image = Image.open(io.BytesIO(base64.b64decode(picture["data"])))
    assert image.size == (picture["width"], picture["height"]) and image.size[0] <= 600


def test_latest_frame_answers_once_with_small_weights_in_full(server):
    instance = launch(server, "TorchReinforce", "CartPole")
    query = 'query($id: ID!) { latestFrame(id: $id, streams: ["weights/policy.4.weight", "weights"]) { step streams } }'
    frame = server.gql(query, {"id": instance["id"]})["latestFrame"]
    terminate(server, instance["id"])
    weight = frame["streams"]["weights/policy.4.weight"]
    assert weight["shape"] == [2, 64] and len(weight["values"]) == 2 and len(weight["values"][0]) == 64
    assert weight["min"] <= weight["mean"] <= weight["max"]
    summaries = [name for name in frame["streams"] if name.startswith("weights/")]
    assert "weights/policy.0.weight" in summaries and "values" not in frame["streams"]["weights/policy.0.weight"]


def test_weights_and_activations_change_while_the_model_trains(server):
    instance = launch(server, "TorchReinforce", "CartPole", mode="TRAIN", parameters={"batch_steps": 200})
    with telemetry(server, instance["id"], ["weights/policy.0.weight", "activations/policy.0", "state"], 5) as stream:
        # The first frame shows the instance as it is when the stream opens; activations come
        # with the frames of the steps that follow.
        first = wait_for(lambda: (frame := stream.next())["streams"].get("activations/policy.0") and frame)
        updates = first["streams"]["state"]["policy_updates"]
        wait_for(lambda: stream.next()["streams"]["state"]["policy_updates"] > updates, what="a policy update")
        last = stream.next()
    terminate(server, instance["id"])
    before, after = first["streams"]["weights/policy.0.weight"], last["streams"]["weights/policy.0.weight"]
    assert before["values"] != after["values"]
    assert first["streams"]["activations/policy.0"]["values"] != last["streams"]["activations/policy.0"]["values"]


def test_an_action_override_changes_what_the_env_receives_and_is_told_in_events(server):
    instance = launch(server, "Constant", "Echo", mode="BOTH")
    with telemetry(server, instance["id"], ["inputs", "reward"], 50) as stream:
        assert stream.next()["streams"]["inputs"]["observation"][0] == 0.0
        made = server.gql(OVERRIDE, {"id": instance["id"], "input": {"target": "outputs/action", "value": 2}})
        override = made["override"]
        assert override["setBy"] == "local" and override["active"] and override["mode"] == "set"
        # The env observes the action it received: 2 from now on, with its reward.
        seen = wait_for(lambda: (f := stream.next())["streams"]["inputs"]["observation"][0] == 2.0 and f)
        assert seen["streams"]["reward"] == 1.0
        listed = server.gql(f'{{ instance(id: "{instance["id"]}") {{ overrides {{ id target }} }} }}')
        assert listed["instance"]["overrides"] == [{"id": override["id"], "target": "outputs/action"}]
        cleared = server.gql(f'mutation {{ clearOverride(id: "{instance["id"]}", override: "{override["id"]}") }}')
        assert cleared["clearOverride"] is True
        wait_for(lambda: stream.next()["streams"]["inputs"]["observation"][0] == 0.0, what="the agent's own action")
    state = wait_for(
        lambda: (
            (s := server.gql(f'{{ instance(id: "{instance["id"]}") {{ state }} }}')["instance"]["state"])
            and s["overridden_steps"] > 0
            and s
        ),
        what="overridden steps reaching train",
    )
    assert state["trained_steps"] > state["overridden_steps"]  # marked, not all steps
    terminate(server, instance["id"])


def test_a_realtime_takeover_uses_the_latest_human_action_and_the_agent_fills_gaps(server):
    instance = launch(server, "Constant", "Echo")
    act = "mutation($id: ID!, $value: JSON) { act(id: $id, value: $value) }"
    with telemetry(server, instance["id"], ["inputs"], 50) as stream:
        server.gql(
            OVERRIDE, {"id": instance["id"], "input": {"target": "outputs/action", "value": 1, "takeover": "realtime"}}
        )
        wait_for(lambda: stream.next()["streams"]["inputs"]["observation"][0] == 1.0, what="the first human action")
        assert server.gql(act, {"id": instance["id"], "value": 2})["act"] is True
        wait_for(lambda: stream.next()["streams"]["inputs"]["observation"][0] == 2.0, what="the next human action")
        server.gql(act, {"id": instance["id"], "value": None})  # key released: the agent acts again
        wait_for(lambda: stream.next()["streams"]["inputs"]["observation"][0] == 0.0, what="the agent filling in")
    terminate(server, instance["id"])


def test_a_lockstep_takeover_steps_once_per_human_action(server):
    instance = launch(server, "Constant", "Echo")
    # `outputs` is the action the env last received (an observation would be reset at an episode's end).
    step_query = f'{{ latestFrame(id: "{instance["id"]}", streams: ["outputs"]) {{ step streams }} }}'
    server.gql(
        OVERRIDE,
        {
            "id": instance["id"],
            "input": {"target": "outputs/action", "value": 1, "takeover": "lockstep", "timeoutSeconds": 60},
        },
    )
    # The first action releases one step, then the env waits.
    held = wait_for(
        lambda: (
            (f := server.gql(step_query)["latestFrame"]) and f["streams"].get("outputs", {}).get("action") == 1 and f
        )
    )
    time.sleep(0.3)
    assert server.gql(step_query)["latestFrame"]["step"] == held["step"]
    for _ in range(3):
        server.gql("mutation($id: ID!) { act(id: $id, value: 2) }", {"id": instance["id"]})
    wait_for(lambda: server.gql(step_query)["latestFrame"]["step"] == held["step"] + 3, what="three more steps")
    time.sleep(0.3)
    after = server.gql(step_query)["latestFrame"]
    assert after["step"] == held["step"] + 3 and after["streams"]["outputs"]["action"] == 2
    terminate(server, instance["id"])


def test_an_activation_clamp_changes_the_output(server):
    instance = launch(server, "TorchReinforce", "CartPole")
    with telemetry(server, instance["id"], ["outputs", "activations/policy.4"], 50) as stream:
        for pinned, wanted in ((20.0, 1), (-20.0, 0)):
            # Clamp the logit of action 1 far above (then below) the other: the greedy policy follows.
            patch = {"target": "activations/policy.4", "mode": "clamp", "index": 1, "value": [pinned, pinned]}
            server.gql(OVERRIDE, {"id": instance["id"], "input": patch})
            frames = [stream.next() for _ in range(30)][-10:]
            assert all(f["streams"]["outputs"]["action"] == wanted for f in frames), frames
            assert all(f["streams"]["activations/policy.4"]["values"][1] == pinned for f in frames)
    terminate(server, instance["id"])


@pytest.mark.parametrize(
    ("target", "value", "mode", "index", "message"),
    [
        ("outputs/nope", 1, "set", None, "nope"),
        ("outputs/action", 7, "set", None, "action"),
        ("outputs/action", "left", "set", None, "action"),
        ("activations/policy.9", 1.0, "set", None, "policy.9"),
        ("activations/policy.4", [1.0, 2.0, 3.0], "set", None, "shape"),
        ("activations/policy.4", 1.0, "set", 5, "index"),
        ("activations/policy.4", 1.0, "bogus", None, "mode"),
        ("weights/policy.0", 1.0, "set", None, "inputs/<modality>"),
    ],
)
def test_bad_override_targets_and_shapes_get_clear_errors(server, target, value, mode, index, message):
    instance = launch(server, "TorchReinforce", "CartPole")
    try:
        errors = server.errors(
            OVERRIDE, {"id": instance["id"], "input": {"target": target, "value": value, "mode": mode, "index": index}}
        )
    finally:
        terminate(server, instance["id"])
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    assert message in errors[0]["message"], errors[0]["message"]


def test_a_subscriber_that_never_reads_does_not_stop_the_agent_or_other_subscribers(server):
    instance = launch(server, "TorchReinforce", "CartPole")
    stalled = telemetry(server, instance["id"], ["inputs", "outputs", "frame", "activations"], 120)
    try:
        with telemetry(server, instance["id"], ["outputs"], 20) as reader:
            steps = [frame["step"] for frame in reader.take(30)]
        # Thirty distinct steps in order: the agent kept stepping (a blocked one sends no frames,
        # and `take` fails). How fast it steps depends on the machine, so it is not asserted.
        assert steps == sorted(steps) and len(set(steps)) == 30
    finally:
        stalled.close()
    terminate(server, instance["id"])


def test_telemetry_errors_are_clear(server):
    instance = launch(server, "Constant", "Echo")
    terminate(server, instance["id"])
    for streams, hz, code, message in [
        (["bogus"], 10, "BAD_USER_INPUT", "unknown stream"),
        (["inputs"], -1, "BAD_USER_INPUT", "maxHz"),
        (["inputs"], 10, "CONFLICT", "TERMINATED"),
    ]:
        response = server.http.post(
            "/graphql",
            json={"query": TELEMETRY, "variables": {"id": instance["id"], "streams": streams, "hz": hz}},
            headers={"accept": "text/event-stream"},
        )
        # Refused after the request was accepted: inside the stream, one `next` with the error,
        # then `complete` (graphql-sse).
        assert response.status_code == 200 and "event: complete" in response.text, response.text
        first = next(line for line in response.text.splitlines() if line.startswith("data: {"))
        body = json.loads(first.removeprefix("data: "))
        error = body["errors"][0]
        assert body["data"] is None and error["extensions"]["code"] == code and message in error["message"], error
    with pytest.raises(GraphQLError, match="TERMINATED"):
        server.gql(f'{{ latestFrame(id: "{instance["id"]}") {{ step }} }}')


def test_latest_frame_of_a_running_instance_answers_with_its_next_step_and_of_a_paused_one_at_once(server):
    instance = launch(server, "TorchReinforce", "CartPole")
    query = f'{{ latestFrame(id: "{instance["id"]}", streams: ["inputs", "outputs", "activations/policy.4"]) {{ step streams }} }}'
    running = server.gql(query)["latestFrame"]
    assert running["streams"]["outputs"]["action"] in (0, 1)
    assert running["streams"]["activations/policy.4"]["shape"] == [2]
    paused_at = server.gql(f'mutation {{ pause(id: "{instance["id"]}") {{ step }} }}')["pause"]["step"]
    paused = server.gql(query)["latestFrame"]
    assert paused["step"] == paused_at and len(paused["streams"]["inputs"]["observation"]) == 4
    terminate(server, instance["id"])
