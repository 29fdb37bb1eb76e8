"""Who may do what, over the real HTTP API: every role against every mutation and subscription.

Roles: admin, operator, the user who owns the instance ("owner"), another user, a viewer, and
anonymous. Instances the viewer may not see look exactly like missing ones (NOT_FOUND, null,
absent from lists); visible instances refuse what the viewer may not do (FORBIDDEN); fields a
viewer may only watch come back null or empty.
"""

from __future__ import annotations

import pytest
from access_support import AccessZoo, wait_for_recording_steps

from support import wait_for

#: Every mutation on an instance, by a name for test ids.
MUTATIONS = {
    "pause": "mutation($id: ID!) { pause(id: $id) { status } }",
    "resume": "mutation($id: ID!) { resume(id: $id) { status } }",
    "setMode TRAIN": "mutation($id: ID!) { setMode(id: $id, mode: TRAIN) { mode } }",
    "setMode INFER": "mutation($id: ID!) { setMode(id: $id, mode: INFER) { mode } }",
    "saveCheckpoint": 'mutation($id: ID!) { saveCheckpoint(id: $id, tag: "matrix") { id } }',
    "restoreCheckpoint": "mutation($id: ID!, $checkpoint: ID!) { restoreCheckpoint(id: $id, checkpoint: $checkpoint) { id } }",
    "startRecording": 'mutation($id: ID!) { startRecording(id: $id, streams: ["inputs", "outputs", "reward"]) { id } }',
    "stopRecording": "mutation($recording: ID!) { stopRecording(recording: $recording) { id status } }",
    "replay": "mutation($id: ID!, $stopped: ID!) { replay(id: $id, recording: $stopped) { id } }",
    "override": """mutation($id: ID!) { override(id: $id, input: {target: "outputs/action", value: 0, takeover: "realtime", holdSeconds: 600}) { id } }""",
    "act": "mutation($id: ID!) { act(id: $id, value: 1) }",
    "clearOverride": "mutation($id: ID!, $override: ID!) { clearOverride(id: $id, override: $override) }",
    "setPublic": "mutation($id: ID!) { setPublic(id: $id, public: true) { public } }",
    "terminate": "mutation($id: ID!) { terminate(id: $id) { status } }",
}
NOT_FOUND = dict.fromkeys(MUTATIONS, "NOT_FOUND")
#: role -> mutation -> the code it is refused with (mutations not listed are allowed).
REFUSED = {
    "admin": {},
    "operator": {},
    "owner": {"setPublic": "FORBIDDEN"},  # marking public is the operators' call
    # The viewer sees the instance, so it is told "forbidden"; its recordings are the instance's
    # insides, which a viewer does not see, so stopping one finds nothing.
    "viewer": {**dict.fromkeys(MUTATIONS, "FORBIDDEN"), "stopRecording": "NOT_FOUND"},
    "other-user": NOT_FOUND,
    "anonymous": NOT_FOUND,
}
SUBSCRIPTIONS = {
    "instanceEvents": ("subscription($id: ID) { instanceEvents(id: $id) { instance kind status message } }", None),
    "telemetry inputs": (
        "subscription($id: ID!, $s: [String!]) { telemetry(id: $id, streams: $s, maxHz: 20) { step streams } }",
        ["inputs"],
    ),
    "telemetry state": (
        "subscription($id: ID!, $s: [String!]) { telemetry(id: $id, streams: $s, maxHz: 20) { step streams } }",
        ["state"],
    ),
}
SUBSCRIPTION_REFUSED = {
    "admin": {},
    "operator": {},
    "owner": {},
    "viewer": {"telemetry state": "FORBIDDEN"},  # watching is not inspecting
    "other-user": dict.fromkeys(SUBSCRIPTIONS, "NOT_FOUND"),
    "anonymous": dict.fromkeys(SUBSCRIPTIONS, "NOT_FOUND"),
}
INSTANCE = """query($id: ID!) { instance(id: $id) {
  id status mode step public permissions parameters owner architecture state error seed worker
  checkpoints { id } recordings { id } overrides { id } headCheckpoint { id }
} }"""
INSIDES = ("owner", "architecture", "state", "error", "seed", "worker", "headCheckpoint")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    zoo = AccessZoo(tmp_path_factory.mktemp("zk-access-matrix"))
    yield zoo
    assert zoo.stop() == 0, zoo.server.log()


@pytest.fixture(scope="module")
def target(zoo):
    """An instance of the owner's with a checkpoint, a stopped and a running recording, and a takeover."""
    owner = zoo.owner
    instance = zoo.launch(owner)
    ids = {"id": instance["id"]}
    checkpoint = owner.gql(MUTATIONS["saveCheckpoint"], ids)["saveCheckpoint"]["id"]
    stopped = owner.gql(MUTATIONS["startRecording"], ids)["startRecording"]["id"]
    wait_for_recording_steps(owner, stopped, 3)
    owner.gql(MUTATIONS["stopRecording"], {"recording": stopped})
    running = owner.gql(MUTATIONS["startRecording"], ids)["startRecording"]["id"]
    override = owner.gql(MUTATIONS["override"], ids)["override"]["id"]
    return {**ids, "checkpoint": checkpoint, "stopped": stopped, "recording": running, "override": override}


def variables_for(query: str, values: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if f"${name}" in query}


@pytest.mark.parametrize(
    ("role", "mutation"),
    [(role, name) for role, refused in REFUSED.items() for name in refused],
)
def test_a_role_is_refused_what_it_may_not_do_with_the_right_code(zoo, target, role, mutation):
    client = zoo.roles()[role]
    query = MUTATIONS[mutation]
    assert client.code(query, variables_for(query, target)) == REFUSED[role][mutation]


def test_refused_mutations_changed_nothing(zoo, target):
    for role, refused in REFUSED.items():
        for mutation in refused:
            zoo.roles()[role].post(MUTATIONS[mutation], variables_for(MUTATIONS[mutation], target))
    instance = zoo.owner.gql(INSTANCE, {"id": target["id"]})["instance"]
    assert (instance["status"], instance["mode"], instance["public"]) == ("RUNNING", "INFER", False)
    assert [c["id"] for c in instance["checkpoints"]] == [target["checkpoint"]]
    assert [o["id"] for o in instance["overrides"]] == [target["override"]]
    recordings = {r["id"] for r in instance["recordings"]}
    assert recordings == {target["stopped"], target["recording"]}


@pytest.mark.parametrize("role", ["admin", "operator", "owner"])
def test_a_role_that_may_does_every_operation_on_the_owners_instance(zoo, role):
    client = zoo.roles()[role]
    ids = {"id": zoo.launch(zoo.owner)["id"]}
    assert client.gql(MUTATIONS["pause"], ids)["pause"]["status"] == "PAUSED"
    assert client.gql(MUTATIONS["resume"], ids)["resume"]["status"] == "RUNNING"
    assert client.gql(MUTATIONS["setMode TRAIN"], ids)["setMode"]["mode"] == "TRAIN"
    assert client.gql(MUTATIONS["setMode INFER"], ids)["setMode"]["mode"] == "INFER"
    checkpoint = client.gql(MUTATIONS["saveCheckpoint"], ids)["saveCheckpoint"]["id"]
    client.gql(MUTATIONS["restoreCheckpoint"], {**ids, "checkpoint": checkpoint})
    recording = client.gql(MUTATIONS["startRecording"], ids)["startRecording"]["id"]
    wait_for_recording_steps(client, recording, 3)
    assert client.gql(MUTATIONS["stopRecording"], {"recording": recording})["stopRecording"]["status"] == "complete"
    replay = client.gql(MUTATIONS["replay"], {**ids, "stopped": recording})["replay"]["id"]
    wait_for(
        lambda: (
            client.gql("query($r: ID!) { replay(id: $r) { status } }", {"r": replay})["replay"]["status"] != "running"
        ),
        what="the replay's end",
    )
    override = client.gql(MUTATIONS["override"], ids)["override"]["id"]
    assert client.gql(MUTATIONS["act"], ids)["act"] is True
    assert client.gql(MUTATIONS["clearOverride"], {**ids, "override": override})["clearOverride"] is True
    if role != "owner":
        assert client.gql(MUTATIONS["setPublic"], ids)["setPublic"]["public"] is True
    assert client.gql(MUTATIONS["terminate"], ids)["terminate"]["status"] == "TERMINATED"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", None),
        ("operator", None),
        ("owner", None),
        ("other-user", None),
        ("viewer", "FORBIDDEN"),
        ("anonymous", "NOT_FOUND"),
    ],
)
def test_launching_needs_the_launch_right_and_an_unseen_model_is_unknown(zoo, role, expected):
    client = zoo.roles()[role]
    if expected is None:
        launched = zoo.launch(client)
        client.gql(MUTATIONS["terminate"], {"id": launched["id"]})
    else:
        query = 'mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id } }'
        assert client.code(query) == expected


@pytest.mark.parametrize(
    ("role", "subscription"),
    [(role, name) for role in SUBSCRIPTION_REFUSED for name in SUBSCRIPTIONS],
)
def test_subscriptions_stream_to_who_may_watch_and_are_refused_to_others(zoo, target, role, subscription):
    query, streams = SUBSCRIPTIONS[subscription]
    variables = {"id": target["id"], **({"s": streams} if streams else {})}
    with zoo.roles()[role].subscribe(query, variables) as stream:
        refused = SUBSCRIPTION_REFUSED[role].get(subscription)
        if refused:
            assert stream.status == 200 and stream.refused_code() == refused
        else:
            assert stream.status == 200
            if streams:  # telemetry flows at once (a frame may come before the stream has a value)
                frames = (stream.next()["telemetry"]["streams"] for _ in range(100))
                assert next(f for f in frames if f).keys() == set(streams)


def test_an_instance_hidden_from_a_viewer_looks_exactly_like_a_missing_one(zoo, target):
    lookups = {
        "instance": "query($id: ID!) { instance(id: $id) { id } }",
        "latestFrame": 'query($id: ID!) { latestFrame(id: $id, streams: ["inputs"]) { step } }',
    }
    for client in (zoo.other_user, zoo.anonymous):
        assert target["id"] not in [i["id"] for i in client.gql("{ instances { id } }")["instances"]]
        assert client.gql(lookups["instance"], {"id": target["id"]})["instance"] is None
        hidden = client.post(lookups["latestFrame"], {"id": target["id"]}).json()["errors"][0]
        missing = client.post(lookups["latestFrame"], {"id": "000000000000"}).json()["errors"][0]
        assert hidden["extensions"] == missing["extensions"] == {"code": "NOT_FOUND"}
        assert hidden["message"].replace(target["id"], "X") == missing["message"].replace("000000000000", "X")
    for client in (zoo.other_user, zoo.anonymous, zoo.viewer):  # the instance's insides, even to its viewer
        assert client.gql("query($c: ID!) { checkpoint(id: $c) { id } }", {"c": target["checkpoint"]}) == {
            "checkpoint": None
        }
        assert client.gql("query($r: ID!) { recording(id: $r) { id } }", {"r": target["stopped"]}) == {
            "recording": None
        }
        assert client.get(f"/recordings/{target['stopped']}/arrow").status_code == 404
    assert zoo.owner.get(f"/recordings/{target['stopped']}/arrow").status_code == 200


def test_a_viewer_watches_an_instance_but_its_insides_come_back_empty(zoo, target):
    seen = zoo.viewer.gql(INSTANCE, {"id": target["id"]})["instance"]
    assert seen["status"] == "RUNNING" and seen["step"] >= 0 and seen["permissions"] == ["view"]
    assert seen["parameters"] == {} and all(seen[name] is None for name in INSIDES)
    assert seen["checkpoints"] == seen["recordings"] == seen["overrides"] == []
    owned = zoo.owner.gql(INSTANCE, {"id": target["id"]})["instance"]
    assert owned["owner"] == "uma" and owned["parameters"] == {"start": 0, "label": "a"} and owned["seed"] is not None
    assert "inspect" in owned["permissions"] and "manage" not in owned["permissions"]
    assert owned["checkpoints"] and owned["overrides"] and owned["headCheckpoint"]["id"] == target["checkpoint"]


def test_the_stream_of_all_events_carries_only_the_instances_a_viewer_may_see(zoo, target):
    own = zoo.launch(zoo.other_user)["id"]
    query = "subscription { instanceEvents { instance kind } }"
    with zoo.other_user.subscribe(query, {}) as stream:
        assert stream.status == 200
        zoo.owner.gql(MUTATIONS["pause"], {"id": target["id"]})
        zoo.owner.gql(MUTATIONS["resume"], {"id": target["id"]})
        zoo.other_user.gql(MUTATIONS["pause"], {"id": own})
        first = stream.next()["instanceEvents"]
    assert first["instance"] == own


def test_event_messages_are_kept_from_viewers_who_only_watch(zoo, target):
    query = "subscription($id: ID) { instanceEvents(id: $id) { instance kind message } }"
    variables = {"id": target["id"]}
    with zoo.viewer.subscribe(query, variables) as watching, zoo.owner.subscribe(query, variables) as owning:
        zoo.owner.gql(MUTATIONS["saveCheckpoint"], variables)
        seen, told = watching.next()["instanceEvents"], owning.next()["instanceEvents"]
    assert seen["kind"] == told["kind"] and told["message"] and seen["message"] is None


def test_me_tells_each_role_what_it_may_do(zoo):
    query = "{ me { username roles permissions } }"
    seen = {role: client.gql(query)["me"] for role, client in zoo.roles().items()}
    assert seen["anonymous"]["username"] is None and seen["anonymous"]["roles"] == ["anonymous"]
    permissions = {role: me["permissions"] for role, me in seen.items()}
    assert "manage" in permissions["admin"]["global"]["user"]
    assert (
        "manage" not in permissions["operator"]["global"]["user"]
        and "manage" in permissions["operator"]["global"]["instance"]
    )
    assert permissions["owner"]["global"]["instance"] == [] and "inspect" in permissions["owner"]["owned"]["instance"]
    assert permissions["owner"]["launch"] is True and permissions["viewer"]["launch"] is False
    assert permissions["viewer"]["global"]["instance"] == ["view"]
    assert permissions["anonymous"]["global"]["instance"] == [] and permissions["anonymous"]["public"]["instance"] == [
        "view"
    ]
    distinct = {repr(sorted(p.items())) for role, p in permissions.items() if role != "other-user"}
    assert len(distinct) == 5


def test_metric_history_answers_for_instances_a_viewer_may_watch_and_skips_hidden_ones(zoo, target):
    query = "query($ids: [ID!]!) { metricHistory(ids: $ids, maxPoints: 10) { instance name } }"
    variables = {"ids": [target["id"], "000000000000"]}
    owned = wait_for(lambda: zoo.owner.gql(query, variables)["metricHistory"], what="the target's metric history")
    assert {s["instance"] for s in owned} == {target["id"]} and "episode_return" in {s["name"] for s in owned}
    assert zoo.viewer.gql(query, variables)["metricHistory"], "watching is enough to see charts"
    for client in (zoo.other_user, zoo.anonymous):
        assert client.gql(query, variables) == {"metricHistory": []}, "hidden looks missing: skipped"
