"""Stream names: what a telemetry subscriber or a recording asks an instance for.

`inputs`, `outputs`, `reward`, `metrics`, `frame` and `state` are whole streams;
`activations/<layer>` and `weights/<param>` name one layer or parameter, and plain
`activations` / `weights` mean all of them. The control plane checks names before a request
reaches a worker; the worker computes only the union of what is asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ainimal_zookeeper.errors import InvalidInput

SIMPLE_STREAMS = ("inputs", "outputs", "reward", "metrics", "frame", "state")
#: What a telemetry subscription or a recording gets when it names no streams.
DEFAULT_TELEMETRY = ("inputs", "outputs", "reward", "metrics")
DEFAULT_RECORDING = ("inputs", "outputs", "reward")
#: Streams a recording can keep per step (metrics and state are per-episode / live views).
RECORDABLE = ("inputs", "outputs", "reward", "frame", "activations")
MAX_HZ = 120.0


@dataclass(frozen=True)
class StreamSelection:
    """A parsed set of stream names; `all_*` means the plain `activations` / `weights`."""

    simple: frozenset[str] = frozenset()
    layers: frozenset[str] = frozenset()
    all_layers: bool = False
    params: frozenset[str] = frozenset()
    all_params: bool = False
    names: tuple[str, ...] = field(default=())

    def wants(self, stream: str) -> bool:
        return stream in self.simple

    @property
    def activations(self) -> bool:
        return self.all_layers or bool(self.layers)

    @property
    def weights(self) -> bool:
        return self.all_params or bool(self.params)

    def union(self, other: StreamSelection) -> StreamSelection:
        return parse_streams((*self.names, *other.names))

    def layer_names(self, known: Iterable[str]) -> list[str]:
        """The layers to capture, given the model's layers."""
        return list(known) if self.all_layers else sorted(self.layers)


def parse_streams(streams: Iterable[str] | None, default: Iterable[str] = DEFAULT_TELEMETRY) -> StreamSelection:
    """Parse stream names; unknown ones raise `InvalidInput` naming the accepted forms."""
    names = [s.strip() for s in (streams if streams else default)]
    simple: set[str] = set()
    layers: set[str] = set()
    params: set[str] = set()
    all_layers = all_params = False
    for name in names:
        head, _, rest = name.partition("/")
        if name in SIMPLE_STREAMS:
            simple.add(name)
        elif name == "activations":
            all_layers = True
        elif name == "weights":
            all_params = True
        elif head == "activations" and rest:
            layers.add(rest)
        elif head == "weights" and rest:
            params.add(rest)
        else:
            raise InvalidInput(
                f"unknown stream {name!r}; streams are {', '.join(SIMPLE_STREAMS)}, "
                "activations, activations/<layer>, weights and weights/<param>"
            )
    return StreamSelection(
        frozenset(simple),
        frozenset(layers),
        all_layers,
        frozenset(params),
        all_params,
        tuple(dict.fromkeys(names)),
    )


def check_recordable(selection: StreamSelection) -> None:
    """Recordings keep per-step streams only; say which asked ones are not."""
    refused = sorted((selection.simple - set(RECORDABLE)) | ({"weights"} if selection.weights else set()))
    if refused:
        raise InvalidInput(
            f"streams {', '.join(refused)} cannot be recorded (they are live views); "
            f"recordable streams: {', '.join(RECORDABLE)}, activations/<layer>"
        )


def check_rate(max_hz: float | None, default: float = 10.0) -> float:
    """A subscriber's rate, within (0, MAX_HZ]."""
    if max_hz is None:
        return default
    if not max_hz > 0:
        raise InvalidInput(f"maxHz must be above 0, got {max_hz}")
    return min(float(max_hz), MAX_HZ)
