"""A model hub that hangs stalls nothing: over real HTTP, the server answers while the hub has not.

The hanging hub is a `github` hub whose API (a stand-in: there is no GitHub here) holds its
answer until the test releases it; its repositories and the other hub's are real bare git
repositories. Before hubs were listed in the background, every request that touched the catalog
waited on the listing, so the queries below could only be answered once the hub's client gave up
(30 s), after which the hub stayed unlisted: here the hub's listing must succeed after them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hub_support import MODEL_FILES, StandInServer, json_answer, make_git_repo, serve_hubs

from support import launch_running, terminate, wait_for

#: Requests at once from one client (within its cap of 64): before, each waited on the listing on a thread.
CONCURRENT = 60


def test_a_hub_that_hangs_holds_no_request_and_its_models_come_once_it_answers(tmp_path: Path) -> None:
    fast_url, _ = make_git_repo(tmp_path / "fast", "pusher", MODEL_FILES)
    slow_url, slow_commit = make_git_repo(tmp_path / "slow", "slowpoke", MODEL_FILES)
    released = threading.Event()
    repos = [{"full_name": "zoo-org/slowpoke", "clone_url": slow_url, "default_branch": "main"}]

    def hang_then_answer(_query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        released.wait(60)  # longer than the hub client's 30 s timeout, unless the test releases it
        return json_answer(repos)

    api = StandInServer({"/users/zoo-org/repos": hang_then_answer})
    server = serve_hubs(
        tmp_path,
        f"{{type: github, owner: zoo-org, api_url: '{api.url}'}}",
        f"{{type: git, url: '{fast_url}'}}",
        settings="catalog: {hub_wait_seconds: 1}\n",
    )
    try:
        wait_for(lambda: api.requests, what="the github hub's request")
        wait_for(lambda: "pusher" in str(server.gql("{ models { name } }")), what="the other hub's model")
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            answers = list(pool.map(lambda _: server.gql("{ models { name error } }"), range(CONCURRENT)))
        assert not released.is_set()  # every answer came while the hub still hangs
        for answer in answers:
            names = {m["name"]: m["error"] for m in answer["models"]}
            assert names == {"pusher": None}, names  # the other hub's model, not the hanging one's
        instance = launch_running(server, {"model": "pusher", "environment": "CartPole", "mode": "INFER"})
        terminate(server, instance["id"])
        [unknown] = server.errors(
            "mutation($i: LaunchInput!) { launch(input: $i) { id } }",
            {"i": {"model": "zoo-org/slowpoke", "environment": "CartPole", "mode": "INFER"}},
        )
        assert unknown["extensions"]["code"] == "NOT_FOUND"
        assert "model hubs still being listed: github:zoo-org (try again in a moment)" in unknown["message"]

        released.set()  # the hub answers: its listing, still open, succeeds and its model comes
        slowpoke = wait_for(
            lambda: next(
                (
                    m
                    for m in server.gql("{ models { name error source } }")["models"]
                    if m["name"] == "zoo-org/slowpoke" and m["error"] is None  # listed, then fetched
                ),
                None,
            ),
            what="the slow hub's model",
        )
        assert slowpoke["error"] is None and slowpoke["source"].endswith(f"#zoo-org/slowpoke@{slow_commit}")
    finally:
        released.set()
        api.close()
        assert server.stop() == 0
