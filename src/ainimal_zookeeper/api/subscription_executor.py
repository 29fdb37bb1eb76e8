"""A graphql-core executor whose subscription events do not accumulate memory.

graphql-core 3.3 runs each subscription event on a shallow copy of the subscription's executor
(`build_per_event_executor`). The copy shares the executor's memo of collected sub-fields,
which is keyed by the identity of a field list that each event builds afresh and keeps alive:
the memo gains an entry per event and per object field, forever. A telemetry stream at 30 Hz
grew the server by about 1.2 kB a frame (over 100 MB an hour for two streams).

Each event is a separate execution, so it gets a memo of its own; events still share the
validated document, variables and context.
"""

from __future__ import annotations

from typing import Any

from graphql.execution import Executor


class PerEventMemoExecutor(Executor):
    """`Executor` whose per-event copies start with empty memos."""

    def build_per_event_executor(self, payload: Any) -> Executor:
        executor = super().build_per_event_executor(payload)
        # Private attributes of graphql-core 3.3: tests/api/test_subscription_memory.py fails
        # when an upgrade renames them and the growth comes back.
        if hasattr(executor, "_relevant_sub_fields"):
            executor._relevant_sub_fields = {}
        return executor
