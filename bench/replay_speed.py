"""Replay speed vs real time: a recording of a torch MLP (4-64-64-2) CartPole agent replayed
through its worker, open loop and closed loop, against CartPole's real time measured from the
env in the same run (its `metadata["render_fps"]`: steps a second of the simulated world).

A real worker (bench/workers.py) records a few thousand steps (inputs, outputs, reward and
every layer's activations by default), the recording is stopped, and the worker replays it
(the `Replay` command with the chunk keys its `RecordingChunkWritten` events named): open
loop (the recorded observations fed to the agent) and closed loop (the env restarted where
the recording did, the agent acting). Steps/s come from the replay's `ReplayProgress` events:
its steps over the time from its first event (the chunks read, the replay set up) to its
"complete" event (its output recording written). Target: >= 20x real time for CartPole.

For scale, each mode is also set against a bare loop in this process on the same steps: the
policy's forward over the recorded observations (open loop), the policy and env.step
(closed loop).

Run: .venv/bin/python bench/replay_speed.py [--steps 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

import gymnasium
import torch

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.recordings import column_values, read_recording

from torch_policies import TorchMlpPolicy
from workers import WorkerBench, torch_policy_model

MODES = ("open_loop", "closed_loop")


def real_time_steps_per_second() -> float:
    """CartPole's own pace: the steps a second its render shows (gymnasium's `render_fps`)."""
    env = gymnasium.make("CartPole-v1")
    try:
        return float(env.metadata["render_fps"])
    finally:
        env.close()


def record(bench: WorkerBench, instance: str, steps: int, streams: list[str]) -> tuple[str, list[str], int]:
    """Record at least `steps` steps, then stop; the recording id, its chunk keys in order and its rows."""
    recording_id = uuid.uuid4().hex[:16]
    mark = len(bench.events)
    start = cmd.StartRecording(instance, recording_id=recording_id, streams=streams)
    bench.hub.send(start)
    applied = bench.wait_for(lambda e: _answers(e, start), after=mark)
    if isinstance(applied, ev.CommandRejected):
        raise RuntimeError(f"StartRecording rejected: {applied.error}")
    first_step = applied.step or 0
    bench.wait_for(
        lambda e: isinstance(e, ev.Progress) and e.instance_id == instance and e.step >= first_step + steps,
        timeout=120,
        after=mark,
    )
    bench.hub.send(cmd.Pause(instance))  # nothing steps between the phases (replays run paused too)
    bench.hub.send(cmd.StopRecording(instance, recording_id=recording_id))
    stopped = bench.wait_for(
        lambda e: isinstance(e, ev.RecordingStopped) and e.recording_id == recording_id, timeout=60, after=mark
    )
    if stopped.status != "complete":
        raise RuntimeError(f"recording ended {stopped.status}: {stopped.error}")
    written = sorted(
        (e for e in bench.events[mark:] if isinstance(e, ev.RecordingChunkWritten) and e.recording_id == recording_id),
        key=lambda e: e.chunk_index,
    )
    if len(written) != stopped.chunks:
        raise RuntimeError(f"{stopped.chunks} chunks stored, {len(written)} announced")
    return recording_id, [e.blob_key for e in written], stopped.rows


def _answers(event: ev.Event, command: cmd.Command) -> bool:
    return isinstance(event, ev.CommandApplied | ev.CommandRejected) and event.command_id == command.command_id


def replay(bench: WorkerBench, instance: str, recording_id: str, keys: list[str], mode: str) -> dict[str, float]:
    """One replay; its steps, steps/s between its first and last ReplayProgress, and its set-up time."""
    replay_id = uuid.uuid4().hex[:16]
    mark = len(bench.events)
    command = cmd.Replay(
        instance,
        replay_id=replay_id,
        recording_id=recording_id,
        chunk_keys=keys,
        mode=mode,
        output_recording_id=uuid.uuid4().hex[:16],
    )
    sent = time.time()
    bench.hub.send(command)
    rejected = bench.wait_for(lambda e: _answers(e, command), timeout=60, after=mark)
    if isinstance(rejected, ev.CommandRejected):
        raise RuntimeError(f"Replay rejected: {rejected.error}")
    done = bench.wait_for(
        lambda e: isinstance(e, ev.ReplayProgress) and e.replay_id == replay_id and e.status != "running",
        timeout=300,
        after=mark,
    )
    if done.status != "complete":
        raise RuntimeError(f"replay ended {done.status}: {done.error}")
    first = next(e for e in bench.events[mark:] if isinstance(e, ev.ReplayProgress) and e.replay_id == replay_id)
    return {"steps": done.steps, "rate": done.steps / (done.time - first.time), "set_up": first.time - sent}


def bare_rates(bench: WorkerBench, keys: list[str]) -> dict[str, float]:
    """Steps/s in this process on the recorded steps: forward alone (open), forward + env.step (closed)."""
    torch.set_num_threads(1)
    observations = column_values(read_recording(bench.blobs, keys), "inputs/observation")
    agent = TorchMlpPolicy(seed=0)
    start = time.perf_counter()
    for observation in observations:
        agent.forward({"observation": observation})
    open_rate = len(observations) / (time.perf_counter() - start)
    env = gymnasium.make("CartPole-v1")
    observation, _ = env.reset(seed=1)
    start = time.perf_counter()
    for _ in range(len(observations)):
        observation, _, terminated, truncated, _ = env.step(agent.forward({"observation": observation})["action"])
        if terminated or truncated:
            observation, _ = env.reset()
    closed_rate = len(observations) / (time.perf_counter() - start)
    env.close()
    return {"open_loop": open_rate, "closed_loop": closed_rate}


def main(steps: int, rounds: int, streams: list[str]) -> None:
    """Record once, replay `rounds` times in each mode (alternating); print medians and ratios."""
    real_time = real_time_steps_per_second()
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as folder:
        bench = WorkerBench(Path(folder))
        try:
            instance = bench.launch(torch_policy_model())
            recording_id, keys, rows = record(bench, instance, steps, streams)
            for _ in range(rounds):
                for mode in MODES:
                    results[mode].append(replay(bench, instance, recording_id, keys, mode))
            bare = bare_rates(bench, keys)
            bench.hub.send(cmd.Terminate(instance))
        finally:
            bench.close()
    print(
        f"recording: {rows:,} steps of {', '.join(streams)} in {len(keys)} chunks; "
        f"CartPole real time {real_time:g} steps/s (render_fps); {rounds} replays per mode:"
    )
    for mode in MODES:
        rates = [r["rate"] for r in results[mode]]
        rate = median(rates)
        print(
            f"  {mode.replace('_', ' '):<11} {rate:8,.0f} steps/s (runs {', '.join(f'{r:,.0f}' for r in rates)}; "
            f"set-up {median(r['set_up'] for r in results[mode]) * 1000:.0f} ms): "
            f"{rate / real_time:,.0f}x real time (target >= 20x); "
            f"bare loop {bare[mode]:,.0f} steps/s, replay / bare {rate / bare[mode]:.2f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000, help="steps to record at least (a few more come)")
    parser.add_argument("--rounds", type=int, default=5, help="replays per mode")
    parser.add_argument(
        "--streams", default="inputs,outputs,reward,activations", help="comma-separated streams to record"
    )
    arguments = parser.parse_args()
    main(arguments.steps, arguments.rounds, arguments.streams.split(","))
