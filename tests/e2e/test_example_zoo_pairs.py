"""Each bundled env runs with a bundled model, over HTTP; Pendulum's torque can be taken over."""

from __future__ import annotations

import importlib.util

import pytest

from support import GraphQLError, ServerProcess, launch_running, terminate, wait_for

#: (model, environment, mode): every bundled model on an env it runs, every bundled env at least once.
PAIRS = [
    ("Reinforce", "CartPole", "TRAIN"),
    ("Balancer", "CartPole", "INFER"),
    ("TorchReinforce", "CartPole", "BOTH"),
    ("OnnxBalancer", "CartPole", "INFER"),
    ("CorridorWalker", "Corridor", "TRAIN"),
    ("SwingUp", "Pendulum", "INFER"),
]
OVERRIDE = """mutation($id: ID!, $input: OverrideInput!) {
  override(id: $id, input: $input) { id takeover }
}"""
ACT = "mutation($id: ID!, $value: JSON) { act(id: $id, value: $value) }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(None, tmp_path_factory.mktemp("zk-example-zoo") / "data")  # the bundled zoo.yaml
    yield srv
    assert srv.stop() == 0, srv.log()


def step_of(server, instance_id):
    instance = server.gql(f'{{ instance(id: "{instance_id}") {{ status step error }} }}')["instance"]
    assert instance["status"] == "RUNNING", instance
    return instance["step"]


def action_seen(server, instance_id):
    frame = server.gql(f'{{ latestFrame(id: "{instance_id}", streams: ["outputs"]) {{ streams }} }}')["latestFrame"]
    return frame["streams"]["outputs"]["action"]


#: Bundled models that need an optional extra (the bundled zoo is lenient: without it they are marked).
EXTRAS = {"TorchReinforce": "torch", "OnnxBalancer": "onnxruntime"}


def installed(model):
    return model not in EXTRAS or importlib.util.find_spec(EXTRAS[model]) is not None


def test_the_example_catalog_lists_every_entry_as_launchable(server):
    catalog = server.gql("{ models { name error } environments { name error } }")
    assert {m["name"]: m["error"] for m in catalog["models"] if m["error"] and installed(m["name"])} == {}
    assert {e["name"]: e["error"] for e in catalog["environments"] if e["error"]} == {}
    assert {e["name"] for e in catalog["environments"]} == {env for _, env, _ in PAIRS}


@pytest.mark.parametrize(("model", "environment", "mode"), PAIRS)
def test_each_bundled_env_runs_with_a_bundled_model(server, model, environment, mode):
    if not installed(model):
        pytest.skip(f"{EXTRAS[model]} is an optional extra")
    instance = launch_running(server, {"model": model, "environment": environment, "mode": mode, "seed": 3})["id"]
    try:
        wait_for(lambda: step_of(server, instance) >= 100, timeout=30, what=f"{model} stepping {environment}")
    finally:
        terminate(server, instance)


def test_pendulums_continuous_torque_can_be_taken_over_within_its_bounds(server):
    envs = server.gql("{ environments { name actionModalities } }")["environments"]
    action = next(e["actionModalities"]["action"] for e in envs if e["name"] == "Pendulum")
    assert action == {"kind": "box", "shape": [1], "dtype": "float32", "low": -2.0, "high": 2.0}
    instance = launch_running(server, {"model": "SwingUp", "environment": "Pendulum", "mode": "INFER"})["id"]
    try:
        made = {"target": "outputs/action", "value": [1.5], "takeover": "realtime", "holdSeconds": 30}
        assert server.gql(OVERRIDE, {"id": instance, "input": made})["override"]["takeover"] == "realtime"
        wait_for(lambda: action_seen(server, instance) == [1.5], what="the person's torque")
        assert server.gql(ACT, {"id": instance, "value": [-2.0]})["act"] is True
        wait_for(lambda: action_seen(server, instance) == [-2.0], what="the next torque")
        with pytest.raises(GraphQLError, match=r"expects values in \[-2, 2\], got 5"):
            server.gql(OVERRIDE, {"id": instance, "input": {**made, "value": [5.0]}})
    finally:
        terminate(server, instance)
