"""Framework agents end to end over HTTP: a Stable-Baselines3 PPO zip and a Lightning module are
listed, launched in TRAIN on CartPole, learn (their metrics show it), are observed (layer
activations), checkpointed, and launched again from the checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import ServerProcess, SseStream, launch_running, terminate, wait_for

sb3 = pytest.importorskip("stable_baselines3")
pytest.importorskip("lightning")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

TELEMETRY = """subscription($id: ID!, $streams: [String!], $hz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $hz) { instance step streams }
}"""
INSTANCE = "query($id: ID!) { instance(id: $id) { status step metrics error } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zk-frameworks")
    sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=1, seed=0).save(str(folder / "ppo.zip"))
    (folder / "zoo.yaml").write_text(
        "no_auth: true\nenvs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        "models:\n"
        "  - {name: Ppo, type: sb3, path: ppo.zip, class_name: PPO}\n"
        f"  - {{name: Lit, type: ptl.Module, path: {FIXTURES / 'lightning_agents.py'}, class_name: Reinforce,"
        " init_params: {hidden: 8}}\n"
    )
    srv = ServerProcess(folder / "zoo.yaml", folder / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def test_the_catalog_lists_both_framework_agents_as_trainable_before_launch(server):
    models = server.gql("{ models { name kind modes trainable inputModalities outputModalities architecture error } }")
    specs = {m["name"]: m for m in models["models"]}
    assert specs["Ppo"]["error"] is None and specs["Ppo"]["kind"] == "sb3" and specs["Ppo"]["trainable"]
    assert specs["Ppo"]["inputModalities"]["observation"]["shape"] == [4]
    assert specs["Ppo"]["architecture"]["algorithm"] == "PPO"
    assert specs["Lit"]["error"] is None and specs["Lit"]["kind"] == "lightning" and "TRAIN" in specs["Lit"]["modes"]


@pytest.mark.parametrize(
    ("model", "metric", "layer"),
    [("Ppo", "train/value_loss", "policy.mlp_extractor.policy_net.0"), ("Lit", "loss", "module.net.0")],
)
def test_a_framework_agent_learns_is_observed_checkpoints_and_relaunches_from_its_checkpoint(
    server, model, metric, layer
):
    launch = {"model": model, "environment": "CartPole", "mode": "TRAIN"}
    instance = launch_running(server, launch, "id status architecture")
    assert any(entry["name"] == layer for entry in instance["architecture"]["layers"])
    streams = ["outputs", f"activations/{layer}"]
    with SseStream(server, TELEMETRY, {"id": instance["id"], "streams": streams, "hz": 10.0}, "telemetry") as stream:
        frame = next(f for f in (stream.next() for _ in range(30)) if f"activations/{layer}" in f["streams"])
    assert frame["streams"]["outputs"]["action"] in (0, 1)
    # Trained: PPO after its first full rollout of 64 steps, Lightning after its first episode.
    state = wait_for(
        lambda: (
            (i := server.gql(INSTANCE, {"id": instance["id"]})["instance"])["metrics"].get(metric) is not None and i
        ),
        timeout=60,
        what=f"{metric} in the metrics",
    )
    assert state["status"] == "RUNNING", state
    saved = server.gql(
        'mutation($id: ID!) { saveCheckpoint(id: $id, tag: "trained") { id step sizeBytes } }', {"id": instance["id"]}
    )["saveCheckpoint"]
    assert saved["sizeBytes"] > 0 and saved["step"] > 0
    terminate(server, instance["id"])
    again = launch_running(server, {**launch, "mode": "INFER", "checkpoint": saved["id"]}, "id status step")
    resumed = wait_for(
        lambda: (i := server.gql(INSTANCE, {"id": again["id"]})["instance"])["step"] > saved["step"] and i,
        timeout=60,
        what="steps after the checkpoint's",
    )
    assert resumed["status"] == "RUNNING" and resumed["error"] is None
    terminate(server, again["id"])
