"""Instance logs: the lines workers capture (`LogLines`), stored in batches, queried and streamed.

Storage, through the DocumentStore, in collection `logChunks`: each `LogLines` event (one per
worker flush, a few a second at most, only when there is output) becomes one document; its id
comes from the event, so an event delivered twice is stored once, and each is a new document
(within Firestore's budget of about one write a second per document). Each instance is bounded:
at every `PRUNE_EVERY`-th flush and at the last, its oldest documents are deleted until at most
`MAX_LINES_PER_INSTANCE` lines are left (so it holds at most that plus `PRUNE_EVERY` flushes).

Only viewers who may inspect an instance read its logs; to others it looks missing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput, NotFound
from ainimal_zookeeper.ports.documents import DocumentStore

if TYPE_CHECKING:
    from ainimal_zookeeper.domain.access import Viewer
    from ainimal_zookeeper.ports.bus import EventBus

log = logging.getLogger(__name__)


class LogSource(Protocol):
    """What the log queries read through (`service/observation.py`): the store, the event bus,
    and which instances a viewer may inspect."""

    documents: DocumentStore
    events: EventBus | None

    def inspectable(self, viewer: Viewer, instance_id: str) -> object | None: ...

    def while_visible(
        self, viewer: Viewer, instance_id: str, items: AsyncIterator[dict[str, Any]]
    ) -> AsyncIterator[dict[str, Any]]: ...


LOGS = "logChunks"
STREAMS = frozenset({"stdout", "stderr", "log", "traceback"})
MAX_LINES_PER_INSTANCE = 5000
PRUNE_EVERY = 16
#: What one flush may carry (the worker's bound; checked again here, the bus is not trusted).
MAX_LINES_PER_CHUNK = 1100
MAX_TEXT = 32768 + 64  # the worker's bound for a traceback, and its cut marker
#: Text one stored document holds at most (Firestore takes 1 MiB a document).
MAX_CHUNK_CHARS = 240_000
DEFAULT_TAIL = 200
MAX_TAIL = MAX_LINES_PER_INSTANCE
#: Lines a live stream holds for a slow reader; past it the oldest go (and are counted).
STREAM_QUEUE_LINES = 1000


# storing


def store_lines(documents: DocumentStore, event: ev.LogLines) -> None:
    """Store one flush of an instance's lines as one document; prune when it is time."""
    lines = checked_lines(event)
    if lines:
        chunk_id = f"{event.instance_id}.{int(event.time * 1_000_000):020d}.{int(event.seq)}"
        documents.put(
            LOGS,
            chunk_id,
            {
                "id": chunk_id,
                "instance": event.instance_id,
                "firstTime": lines[0]["time"],
                "count": len(lines),
                "lines": lines,
            },
        )
    if event.final or (event.seq > 0 and event.seq % PRUNE_EVERY == 0):
        prune(documents, event.instance_id)


def prune(documents: DocumentStore, instance_id: str, keep: int | None = None) -> int:
    """Delete an instance's oldest chunks until at most `keep` (default `MAX_LINES_PER_INSTANCE`)
    lines are left; how many it deleted."""
    keep = MAX_LINES_PER_INSTANCE if keep is None else keep
    chunks = _chunks(documents, instance_id)
    total = sum(int(c.get("count") or 0) for c in chunks)
    deleted = 0
    for chunk in chunks:
        if total <= keep:
            break
        documents.delete(LOGS, chunk["id"])
        total -= int(chunk.get("count") or 0)
        deleted += 1
    return deleted


def checked_lines(event: ev.LogLines) -> list[dict[str, Any]]:
    """The event's lines that are well formed, texts cut to `MAX_TEXT`; others are dropped."""
    raw = event.lines if isinstance(event.lines, list) else []
    kept: list[dict[str, Any]] = []
    chars = 0
    for line in raw[:MAX_LINES_PER_CHUNK]:
        try:
            stream, text, stamp = line["stream"], line["text"], float(line["time"])
        except (TypeError, KeyError, ValueError):
            continue
        if stream in STREAMS and isinstance(text, str):
            text = text[:MAX_TEXT]
            chars += len(text)
            if chars > MAX_CHUNK_CHARS:
                break
            kept.append({"time": stamp, "stream": stream, "text": text})
    if len(kept) < len(raw):
        log.warning(
            "instance %s sent %d malformed or excess log lines; dropped", event.instance_id, len(raw) - len(kept)
        )
    return kept


def _chunks(documents: DocumentStore, instance_id: str) -> list[dict[str, Any]]:
    chunks = documents.find(LOGS, [("instance", "==", instance_id)])
    chunks.sort(key=lambda c: (c["firstTime"], c["id"]))
    return chunks


# reading


def checked_tail(tail: int | None) -> int:
    """The number of lines asked for.

    Raises:
        InvalidInput: outside 1..MAX_TAIL.
    """
    wanted = DEFAULT_TAIL if tail is None else tail
    if not 1 <= wanted <= MAX_TAIL:
        raise InvalidInput(f"tail must be between 1 and {MAX_TAIL} lines, got {tail}: ask for fewer lines")
    return wanted


def inspectable_or_missing(source: LogSource, viewer: Viewer, instance_id: str) -> object:
    """The instance when the viewer may inspect it.

    Raises:
        NotFound: missing, or not for this viewer (hidden looks missing).
    """
    doc = source.inspectable(viewer, instance_id)
    if doc is None:
        raise NotFound(f"unknown instance {instance_id!r}")
    return doc


def logs(source: LogSource, viewer: Viewer, instance_id: str, tail: int | None = None) -> list[dict[str, Any]]:
    """The last `tail` lines of an instance's logs, oldest first."""
    wanted = checked_tail(tail)
    inspectable_or_missing(source, viewer, instance_id)
    lines: list[dict[str, Any]] = []
    for chunk in reversed(_chunks(source.documents, instance_id)):
        lines[:0] = chunk.get("lines") or []
        if len(lines) >= wanted:
            break
    return lines[-wanted:]


def log_stream(source: LogSource, viewer: Viewer, instance_id: str) -> AsyncIterator[dict[str, Any]]:
    """New lines of an instance's logs as they come, until it ends or the viewer may no longer see it.

    Raises:
        NotFound: as `logs`.
        InvalidInput: the server has no event bus to stream from.
    """
    inspectable_or_missing(source, viewer, instance_id)
    if source.events is None:
        raise InvalidInput("live logs are not available on this server: query logs instead")
    return source.while_visible(viewer, instance_id, _lines_of(source, instance_id))


async def _lines_of(source: LogSource, instance_id: str) -> AsyncIterator[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    # None: the worker's last flush. A slow reader loses the oldest lines, never stalls the bus.
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=STREAM_QUEUE_LINES)
    dropped = 0

    def offer(item: dict[str, Any] | None) -> None:  # on the loop
        nonlocal dropped
        if queue.full():
            queue.get_nowait()
            dropped += 1
        queue.put_nowait(item)

    def on_event(event: ev.Event) -> None:  # on the bus's thread
        if not isinstance(event, ev.LogLines) or event.instance_id != instance_id:
            return
        for line in checked_lines(event):
            loop.call_soon_threadsafe(offer, line)
        if event.final:
            loop.call_soon_threadsafe(offer, None)

    assert source.events is not None
    unsubscribe = await asyncio.to_thread(source.events.subscribe, on_event)
    try:
        while True:
            item = await queue.get()
            if dropped:  # the lines lost came before this one
                stamp = item["time"] if item is not None else time.time()
                yield {"time": stamp, "stream": "log", "text": f"… {dropped} lines dropped (the reader was slow)"}
                dropped = 0
            if item is None:
                return  # the worker's last flush: its instance has ended
            yield item
    finally:
        await asyncio.to_thread(unsubscribe)
