"""A long subscription holds no memory per event (graphql-core 3.3 kept a memo entry per event)."""

from __future__ import annotations

import asyncio
import gc

from graphql import build_schema
from graphql.execution.collect_fields import CollectedFields

from ainimal_zookeeper.api.executor import Executor, GraphQLRequest

SCHEMA = build_schema(
    """
    type Query { ok: Boolean }
    type Reading { step: Int, values: Values }
    type Values { reward: Float }
    type Subscription { readings: Reading }
    """
)


async def _readings():
    step = 0
    while True:
        step += 1
        yield {"readings": {"step": step, "values": {"reward": 1.0}}}


SCHEMA.subscription_type.fields["readings"].subscribe = lambda _root, _info: _readings()


def _live_collected_fields() -> int:
    gc.collect()
    # type(), not isinstance(): isinstance reads `__class__`, which some lazy module proxies (torch)
    # answer with a deprecation warning.
    return sum(type(o) is CollectedFields for o in gc.get_objects())


def test_thousands_of_events_leave_nothing_behind_while_the_stream_stays_open():
    async def run() -> tuple[int, int]:
        stream = await Executor(SCHEMA).subscribe(
            GraphQLRequest("subscription { readings { step values { reward } } }"), context=None
        )
        assert not isinstance(stream, tuple), stream
        for _ in range(100):
            result = await anext(stream)
        warm = _live_collected_fields()
        for _ in range(3000):
            result = await anext(stream)
        assert result.data == {"readings": {"step": 3100, "values": {"reward": 1.0}}}
        after = _live_collected_fields()
        await stream.aclose()
        return warm, after

    warm, after = asyncio.run(run())
    assert after - warm < 10, f"{after - warm} collected-field sets kept over 3000 events"
