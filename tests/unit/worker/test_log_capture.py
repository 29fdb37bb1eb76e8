"""Log capture in a worker-like child process: prints, raw fd 2 writes, log records, a traceback; bounded."""

from __future__ import annotations

import multiprocessing
import threading

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.worker import log_capture as lc


class QueueOutbox:
    def __init__(self, queue):
        self.queue = queue

    def publish(self, event):
        self.queue.put(event.to_dict())

    def close(self):
        pass


def _child(queue, many):
    import logging
    import os
    import sys
    import traceback

    logging.basicConfig(level=logging.INFO)
    capture = lc.LogCapture("i1", QueueOutbox(queue), flush_seconds=0.05, max_lines_per_second=50).start()
    try:
        print("hello from print")
        sys.stdout.write("no newline at the end")
        os.write(2, b"raw to fd 2\n" + b"y" * (lc.MAX_LINE_BYTES + 100) + b"\n")
        logging.getLogger("agent").warning("careful %d", 7)
        for i in range(many):
            print(f"flood {i}")
        try:
            raise ValueError("boom")
        except ValueError as exc:
            logging.getLogger("runtime").error(
                "failed\n%s", "".join(traceback.format_exception(exc)), extra={"log_stream": "traceback"}
            )
    finally:
        capture.stop()


def run_child(many=0):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue, many))
    child.start()
    events = []
    while True:
        event = ev.event_from_dict(queue.get(timeout=30))
        events.append(event)
        if event.final:
            break
    child.join(30)
    assert child.exitcode == 0
    return events


def test_a_child_processes_output_log_records_and_traceback_are_captured_with_their_streams():
    events = run_child()
    lines = [(line["stream"], line["text"]) for event in events for line in event.lines]
    assert ("stdout", "hello from print") in lines
    assert ("stdout", "no newline at the end") in lines
    assert ("stderr", "raw to fd 2") in lines
    assert ("stderr", "y" * lc.MAX_LINE_BYTES) in lines, "an overlong line is cut"
    assert ("log", "WARNING agent: careful 7") in lines
    assert not any("careful" in text for stream, text in lines if stream == "stderr"), "records are kept once"
    [traceback] = [text for stream, text in lines if stream == "traceback"]
    assert "ValueError: boom" in traceback
    assert [event.seq for event in events] == list(range(1, len(events) + 1))


def test_a_flood_is_capped_with_a_marker_but_the_traceback_is_kept():
    events = run_child(many=5000)
    lines = [(line["stream"], line["text"]) for event in events for line in event.lines]
    floods = [text for stream, text in lines if text.startswith("flood")]
    assert len(floods) < 5000
    markers = [text for stream, text in lines if text.endswith("lines dropped")]
    assert markers
    assert sum(int(m.split()[1]) for m in markers) + len(floods) >= 5000 - 10
    assert any(stream == "traceback" for stream, _ in lines)


def test_the_rate_cap_opens_again_in_the_next_second():
    now = [100.0]
    buffer = lc.LogBuffer(max_lines_per_second=3, clock=lambda: now[0])
    for i in range(5):
        buffer.add("stdout", f"a{i}")
    now[0] = 101.0
    buffer.add("stdout", "b0")
    texts = [line["text"] for line in buffer.take()]
    assert texts == ["a0", "a1", "a2", "… 2 lines dropped", "b0"]
    assert buffer.take() == []


def test_lines_from_many_threads_are_all_kept_under_the_bounds():
    buffer = lc.LogBuffer(max_lines_per_second=10_000, max_lines=10_000)
    threads = [threading.Thread(target=lambda: [buffer.add("log", "x") for _ in range(500)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(buffer.take()) == 2000


def _child_with_lingering_subprocess(queue):
    import subprocess
    import time

    capture = lc.LogCapture("i1", QueueOutbox(queue), flush_seconds=0.05).start()
    subprocess.Popen(["sleep", "5"])  # inherits fds 1 and 2: the pipes stay open after stop
    print("before stop", flush=True)
    started = time.monotonic()
    capture.stop(timeout=0.5)
    queue.put({"stopped_in": time.monotonic() - started})


def test_a_subprocess_still_holding_the_pipes_delays_stop_only_up_to_its_timeout():
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_with_lingering_subprocess, args=(queue,))
    child.start()
    lines, stopped_in = [], None
    while stopped_in is None:
        message = queue.get(timeout=30)
        if "stopped_in" in message:
            stopped_in = message["stopped_in"]
        else:
            lines += [line["text"] for line in ev.event_from_dict(message).lines]
    child.join(30)
    assert child.exitcode == 0
    assert stopped_in < 2.0
    assert "before stop" in lines


def test_a_long_traceback_keeps_its_head_and_the_error_at_its_end():
    buffer = lc.LogBuffer()
    frames = "".join(f'  File "x.py", line {i}, in f\n' for i in range(3000))
    buffer.add("traceback", "Traceback (most recent call last):\n" + frames + "ValueError: the cause", force=True)
    buffer.add("stdout", "z" * 10_000)
    traceback, line = buffer.take()
    assert len(traceback["text"]) <= lc.MAX_TRACEBACK_CHARS + 64
    assert traceback["text"].startswith("Traceback (most recent call last):")
    assert traceback["text"].endswith("ValueError: the cause")
    assert "characters cut" in traceback["text"]
    assert line["text"] == "z" * lc.MAX_LINE_BYTES


def test_a_flush_holds_a_bounded_amount_of_text_and_a_traceback_still_fits():
    buffer = lc.LogBuffer(max_lines_per_second=10_000)
    for _ in range(100):
        buffer.add("stdout", "w" * lc.MAX_LINE_BYTES)
    buffer.add("traceback", "Traceback\n" + "t" * lc.MAX_TRACEBACK_CHARS, force=True)
    for _ in range(3):
        buffer.add("traceback", "again\n" + "t" * lc.MAX_TRACEBACK_CHARS, force=True)  # no room left
    lines = buffer.take()
    assert sum(len(line["text"]) for line in lines) <= lc.MAX_CHARS_PER_FLUSH + lc.MAX_TRACEBACK_CHARS + 200
    assert [line["stream"] for line in lines].count("traceback") == 1
    assert lines[-1]["text"].endswith("lines dropped")
