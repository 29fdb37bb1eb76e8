"""Takeovers end when their person goes, end to end: leases, renewals, late inputs, emergency stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from support import GraphQLError, ServerProcess, SseStream, launch_running, terminate, wait_for

HERE = Path(__file__).parent
HOLD = 1.0  # workers.takeover_hold_seconds in takeover_zoo.yaml
OVERRIDE = """mutation($id: ID!, $input: OverrideInput!) {
  override(id: $id, input: $input) { id holder leaseExpiresAt takeover holdSeconds }
}"""
RENEW = "mutation($id: ID!, $o: ID!) { renewTakeover(id: $id, override: $o) { id holder leaseExpiresAt active } }"
ACT = "mutation($id: ID!, $value: JSON) { act(id: $id, value: $value) }"
EVENTS = "subscription($id: ID) { instanceEvents(id: $id) { kind message } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "takeover_zoo.yaml", tmp_path_factory.mktemp("zk-takeover") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def launch(server, model="Constant", **extra):
    return launch_running(server, {"model": model, "environment": "Echo", **extra})


def take_over(server, instance_id, flavour, value, **extra):
    made = {"target": "outputs/action", "value": value, "takeover": flavour, **extra}
    return server.gql(OVERRIDE, {"id": instance_id, "input": made})["override"]


def look(server, instance_id, fields="status step waitingFor overrides { id }"):
    return server.gql(f'{{ instance(id: "{instance_id}") {{ {fields} }} }}')["instance"]


def action_seen(server, instance_id):
    frame = server.gql(f'{{ latestFrame(id: "{instance_id}", streams: ["outputs"]) {{ streams }} }}')["latestFrame"]
    return frame["streams"]["outputs"]["action"]


def test_an_abandoned_realtime_takeover_is_released_after_hold_seconds(server):
    instance = launch(server)["id"]
    with SseStream(server, EVENTS, {"id": instance}, "instanceEvents") as events:
        made = take_over(server, instance, "realtime", value=1)
        assert made["holder"] == "local" and made["holdSeconds"] == HOLD and made["leaseExpiresAt"]
        assert action_seen(server, instance) == 1
        started = time.monotonic()
        wait_for(lambda: look(server, instance)["overrides"] == [], what="the takeover released")
        assert time.monotonic() - started > HOLD * 0.5  # not before its hold (well within it for a slow machine)
        assert action_seen(server, instance) == 0  # the AInimal acts again
        cleared = wait_for(lambda: (e := events.next())["kind"] == "OVERRIDE_CLEARED" and e, what="OVERRIDE_CLEARED")
        assert "takeover lease expired" in cleared["message"]
    with pytest.raises(GraphQLError, match="has ended .*takeover lease expired"):
        server.gql(RENEW, {"id": instance, "o": made["id"]})
    terminate(server, instance)


def test_renewals_keep_a_takeover_held_across_several_hold_periods(server):
    instance = launch(server)["id"]
    made = take_over(server, instance, "realtime", value=1)
    until = time.monotonic() + 4 * HOLD
    while time.monotonic() < until:  # four hold periods, renewed three times a period
        renewed = server.gql(RENEW, {"id": instance, "o": made["id"]})["renewTakeover"]
        assert renewed["active"] and renewed["holder"] == "local" and renewed["leaseExpiresAt"]
        time.sleep(HOLD / 3)
    assert look(server, instance)["overrides"] == [{"id": made["id"]}]
    assert action_seen(server, instance) == 1
    wait_for(lambda: look(server, instance)["overrides"] == [], what="the release once renewals stop")
    terminate(server, instance)


def test_an_abandoned_lockstep_takeover_says_who_it_waits_for_then_lets_the_instance_flow(server):
    instance = launch(server)["id"]
    # A long step timeout: it is the lease, not the timeout, that lets the instance go.
    take_over(server, instance, "lockstep", value=1, timeoutSeconds=60, holdSeconds=2.0)
    waiting = wait_for(lambda: (i := look(server, instance))["waitingFor"] and i, what="waitingFor")
    assert waiting["waitingFor"] == "lockstep takeover by local" and waiting["status"] == "RUNNING"
    wait_for(lambda: look(server, instance)["waitingFor"] is None, timeout=20, what="the wait to end")
    flowing = look(server, instance)
    assert flowing["overrides"] == []
    wait_for(lambda: look(server, instance)["step"] > flowing["step"] + 10, what="steps rising again")
    terminate(server, instance)


def test_a_held_lockstep_takeover_without_actions_steps_once_per_timeout(server):
    instance = launch(server)["id"]
    made = take_over(server, instance, "lockstep", value=1, timeoutSeconds=0.3, holdSeconds=30)
    start = wait_for(lambda: (i := look(server, instance))["waitingFor"] and i, what="waitingFor")
    time.sleep(2.0)  # several timeouts: the AInimal acts for each step nobody took
    later = look(server, instance)
    assert later["overrides"] == [{"id": made["id"]}]  # still held
    assert start["step"] + 2 <= later["step"] <= start["step"] + 10, (start, later)
    terminate(server, instance)


def test_emergency_stop_pauses_and_clears_every_override_and_takeover(server):
    instance = launch(server)["id"]
    server.gql(OVERRIDE, {"id": instance, "input": {"target": "inputs/observation", "value": [0.5, 0.5]}})
    take_over(server, instance, "realtime", value=1, holdSeconds=60)
    assert len(look(server, instance)["overrides"]) == 2
    with SseStream(server, EVENTS, {"id": instance}, "instanceEvents") as events:
        stopped = server.gql(f'mutation {{ emergencyStop(id: "{instance}") {{ status waitingFor }} }}')
        assert stopped["emergencyStop"] == {"status": "PAUSED", "waitingFor": None}
        assert look(server, instance)["overrides"] == []
        cleared = []
        while len(cleared) < 2:
            event = events.next()
            if event["kind"] == "OVERRIDE_CLEARED":
                cleared.append(event["message"])
    assert all("emergency stop" in message for message in cleared), cleared
    step = look(server, instance)["step"]
    time.sleep(0.3)
    assert look(server, instance)["step"] == step  # paused
    terminate(server, instance)


def test_acts_that_arrive_late_are_dropped_and_counted(server):
    # The agent spends 2 s in each forward, so the worker reads its commands up to 2 s late;
    # ten acts sent over one second include at least six older than max_input_age_seconds (0.3).
    instance = launch(server, model="Slow")["id"]
    take_over(server, instance, "realtime", value=1, holdSeconds=60)
    for _ in range(10):
        assert server.gql(ACT, {"id": instance, "value": 1})["act"] is True
        time.sleep(0.1)
    dropped = wait_for(
        lambda: (m := look(server, instance, "metrics")["metrics"] or {}).get("dropped_inputs", 0) >= 6 and m,
        what="dropped inputs counted",
    )
    assert dropped["dropped_inputs"] <= 10
    terminate(server, instance)


def test_bad_leases_and_renewals_of_what_is_no_takeover_get_clear_errors(server):
    instance = launch(server)["id"]
    for hold in (0, 4000):
        with pytest.raises(GraphQLError, match=f"holdSeconds must be above 0 and at most 3600, got {hold}"):
            take_over(server, instance, "realtime", value=1, holdSeconds=hold)
    plain = server.gql(OVERRIDE, {"id": instance, "input": {"target": "outputs/action", "value": 1}})["override"]
    with pytest.raises(GraphQLError, match="is not a takeover; only takeovers are renewed"):
        server.gql(RENEW, {"id": instance, "o": plain["id"]})
    terminate(server, instance)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    from access_support import AccessZoo

    zoo = AccessZoo(tmp_path_factory.mktemp("zk-takeover-access"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


def test_only_the_holder_may_renew_a_takeover_and_others_are_told_who_holds_it(zoo):
    instance = zoo.launch(zoo.owner)["id"]  # uma's instance; the admin may override it too
    made = zoo.owner.gql(
        OVERRIDE,
        {"id": instance, "input": {"target": "outputs/action", "value": 1, "takeover": "realtime", "holdSeconds": 30}},
    )["override"]
    assert made["holder"] == "uma"
    refused = zoo.admin.post(RENEW, {"id": instance, "o": made["id"]}).json()["errors"][0]
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert f"takeover {made['id']} is held by uma" in refused["message"]
    assert zoo.owner.gql(RENEW, {"id": instance, "o": made["id"]})["renewTakeover"]["holder"] == "uma"
    act = "mutation($id: ID!) { act(id: $id, value: 0) }"
    refused = zoo.admin.post(act, {"id": instance}).json()["errors"][0]
    assert refused["extensions"]["code"] == "FORBIDDEN" and "is held by uma" in refused["message"]
    assert zoo.owner.gql(act, {"id": instance})["act"] is True
    missing = zoo.owner.post(RENEW, {"id": instance, "o": "no-such-override"}).json()["errors"][0]
    assert missing["extensions"]["code"] == "NOT_FOUND" and "has no override" in missing["message"]
    zoo.owner.gql(f'mutation {{ terminate(id: "{instance}") {{ status }} }}')
