"""Metric history over real HTTP: what an instance logged is kept, thinned on request and survives a restart."""

from __future__ import annotations

import signal
from pathlib import Path

from support import ServerProcess, wait_for

HERE = Path(__file__).parent
ZOO = HERE / "metrics_zoo.yaml"

HISTORY = """query($ids: [ID!]!, $names: [String!], $since: DateTime, $maxPoints: Int) {
  metricHistory(ids: $ids, names: $names, since: $since, maxPoints: $maxPoints) {
    instance name steps times values
  }
}"""

WANTED = {"episode_return", "episode_length", "loss", "entropy", "steps_per_second", "cart/position"}


def history(server: ServerProcess, ids: list[str], **variables) -> dict[str, dict]:
    found = server.gql(HISTORY, {"ids": ids, **variables})["metricHistory"]
    return {series["name"]: series for series in found}


def test_logged_metrics_are_kept_thinned_on_request_and_survive_a_restart(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(ZOO, data)
    try:
        launched = first.gql(
            'mutation { launch(input: {model: "Logger", environment: "CartPole", mode: TRAIN}) { id } }'
        )
        instance = launched["launch"]["id"]
        # Several flushes (one a second), so the history spans more than one stored chunk.
        series = wait_for(
            lambda: (
                (found := history(first, [instance]))
                and WANTED <= set(found)
                and len(found["steps_per_second"]["steps"]) >= 8
                and found
            ),
            timeout=30,
            what="history of every metric",
        )
        for name in WANTED:
            s = series[name]
            assert s["instance"] == instance
            assert len(s["steps"]) == len(s["times"]) == len(s["values"]) > 0
            assert s["times"] == sorted(s["times"])
        assert all(value == 0.5 for value in series["entropy"]["values"])
        assert all(0 < value <= 1 for value in series["loss"]["values"])

        thinned = history(first, [instance], maxPoints=5)
        assert WANTED <= set(thinned)
        assert all(len(s["steps"]) <= 5 for s in thinned.values())
        only = history(first, [instance, "no-such-instance"], names=["loss", "no_such_metric"])
        assert set(only) == {"loss"}

        errors = first.errors(HISTORY, {"ids": [instance], "maxPoints": 0})
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "maxPoints must be between 1 and 10000, got 0" in errors[0]["message"]
        first.gql(f'mutation {{ terminate(id: "{instance}") {{ status }} }}')
        before = history(first, [instance], maxPoints=10_000)
    finally:
        assert first.stop(signal.SIGTERM) == 0, first.log()

    second = ServerProcess(ZOO, data)
    try:
        after = history(second, [instance], maxPoints=10_000)
        assert after == before, "the history is read back as it was stored"
        since = history(second, [instance], since="2100-01-01T00:00:00Z")
        assert since == {}
    finally:
        assert second.stop() == 0


def test_a_non_number_logged_fails_the_instance_with_a_message_naming_the_metric(tmp_path):
    server = ServerProcess(ZOO, tmp_path / "data")
    try:
        launched = server.gql(
            'mutation { launch(input: {model: "Logger", environment: "CartPole", parameters: {bad_after: 200}}) { id } }'
        )
        instance = launched["launch"]["id"]
        failed = wait_for(
            lambda: (
                (doc := server.gql(f'{{ instance(id: "{instance}") {{ status error }} }}')["instance"])
                and doc["status"] == "FAILED"
                and doc
            ),
            what="the instance failing",
        )
        assert failed["error"] == "forward raised log('reward_avg') expects a number (int or float), got str 'abc'"
        # What it logged before the bad call is kept.
        assert "cart/position" in wait_for(lambda: history(server, [instance]), what="history of the failed instance")
    finally:
        assert server.stop() == 0
