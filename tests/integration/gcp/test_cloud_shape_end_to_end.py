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
        "backends": {"documents": "firestore", "blobs": "gcs", "bus": "pubsub", "compute": "local"},
        "gcp": {
            "project": "ainimal-zookeeper-test",
            "bucket": f"zk-e2e-{unique}",
            "create_bucket": True,
            "prefix": f"e{unique}-",
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
