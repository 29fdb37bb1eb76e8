"""The hubs' revision cache keeps the few newest revisions of each model, so a server left running
(its hubs listed again every 15 minutes) does not fill its disk with every revision it saw."""

from __future__ import annotations

import os
from pathlib import Path

from ainimal_zookeeper.adapters.hubs.cache import RevisionCache


def fill_with(text: str):
    def fill(folder: Path) -> None:
        (folder / "model.py").write_text(text)

    return fill


def test_only_the_newest_revisions_of_a_model_stay_and_an_older_one_is_fetched_again_when_asked(tmp_path):
    cache = RevisionCache(tmp_path, keep=3)
    fills: list[str] = []
    for number in range(1, 11):  # ten revisions published one after the other
        revision = f"r{number}"
        folder = cache.get_or_fill("pusher", revision, lambda f, r=revision: (fills.append(r), fill_with(r)(f)))
        os.utime(folder, (number, number))  # fetched in this order, whatever the file system's clock says
    kept = cache.folder("pusher", "r1").parent
    assert sorted(p.name for p in kept.iterdir()) == [cache.folder("pusher", r).name for r in ("r10", "r8", "r9")]
    assert cache.cached("pusher", "r1") is None and (cache.cached("pusher", "r10") / "model.py").read_text() == "r10"
    again = cache.get_or_fill("pusher", "r1", lambda f: (fills.append("r1 again"), fill_with("r1")(f)))
    assert (again / "model.py").read_text() == "r1" and fills[-1] == "r1 again"
    assert sorted(p.name for p in kept.iterdir()) == [cache.folder("pusher", r).name for r in ("r1", "r10", "r9")]


def test_other_models_revisions_are_not_touched(tmp_path):
    cache = RevisionCache(tmp_path, keep=1)
    cache.get_or_fill("a", "r1", fill_with("a1"))
    cache.get_or_fill("b", "r1", fill_with("b1"))
    cache.get_or_fill("a", "r2", fill_with("a2"))
    assert cache.cached("a", "r1") is None and cache.cached("a", "r2") and cache.cached("b", "r1")
