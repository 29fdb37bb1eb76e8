"""Lightning modules (type lightning): act with forward, learn with training_step and
configure_optimizers (no Trainer), log through self.log, checkpoint without pickle. Real Lightning."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.metrics import MetricSink
from ainimal_zookeeper.sdk.timestep import Timestep

pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lightning_agents.py"


def _entry(class_name="Reinforce", model_type="ptl.Module") -> dict:
    return ModelConfig(name="Lit", type=model_type, path=str(FIXTURE), class_name=class_name).model_dump()


def _episode(agent, seed: int = 0) -> list[Timestep]:
    env = gymnasium.make("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    steps = []
    while True:
        action = agent.forward({"observation": obs})["action"]
        nxt, reward, terminated, truncated, _ = env.step(action)
        steps.append(Timestep(obs, action, float(reward), terminated, truncated, nxt))
        obs = nxt
        if terminated or truncated:
            return steps


def _agent(class_name="Reinforce", **params):
    agent = build_agent(_entry(class_name), params)
    agent.discrete_actions = True
    return agent


def test_a_lightning_module_is_listed_as_trainable_under_its_documented_type_name():
    entry = _entry()
    assert entry["type"] == "lightning"
    spec = Catalog([entry], [], []).model("Lit").spec
    assert spec["error"] is None and spec["kind"] == "lightning" and spec["trainable"]
    assert spec["modes"] == ["INFER", "TRAIN", "BOTH", "NONE"]
    assert spec["architecture"]["class"] == "Reinforce"


def test_it_acts_with_forward_greedily_in_infer_and_by_sampling_in_train():
    agent = _agent(hidden=8)
    obs = np.array([0.1, -0.2, 0.03, 0.4], dtype=np.float32)
    with torch.no_grad():
        logits = agent.module(torch.as_tensor(obs)[None])[0].numpy()
    agent.mode = "INFER"
    out = agent.forward({"observation": obs})
    np.testing.assert_allclose(out["logits"], logits, rtol=1e-6)
    assert out["action"] == int(np.argmax(logits))
    agent.mode = "TRAIN"
    assert {agent.forward({"observation": obs})["action"] for _ in range(60)} == {0, 1}


def test_a_training_step_gets_the_documented_batch_and_steps_the_optimizer():
    agent = _agent()
    agent.metric_sink = sink = MetricSink()
    agent.mode = "TRAIN"
    episode = _episode(agent)
    before = [p.detach().clone() for p in agent.module.parameters()]
    result = agent.train(episode)
    seen = agent.module.seen_batches[-1]
    n = len(episode)
    assert seen["observation"] == ((n, 4), torch.float32) and seen["next_observation"] == ((n, 4), torch.float32)
    assert seen["action"] == ((n,), torch.int64) and seen["reward"] == ((n,), torch.float32)
    assert seen["return"][0] == (n,) and seen["terminated"] == ((n,), torch.bool) and seen["batch_idx"] == 0
    assert isinstance(result["loss"], float)
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.module.parameters(), strict=True))
    sink.take()  # what the worker's flush does
    assert sink.latest["train/episode_reward"] == float(n)  # self.log reached the metric history
    agent.train(_episode(agent, 1))
    assert agent.module.seen_batches[-1]["batch_idx"] == 1 and not agent.module.training


def test_the_discounted_return_uses_the_modules_gamma_and_stops_at_termination():
    agent = _agent(gamma=0.5)
    steps = [Timestep(np.zeros(4), 0, 1.0, False, False, np.zeros(4)) for _ in range(3)]
    steps[-1] = Timestep(np.zeros(4), 0, 1.0, True, False, np.zeros(4))
    batch = agent._batch(steps)
    np.testing.assert_allclose(batch["return"].numpy(), [1.75, 1.5, 1.0])


def test_a_checkpoint_restores_weights_optimizer_and_scheduler_without_pickle(tmp_path):
    agent = _agent("WithScheduler")
    agent.mode = "TRAIN"
    agent.train(_episode(agent))
    agent.train(_episode(agent, 1))
    agent.save(str(tmp_path))
    assert (tmp_path / "module.safetensors").is_file()
    torch.load(str(tmp_path / "training.pt"), weights_only=True)  # plain tensors and numbers only
    weights = {k: v.clone() for k, v in agent.module.state_dict().items()}
    optimizer_state = agent._optimizers[0].state_dict()
    fresh = _agent("WithScheduler")
    fresh.load(str(tmp_path))
    assert all(torch.equal(weights[k], v) for k, v in fresh.module.state_dict().items())
    assert fresh._optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2)
    restored = fresh._optimizers[0].state_dict()["state"]
    assert all(
        torch.equal(restored[i]["momentum_buffer"], s["momentum_buffer"]) for i, s in optimizer_state["state"].items()
    )
    assert fresh.state["training_steps"] == 2


def test_manual_optimisation_and_a_module_without_training_step_are_refused_saying_why():
    agent = _agent("Manual")
    with pytest.raises(ModelError, match="needs a Lightning Trainer"):
        agent.train(_episode(agent))
    spec = Catalog([_entry("NoTrainingStep")], [], []).model("Lit").spec
    assert "has no training_step, configure_optimizers" in spec["error"]


def test_without_lightning_the_entry_names_the_lightning_extra(tmp_path, monkeypatch):
    module_file = tmp_path / "lit_missing.py"
    module_file.write_text("import lightning\n\nclass Policy(lightning.LightningModule):\n    pass\n")
    monkeypatch.setitem(__import__("sys").modules, "lightning", None)
    entry = ModelConfig(name="Lit", type="lightning", path=str(module_file), class_name="Policy").model_dump()
    spec = Catalog([entry], [], []).model("Lit").spec
    assert "needs the lightning extra" in spec["error"] and "ainimal-zookeeper[lightning]" in spec["error"]
