"""TelemetryHub: per-stream filtering, rate limiting, drops for slow readers, leases."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.streams import parse_streams
from ainimal_zookeeper.errors import Unavailable
from ainimal_zookeeper.service.telemetry_hub import FrameRate, TelemetryHub, select_streams


class Bus:
    """An in-process CommandBus + EventBus: commands are kept, events go to the subscribers."""

    def __init__(self, answer_samples: bool = True) -> None:
        self.sent: list[cmd.Command] = []
        self.handlers: list = []
        self.answer_samples = answer_samples
        self.lock = threading.Lock()

    def send(self, command):
        self.sent.append(command)
        if isinstance(command, cmd.SampleTelemetry) and self.answer_samples:
            self.publish(
                ev.TelemetryFrame(
                    command.instance_id, step=7, streams={"inputs": 1, "reward": 2.0}, request_id=command.request_id
                )
            )

    def subscribe(self, handler):
        with self.lock:
            self.handlers.append(handler)
        return lambda: self.handlers.remove(handler)

    def publish(self, event):
        for handler in list(self.handlers):
            handler(event)


def frame(step, instance="i1", **streams):
    return ev.TelemetryFrame(instance, step=step, streams=streams or {"inputs": step, "reward": 1.0})


async def open_stream(max_hz: float):
    """A stream of i1's inputs, subscribed and holding its lease, and its first frame to come."""
    bus = Bus()
    stream = TelemetryHub(bus, bus).stream("i1", parse_streams(["inputs"]), max_hz=max_hz)
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)  # the stream subscribes and takes its lease
    return bus, stream, first


def test_select_streams_keeps_what_was_asked_for():
    selection = parse_streams(["inputs", "activations/policy.0", "weights"])
    streams = {"inputs": 1, "outputs": 2, "activations/policy.0": 3, "activations/policy.1": 4, "weights/w": 5}
    assert select_streams(streams, selection) == {"inputs": 1, "activations/policy.0": 3, "weights/w": 5}


@pytest.mark.asyncio
async def test_a_reader_that_falls_behind_loses_the_oldest_frames_and_is_told():
    bus, stream, first = await open_stream(max_hz=1e9)
    for step in range(1, 101):
        bus.publish(frame(step))
    bus.publish(frame(5, instance="other"))
    await asyncio.sleep(0.05)
    got = [await first] + [await stream.__anext__() for _ in range(7)]
    await stream.aclose()
    assert [f["step"] for f in got] == list(range(93, 101))  # the newest eight, in order
    assert got[-1]["dropped"] == 92 and got[-1]["streams"] == {"inputs": 100}
    leases = [c for c in bus.sent if isinstance(c, cmd.ObserveStreams)]
    assert leases[0].streams == ["inputs"] and leases[-1].streams == []  # taken, then given back
    assert bus.handlers == []  # unsubscribed on close


@pytest.mark.asyncio
async def test_frames_are_held_to_the_subscribers_rate():
    bus, stream, first = await open_stream(max_hz=1.0)
    for step in range(1, 50):
        bus.publish(frame(step))
    assert (await first)["step"] == 1
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.2)  # the rest came sooner than 1/maxHz
    await stream.aclose()


@pytest.mark.asyncio
async def test_the_rate_is_judged_on_when_frames_were_made_not_when_they_arrived():
    bus, stream, first = await open_stream(max_hz=60.0)
    made = 1_000.0
    for step in range(1, 7):  # made at 60 Hz, delivered in one burst (a busy bus or machine)
        bus.publish(ev.TelemetryFrame("i1", step=step, streams={"inputs": step}, time=made + step / 60))
    bus.publish(ev.TelemetryFrame("i1", step=7, streams={"inputs": 7}, time=made + 6 / 60 + 0.001))
    got = [await first] + [await asyncio.wait_for(stream.__anext__(), 1) for _ in range(5)]
    assert [f["step"] for f in got] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.2)  # step 7 was made 1 ms after step 6
    await stream.aclose()


def test_a_one_shot_sample_gets_its_answer_and_times_out_clearly():
    bus = Bus()
    answer = TelemetryHub(bus, bus).sample("i1", parse_streams(["inputs"]), timeout=1)
    assert answer["step"] == 7 and answer["streams"] == {"inputs": 1}
    silent = Bus(answer_samples=False)
    with pytest.raises(Unavailable, match="sent no frame"):
        TelemetryHub(silent, silent).sample("i1", parse_streams(["inputs"]), timeout=0.1)
    assert silent.handlers == []


@pytest.mark.asyncio
async def test_a_stream_follows_its_instance_back_after_a_checkpoint_restore():
    bus, stream, first = await open_stream(max_hz=1e9)
    bus.publish(frame(500))
    assert (await first)["step"] == 500
    bus.publish(frame(40))  # restored to a checkpoint taken at step 39
    assert (await asyncio.wait_for(stream.__anext__(), 1))["step"] == 40
    await stream.aclose()


@pytest.mark.asyncio
async def test_a_lease_renewed_for_several_periods_stays_held_at_a_worker_that_applies_each_id_once():
    """The worker drops repeated command ids; renewals must each be new, or the lease lapses."""
    from ainimal_zookeeper.worker.observers import ObserverLeases

    leases, applied = ObserverLeases(), set()

    class Worker(Bus):
        def send(self, command):
            super().send(command)
            if isinstance(command, cmd.ObserveStreams) and command.command_id not in applied:
                applied.add(command.command_id)
                leases.set(command.observer_id, command.streams, command.max_hz, command.lease_seconds)

    bus = Worker()
    # Real time (the hub renews on asyncio's clock): a renewal every 0.2 s leaves 0.4 s of slack
    # for a loaded machine's scheduling; 0.15 s leases lapsed on a busy 2-core machine.
    lease = 0.6
    stream = TelemetryHub(bus, bus, lease_seconds=lease).stream("i1", parse_streams(["inputs"]), max_hz=10)
    first = asyncio.ensure_future(stream.__anext__())
    loop = asyncio.get_running_loop()
    end = loop.time() + 4 * lease
    while loop.time() < end:  # four lease periods, looking as the worker does at each progress report
        await asyncio.sleep(lease / 10)
        leases.expire(time.monotonic())
        assert leases.active, "the lease lapsed while the stream was open"
    renewals = [c for c in bus.sent if isinstance(c, cmd.ObserveStreams)]
    assert len(renewals) >= 4 and len({c.command_id for c in renewals}) == len(renewals)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await stream.aclose()


@pytest.mark.asyncio
async def test_a_stream_completes_when_its_instance_ends_and_gives_its_lease_back():
    bus, stream, first = await open_stream(max_hz=1e9)
    bus.publish(frame(1))
    assert (await first)["step"] == 1
    bus.publish(ev.InstanceTerminated("other"))  # another instance's end changes nothing
    bus.publish(frame(2))
    assert (await asyncio.wait_for(stream.__anext__(), 1))["step"] == 2
    bus.publish(ev.InstanceFailed("i1", error="boom"))
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(stream.__anext__(), 1)
    assert bus.handlers == []
    assert [c for c in bus.sent if isinstance(c, cmd.ObserveStreams)][-1].streams == []


def test_frames_at_the_asked_rate_with_jitter_all_get_through():
    """The last rule (at most 10 % early after the last frame sent) dropped an early frame after
    each late one: 70-85 % of the asked rate on a busy machine."""
    rate = FrameRate(max_hz=10.0)
    made = [1_000.0 + k / 10 + (0.03 if k % 3 == 0 else 0.0) for k in range(300)]  # every third 30 ms late
    assert all(rate.admit(t) for t in made)


def test_a_faster_worker_is_held_to_the_asked_rate_on_average_and_without_bursts():
    rate = FrameRate(max_hz=10.0)
    made = [1_000.0 + k / 30 for k in range(30 * 60)]  # a minute at 30 Hz (another viewer asked for 30)
    sent = [t for t in made if rate.admit(t)]
    assert 599 <= len(sent) <= 601
    assert min(b - a for a, b in zip(sent, sent[1:], strict=False)) >= 0.05 - 1e-9
    # After a pause the slots start again; nothing is owed.
    later = [2_000.0 + k / 1000 for k in range(1000)]  # a second of frames at 1 kHz
    assert 10 <= sum(rate.admit(t) for t in later) <= 11
