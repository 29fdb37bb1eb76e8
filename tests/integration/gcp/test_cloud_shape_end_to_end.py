"""End to end, the cloud shape on this machine: the Cloud Function entry (functions-framework)
with Firestore, Pub/Sub and Cloud Storage emulators and a real worker process.

The same assertions as the embedded end-to-end tests: launch, observe, pause, resume,
checkpoint, launch from the checkpoint, terminate. Workers run as local processes here (GKE
and Cloud Run cannot run on this machine; their providers are tested against kmock and at
the client-library boundary).
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import yaml

from support import REPO, FunctionProcess, pid_alive, wait_for


@pytest.fixture
def cloud_function(tmp_path, firestore_emulator, pubsub_emulator, gcs_emulator, unique):
    config = {
        # Open on purpose: the emulators and the function are on loopback, and the test drives the
        # API without signing in (a deployed config requires sign-in: infra/terraform/config/zoo.yaml).
        "no_auth": True,
        "server": {"open_to_network": True},
        "backends": {"documents": "firestore", "blobs": "gcs", "bus": "pubsub", "compute": "local"},
        "gcp": {
            "project": "ainimal-zookeeper-test",
            "bucket": f"zk-e2e-{unique}",
            "create_bucket": True,
            "prefix": f"e{unique}-",
            # As deployed: events and commands on Pub/Sub signed per instance (event_signing.py).
            "bus_signing_secret": f"e2e-signing-{unique}",
        },
        "envs": [{"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}],
        "models": [
            {
                "name": "Counter",
                "type": "ainimal",
                "path": str(REPO / "tests/fixtures/agents.py"),
                "class_name": "CountingAgent",
            }
        ],
    }
    path = tmp_path / "cloud.yaml"
    path.write_text(yaml.safe_dump(config))
    function = FunctionProcess(path, tmp_path / "data", env={**firestore_emulator, **pubsub_emulator, **gcs_emulator})
    yield function
    function.stop()


FIELDS = "id status mode step episode error worker"


def instance(fn, instance_id):
    return fn.gql(f'{{ instance(id: "{instance_id}") {{ {FIELDS} checkpoints {{ id }} }} }}')["instance"]


def test_the_cloud_shape_launches_pauses_checkpoints_and_terminates_a_cartpole_instance(cloud_function):
    fn = cloud_function
    launched = fn.gql(f'mutation {{ launch(input: {{model: "Counter", environment: "CartPole"}}) {{ {FIELDS} }} }}')[
        "launch"
    ]
    assert launched["status"] == "RUNNING", launched
    first = instance(fn, launched["id"])["step"]
    wait_for(lambda: instance(fn, launched["id"])["step"] > first + 500, what="steps climbing")

    # Events reach an SSE subscriber of the function through Pub/Sub.
    subscription = {
        "query": "subscription($id: ID) { instanceEvents(id: $id) { kind status } }",
        "variables": {"id": launched["id"]},
    }
    with fn.http.stream(
        "POST", fn.graphql_path, json=subscription, headers={"accept": "text/event-stream"}, timeout=60
    ) as stream:
        assert stream.status_code == 200
        paused = fn.gql(f'mutation {{ pause(id: "{launched["id"]}") {{ status step }} }}')["pause"]
        seen = next(
            json.loads(line[len("data: ") :])["data"]["instanceEvents"]
            for line in stream.iter_lines()
            if line.startswith("data: ") and '"PAUSED"' in line
        )
    assert seen == {"kind": "COMMAND_APPLIED", "status": "PAUSED"}
    assert paused["status"] == "PAUSED"
    time.sleep(1.0)
    assert instance(fn, launched["id"])["step"] == paused["step"]
    assert fn.gql(f'mutation {{ resume(id: "{launched["id"]}") {{ status }} }}')["resume"]["status"] == "RUNNING"
    wait_for(lambda: instance(fn, launched["id"])["step"] > paused["step"] + 500, what="steps after resume")

    saved = fn.gql(f'mutation {{ saveCheckpoint(id: "{launched["id"]}", tag: "cloud") {{ id tag step sizeBytes }} }}')[
        "saveCheckpoint"
    ]
    assert saved["tag"] == "cloud" and saved["sizeBytes"] > 0
    branch = fn.gql(
        f'mutation {{ launch(input: {{model: "Counter", environment: "CartPole", checkpoint: "{saved["id"]}"}}) {{ {FIELDS} }} }}'
    )["launch"]
    assert branch["status"] == "RUNNING" and branch["step"] >= saved["step"]

    # A worker killed mid-run: its instance becomes FAILED, its checkpoint still launches.
    os.kill(launched["worker"]["pid"], signal.SIGKILL)
    failed = wait_for(lambda: (d := instance(fn, launched["id"]))["status"] == "FAILED" and d, what="FAILED")
    assert "killed by signal 9" in failed["error"]
    assert [c["id"] for c in failed["checkpoints"]] == [saved["id"]]

    ended = fn.gql(f'mutation {{ terminate(id: "{branch["id"]}") {{ status }} }}')["terminate"]
    assert ended["status"] == "TERMINATED"
    wait_for(lambda: not pid_alive(branch["worker"]["pid"]), what="worker process gone")


def test_telemetry_and_recordings_work_through_pubsub_and_cloud_storage(cloud_function):
    """Frames reach an SSE subscriber of the function through Pub/Sub (a subscription per
    stream); a recording's chunks land in Cloud Storage and download through the function."""
    from support import SseStream

    fn = cloud_function
    launched = fn.gql('mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id status } }')["launch"]
    wait_for(lambda: instance(fn, launched["id"])["status"] == "RUNNING", what="the worker running")
    query = 'subscription($id: ID!) { telemetry(id: $id, streams: ["inputs", "outputs"], maxHz: 20) { step streams } }'
    with SseStream(fn, query, {"id": launched["id"]}, "telemetry") as stream:
        frames = stream.take(6)
    steps = [f["step"] for f in frames]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    assert len(frames[-1]["streams"]["inputs"]["observation"]) == 4 and frames[-1]["streams"]["outputs"]["action"] in (
        0,
        1,
    )

    fields = "id status steps chunks downloadUrl"
    started = fn.gql(f'mutation {{ startRecording(id: "{launched["id"]}") {{ {fields} }} }}')["startRecording"]
    wait_for(
        lambda: fn.gql(f'{{ recording(id: "{started["id"]}") {{ chunks }} }}')["recording"]["chunks"] >= 1,
        timeout=30,
        what="a chunk in Cloud Storage",
    )
    stopped = fn.gql(f'mutation {{ stopRecording(recording: "{started["id"]}") {{ {fields} }} }}')["stopRecording"]
    assert stopped["status"] == "complete" and stopped["steps"] > 0
    response = fn.http.get(stopped["downloadUrl"])
    assert response.status_code == 200, response.text
    import pyarrow as pa

    table = pa.ipc.open_stream(response.content).read_all()
    assert table.num_rows == stopped["steps"]
    fn.gql(f'mutation {{ terminate(id: "{launched["id"]}") {{ status }} }}')
