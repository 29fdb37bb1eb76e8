"""StepColumns and the filling hooks: what a recording's steps write reads back exactly.

A real torch model runs its forward with the hooks registered, across several pages and
chunks, and the Arrow chunks are decoded and compared with the layer outputs captured
independently by a plain hook.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ainimal_zookeeper.recordings import ChunkEncoder, column_values, table_from_ipc
from ainimal_zookeeper.worker.step_columns import PAGE_ROWS, StepColumns
from ainimal_zookeeper.worker.torch_layers import filling_hook


class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.first = nn.Linear(3, 5)
        self.second = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(torch.tanh(self.first(x)))


def recording(model: nn.Module, layers: dict[str, nn.Module], **wants: bool) -> StepColumns:
    columns = StepColumns(
        list(layers),
        ChunkEncoder("rec"),
        wants.get("inputs", True),
        wants.get("outputs", True),
        wants.get("frames", False),
    )
    for name, module in layers.items():
        module.register_forward_hook(filling_hook(columns.blocks[name], columns.page))
    return columns


def reference_hooks(layers: dict[str, nn.Module]) -> dict[str, list[np.ndarray]]:
    seen: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    for name, module in layers.items():
        module.register_forward_hook(lambda _m, _i, out, name=name: seen[name].append(out.detach().numpy().copy()))
    return seen


def run_steps(model: nn.Module, columns: StepColumns, steps: range, episode_length: int = 7) -> list[np.ndarray]:
    observations = []
    rng = np.random.default_rng(steps.start)
    for step in steps:
        observation = rng.standard_normal(3).astype(np.float32)
        with torch.no_grad():
            logits = model(torch.as_tensor(observation))
        ended = step % episode_length == 0
        columns.add(
            step,
            step // episode_length,
            None,
            observation,
            {"action": int(logits.argmax())},
            1.0,
            ended,
            False,
            observation + 100 if ended else None,
            ("override-1",) if step % 10 == 3 else (),
        )
        observations.append(observation)
    return observations


def decode(columns: StepColumns, keep_last: bool = False, index: int = 0):
    return table_from_ipc(bytes(columns.take(keep_last).encode(index)))


def test_steps_across_pages_and_chunks_read_back_equal_to_the_layer_outputs():
    model = TwoLayers()
    layers = {"first": model.first, "second": model.second}
    expected = reference_hooks(layers)
    columns = recording(model, layers)
    observations = run_steps(model, columns, range(1, 2 * PAGE_ROWS + 20))
    first_chunk = decode(columns, keep_last=True, index=0)  # the newest row waits for the next chunk
    observations += run_steps(model, columns, range(2 * PAGE_ROWS + 20, 3 * PAGE_ROWS + 5))
    second_chunk = decode(columns, index=1)
    assert len(columns) == 0
    steps = column_values(first_chunk, "step") + column_values(second_chunk, "step")
    assert steps == list(range(1, 3 * PAGE_ROWS + 5))
    for name in layers:
        got = column_values(first_chunk, f"activations/{name}") + column_values(second_chunk, f"activations/{name}")
        np.testing.assert_array_equal(np.stack(got), np.stack(expected[name]))
    inputs = column_values(first_chunk, "inputs/observation") + column_values(second_chunk, "inputs/observation")
    np.testing.assert_array_equal(np.stack(inputs), np.stack(observations))
    finals = column_values(first_chunk, "final/observation") + column_values(second_chunk, "final/observation")
    assert [i + 1 for i, final in enumerate(finals) if final is not None] == [s for s in steps if s % 7 == 0]
    ended = steps.index(7)
    np.testing.assert_array_equal(finals[ended], observations[ended] + 100)
    overridden = column_values(first_chunk, "overridden") + column_values(second_chunk, "overridden")
    overrides = column_values(first_chunk, "overrides") + column_values(second_chunk, "overrides")
    assert [s for s, flag in zip(steps, overridden, strict=True) if flag] == [s for s in steps if s % 10 == 3]
    assert {tuple(ids) for ids in overrides} == {(), ("override-1",)}


def test_a_training_batch_through_the_hooked_layers_is_left_out_and_still_runs():
    model = TwoLayers()
    columns = recording(model, {"first": model.first})
    run_steps(model, columns, range(1, 4))
    batch = model(torch.randn(16, 3))  # autograd on, batch shape: not a step
    batch.sum().backward()
    assert model.first.weight.grad is not None
    run_steps(model, columns, range(4, 6))
    table = decode(columns)
    recorded = column_values(table, "activations/first")
    assert len(recorded) == 5 and all(value.shape == (5,) for value in recorded)


def test_outputs_that_need_grad_come_as_tuples_or_skip_a_step_are_recorded_carefully():
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Linear(3, 4)
            self.pair = nn.GRU(4, 2)  # returns (output, hidden): the first tensor is recorded
            self.sometimes = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor, use_extra: bool) -> torch.Tensor:
            hidden = self.trunk(x)  # no torch.no_grad(): the output requires grad
            if use_extra:
                hidden = self.sometimes(hidden)
            output, _ = self.pair(hidden.unsqueeze(0))
            return output

    model = Branchy()
    layers = {"trunk": model.trunk, "pair": model.pair, "sometimes": model.sometimes}
    expected = reference_hooks({"trunk": model.trunk})
    columns = recording(model, layers)
    skipped = PAGE_ROWS + 3  # in the second page, whose rows held the first page's outputs before
    for step in range(1, PAGE_ROWS + 6):
        model(torch.randn(3), use_extra=step != skipped)
        columns.add(step, 0, None, np.zeros(3, np.float32), {"action": 0}, 0.0, False, False, None)
    table = decode(columns)
    np.testing.assert_array_equal(np.stack(column_values(table, "activations/trunk")), np.stack(expected["trunk"]))
    assert {value.shape for value in column_values(table, "activations/pair")} == {(1, 2)}
    sometimes = column_values(table, "activations/sometimes")
    assert not sometimes[skipped - 1].any(), "a layer that skipped a step leaves zeros there"
    assert all(value.any() for i, value in enumerate(sometimes) if i != skipped - 1)


def test_a_layer_that_never_ran_is_a_column_of_nones():
    model = TwoLayers()
    unused = nn.Linear(2, 2)
    columns = recording(model, {"first": model.first, "unused": unused})
    run_steps(model, columns, range(1, 3))
    assert column_values(decode(columns), "activations/unused") == [None, None]


def test_blocks_are_reused_after_encoding_without_stale_rows():
    model = TwoLayers()
    layers = {"first": model.first}
    expected = reference_hooks(layers)
    columns = recording(model, layers)
    run_steps(model, columns, range(1, PAGE_ROWS * 3))
    decode(columns)
    run_steps(model, columns, range(PAGE_ROWS * 3, PAGE_ROWS * 3 + 10))
    second = column_values(decode(columns, index=1), "activations/first")
    np.testing.assert_array_equal(np.stack(second), np.stack(expected["first"][-10:]))


def test_the_latest_activations_are_the_newest_step_s():
    model = TwoLayers()
    layers = {"first": model.first, "second": model.second}
    expected = reference_hooks(layers)
    columns = recording(model, layers)
    assert columns.latest_activations() == {}
    for count in (3, PAGE_ROWS - 3):  # inside a page, then right on a page boundary
        run_steps(model, columns, range(len(columns) + 1, len(columns) + 1 + count))
        latest = columns.latest_activations()
        for name in layers:
            np.testing.assert_array_equal(latest[name], expected[name][-1])


def test_outputs_added_later_and_frames_stay_aligned_with_their_rows():
    columns = StepColumns([], ChunkEncoder("rec"), inputs=False, outputs=True, frames=True)
    for step in range(1, 6):
        outputs = {"action": step} if step < 3 else {"action": step, "value": float(step)}
        columns.add(step, 0, 11, np.zeros(2, np.float32), outputs, 0.5, False, False, None)
        if step in (2, 5):
            columns.add_frame(f"png-{step}".encode())
    table = decode(columns)
    assert "inputs/observation" not in table.column_names
    assert column_values(table, "outputs/value") == [None, None, 3.0, 4.0, 5.0]
    assert column_values(table, "frame") == [None, b"png-2", None, None, b"png-5"]
    assert column_values(table, "episode_seed") == [11] * 5


def test_episodes_seeds_and_ends_read_back_row_for_row_across_chunks():
    columns = StepColumns([], ChunkEncoder("rec"), inputs=True, outputs=True)
    added, chunks = [], []
    for step in range(1, 200):
        episode = step // 7
        seed = 10 * episode if episode % 3 == 0 else None  # some episodes continue the generator
        ended, cut = (step + 1) % 7 == 0, step == 50
        final = np.full(2, step, np.float32) if ended or cut else None
        columns.add(step, episode, seed, np.zeros(2, np.float32), {"action": 1}, 1.0, ended, cut, final)
        added.append((episode, seed, ended, cut, None if final is None else float(final[0])))
        if step in (30, 31, 90, 97, 150):  # with the newest row kept; one chunk right after another
            chunks.append(decode(columns, keep_last=True, index=len(chunks)))
    chunks.append(decode(columns, index=len(chunks)))
    names = ("episode", "episode_seed", "terminated", "truncated", "final/observation")
    read = {name: [value for chunk in chunks for value in column_values(chunk, name)] for name in names}
    finals = [None if final is None else float(final[0]) for final in read.pop("final/observation")]
    assert list(zip(*read.values(), finals, strict=True)) == added


def test_taking_nothing_is_refused():
    columns = StepColumns([], ChunkEncoder("rec"), True, True)
    with pytest.raises(ValueError, match="no rows"):
        columns.take()
    columns.add(1, 0, None, np.zeros(2), {"action": 0}, 0.0, False, False, None)
    with pytest.raises(ValueError, match="no rows"):
        columns.take(keep_last=True)


def test_state_values_are_activation_columns_aligned_with_their_steps():
    columns = StepColumns([], ChunkEncoder("rec"), inputs=False, outputs=False)
    for step in range(1, 5):
        columns.add(step, 0, None, np.zeros(2, np.float32), {"action": 0}, 0.0, False, False, None)
        if step == 2:
            continue  # the state could not be read at this step
        columns.add_state({"calls": step, **({"probs": np.full(2, step / 10, np.float32)} if step > 2 else {})})
    table = decode(columns)
    assert column_values(table, "activations/calls") == [1, None, 3, 4]
    probs = column_values(table, "activations/probs")
    assert probs[:2] == [None, None]
    np.testing.assert_allclose(np.stack(probs[2:]), [[0.3, 0.3], [0.4, 0.4]])
