"""`AInimal`: the base class users subclass to make a model or agent the zookeeper can run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ainimal_zookeeper.sdk.metrics import MetricSink
from ainimal_zookeeper.sdk.timestep import Timestep

#: Run modes an instance can be in. TRAIN and BOTH learn from experience; INFER only acts;
#: NONE keeps the instance alive without acting or learning.
RUN_MODES = ("TRAIN", "INFER", "BOTH", "NONE")


class AInimal:
    """A model or agent hosted by the zookeeper.

    Subclasses implement `forward` and, for what they support, `train`, `save` and `load`.
    The zookeeper finds out what an AInimal can do by which of these a subclass overrides:
    one without `train` is launchable for inference only, one without `save`/`load` cannot be
    checkpointed. Launch parameters are declared in `AINIMAL_PARAMETERS` and passed to
    `__init__` as keyword arguments.

    When the AInimal acts in an environment, `forward` receives
    ``{"observation": obs}`` and returns at least ``{"action": action}``.

    `log(name, value)` and `log_dict({...})`, callable from `forward` and `train`, add points to
    the instance's metric history (beside the harness's episode return and length, loss and
    steps per second).
    """

    #: Launch parameters: dicts with name, type (int|float|str|bool|choice), default,
    #: description and optional range [low, high] / choices.
    AINIMAL_PARAMETERS: ClassVar[Sequence[dict[str, Any]]] = ()

    #: Set by the harness before each step: one of RUN_MODES. Agents may explore in TRAIN.
    mode: str = "INFER"

    #: The same class under the name the project's idea gives it: `class Pilot(AInimal.Agent)`.
    Agent: ClassVar[type[AInimal]]
    #: The environment base class, `ainimal_zookeeper.Env`, reachable from here too.
    Env: ClassVar[type[Any]]

    #: Where `log` puts points; the worker installs its own (`MetricSink`). Until then (say, in
    #: a user's own tests) the first `log` makes a standalone one, so `log` works anywhere.
    metric_sink: MetricSink | None = None

    def __init__(self, **params: Any) -> None:
        self.params = dict(params)

    def forward(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Map input modalities to output modalities.

        Args:
            inputs: modality name -> value (e.g. {"observation": ndarray}).

        Returns:
            modality name -> value; in an environment it must hold "action".
        """
        raise NotImplementedError(f"{type(self).__name__} must implement forward(inputs)")

    def train(self, traj: list[Timestep]) -> Any:
        """Learn from a trajectory (the steps of one episode, in order).

        A trajectory holds at most `workers.train_slice_steps` steps (default 2048): an episode
        longer than that (or one that never ends) is given in slices of that many steps, the
        last step of a slice neither terminated nor truncated; the episode's final slice ends
        with the step that terminated or truncated it.

        Returns:
            None; or the loss (a float, or one per batch element, averaged), kept as metric
            "loss"; or a dict of name -> number, each kept as a metric like `log_dict` would.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement train(traj)")

    def log(self, name: str, value: float) -> None:
        """Add a point to the metric `name` of this instance's history (step and time: now).

        Cheap enough for every step: the value is checked and buffered; the worker publishes
        buffered points about once a second, keeping at most 32 per name and second, evenly
        spread, and always the latest.

        Args:
            name: 1-64 letters, digits and ``_ . / -``, starting with a letter or ``_``, e.g.
                "reward_avg" or "train/entropy"; at most 100 distinct names per instance.
            value: a real number: int, float, bool, numpy scalar, or a one-element array or
                tensor. NaN and ±inf are kept as points without a value (a gap in charts).

        Raises:
            InvalidInput: a bad name or a value that is not a number (the message names both);
                raised from `forward` or `train`, it fails the instance like any exception.
            LimitReached: a 101st distinct name.
        """
        sink = self.metric_sink
        if sink is None:
            sink = self.metric_sink = MetricSink()
        sink.log(name, value)

    def log_dict(self, values: dict[str, float]) -> None:
        """`log` each name -> value of `values` at the same step and time (all or none)."""
        sink = self.metric_sink
        if sink is None:
            sink = self.metric_sink = MetricSink()
        sink.log_dict(values)

    def save(self, path: str) -> None:
        """Write everything needed to restore this AInimal into the existing directory `path`.

        Use safetensors or numpy files for weights: checkpoints must never need unpickling.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement save(path)")

    def load(self, path: str) -> None:
        """Restore this AInimal from a directory written by `save`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement load(path)")

    @property
    def input_modalities(self) -> dict[str, Any] | None:
        """Modality name -> modality description; None lets the zookeeper take the env's."""
        return None

    @property
    def output_modalities(self) -> dict[str, Any] | None:
        """Modality name -> modality description; None lets the zookeeper take the env's."""
        return None

    @property
    def state(self) -> dict[str, Any]:
        """Anything worth inspecting: recent inputs, recurrent state, optimiser moments …

        Values should be JSON-friendly (numbers, strings, lists, small arrays).
        """
        return {}

    @classmethod
    def supports(cls, method: str) -> bool:
        """Whether this class overrides one of the optional methods (train, save, load)."""
        return getattr(cls, method, None) is not getattr(AInimal, method, None)


AInimal.Agent = AInimal
