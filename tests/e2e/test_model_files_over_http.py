"""A model file end to end: an ONNX CartPole policy in the catalog, launched, stepping, observed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support import ServerProcess, SseStream, launch_running, terminate, wait_for

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "catalog"))  # the model builders live with the unit tests
from mf_builders import cartpole_onnx

TELEMETRY = """subscription($id: ID!, $streams: [String!], $hz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $hz) { instance step streams }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zk-model-files")
    cartpole_onnx(folder / "policy.onnx")
    cartpole_onnx(folder / "wide.onnx", obs=5)
    (folder / "zoo.yaml").write_text(
        "no_auth: true\n"
        "envs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        "models:\n  - {name: OnnxPolicy, type: onnx, path: policy.onnx}\n"
        "  - {name: WideOnnx, type: onnx, path: wide.onnx}\n"
    )
    srv = ServerProcess(folder / "zoo.yaml", folder / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def test_the_catalog_shows_an_onnx_files_modalities_and_architecture_before_launch(server):
    models = server.gql("{ models { name kind inputModalities outputModalities architecture checkpointable error } }")
    spec = next(m for m in models["models"] if m["name"] == "OnnxPolicy")
    assert spec["kind"] == "onnx" and spec["error"] is None and spec["checkpointable"]
    assert spec["inputModalities"]["observation"]["shape"] == [4]
    assert spec["architecture"]["framework"] == "onnx"
    assert [n["type"] for n in spec["architecture"]["nodes"]] == ["MatMul", "Relu", "MatMul"]


def test_an_onnx_policy_steps_cartpole_with_its_outputs_and_activations_in_telemetry(server):
    instance = launch_running(server, {"model": "OnnxPolicy", "environment": "CartPole"}, "id status architecture")
    streams = ["inputs", "outputs", "activations/hidden_relu"]
    with SseStream(server, TELEMETRY, {"id": instance["id"], "streams": streams, "hz": 10.0}, "telemetry") as stream:
        # The first frame may come before the first forward (no outputs yet): read until one has them.
        frame = next(f for f in (stream.next() for _ in range(20)) if "outputs" in f["streams"])
    assert frame["streams"]["outputs"]["action"] in (0, 1)
    assert len(frame["streams"]["outputs"]["logits"]) == 2
    assert len(frame["streams"]["activations/hidden_relu"][0]) == 8
    step = "query($id: ID!) { instance(id: $id) { step architecture } }"
    wait_for(lambda: server.gql(step, {"id": instance["id"]})["instance"]["step"] > 50, what="steps")
    checkpoint = server.gql(
        'mutation($id: ID!) { saveCheckpoint(id: $id, tag: "file") { id sizeBytes } }', {"id": instance["id"]}
    )["saveCheckpoint"]
    assert checkpoint["sizeBytes"] > 0
    terminate(server, instance["id"])


def test_launching_an_onnx_file_on_an_env_of_another_shape_says_both_shapes(server):
    errors = server.errors('mutation { launch(input: {model: "WideOnnx", environment: "CartPole"}) { id } }')
    assert "shape (5,)" in errors[0]["message"] and "shape (4,)" in errors[0]["message"], errors
