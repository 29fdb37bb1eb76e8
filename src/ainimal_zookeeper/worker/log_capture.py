"""The worker's side of instance logs: capture stdout, stderr, log records and tracebacks.

stdout and stderr are captured at the file-descriptor level (fds 1 and 2 point at pipes), so
prints, C extensions and subprocesses alike are kept; each pipe's reader thread still copies
what it reads to the original descriptor, so the server's terminal shows it as before. Python
`logging` records reach a root handler (stream "log"); a record marked
``extra={"log_stream": "traceback"}`` is a traceback (the runtime's `_fail` marks its own).

Bounded: a line is cut at `MAX_LINE_BYTES`; at most `max_lines_per_second` lines a second are
kept, the rest counted and told by one "… N lines dropped" line; the buffer between flushes
holds at most `MAX_LINES_PER_FLUSH` lines and `MAX_CHARS_PER_FLUSH` characters. A flusher thread publishes what is buffered as one
`LogLines` event every `flush_seconds`, through an outbox of its own (the runtime's is not
shared across threads). `stop` drains the pipes and publishes the last lines (final).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.bus import EventOutbox

MAX_LINE_BYTES = 4096
#: A traceback (or a log record with one) keeps its head and its tail, where the error is.
MAX_TRACEBACK_CHARS = 32768
MAX_LINES_PER_FLUSH = 1000
#: Text one flush carries at most: its stored document stays well under Firestore's 1 MiB.
MAX_CHARS_PER_FLUSH = 192_000
MAX_LINES_PER_SECOND = 500
FLUSH_EVERY_SECONDS = 0.25
STREAMS = ("stdout", "stderr", "log", "traceback")
_READ_BYTES = 65536
_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class LogBuffer:
    """Lines waiting for the next flush, with the rate cap; safe to call from any thread."""

    def __init__(
        self,
        max_lines_per_second: int = MAX_LINES_PER_SECOND,
        max_lines: int = MAX_LINES_PER_FLUSH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_lines_per_second = max_lines_per_second
        self.max_lines = max_lines
        self._clock = clock
        self._lock = threading.Lock()
        self._lines: list[dict[str, Any]] = []
        self._window = -1
        self._in_window = 0
        self._chars = 0  # text held
        self.dropped = 0  # dropped and not yet told

    def add(self, stream: str, text: str, force: bool = False) -> None:
        """Keep one line unless over the rate or buffer bound (`force`: a traceback, kept anyway)."""
        now = self._clock()
        with self._lock:
            window = int(now)
            if window != self._window:
                self._window, self._in_window = window, 0
            text = shorten(text, stream)
            over_rate = self._in_window >= self.max_lines_per_second or len(self._lines) >= self.max_lines
            # A traceback skips the rate cap, not the size bound (one may always follow a full buffer).
            room = MAX_CHARS_PER_FLUSH + (MAX_TRACEBACK_CHARS + 64 if force else 0)
            if (over_rate and not force) or self._chars + len(text) > room:
                self.dropped += 1
                return
            self._in_window += 1
            self._tell_dropped(now)
            self._chars += len(text)
            self._lines.append({"time": now, "stream": stream, "text": text})

    def take(self) -> list[dict[str, Any]]:
        """The buffered lines (and a marker for lines dropped since the last one); empties the buffer."""
        with self._lock:
            self._tell_dropped(self._clock())
            lines, self._lines, self._chars = self._lines, [], 0
            return lines

    def _tell_dropped(self, now: float) -> None:
        if self.dropped:
            self._lines.append({"time": now, "stream": "log", "text": f"… {self.dropped} lines dropped"})
            self.dropped = 0


def shorten(text: str, stream: str) -> str:
    """`text` within its stream's bound: a line cut at its end; a multi-line record (a
    traceback) keeps its first quarter and its last three, the error being at the end."""
    if stream == "stdout" or stream == "stderr":
        return text[:MAX_LINE_BYTES]
    limit = MAX_TRACEBACK_CHARS if stream == "traceback" or "\n" in text else MAX_LINE_BYTES
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"{text[: limit // 4]}\n… {cut} characters cut …\n{text[-(limit - limit // 4) :]}"


class _Handler(logging.Handler):
    """Root handler: log records become "log" lines (or "traceback" lines when marked)."""

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__(logging.DEBUG)
        self.buffer = buffer
        self.setFormatter(logging.Formatter(_LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = getattr(record, "log_stream", "log")
            text = record.getMessage() if stream == "traceback" else self.format(record)
            self.buffer.add(stream if stream in STREAMS else "log", text, force=stream == "traceback")
        except Exception:  # noqa: BLE001  # logging must never raise into user code
            self.handleError(record)


class _PipeReader:
    """Reads one captured descriptor's pipe: copies to the original, splits into lines."""

    def __init__(self, fd: int, stream: str, buffer: LogBuffer) -> None:
        self.fd = fd
        self.stream = stream
        self.buffer = buffer
        self.original = os.dup(fd)  # where the bytes still go (the server's terminal)
        read_end, write_end = os.pipe()
        os.set_inheritable(read_end, False)
        os.dup2(write_end, fd)  # fd now writes into the pipe (inherited by children as before)
        os.close(write_end)
        self._read_end = read_end
        self._thread = threading.Thread(target=self._run, name=f"zk-log-{stream}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        skipping = False  # the rest of an overlong line, already cut
        while True:
            try:
                chunk = os.read(self._read_end, _READ_BYTES)
            except OSError:
                break
            if not chunk:
                break
            with contextlib.suppress(OSError):
                _write_all(self.original, chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not skipping:
                    self._add(line)
                skipping = False
            if len(pending) > MAX_LINE_BYTES:
                if not skipping:
                    self._add(pending[:MAX_LINE_BYTES])
                skipping, pending = True, b""
        if pending and not skipping:
            self._add(pending)
        os.close(self._read_end)

    def _add(self, raw: bytes) -> None:
        self.buffer.add(self.stream, raw.decode("utf-8", errors="replace").rstrip("\r"))

    def restore(self) -> None:
        """Point the descriptor back at the original (closes the pipe's write end held at fd)."""
        os.dup2(self.original, self.fd)

    def drain(self, deadline: float) -> None:
        """Wait until the reader has read the pipe to its end, or `deadline` (monotonic) passes:
        a child process still holding the pipe keeps it open."""
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if not self._thread.is_alive():  # else it may still copy there; the process ends soon anyway
            os.close(self.original)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class LogCapture:
    """Captures this worker process's output and log records and publishes them as `LogLines`."""

    def __init__(
        self,
        instance_id: str,
        outbox: EventOutbox,
        flush_seconds: float = FLUSH_EVERY_SECONDS,
        max_lines_per_second: int = MAX_LINES_PER_SECOND,
    ) -> None:
        self.instance_id = instance_id
        self.outbox = outbox
        self.flush_seconds = flush_seconds
        self.buffer = LogBuffer(max_lines_per_second)
        self._seq = 0
        self._readers: list[_PipeReader] = []
        self._handler = _Handler(self.buffer)
        self._stop = threading.Event()
        self._publish_lock = threading.Lock()
        self._flusher = threading.Thread(target=self._flush_loop, name="zk-log-flush", daemon=True)
        self.terminal: IO[str] | None = None
        self._moved: list[tuple[logging.StreamHandler[Any], Any]] = []

    def start(self) -> LogCapture:
        """Capture from now on; `terminal` is then a text stream to the original stderr (not captured)."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
                # A server started without a terminal gave its streams block buffering: a
                # print would reach the logs only 8 KB later, or at exit.
                stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        self._readers = [_PipeReader(1, "stdout", self.buffer), _PipeReader(2, "stderr", self.buffer)]
        self.terminal = os.fdopen(os.dup(self._readers[1].original), "w", buffering=1, closefd=True)
        root = logging.getLogger()
        # Handlers writing to stderr (basicConfig's) write to the terminal instead: their
        # records are captured once, as "log" lines, not again as stderr.
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.__stderr__):
                self._moved.append((handler, handler.setStream(self.terminal)))
        root.addHandler(self._handler)
        self._flusher.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop capturing, drain the pipes and publish the last lines (the traceback of a failure)."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        logging.getLogger().removeHandler(self._handler)
        for handler, stream in self._moved:
            handler.setStream(stream)
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            reader.restore()
        for reader in self._readers:
            reader.drain(deadline)
        self._stop.set()
        if self._flusher.is_alive():
            self._flusher.join(max(0.0, deadline - time.monotonic()))
        self.flush(final=True)
        if self.terminal is not None:
            with contextlib.suppress(OSError):
                self.terminal.close()

    def flush(self, final: bool = False) -> bool:
        """Publish the buffered lines now (if any, or to mark the last flush); whether it published."""
        with self._publish_lock:
            lines = self.buffer.take()
            if not lines and not final:
                return False
            self._seq += 1
            self.outbox.publish(ev.LogLines(self.instance_id, seq=self._seq, lines=lines, final=final))
            return True

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001  # a failed publish must not end the capture
                print(f"could not publish log lines: {exc}", file=self.terminal or sys.__stderr__)
