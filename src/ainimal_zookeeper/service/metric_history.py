"""Metric history: the points workers publish (`MetricPoints`), stored in chunks and queried.

Storage, through the DocumentStore, in collection `metricChunks`:

* Each `MetricPoints` event (one per instance about once a second) becomes one *chunk*
  document at level 0: every series' points of that flush. Its id comes from the event, so an
  event delivered twice is written once. New documents each time: within Firestore's budget
  of about one write per second per document.
* Compaction keeps each instance bounded: when an instance has more than `MERGE_COUNT`
  chunks at a level, the oldest `MERGE_COUNT` are merged into one chunk a level up, each series
  thinned to its share of `MERGED_POINTS` (at most `MERGED_POINTS_PER_SERIES`) by min/max
  buckets. Level 1 chunks span about 16 s, level 2 about 4 min, level 3 about an hour; level
  `MAX_LEVEL` merges into itself, so old history gets coarser but never goes away. An instance
  thus holds at most about 2 × MERGE_COUNT chunks per level, whatever its age: recent points
  at full resolution, older ones thinner. Compaction runs at every `MERGE_COUNT`-th flush of a
  worker and at its last (a merge writes 1 document and deletes `MERGE_COUNT`).

Queries read an instance's chunks, join each series in time order and thin it to `maxPoints`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.sdk.metrics import HARNESS_NAMES, MAX_NAME_LENGTH, MAX_NAMES, MAX_POINTS_PER_FLUSH, NAME_PATTERN
from ainimal_zookeeper.service.downsample import thin

if TYPE_CHECKING:
    from ainimal_zookeeper.domain.access import Viewer

log = logging.getLogger(__name__)


class MetricSource(Protocol):
    """What the query reads through (`service/observation.py`): the store, and which instances
    a viewer may see."""

    documents: DocumentStore

    def instance(self, viewer: Viewer, instance_id: str) -> object | None: ...


METRICS = "metricChunks"

MERGE_COUNT = 16
MAX_LEVEL = 4
MERGED_POINTS = 4096
MERGED_POINTS_PER_SERIES = 512
#: What one flush may carry (the worker's bounds; checked again here, the bus is not trusted).
MAX_SERIES_PER_CHUNK = MAX_NAMES + len(HARNESS_NAMES)
MAX_POINTS_PER_CHUNK_SERIES = MAX_POINTS_PER_FLUSH + 1

MAX_QUERY_IDS = 50
MAX_QUERY_NAMES = 200
MAX_QUERY_POINTS = 10_000
DEFAULT_QUERY_POINTS = 1000
#: All series of one answer together carry at most this many points: past it, each series is
#: thinned to an equal share (so a query of 50 instances × 100 names stays a few MB).
MAX_ANSWER_POINTS = 200_000

Columns = tuple[list[int], list[float], list[float | None]]


# storing


def store_points(documents: DocumentStore, event: ev.MetricPoints) -> None:
    """Store one flush of an instance's points as a level-0 chunk; compact when it is time."""
    series = _checked_series(event)
    if series:
        first = min(s["times"][0] for s in series)
        last = max(s["times"][-1] for s in series)
        chunk_id = _chunk_id(event.instance_id, 0, event.time)
        documents.put(METRICS, chunk_id, _chunk(chunk_id, event.instance_id, 0, first, last, series))
    if event.final or (event.seq > 0 and event.seq % MERGE_COUNT == 0):
        compact(documents, event.instance_id)


def compact(documents: DocumentStore, instance_id: str) -> int:
    """Merge an instance's chunks level by level while a level holds more than `MERGE_COUNT`;
    returns how many merges it made."""
    merges = 0
    for level in range(MAX_LEVEL + 1):
        while documents.run_in_transaction(partial(_merge_oldest, instance_id=instance_id, level=level)):
            merges += 1
    return merges


def _merge_oldest(store: DocumentStore, instance_id: str, level: int) -> bool:
    chunks = store.find(METRICS, [("instance", "==", instance_id), ("level", "==", level)])
    if len(chunks) <= MERGE_COUNT:
        return False
    chunks.sort(key=lambda c: (c["firstTime"], c["id"]))
    oldest = chunks[:MERGE_COUNT]
    joined = _join(oldest)
    share = max(1, min(MERGED_POINTS_PER_SERIES, MERGED_POINTS // max(1, len(joined))))
    series = [_series(name, *thin(*columns, share)) for name, columns in joined.items()]
    target = min(level + 1, MAX_LEVEL)
    first = min(c["firstTime"] for c in oldest)
    last = max(c["lastTime"] for c in oldest)
    # The id names the oldest merged chunk: a merge run again (a retried transaction) rewrites it.
    merged_id = f"{oldest[0]['id']}~{target}"
    for chunk in oldest:
        store.delete(METRICS, chunk["id"])
    store.put(METRICS, merged_id, _chunk(merged_id, instance_id, target, first, last, series))
    return True


def _chunk_id(instance_id: str, level: int, stamp: float) -> str:
    return f"{instance_id}.{level}.{int(stamp * 1_000_000):020d}"


def _chunk(
    chunk_id: str, instance_id: str, level: int, first: float, last: float, series: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "instance": instance_id,
        "level": level,
        "firstTime": first,
        "lastTime": last,
        "series": series,
    }


def _series(name: str, steps: list[int], times: list[float], values: list[float | None]) -> dict[str, Any]:
    return {"name": name, "steps": steps, "times": times, "values": values}


def _checked_series(event: ev.MetricPoints) -> list[dict[str, Any]]:
    """The event's series that fit the bounds; others are dropped with a warning."""
    kept: list[dict[str, Any]] = []
    raw = event.series if isinstance(event.series, list) else []
    for entry in raw[:MAX_SERIES_PER_CHUNK]:
        try:
            kept.append(_checked(entry))
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("metric points of instance %s dropped: %s", event.instance_id, exc)
    if len(raw) > MAX_SERIES_PER_CHUNK:
        log.warning("instance %s sent %d series in one flush; kept %d", event.instance_id, len(raw), len(kept))
    return kept


def _checked(entry: Any) -> dict[str, Any]:
    name = entry["name"]
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"bad metric name {str(name)[:80]!r}")
    steps, times, values = entry["steps"], entry["times"], entry["values"]
    if not (isinstance(steps, list) and isinstance(times, list) and isinstance(values, list)):
        raise TypeError(f"series {name!r}: steps, times and values must be lists")
    if not 0 < len(times) == len(steps) == len(values) <= MAX_POINTS_PER_CHUNK_SERIES:
        raise ValueError(f"series {name!r}: columns of {len(steps)}, {len(times)}, {len(values)} points")
    return _series(
        name,
        [int(s) for s in steps],
        [float(t) for t in times],
        [None if v is None or not math.isfinite(float(v)) else float(v) for v in values],
    )


def _join(chunks: Sequence[dict[str, Any]], since: float | None = None) -> dict[str, Columns]:
    """Each series' points across chunks, in time order (from `since` on, when given)."""
    joined: dict[str, Columns] = {}
    for chunk in sorted(chunks, key=lambda c: (c["firstTime"], c.get("id", ""))):
        for entry in chunk.get("series") or []:
            steps, times, values = joined.setdefault(entry["name"], ([], [], []))
            start = 0
            if since is not None:
                start = next((i for i, t in enumerate(entry["times"]) if t >= since), len(entry["times"]))
            steps.extend(entry["steps"][start:])
            times.extend(entry["times"][start:])
            values.extend(entry["values"][start:])
    for name, (steps, times, values) in list(joined.items()):
        if not times:
            del joined[name]
        elif any(b < a for a, b in zip(times, times[1:], strict=False)):
            # Chunks overlap (two workers of one instance, a clock step): sort, stably.
            order = sorted(range(len(times)), key=times.__getitem__)
            joined[name] = ([steps[i] for i in order], [times[i] for i in order], [values[i] for i in order])
    return joined


# querying


def metric_history(
    source: MetricSource,
    viewer: Viewer,
    ids: Sequence[str],
    names: Sequence[str] | None = None,
    since: str | None = None,
    max_points: int | None = None,
) -> list[dict[str, Any]]:
    """The metric series of the instances the viewer may view, each thinned to `max_points`.

    Instances the viewer may not view, and missing ones, are skipped alike; names without
    points give no series. Series come per instance in the order of `ids`, then by name.

    Raises:
        InvalidInput: too many ids or names, a name too long, `maxPoints` out of range, or a
            `since` that is not an ISO-8601 date and time.
    """
    wanted_ids, wanted_names, since_time, limit = _checked_query(ids, names, since, max_points)
    found: list[tuple[str, str, Columns]] = []
    for instance_id in wanted_ids:
        if source.instance(viewer, instance_id) is None:
            continue  # hidden and missing look the same
        chunks = source.documents.find(METRICS, [("instance", "==", instance_id)])
        if since_time is not None:
            chunks = [c for c in chunks if c["lastTime"] >= since_time]
        joined = _join(chunks, since_time)
        for name in sorted(joined):
            if wanted_names is None or name in wanted_names:
                found.append((instance_id, name, joined[name]))
    share = max(1, min(limit, MAX_ANSWER_POINTS // max(1, len(found))))
    answer = []
    for instance_id, name, columns in found:
        steps, times, values = thin(*columns, share)
        answer.append({"instance": instance_id, "name": name, "steps": steps, "times": times, "values": values})
    return answer


def _checked_query(
    ids: Sequence[str], names: Sequence[str] | None, since: str | None, max_points: int | None
) -> tuple[list[str], set[str] | None, float | None, int]:
    if len(ids) > MAX_QUERY_IDS:
        raise InvalidInput(f"metricHistory takes at most {MAX_QUERY_IDS} ids, got {len(ids)}: ask in several queries")
    if names is not None:
        if len(names) > MAX_QUERY_NAMES:
            raise InvalidInput(f"metricHistory takes at most {MAX_QUERY_NAMES} names, got {len(names)}")
        long = next((n for n in names if len(n) > MAX_NAME_LENGTH), None)
        if long is not None:
            raise InvalidInput(f"metric names have at most {MAX_NAME_LENGTH} characters, got {len(long)}")
    limit = DEFAULT_QUERY_POINTS if max_points is None else max_points
    if not 1 <= limit <= MAX_QUERY_POINTS:
        raise InvalidInput(f"maxPoints must be between 1 and {MAX_QUERY_POINTS}, got {limit}")
    return list(dict.fromkeys(ids)), set(names) if names is not None else None, _since(since), limit


def _since(since: str | None) -> float | None:
    if since is None:
        return None
    if not isinstance(since, str) or len(since) > 64:
        raise InvalidInput(f"since expects an ISO-8601 date and time, got {str(since)[:64]!r}")
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise InvalidInput(
            f"since expects an ISO-8601 date and time such as 2026-01-31T12:00:00Z, got {since!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the API's times are UTC
    return moment.timestamp()
