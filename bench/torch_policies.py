"""The torch policy of the observe / record benchmark: an MLP 4-64-64-2 on CartPole, greedy."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ainimal_zookeeper import AInimal


class TorchMlpPolicy(AInimal):
    """A fixed random torch MLP: the same work in the bare loop and in the worker."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed=seed)
        generator = torch.Generator().manual_seed(seed)
        self.policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
        with torch.no_grad():
            for parameter in self.policy.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)

    def forward(self, inputs: dict) -> dict:
        with torch.no_grad():
            logits = self.policy(torch.as_tensor(np.asarray(inputs["observation"], dtype=np.float32)))
        return {"action": int(logits.argmax())}
