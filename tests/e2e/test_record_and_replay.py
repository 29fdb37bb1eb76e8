"""Record and replay, end to end: recordings written by real workers, read back, exported to
Minari and replayed through the same and another checkpoint."""

from __future__ import annotations

import io
import json
import os
import signal
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from support import ServerProcess, launch_running, terminate, wait_for

pytest.importorskip("torch")

HERE = Path(__file__).parent
INSTANCE_FIELDS = "id status worker"
RECORDING_FIELDS = "id instance streams status steps chunks sizeBytes cutShort error downloadUrl minariUrl stoppedAt"
STREAMS = ["inputs", "outputs", "reward", "activations/policy.2"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "observe_zoo.yaml", tmp_path_factory.mktemp("zk-record") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def launch(server, model="TorchReinforce", env="CartPole", mode="INFER", **extra):
    return launch_running(server, {"model": model, "environment": env, "mode": mode, **extra}, INSTANCE_FIELDS)


def recording(server, recording_id):
    return server.gql(f'{{ recording(id: "{recording_id}") {{ {RECORDING_FIELDS} }} }}')["recording"]


def record(server, instance_id, streams, min_steps):
    started = server.gql(
        f"mutation($id: ID!, $streams: [String!]) {{ startRecording(id: $id, streams: $streams) {{ {RECORDING_FIELDS} }} }}",
        {"id": instance_id, "streams": streams},
    )["startRecording"]
    assert started["status"] == "recording" and started["streams"] == streams
    wait_for(lambda: recording(server, started["id"])["steps"] >= min_steps, what=f"{min_steps} recorded steps")
    return started


def stop(server, recording_id):
    return server.gql(f'mutation {{ stopRecording(recording: "{recording_id}") {{ {RECORDING_FIELDS} }} }}')[
        "stopRecording"
    ]


def download(server, url) -> pa.Table:
    response = server.http.get(url)
    assert response.status_code == 200, response.text
    return pa.ipc.open_stream(response.content).read_all()


def values(table, name):
    return [np.asarray(v) if isinstance(v, list) else v for v in table.column(name).to_pylist()]


def replay(server, instance_id, recording_id, mutation="replay"):
    started = server.gql(
        f'mutation {{ {mutation}(id: "{instance_id}", recording: "{recording_id}") {{ id status mode recording }} }}'
    )[mutation]
    return wait_for(
        lambda: (
            (
                r := server.gql(
                    f'{{ replay(id: "{started["id"]}") {{ id status steps error mode outputRecording {{ id steps status }} comparison(limit: 5) }} }}'
                )["replay"]
            )["status"]
            != "running"
            and r
        ),
        timeout=60,
        what="the replay to end",
    )


@pytest.fixture(scope="module")
def checkpoint_a(server):
    base = launch(server)
    saved = server.gql(f'mutation {{ saveCheckpoint(id: "{base["id"]}", tag: "a") {{ id }} }}')["saveCheckpoint"]
    terminate(server, base["id"])
    return saved["id"]


@pytest.fixture(scope="module")
def recorded(server, checkpoint_a):
    """A recording of an instance launched from checkpoint A: ~1500 steps, with activations."""
    instance = launch(server, checkpoint=checkpoint_a)
    started = record(server, instance["id"], STREAMS, 1500)
    stopped = stop(server, started["id"])
    terminate(server, instance["id"])
    return stopped


def test_a_recording_round_trips_step_for_step(server, recorded):
    assert recorded["status"] == "complete" and not recorded["cutShort"] and recorded["stoppedAt"]
    table = download(server, recorded["downloadUrl"])
    assert table.num_rows == recorded["steps"] >= 1500
    steps = table.column("step").to_pylist()
    assert steps == list(range(steps[0], steps[0] + len(steps)))  # every step, none twice
    observations = values(table, "inputs/observation")
    finals = values(table, "final/observation")
    actions = table.column("outputs/action").to_pylist()
    assert set(actions) <= {0, 1} and all(o.shape == (4,) for o in observations)
    assert all(len(a) == 64 for a in table.column("activations/policy.2").to_pylist())
    ended = [
        t or u
        for t, u in zip(table.column("terminated").to_pylist(), table.column("truncated").to_pylist(), strict=True)
    ]
    assert any(ended)
    # What the env returned after step i is what the AInimal saw at step i+1, unless the episode ended.
    for i in range(len(steps) - 1):
        if ended[i]:
            assert finals[i] is not None and not np.array_equal(finals[i], observations[i + 1])
        else:
            assert finals[i] is None
    assert finals[-1] is not None  # the last row keeps where the recording stopped


def test_a_recording_exports_to_minari_and_loads_with_minari(server, recorded, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    response = server.http.get(recorded["minariUrl"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(response.content)).extractall(tmp_path)
    dataset_id = next(
        p for p in zipfile.ZipFile(io.BytesIO(response.content)).namelist() if p.endswith("metadata.json")
    )
    dataset_id = dataset_id.split("/data/")[0] if "/data/" in dataset_id else str(Path(dataset_id).parent)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    dataset = minari.load_dataset(dataset_id)
    table = download(server, recorded["downloadUrl"])
    actions = table.column("outputs/action").to_pylist()
    exported = np.concatenate([episode.actions for episode in dataset.iterate_episodes()])
    assert dataset.total_steps == len(exported) and 0 < len(exported) <= len(actions)
    # Episodes missing their final observation are the only ones left out, so what is there is in order.
    assert exported.tolist() == actions[: len(exported)] or exported.tolist() == actions[len(actions) - len(exported) :]


def test_an_open_loop_replay_through_the_same_checkpoint_reproduces_the_outputs_exactly(server, recorded, checkpoint_a):
    instance = launch(server, checkpoint=checkpoint_a)
    done = replay(server, instance["id"], recorded["id"])
    terminate(server, instance["id"])
    assert done["status"] == "complete" and done["steps"] == recorded["steps"], done
    comparison = done["comparison"]
    assert comparison["identical"] is True and comparison["comparedSteps"] == recorded["steps"]
    assert comparison["streams"]["activations/policy.2"]["maxAbsDiff"] == 0.0
    assert len(comparison["perStep"]) == 5


def test_a_closed_loop_replay_from_the_same_checkpoint_follows_the_recorded_trajectory(server, recorded, checkpoint_a):
    instance = launch(server, checkpoint=checkpoint_a)
    done = replay(server, instance["id"], recorded["id"], mutation="replayClosedLoop")
    terminate(server, instance["id"])
    assert done["status"] == "complete" and done["mode"] == "closed_loop", done
    streams = '["inputs/observation", "outputs/action"]'
    compared = server.gql(
        f'{{ compareRecordings(recorded: "{recorded["id"]}", replayed: "{done["outputRecording"]["id"]}", streams: {streams}, limit: 0) }}'
    )["compareRecordings"]
    assert compared["identical"] is True, compared


def test_a_replay_through_another_checkpoint_shows_differences(server, recorded, checkpoint_a):
    trainer = launch(server, mode="TRAIN", checkpoint=checkpoint_a, parameters={"batch_steps": 200})
    state = f'{{ instance(id: "{trainer["id"]}") {{ state }} }}'
    wait_for(
        lambda: (server.gql(state)["instance"]["state"] or {}).get("policy_updates", 0) >= 1,
        timeout=60,
        what="a policy update",
    )
    checkpoint_b = server.gql(f'mutation {{ saveCheckpoint(id: "{trainer["id"]}", tag: "b") {{ id }} }}')[
        "saveCheckpoint"
    ]["id"]
    terminate(server, trainer["id"])
    first, second = launch(server, checkpoint=checkpoint_a), launch(server, checkpoint=checkpoint_b)
    same = replay(server, first["id"], recorded["id"])
    other = replay(server, second["id"], recorded["id"])
    for instance in (first, second):
        terminate(server, instance["id"])
    diff = other["comparison"]
    assert diff["identical"] is False and diff["streams"]["activations/policy.2"]["maxAbsDiff"] > 0
    # Side by side: the two checkpoints on the same recorded inputs.
    side_by_side = server.gql(
        f'{{ compareRecordings(recorded: "{same["outputRecording"]["id"]}", replayed: "{other["outputRecording"]["id"]}", limit: 3) }}'
    )["compareRecordings"]
    assert side_by_side["comparedSteps"] == recorded["steps"] and side_by_side["identical"] is False
    assert len(side_by_side["perStep"]) == 3


def test_a_worker_that_dies_cuts_the_recording_short_and_keeps_the_written_chunks(server):
    instance = launch(server, model="Constant", env="Echo")
    started = record(server, instance["id"], ["inputs", "outputs", "reward"], 100)
    os.kill(instance["worker"]["pid"], signal.SIGKILL)
    wait_for(
        lambda: server.gql(f'{{ instance(id: "{instance["id"]}") {{ status }} }}')["instance"]["status"] == "FAILED"
    )
    cut = recording(server, started["id"])
    assert cut["status"] == "failed" and cut["cutShort"] is True and "ended" in cut["error"]
    table = download(server, cut["downloadUrl"])
    assert table.num_rows == cut["steps"] >= 100
    assert table.column("step").to_pylist() == list(
        range(table.column("step")[0].as_py(), table.column("step")[0].as_py() + table.num_rows)
    )


def test_a_model_without_torch_layers_records_what_its_state_exposes(server):
    instance = launch(server, model="Reinforce", mode="TRAIN")  # numpy: `state` holds its progress
    try:
        started = record(server, instance["id"], ["inputs", "activations"], 500)
        table = download(server, stop(server, started["id"])["downloadUrl"])
    finally:
        terminate(server, instance["id"])
    assert {"activations/action_probs", "activations/episodes_trained"} <= set(table.column_names)
    probabilities = [json.loads(value) for value in table.column("activations/action_probs").to_pylist()]
    assert len(probabilities) == table.num_rows >= 500
    assert all(len(p) == 2 and abs(sum(p) - 1) < 1e-6 for p in probabilities)
    trained = table.column("activations/episodes_trained").to_pylist()
    episodes = table.column("episode").to_pylist()
    # Read at every step: the count moves on with the episodes, never back.
    assert trained == sorted(trained) and trained[-1] - trained[0] == episodes[-1] - episodes[0] > 0


def test_bad_recording_and_replay_requests_get_clear_errors(server, recorded):
    instance = launch(server, model="Constant", env="Echo")
    try:
        cases = [
            (
                f'mutation {{ startRecording(id: "{instance["id"]}", streams: ["metrics"]) {{ id }} }}',
                "BAD_USER_INPUT",
                "cannot be recorded",
            ),
            (
                f'mutation {{ startRecording(id: "{instance["id"]}", streams: ["activations/nope"]) {{ id }} }}',
                "CONFLICT",
                "unknown layers",
            ),
            ('mutation { stopRecording(recording: "nope") { id } }', "NOT_FOUND", "nope"),
            (f'mutation {{ replay(id: "{instance["id"]}", recording: "nope") {{ id }} }}', "NOT_FOUND", "nope"),
            (
                f'mutation {{ replay(id: "{instance["id"]}", recording: "{recorded["id"]}") {{ id }} }}',
                "BAD_USER_INPUT",
                "TorchReinforce",
            ),
            (f'{{ compareRecordings(recorded: "{recorded["id"]}", replayed: "nope") }}', "NOT_FOUND", "nope"),
        ]
        for query, code, message in cases:
            error = server.errors(query)[0]
            assert error["extensions"]["code"] == code and message in error["message"], (query, error)
    finally:
        terminate(server, instance["id"])
    assert server.http.get("/recordings/nope/arrow").status_code == 404
    assert server.http.get(f"/recordings/{recorded['id']}/csv").status_code == 404
