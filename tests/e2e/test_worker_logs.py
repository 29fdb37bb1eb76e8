"""Instance logs over real HTTP: prints, stderr, log records and a failure's traceback are kept and served."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import AccessZoo

from support import ServerProcess, SseStream, launch_running, terminate, wait_for

HERE = Path(__file__).parent
ZOO = HERE / "logs_zoo.yaml"
LOGS = "query($id: ID!, $tail: Int) { logs(id: $id, tail: $tail) { time stream text } }"
LIVE = "subscription($id: ID!) { logs(id: $id) { time stream text } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(ZOO, tmp_path_factory.mktemp("zk-logs") / "data")
    yield process
    assert process.stop() == 0, process.log()


def logs(server: ServerProcess, instance: str, tail: int | None = None) -> list[dict]:
    return server.gql(LOGS, {"id": instance, "tail": tail})["logs"]


def test_prints_raw_stderr_and_log_records_are_served_with_their_streams(server):
    instance = launch_running(server, {"model": "Chatty", "environment": "CartPole"})["id"]
    try:
        lines = wait_for(
            lambda: (
                (found := logs(server, instance, 5000))
                and {"stdout", "stderr", "log"} <= {line["stream"] for line in found}
                and found
            ),
            timeout=30,
            what="lines of every stream",
        )
        by_stream = {
            stream: [line["text"] for line in lines if line["stream"] == stream]
            for stream in ("stdout", "stderr", "log")
        }
        assert "printed at call 1" in by_stream["stdout"]
        assert "raw stderr at call 1" in by_stream["stderr"]
        assert "WARNING log_agents: logged at call 1" in by_stream["log"]
        assert not any("logged at call" in text for text in by_stream["stderr"]), "log records are kept once"
        times = [line["time"] for line in lines]
        assert times == sorted(times)
        assert len(logs(server, instance, 2)) == 2
    finally:
        terminate(server, instance)


def test_a_failure_in_forward_leaves_its_traceback_in_the_logs(server):
    instance = server.gql(
        'mutation { launch(input: {model: "Chatty", environment: "CartPole", parameters: {fail_after: 50}}) { id } }'
    )["launch"]["id"]
    wait_for(
        lambda: server.gql(f'{{ instance(id: "{instance}") {{ status }} }}')["instance"]["status"] == "FAILED",
        timeout=30,
        what="the instance failing",
    )
    tracebacks = wait_for(
        lambda: [line["text"] for line in logs(server, instance) if line["stream"] == "traceback"],
        what="the traceback",
    )
    assert "Traceback (most recent call last)" in tracebacks[-1]
    assert "ValueError: chatty gave up after 50 calls" in tracebacks[-1]


def test_a_worker_stuck_in_user_code_still_has_its_last_prints_served(server):
    instance = launch_running(server, {"model": "Chatty", "environment": "CartPole", "parameters": {"hang_after": 20}})[
        "id"
    ]
    # The capture's own thread publishes while the main thread is stuck in forward.
    wait_for(
        lambda: any(line["text"] == "stuck from here on" for line in logs(server, instance)),
        what="the stuck worker's last print",
    )
    terminate(server, instance)  # killed after the grace
    status = server.gql(f'{{ instance(id: "{instance}") {{ status }} }}')["instance"]["status"]
    assert status in ("TERMINATED", "FAILED")
    assert any(line["text"] == "stuck from here on" for line in logs(server, instance))


def test_the_subscription_delivers_new_lines_live_and_ends_with_the_instance(server):
    instance = launch_running(server, {"model": "Chatty", "environment": "CartPole", "parameters": {"every": 200}})[
        "id"
    ]
    with SseStream(server, LIVE, {"id": instance}, "logs") as stream:
        streams: set[str] = set()
        for _ in range(100):  # the three streams' lines come from three threads, in any order
            streams.add(stream.next()["stream"])
            if {"stdout", "stderr", "log"} <= streams:
                break
        assert {"stdout", "stderr", "log"} <= streams
        newest = max(line["time"] for line in logs(server, instance, 1))
        # Read line after line without pausing: a fast worker prints hundreds of lines a second,
        # and a pause between reads never reaches the lines after the query's.
        later = wait_for(
            lambda: (line := stream.next())["time"] > newest and line, interval=0, what="a line newer than the query's"
        )
        assert later["text"]
        terminate(server, instance)
        with pytest.raises(AssertionError, match="the event stream ended"):
            for _ in range(10_000):  # what was still buffered, then the end
                stream.next()


def test_a_tail_out_of_bounds_gets_a_clear_error(server):
    for tail in (0, 5001):
        errors = server.errors(LOGS, {"id": "anything", "tail": tail})
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert f"tail must be between 1 and 5000 lines, got {tail}" in errors[0]["message"]
    errors = server.errors(LOGS, {"id": "no-such-instance"})
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


def test_only_viewers_who_may_inspect_an_instance_read_its_logs(tmp_path):
    zoo = AccessZoo(tmp_path)
    try:
        instance = zoo.launch(zoo.owner)["id"]
        variables = {"id": instance, "tail": 10}
        assert isinstance(zoo.owner.gql(LOGS, variables)["logs"], list)
        assert isinstance(zoo.admin.gql(LOGS, variables)["logs"], list)
        for client in (zoo.viewer, zoo.other_user, zoo.anonymous):
            assert client.code(LOGS, variables) in {"NOT_FOUND", "UNAUTHENTICATED"}
        with zoo.viewer.subscribe(LIVE, {"id": instance}) as stream:
            assert stream.refused_code() == "NOT_FOUND"
    finally:
        assert zoo.stop() == 0
