"""The policy both sides of the overhead benchmark run: a numpy MLP (4-64-64-2) on CartPole."""

from __future__ import annotations

import numpy as np

from ainimal_zookeeper import AInimal


class MlpPolicy(AInimal):
    """A fixed random MLP, greedy over two actions: the same work in the bare loop and the worker."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed=seed)
        rng = np.random.default_rng(seed)
        self.w1, self.w2, self.w3 = (rng.normal(0, 0.5, s).astype(np.float32) for s in ((4, 64), (64, 64), (64, 2)))

    def forward(self, inputs: dict) -> dict:
        hidden = np.tanh(np.tanh(np.asarray(inputs["observation"], np.float32) @ self.w1) @ self.w2)
        return {"action": int(np.argmax(hidden @ self.w3))}
