"""Acme actors and agents (path + class_name name a class whose instance is one): act with
`select_action`, learn through `observe_first` / `observe` / `update`, checkpoint through
Acme's `Saveable` (`save()` / `restore(state)`).

The class is built with the launch's init parameters and must offer Acme's `Actor` interface
(`acme.core.Actor`): `select_action(observation)`, `observe_first(timestep)`,
`observe(action, next_timestep)` and `update(wait=False)`, with `dm_env.TimeStep`s. The worker's
steps reach `observe` as the trajectory `train` gets (an episode's end, or every
`workers.train_slice_steps` steps), in the order Acme's `EnvironmentLoop` would give them:
`observe_first` at an episode's first step, `observe` and `update` after each step.

Checkpoints hold the nest of arrays that `save()` returns (the agent's, or its `learner`'s), in
an `.npz` (no pickle), put back with `restore`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.model_files import FileDescription
from ainimal_zookeeper.catalog.model_files.common import summary
from ainimal_zookeeper.catalog.model_files.framework_common import LEARNING_MODES, construct, load_user_class
from ainimal_zookeeper.catalog.model_files.nests import flatten, load_leaves, save_leaves, unflatten_as
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.timestep import Timestep

FRAMEWORKS = (
    "acme",
    "dm_env",
    "jax",
    "jaxlib",
    "haiku",
    "optax",
    "rlax",
    "reverb",
    "launchpad",
    "sonnet",
    "tensorflow",
)
ACTOR_METHODS = ("select_action", "observe_first", "observe")


def actor_class(model: dict[str, Any]) -> type:
    """The entry's class, checked for Acme's Actor interface."""
    cls = load_user_class(model, "acme", FRAMEWORKS)
    missing = [name for name in ACTOR_METHODS if not callable(getattr(cls, name, None))]
    if missing:
        raise ModelError(
            f"model {model['name']!r}: {cls.__name__} is not an Acme actor (it has no {', '.join(missing)}); "
            "type acme takes a class with select_action, observe_first, observe and update (acme.core.Actor)"
        )
    return cls


def _saveable(target: Any) -> Any:
    """What holds the state: the agent when it is Saveable, else its learner."""
    for candidate in (target, getattr(target, "learner", None), getattr(target, "_learner", None)):
        if (
            candidate is not None
            and callable(getattr(candidate, "save", None))
            and callable(getattr(candidate, "restore", None))
        ):
            return candidate
    return None


def inspect(model: dict[str, Any]) -> FileDescription:
    """The class is checked now; its networks are built at launch."""
    cls = actor_class(model)
    doc = (cls.__doc__ or "").strip().splitlines()
    architecture = {
        "framework": "acme",
        "class": cls.__name__,
        "doc": doc[0] if doc else None,
        "learns": callable(getattr(cls, "update", None)),
    }
    # Whether the learner is Saveable shows only once built: a save without one is refused, saying
    # so, and the instance runs on (a failed command does not fail it).
    architecture["saveable"] = callable(getattr(cls, "save", None)) and callable(getattr(cls, "restore", None))
    return FileDescription({}, {}, architecture, modes=LEARNING_MODES)


class AcmeAInimal(AInimal):
    """An Acme actor as an AInimal; its last action and what its `state` offers are observable."""

    def __init__(self, actor: Any, name: str) -> None:
        super().__init__()
        import dm_env

        self._dm_env = dm_env
        self.actor = actor
        self.name = name
        self.discrete_actions: bool | None = None
        self._in_episode = False
        self._observed = 0
        self._last: dict[str, Any] = {}

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        action = self.actor.select_action(np.asarray(inputs["observation"]))
        if self.discrete_actions and np.ndim(action) == 0:
            action = int(action)
        self._last = {"action": action}
        return {"action": action}

    def train(self, traj: list[Timestep]) -> Any:
        dm_env, actor = self._dm_env, self.actor
        update = getattr(actor, "update", None)
        for step in traj:
            if not self._in_episode:
                actor.observe_first(dm_env.restart(np.asarray(step.observation)))
                self._in_episode = True
            following = np.asarray(step.observation if step.next_observation is None else step.next_observation)
            reward = np.float32(step.reward)
            if step.terminated:
                timestep = dm_env.termination(reward, following)
            elif step.truncated:
                timestep = dm_env.truncation(reward, following)
            else:
                timestep = dm_env.transition(reward, following)
            actor.observe(step.action, timestep)
            self._observed += 1
            if callable(update):
                update()
            if step.terminated or step.truncated:
                self._in_episode = False
        return None

    def save(self, path: str) -> None:
        saveable = self._require_saveable()
        save_leaves(Path(path) / "acme_state.npz", flatten(saveable.save()))

    def load(self, path: str) -> None:
        saveable = self._require_saveable()
        template = saveable.save()
        leaves = load_leaves(Path(path) / "acme_state.npz")
        ours = flatten(template)
        for i, (now, saved) in enumerate(zip(ours, leaves, strict=False)):
            if np.shape(now) != saved.shape:
                raise ModelError(
                    f"model {self.name!r}: value {i} of the checkpoint has shape {saved.shape}, the model's has "
                    f"{np.shape(now)}"
                )
        saveable.restore(unflatten_as(template, leaves))
        self._in_episode = False

    def _require_saveable(self) -> Any:
        saveable = _saveable(self.actor)
        if saveable is None:
            raise ModelError(
                f"model {self.name!r}: {type(self.actor).__name__} is not Saveable (no save() / restore(state), "
                "nor a learner that has them), so it cannot be checkpointed"
            )
        return saveable

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"observed_steps": self._observed}
        state.update({k: summary(v) for k, v in self._last.items()})
        own = getattr(self.actor, "state", None)
        if isinstance(own, dict):
            state.update({str(k): summary(v) for k, v in own.items()})
        return state


def build(model: dict[str, Any], init_params: dict[str, Any] | None = None) -> AcmeAInimal:
    """The entry's actor built with its init parameters, as an AInimal."""
    cls = actor_class(model)
    return AcmeAInimal(construct(cls, dict(init_params or {}), model["name"]), model["name"])


__all__ = ["AcmeAInimal", "actor_class", "build", "inspect"]
