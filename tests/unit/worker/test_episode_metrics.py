"""An episode's figures reach the instance's metrics when they are read, not at each episode's end."""

from __future__ import annotations

from typing import Any

from ainimal_zookeeper.worker.episodes import Episodes


class Points:
    def __init__(self) -> None:
        self.episodes: list[tuple[int, float, int]] = []

    def episode(self, step: int, episode_return: float, episode_length: int) -> None:
        self.episodes.append((step, episode_return, episode_length))

    def trained(self, result: Any) -> dict:
        return {"loss": float(result)}


class Env:
    def reset(self, seed: int | None = None) -> tuple[list[float], dict]:
        return [0.0], {}


def episodes() -> tuple[Episodes, Points]:
    points = Points()
    book = Episodes("i1", seed=1, train_slice_steps=100, metric_points=points, on_trained=lambda: None)  # type: ignore[arg-type]
    book.env = Env()
    return book, points


def play(book: Episodes, rewards: list[float]) -> None:
    for reward in rewards:
        book.counted(reward)
    book.end_episode(learns=False, reseed_every=None)


def test_the_metrics_show_the_last_episode_and_the_mean_whenever_they_are_read():
    book, points = episodes()
    play(book, [1.0, 1.0, 1.0])
    play(book, [2.0] * 5)
    assert book.metrics == {"episode_return": 10.0, "episode_length": 5, "mean_return": 6.5}
    play(book, [0.5])
    assert book.metrics["episode_return"] == 0.5 and book.metrics["episode_length"] == 1
    assert book.metrics["mean_return"] == (3.0 + 10.0 + 0.5) / 3
    assert points.episodes == [(3, 3.0, 3), (8, 10.0, 5), (9, 0.5, 1)], "one point per episode, at its end step"


def test_what_is_put_in_the_metrics_stays_and_a_restore_replaces_them():
    book, _ = episodes()
    play(book, [1.0])
    book.metrics["env_state_restored"] = True
    play(book, [4.0, 4.0])
    assert book.metrics["env_state_restored"] is True and book.metrics["episode_return"] == 8.0
    book.metrics = {"episode_return": 99.0}  # a checkpoint's metrics
    assert book.metrics == {"episode_return": 99.0}, "not overwritten by the episodes before the restore"
