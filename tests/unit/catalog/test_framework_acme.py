"""Acme actors and agents (type acme): act with select_action, learn through observe_first /
observe / update in EnvironmentLoop's order, checkpoint through Saveable without pickle.

The agent under test (tests/fixtures/acme_like.py) subclasses Acme's own acme.core.Actor and
Saveable (dm-acme 0.2.4, the newest release that installs on Python 3.11; 0.4.0 needs
dm-launchpad 0.5.0, which has no build for it) and gets real dm_env TimeSteps; Acme's bundled
agents need TensorFlow or JAX, which this build does not install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config.model import ModelConfig
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.timestep import Timestep

pytest.importorskip("dm_env")

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "acme_like.py"


def _entry(class_name="LinearAgent") -> dict:
    return ModelConfig(name="Acme", type="acme.Agent", path=str(FIXTURE), class_name=class_name).model_dump()


def _agent():
    agent = build_agent(_entry(), {})
    agent.discrete_actions = True
    return agent


def _steps(n: int, terminated: bool = True, truncated: bool = False) -> list[Timestep]:
    obs = [np.full(4, i, dtype=np.float32) for i in range(n + 1)]
    return [
        Timestep(obs[i], i % 2, 1.0, terminated and i == n - 1, truncated and i == n - 1, obs[i + 1]) for i in range(n)
    ]


def test_an_acme_entry_is_listed_as_trainable_and_checkpointable():
    entry = _entry()
    assert entry["type"] == "acme"
    spec = Catalog([entry], [], []).model("Acme").spec
    assert spec["error"] is None and spec["trainable"] and spec["architecture"]["framework"] == "acme"
    assert spec["checkpointable"]  # through its learner, found once built
    bad = Catalog([_entry("NotAnActor")], [], []).model("Acme").spec
    assert "has no select_action, observe_first" in bad["error"]


def test_it_acts_with_select_action_as_a_python_int_for_discrete_actions():
    agent = _agent()
    action = agent.forward({"observation": np.ones(4, np.float32)})["action"]
    assert action == 0 and isinstance(action, int)


def test_training_replays_the_steps_in_environment_loop_order_with_dm_env_time_steps():
    agent = _agent()
    agent.train(_steps(2))
    assert agent.actor.calls == [
        ("observe_first", 0),
        ("observe", 1, 1.0),
        ("update",),
        ("observe", 2, 0.0),  # LAST with discount 0: terminated
        ("update",),
    ]
    agent.actor.calls.clear()
    agent.train(_steps(1, terminated=False, truncated=True))
    assert agent.actor.calls == [("observe_first", 0), ("observe", 2, 1.0), ("update",)]  # truncated: discount 1


def test_a_slice_of_a_long_episode_is_observed_without_a_new_first_step():
    agent = _agent()
    agent.train(_steps(2, terminated=False))
    agent.actor.calls.clear()
    agent.train(_steps(1))
    assert agent.actor.calls[0][0] == "observe"


def test_a_checkpoint_holds_the_learners_state_as_arrays_and_restores_it(tmp_path):
    agent = _agent()
    agent.train(_steps(3))
    agent.save(str(tmp_path))
    saved = agent.actor._learner.save()
    with np.load(tmp_path / "acme_state.npz", allow_pickle=False) as stored:
        assert len(stored.files) == 3  # b, w, steps
    fresh = _agent()
    fresh.load(str(tmp_path))
    restored = fresh.actor._learner.save()
    assert type(restored).__name__ == "TrainingState" and int(restored.steps) == 3
    np.testing.assert_array_equal(restored.params["w"], saved.params["w"])


def test_a_checkpoint_of_another_shape_is_refused_naming_both(tmp_path):
    agent = _agent()
    agent.save(str(tmp_path))
    other = build_agent(_entry(), {"obs": 3})
    with pytest.raises(ModelError, match="shape"):
        other.load(str(tmp_path))


def test_the_agent_under_test_implements_acmes_own_actor_and_saveable_interfaces():
    core = pytest.importorskip("acme.core")
    agent = _agent()
    assert isinstance(agent.actor, core.Actor) and isinstance(agent.actor._learner, core.Saveable)


def test_saving_an_actor_without_a_saveable_learner_is_refused_saying_why(tmp_path):
    from ainimal_zookeeper.catalog.model_files.acme_actor import AcmeAInimal

    class Bare:
        def select_action(self, observation):
            return 0

    with pytest.raises(ModelError, match="is not Saveable"):
        AcmeAInimal(Bare(), "bare").save(str(tmp_path))
