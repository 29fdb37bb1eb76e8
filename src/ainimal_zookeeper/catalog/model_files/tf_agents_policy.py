"""tf-agents agents and policies (path + class_name name a class whose instance is a `TFAgent`,
a policy, or an object holding one as `agent` / `policy`): act with `policy.action(time_step,
policy_state)`, learn with `agent.train(experience)`, checkpoint the variables.

Acting builds a batch-of-one `TimeStep(step_type, reward, discount, observation)`; the policy is
the agent's `collect_policy` in TRAIN / BOTH and its `policy` in INFER; a policy state (a
recurrent policy's) is kept between steps and started anew at an episode's first step. Learning
gives `agent.train` a `Trajectory(step_type, observation, action, policy_info, next_step_type,
reward, discount)` of the worker's trajectory: batch one, time the steps; for an agent with a
`train_sequence_length` (DQN's 2), overlapping windows of that length, batched. `policy_info` is
empty, so agents that need the collect policy's info (PPO's logits) are not trained this way.
Checkpoints hold every variable (`variables`) as arrays in an `.npz`, assigned back in order.

Without the tf_agents package the same structures are made as named tuples with tf-agents'
fields, which is what objects implementing tf-agents' interface receive.
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import summary
from ainimal_zookeeper.catalog.model_files.framework_common import LEARNING_MODES, construct, load_user_class, numbers
from ainimal_zookeeper.catalog.model_files.nests import load_leaves, save_leaves
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.timestep import Timestep

FRAMEWORKS = ("tf_agents", "tensorflow", "tensorflow_probability", "gin", "tf_keras")
FIRST, MID, LAST = 0, 1, 2  # tf_agents.trajectories.StepType

_TimeStep = namedtuple("_TimeStep", ["step_type", "reward", "discount", "observation"])
_Trajectory = namedtuple(
    "_Trajectory", ["step_type", "observation", "action", "policy_info", "next_step_type", "reward", "discount"]
)


def _structures() -> tuple[Any, Any, Any]:
    """tf-agents' TimeStep and Trajectory classes and a converter to tensors, when installed."""
    try:
        import tensorflow as tf
        from tf_agents.trajectories import time_step, trajectory
    except ImportError:
        return _TimeStep, _Trajectory, lambda nest: nest
    return time_step.TimeStep, trajectory.Trajectory, lambda nest: tf.nest.map_structure(tf.convert_to_tensor, nest)


def target_class(model: dict[str, Any]) -> type:
    """The entry's class, loaded (a missing tf-agents or TensorFlow names the extra)."""
    return load_user_class(model, "tf_agents", FRAMEWORKS)


def inspect(model: dict[str, Any]) -> FileDescription:
    """The class is checked now; its networks are built at launch."""
    cls = target_class(model)
    doc = (cls.__doc__ or "").strip().splitlines()
    architecture = {"framework": "tf-agents", "class": cls.__name__, "doc": doc[0] if doc else None}
    return FileDescription({}, {}, architecture, modes=LEARNING_MODES)


def _variables(holder: Any) -> list[Any]:
    found = getattr(holder, "variables", None)
    values = found() if callable(found) else found
    return list(values or [])


class TfAgentsAInimal(AInimal):
    """A tf-agents agent or policy as an AInimal; last action and policy info are its `state`."""

    def __init__(self, target: Any, name: str) -> None:
        super().__init__()
        self.name = name
        self.agent = target if callable(getattr(target, "train", None)) and hasattr(target, "policy") else None
        self.agent = self.agent or getattr(target, "agent", None)
        policy = getattr(target, "policy", None) if self.agent is None else None
        self._policy = policy if policy is not None else (target if self.agent is None else None)
        if self.agent is None and not callable(getattr(self._policy, "action", None)):
            raise ModelError(
                f"model {name!r}: {type(target).__name__} is neither a tf-agents agent (policy, collect_policy, "
                "train) nor a policy (action(time_step, policy_state)), nor holds one as `agent` or `policy`"
            )
        self.discrete_actions: bool | None = None
        self._time_step, self._trajectory, self._tensors = _structures()
        self._policy_state: Any = None
        self._first = True
        self._episode_open = False
        self._last: dict[str, Any] = {}

    @property
    def policy(self) -> Any:
        """The policy that acts now: the collect policy while learning."""
        if self.agent is None:
            return self._policy
        return self.agent.collect_policy if self.mode in ("TRAIN", "BOTH") else self.agent.policy

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        policy = self.policy
        step_type = FIRST if self._first else MID
        if self._first or self._policy_state is None:
            initial = getattr(policy, "get_initial_state", None)
            self._policy_state = initial(batch_size=1) if callable(initial) else ()
        self._first = False
        time_step = self._time_step(
            step_type=np.array([step_type], dtype=np.int32),
            reward=np.zeros(1, dtype=np.float32),
            discount=np.ones(1, dtype=np.float32),
            observation=np.asarray(inputs["observation"])[None],
        )
        step = policy.action(self._tensors(time_step), self._policy_state)
        self._policy_state = step.state
        action = np.asarray(step.action)[0]
        if self.discrete_actions and action.ndim == 0:
            action = int(action)
        self._last = {"action": action, "info": step.info}
        return {"action": action}

    def train(self, traj: list[Timestep]) -> Any:
        if self.agent is None or not traj:
            return None
        self._first = bool(traj[-1].terminated or traj[-1].truncated)
        columns = self._columns(traj)  # before the windows: it tracks where episodes start
        length = getattr(self.agent, "train_sequence_length", None)
        if length:
            if len(traj) < length:
                return None
            windows = [slice(i, i + length) for i in range(len(traj) - length + 1)]
            batch = {k: np.stack([v[w] for w in windows]) for k, v in columns.items()}
        else:
            batch = {k: v[None] for k, v in columns.items()}
        experience = self._trajectory(policy_info=(), **batch)
        info = self.agent.train(self._tensors(experience))
        extra = getattr(info, "extra", None)
        extra_numbers = numbers(extra._asdict() if hasattr(extra, "_asdict") else extra or {}) if extra else {}
        loss = getattr(info, "loss", info)
        return {"loss": float(np.asarray(loss)), **extra_numbers}

    def _columns(self, traj: list[Timestep]) -> dict[str, np.ndarray]:
        # An episode starts at the first step, unless the last trajectory was a slice of this one.
        starts = [MID if i == 0 and self._episode_open else FIRST if i == 0 else MID for i in range(len(traj))]
        for i in range(1, len(traj)):
            if traj[i - 1].terminated or traj[i - 1].truncated:
                starts[i] = FIRST
        self._episode_open = not (traj[-1].terminated or traj[-1].truncated)
        return {
            "step_type": np.array(starts, dtype=np.int32),
            "observation": np.stack([np.asarray(t.observation) for t in traj]),
            "action": np.stack([np.asarray(t.action) for t in traj]),
            "next_step_type": np.array([LAST if t.terminated or t.truncated else MID for t in traj], dtype=np.int32),
            "reward": np.array([t.reward for t in traj], dtype=np.float32),
            "discount": np.array([0.0 if t.terminated else 1.0 for t in traj], dtype=np.float32),
        }

    # checkpoints

    def _holder(self) -> Any:
        return self.agent if self.agent is not None else self._policy

    def save(self, path: str) -> None:
        save_leaves(Path(path) / "tf_agents_variables.npz", _variables(self._holder()))

    def load(self, path: str) -> None:
        variables = _variables(self._holder())
        saved = load_leaves(Path(path) / "tf_agents_variables.npz")
        if len(saved) != len(variables):
            raise ModelError(
                f"model {self.name!r}: the checkpoint holds {len(saved)} variables, the model has {len(variables)}"
            )
        for variable, value in zip(variables, saved, strict=True):
            if tuple(np.shape(variable)) != value.shape:
                raise ModelError(
                    f"model {self.name!r}: variable {getattr(variable, 'name', '?')} has shape "
                    f"{tuple(np.shape(variable))}, the checkpoint's {value.shape}"
                )
            variable.assign(value)
        self._first = True

    @property
    def state(self) -> dict[str, Any]:
        info: Any = self._last.get("info")
        state: dict[str, Any] = {"action": summary(self._last["action"])} if "action" in self._last else {}
        if hasattr(info, "_asdict"):
            info = info._asdict()
        if isinstance(info, dict):
            state.update({f"info/{k}": summary(np.asarray(v)) for k, v in info.items()})
        return state


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> TfAgentsAInimal:
    """The entry's agent or policy built with its init parameters, as an AInimal."""
    cls = target_class(model)
    return TfAgentsAInimal(construct(cls, dict(init_params or {}), model["name"]), model["name"])


__all__ = ["TfAgentsAInimal", "build", "inspect", "target_class"]
